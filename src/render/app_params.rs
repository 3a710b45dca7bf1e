//! The Application's settings for a render, as Argo CD passes CMP parameters.
//!
//! Argo CD sends only the parameters an Application sets (announced defaults are applied here)
//! as `ARGOCD_APP_PARAMETERS` (JSON) and as `PARAM_<NAME>[_<i>|_<KEY>]` variables whose names
//! are upper-cased with every other character turned into `_`. The JSON keeps map keys exactly
//! (`image.tag`), so it wins; `PARAM_*` are read for strings and arrays when the JSON is absent;
//! AVP-era `ARGOCD_ENV_*` variables are the last fallback. Nothing here can add a helm or
//! kustomize flag or a command: only these values exist.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::render::kustomize::params::KustomizeParams;

/// The settings of one render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppParams {
    /// Helm release name (default `ARGOCD_APP_NAME`).
    pub release_name: Option<String>,
    /// Namespace (default `ARGOCD_APP_NAMESPACE`).
    pub namespace: Option<String>,
    /// Values files, relative to the application directory, in order.
    pub values_files: Vec<String>,
    /// Inline values (YAML).
    pub values: Option<String>,
    /// `--set` pairs in order.
    pub set: Vec<(String, String)>,
    /// Render CRDs (`--include-crds`); default true.
    pub include_crds: bool,
    // The rest of what `spec.source.helm` offers, as Argo CD passes it to `helm template`.
    /// `--set-file` pairs in order: values key, repository file relative to the app directory.
    pub file_parameters: Vec<(String, String)>,
    /// Skip values files that do not exist (inside the repository); default false.
    pub ignore_missing_value_files: bool,
    /// `--skip-schema-validation`; default false.
    pub skip_schema_validation: bool,
    /// `--skip-tests`; default false.
    pub skip_tests: bool,
    /// `--kube-version`, instead of Argo CD's `KUBE_VERSION`.
    pub kube_version: Option<String>,
    /// `--api-versions`, instead of Argo CD's `KUBE_API_VERSIONS` when not empty.
    pub api_versions: Vec<String>,
    /// `--pass-credentials`; default false.
    pub pass_credentials: bool,
    /// `kustomize build --enable-helm`; default false.
    pub kustomize_enable_helm: bool,
    /// What Argo CD's `spec.source.kustomize` offers.
    pub kustomize: KustomizeParams,
}

/// One announced parameter: the single source of plugin.yaml's list and of the docs.
#[derive(Debug)]
pub struct ParamSpec {
    /// Parameter name.
    pub name: &'static str,
    /// `string`, `array` or `map`.
    pub collection: &'static str,
    /// Announced default, for strings.
    pub default: Option<&'static str>,
}

/// Every parameter an Application may set.
pub const PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "release-name",
        collection: "string",
        default: None,
    },
    ParamSpec {
        name: "namespace",
        collection: "string",
        default: None,
    },
    ParamSpec {
        name: "values-files",
        collection: "array",
        default: None,
    },
    ParamSpec {
        name: "values",
        collection: "string",
        default: None,
    },
    ParamSpec {
        name: "set",
        collection: "map",
        default: None,
    },
    ParamSpec {
        name: "include-crds",
        collection: "string",
        default: Some("true"),
    },
    ParamSpec {
        name: "file-parameters",
        collection: "map",
        default: None,
    },
    ParamSpec {
        name: "ignore-missing-value-files",
        collection: "string",
        default: Some("false"),
    },
    ParamSpec {
        name: "skip-schema-validation",
        collection: "string",
        default: Some("false"),
    },
    ParamSpec {
        name: "skip-tests",
        collection: "string",
        default: Some("false"),
    },
    ParamSpec {
        name: "kube-version",
        collection: "string",
        default: None,
    },
    ParamSpec {
        name: "api-versions",
        collection: "array",
        default: None,
    },
    ParamSpec {
        name: "pass-credentials",
        collection: "string",
        default: Some("false"),
    },
    ParamSpec {
        name: "kustomize-enable-helm",
        collection: "string",
        default: Some("false"),
    },
    ParamSpec {
        name: "images",
        collection: "array",
        default: None,
    },
    ParamSpec {
        name: "name-prefix",
        collection: "string",
        default: None,
    },
    ParamSpec {
        name: "name-suffix",
        collection: "string",
        default: None,
    },
    ParamSpec {
        name: "common-labels",
        collection: "map",
        default: None,
    },
    ParamSpec {
        name: "common-annotations",
        collection: "map",
        default: None,
    },
    ParamSpec {
        name: "common-annotations-envsubst",
        collection: "string",
        default: Some("false"),
    },
    ParamSpec {
        name: "force-common-labels",
        collection: "string",
        default: Some("false"),
    },
    ParamSpec {
        name: "force-common-annotations",
        collection: "string",
        default: Some("false"),
    },
    ParamSpec {
        name: "label-without-selector",
        collection: "string",
        default: Some("false"),
    },
    ParamSpec {
        name: "label-include-templates",
        collection: "string",
        default: Some("false"),
    },
    ParamSpec {
        name: "replicas",
        collection: "array",
        default: None,
    },
    ParamSpec {
        name: "patches",
        collection: "string",
        default: None,
    },
    ParamSpec {
        name: "components",
        collection: "array",
        default: None,
    },
    ParamSpec {
        name: "ignore-missing-components",
        collection: "string",
        default: Some("false"),
    },
    // Read by `config::policy` (which lies below this module), before any login.
    ParamSpec {
        name: crate::config::policy::PROFILE_PARAMETER,
        collection: "string",
        default: None,
    },
    // Read by the templates' context only (`params.vars`, see `engine::templates`).
    ParamSpec {
        name: crate::engine::templates::VARS_PARAMETER,
        collection: "map",
        default: None,
    },
];

/// Why the parameters cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Application parameter {name}: {reason}")]
pub struct ParamError {
    /// The parameter.
    pub name: &'static str,
    /// What is wrong.
    pub reason: String,
}

impl AppParams {
    /// Reads the parameters from the environment Argo CD gives the plugin.
    pub fn from_env(env: &BTreeMap<String, String>) -> Result<Self, ParamError> {
        let json = match env
            .get("ARGOCD_APP_PARAMETERS")
            .filter(|t| !t.trim().is_empty())
        {
            Some(text) => Some(parse_json(text)?),
            None => None,
        };
        let source = Source {
            env,
            json: json.as_ref(),
        };
        let flag = |name: &'static str| -> Result<bool, ParamError> {
            let default = PARAMS
                .iter()
                .find(|p| p.name == name)
                .and_then(|p| p.default)
                .unwrap_or("false");
            let text = source.string(name).unwrap_or_else(|| default.to_owned());
            crate::config::parse_bool(text.trim()).map_err(|_| ParamError {
                name,
                reason: format!("{text:?} is not true or false"),
            })
        };
        let mut values_files = source.array("values-files");
        if values_files.is_empty()
            && let Some(list) = env.get("ARGOCD_ENV_VALUES_FILES")
        {
            values_files = list
                .split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect();
        }
        Ok(AppParams {
            release_name: source
                .string("release-name")
                .or_else(|| env.get("ARGOCD_ENV_RELEASE_NAME").cloned())
                .or_else(|| env.get("ARGOCD_APP_NAME").cloned())
                .filter(|s| !s.is_empty()),
            namespace: source
                .string("namespace")
                .or_else(|| env.get("ARGOCD_APP_NAMESPACE").cloned())
                .filter(|s| !s.is_empty()),
            values_files,
            values: source
                .string("values")
                .or_else(|| env.get("ARGOCD_ENV_HELM_VALUES").cloned())
                .filter(|s| !s.trim().is_empty()),
            set: source.map("set"),
            include_crds: flag("include-crds")?,
            file_parameters: source.map("file-parameters"),
            ignore_missing_value_files: flag("ignore-missing-value-files")?,
            skip_schema_validation: flag("skip-schema-validation")?,
            skip_tests: flag("skip-tests")?,
            kube_version: source
                .string("kube-version")
                .filter(|v| !v.trim().is_empty()),
            api_versions: source.array("api-versions"),
            pass_credentials: flag("pass-credentials")?,
            kustomize_enable_helm: flag("kustomize-enable-helm")?,
            kustomize: KustomizeParams::read(&source, env)?,
        })
    }
}

/// Where parameters are read from: the JSON when Argo CD sent it, else `PARAM_*` variables.
pub(crate) struct Source<'a> {
    env: &'a BTreeMap<String, String>,
    json: Option<&'a Vec<Value>>,
}

impl Source<'_> {
    fn entry(&self, name: &str) -> Option<&Value> {
        self.json?
            .iter()
            .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
    }

    /// A string parameter, if set.
    pub(crate) fn string(&self, name: &str) -> Option<String> {
        match self.entry(name) {
            Some(p) => p.get("string").and_then(Value::as_str).map(str::to_owned),
            None => self.env.get(&env_name(name)).cloned(),
        }
    }

    /// An array parameter's items (none when unset).
    pub(crate) fn array(&self, name: &str) -> Vec<String> {
        if let Some(p) = self.entry(name) {
            return strings(p.get("array"));
        }
        let prefix = env_name(name);
        (0..)
            .map_while(|i| self.env.get(&format!("{prefix}_{i}")).cloned())
            .collect()
    }

    /// A map parameter's entries, from the JSON only: `PARAM_<NAME>_<KEY>` loses the keys'
    /// spelling.
    pub(crate) fn map(&self, name: &str) -> Vec<(String, String)> {
        let Some(Value::Object(map)) = self.entry(name).and_then(|p| p.get("map")) else {
            return Vec::new();
        };
        map.iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            .collect()
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn parse_json(text: &str) -> Result<Vec<Value>, ParamError> {
    let invalid = |reason: String| ParamError {
        name: "ARGOCD_APP_PARAMETERS",
        reason,
    };
    match serde_json::from_str(text) {
        Ok(Value::Array(items)) => Ok(items),
        Ok(_) => Err(invalid("is not a JSON array".into())),
        Err(e) => Err(invalid(format!("is not valid JSON ({e})"))),
    }
}

/// `PARAM_` + the name upper-cased with every character outside `[A-Z0-9_]` as `_`.
fn env_name(name: &str) -> String {
    let mangled: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("PARAM_{mangled}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(env: &[(&str, &str)]) -> Result<AppParams, ParamError> {
        AppParams::from_env(
            &env.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn defaults_come_from_the_application_and_the_announcements() {
        let p = params(&[
            ("ARGOCD_APP_NAME", "shop"),
            ("ARGOCD_APP_NAMESPACE", "prod"),
        ])
        .expect("valid");
        assert_eq!(p.release_name.as_deref(), Some("shop"));
        assert_eq!(p.namespace.as_deref(), Some("prod"));
        assert!(p.include_crds && !p.kustomize_enable_helm);
        assert!(p.values_files.is_empty() && p.set.is_empty() && p.values.is_none());
    }

    #[test]
    fn the_json_parameters_win_and_keep_map_keys() {
        let json = r#"[{"name":"release-name","string":"r"},{"name":"values-files","array":["a.yaml","b.yaml"]},
            {"name":"set","map":{"image.tag":"1.2","replicas":"3"}},{"name":"include-crds","string":"false"}]"#;
        let p = params(&[
            ("ARGOCD_APP_PARAMETERS", json),
            ("PARAM_RELEASE_NAME", "ignored"),
            ("ARGOCD_APP_NAME", "app"),
        ])
        .expect("valid");
        assert_eq!(p.release_name.as_deref(), Some("r"));
        assert_eq!(p.values_files, ["a.yaml", "b.yaml"]);
        assert_eq!(
            p.set,
            [
                ("image.tag".to_owned(), "1.2".to_owned()),
                ("replicas".to_owned(), "3".to_owned())
            ]
        );
        assert!(!p.include_crds);
    }

    #[test]
    fn param_variables_then_avp_era_variables() {
        let p = params(&[
            ("PARAM_VALUES_FILES_0", "x.yaml"),
            ("PARAM_VALUES_FILES_1", "y.yaml"),
            ("PARAM_KUSTOMIZE_ENABLE_HELM", "true"),
            ("ARGOCD_ENV_RELEASE_NAME", "legacy"),
            ("ARGOCD_ENV_HELM_VALUES", "a: 1\n"),
            ("ARGOCD_ENV_VALUES_FILES", "ignored.yaml"),
        ])
        .expect("valid");
        assert_eq!(p.values_files, ["x.yaml", "y.yaml"]);
        assert!(p.kustomize_enable_helm);
        assert_eq!(p.release_name.as_deref(), Some("legacy"));
        assert_eq!(p.values.as_deref(), Some("a: 1\n"));
        let p = params(&[("ARGOCD_ENV_VALUES_FILES", "a.yaml, b.yaml,")]).expect("valid");
        assert_eq!(p.values_files, ["a.yaml", "b.yaml"]);
    }

    #[test]
    fn bad_values_are_named() {
        let cases = [
            (
                &[("PARAM_INCLUDE_CRDS", "maybe")][..],
                r#"Application parameter include-crds: "maybe" is not true or false"#,
            ),
            (
                &[("ARGOCD_APP_PARAMETERS", "{}")][..],
                "Application parameter ARGOCD_APP_PARAMETERS: is not a JSON array",
            ),
        ];
        for (env, want) in cases {
            assert_eq!(params(env).expect_err("invalid").to_string(), want);
        }
    }

    #[test]
    fn parameter_variable_names() {
        assert_eq!(env_name("values-files"), "PARAM_VALUES_FILES");
        assert_eq!(
            env_name("kustomize-enable-helm"),
            "PARAM_KUSTOMIZE_ENABLE_HELM"
        );
    }
}
