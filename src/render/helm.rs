//! `helm template` with the Application's release name, namespace, Kubernetes version, values
//! and `--set` pairs, and `helm dependency build` for charts whose `charts/` folder is missing.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::Path;

use serde_json::Value;

use super::paths;
use crate::app_params::AppParams;
use crate::child::{self, Sandbox};
use crate::problem::Problem;

/// Renders the chart in `dir`.
pub(super) fn template(
    dir: &Path,
    root: &Path,
    params: &AppParams,
    env: &BTreeMap<String, String>,
    sandbox: &Sandbox,
) -> Result<String, Vec<Problem>> {
    let args = arguments(dir, root, params, env, sandbox)?;
    if needs_dependency_build(dir)? {
        let build = ["dependency".into(), "build".into(), ".".into()];
        child::run("helm", &build, dir, sandbox, "helm dependency build")
            .map_err(|e| vec![Problem::general(e)])?;
    }
    child::run("helm", &args, dir, sandbox, "helm template").map_err(|e| vec![Problem::general(e)])
}

/// The `helm template` argument list. Every value is its own argument; nothing the Application
/// sets can become a flag.
fn arguments(
    dir: &Path,
    root: &Path,
    params: &AppParams,
    env: &BTreeMap<String, String>,
    sandbox: &Sandbox,
) -> Result<Vec<OsString>, Vec<Problem>> {
    let mut args: Vec<OsString> = vec!["template".into()];
    if let Some(release) = &params.release_name {
        args.push(release.into());
    }
    args.push(".".into());
    let mut flag = |name: &str, value: OsString| {
        args.push(name.into());
        args.push(value);
    };
    if let Some(namespace) = &params.namespace {
        flag("--namespace", namespace.into());
    }
    if let Some(version) = env.get("KUBE_VERSION").filter(|v| !v.is_empty()) {
        flag("--kube-version", version.into());
    }
    for api in env
        .get("KUBE_API_VERSIONS")
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        flag("--api-versions", api.into());
    }
    let mut problems = Vec::new();
    for given in &params.values_files {
        match paths::inside_repository(dir, root, given) {
            Ok(path) => flag("--values", path.into_os_string()),
            Err(message) => problems.push(Problem::general(format!(
                "Application parameter values-files: {message}"
            ))),
        }
    }
    if let Some(values) = &params.values {
        match sandbox.write_private("inline-values.yaml", values) {
            Ok(path) => flag("--values", path.into_os_string()),
            Err(e) => problems.push(Problem::general(format!(
                "cannot write the inline values: {e}"
            ))),
        }
    }
    for (key, value) in &params.set {
        if key.is_empty() || key.contains(['=', ',']) || key.starts_with('-') {
            problems.push(Problem::general(format!(
                "Application parameter set: {key:?} is not a values key"
            )));
            continue;
        }
        flag(
            "--set",
            format!("{key}={}", value.replace(',', "\\,")).into(),
        );
    }
    args.push(
        if params.include_crds {
            "--include-crds"
        } else {
            "--skip-crds"
        }
        .into(),
    );
    if problems.is_empty() {
        Ok(args)
    } else {
        Err(problems)
    }
}

/// A chart with dependencies and no `charts/` folder needs `helm dependency build` first.
fn needs_dependency_build(dir: &Path) -> Result<bool, Vec<Problem>> {
    let chart_file = dir.join("Chart.yaml");
    let text = std::fs::read_to_string(&chart_file).map_err(|e| {
        vec![Problem::at(
            chart_file.display().to_string(),
            format!("cannot read: {e}"),
        )]
    })?;
    let chart = crate::yaml::value::parse_value(&text).map_err(|e| {
        vec![Problem::at(
            chart_file.display().to_string(),
            format!("invalid YAML at {e}"),
        )]
    })?;
    let has_dependencies = chart
        .get("dependencies")
        .and_then(Value::as_array)
        .is_some_and(|d| !d.is_empty());
    let has_charts =
        std::fs::read_dir(dir.join("charts")).is_ok_and(|mut entries| entries.next().is_some());
    Ok(has_dependencies && !has_charts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args_for(params: &AppParams, env: &[(&str, &str)]) -> Vec<String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().canonicalize().expect("canonical");
        std::fs::write(root.join("prod.yaml"), "a: 1").expect("write");
        let sandbox = Sandbox::new().expect("sandbox");
        let env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let args = arguments(&root, &root, params, &env, &sandbox).expect("valid");
        let text = |a: &OsString| {
            a.to_string_lossy()
                .replace(&root.display().to_string(), "<app>")
        };
        args.iter()
            .map(text)
            .map(|a| {
                if a.contains("inline-values") {
                    "<inline>".into()
                } else {
                    a
                }
            })
            .collect()
    }

    fn params() -> AppParams {
        AppParams {
            release_name: None,
            namespace: None,
            values_files: vec![],
            values: None,
            set: vec![],
            include_crds: true,
            kustomize_enable_helm: false,
        }
    }

    #[test]
    fn minimal() {
        assert_eq!(
            args_for(&params(), &[]),
            ["template", ".", "--include-crds"]
        );
    }

    #[test]
    fn everything_the_application_may_set() {
        let p = AppParams {
            release_name: Some("shop".into()),
            namespace: Some("prod".into()),
            values_files: vec!["prod.yaml".into()],
            values: Some("a: 2\n".into()),
            set: vec![
                ("image.tag".into(), "1.2".into()),
                ("list".into(), "a,b".into()),
            ],
            include_crds: false,
            kustomize_enable_helm: false,
        };
        let env = [
            ("KUBE_VERSION", "1.32"),
            ("KUBE_API_VERSIONS", "v1,apps/v1"),
        ];
        let want = [
            "template",
            "shop",
            ".",
            "--namespace",
            "prod",
            "--kube-version",
            "1.32",
            "--api-versions",
            "v1",
            "--api-versions",
            "apps/v1",
            "--values",
            "<app>/prod.yaml",
            "--values",
            "<inline>",
            "--set",
            "image.tag=1.2",
            "--set",
            "list=a\\,b",
            "--skip-crds",
        ];
        assert_eq!(args_for(&p, &env), want);
    }

    #[test]
    fn set_keys_cannot_smuggle_pairs_or_flags() {
        for key in ["a=b", "a,b", "--post-renderer", ""] {
            let p = AppParams {
                set: vec![(key.into(), "x".into())],
                ..params()
            };
            let dir = tempfile::tempdir().expect("temp dir");
            let sandbox = Sandbox::new().expect("sandbox");
            let problems = arguments(dir.path(), dir.path(), &p, &BTreeMap::new(), &sandbox)
                .expect_err("refused");
            assert_eq!(
                problems[0].to_string(),
                format!("Application parameter set: {key:?} is not a values key")
            );
        }
    }
}
