//! What a template sees: `app.*` (the `ARGOCD_APP_*` values Argo CD passes, empty strings when
//! absent) and `params` (the Application's plugin parameters by name, `vars` always a map).
//! Nothing else: no process environment, no secret value.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::engine::problem::Problem;

/// The `app.*` entries and the variables they come from.
const APP: &[(&str, &str)] = &[
    ("name", "ARGOCD_APP_NAME"),
    ("namespace", "ARGOCD_APP_NAMESPACE"),
    ("project", "ARGOCD_APP_PROJECT_NAME"),
    ("revision", "ARGOCD_APP_REVISION"),
    ("repo_url", "ARGOCD_APP_SOURCE_REPO_URL"),
    ("source_path", "ARGOCD_APP_SOURCE_PATH"),
];

/// The free map parameter templates read their own settings from.
pub(crate) const VARS_PARAMETER: &str = "vars";

/// The context of every template of a run, as JSON (turned into tera's context per render).
pub(crate) fn build(env: &BTreeMap<String, String>) -> Result<Value, Problem> {
    let app: Map<String, Value> = APP
        .iter()
        .map(|(key, var)| {
            let value = env.get(*var).cloned().unwrap_or_default();
            ((*key).to_owned(), Value::String(value))
        })
        .collect();
    let mut params = Map::new();
    if let Some(text) = env
        .get("ARGOCD_APP_PARAMETERS")
        .filter(|t| !t.trim().is_empty())
    {
        let list: Vec<Value> = serde_json::from_str(text).map_err(|e| {
            Problem::general(format!(
                "ARGOCD_APP_PARAMETERS is not a JSON list of parameters: {e}"
            ))
        })?;
        for entry in list {
            let Some(name) = entry.get("name").and_then(Value::as_str) else {
                continue;
            };
            let value = ["string", "array", "map"]
                .iter()
                .find_map(|k| entry.get(*k).cloned())
                .unwrap_or(Value::Null);
            params.insert(name.to_owned(), value);
        }
    }
    match params.get(VARS_PARAMETER) {
        None | Some(Value::Null) => {
            params.insert(VARS_PARAMETER.to_owned(), Value::Object(Map::new()));
        }
        Some(Value::Object(_)) => {}
        Some(_) => {
            return Err(Problem::general(format!(
                "Application parameter {VARS_PARAMETER}: must be a map (collectionType: map)"
            )));
        }
    }
    let mut context = Map::new();
    context.insert("app".to_owned(), Value::Object(app));
    context.insert("params".to_owned(), Value::Object(params));
    Ok(Value::Object(context))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_values_default_to_empty_and_vars_to_a_map() {
        let env = BTreeMap::from([
            ("ARGOCD_APP_NAME".to_owned(), "shop".to_owned()),
            ("SECRET".to_owned(), "leak".to_owned()),
            (
                "ARGOCD_APP_PARAMETERS".to_owned(),
                r#"[{"name":"namespace","string":"prod"},{"name":"values-files","array":["a"]}]"#
                    .to_owned(),
            ),
        ]);
        let context = build(&env).expect("builds");
        assert_eq!(
            context,
            serde_json::json!({
                "app": {"name": "shop", "namespace": "", "project": "", "revision": "",
                        "repo_url": "", "source_path": ""},
                "params": {"namespace": "prod", "values-files": ["a"], "vars": {}},
            })
        );
    }
}
