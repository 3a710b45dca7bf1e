//! The Applications of the docs, rendered the way Argo CD would run them: plugin.yaml's own
//! command, the Application's parameters as `ARGOCD_APP_PARAMETERS`, its `env` entries as
//! `ARGOCD_ENV_*`. Every Application of the README's "Coming from argocd-vault-plugin" section
//! is a file of `examples/migration/`, printed there as it is; `examples/argocd/applications/`
//! are the ones the Argo CD walkthrough installs.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;

use crate::cmp::{argo_cd_case, plugin_command, seed_examples};
use crate::support::Outcome;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Renders `examples/migration/NAME.yaml` as Argo CD would, after checking the README shows it.
fn render(name: &str) -> Outcome {
    let file = format!("examples/migration/{name}.yaml");
    let text = std::fs::read_to_string(repo().join(&file)).expect("migration example");
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    assert!(
        readme.contains(&format!("```yaml\n{text}```\n")),
        "the README shows {file} as it is"
    );
    render_application(&file, &text)
}

/// Renders the Application `text` (from `file`) as Argo CD would.
fn render_application(file: &str, text: &str) -> Outcome {
    let application = vaultplate::yaml::value::parse_value(text).expect("the example parses");
    let source = application.pointer("/spec/source").expect("spec.source");
    assert_eq!(
        source.pointer("/plugin/name").and_then(Value::as_str),
        Some("vaultplate"),
        "{file} names the plugin"
    );
    let path = source["path"].as_str().expect("spec.source.path");
    let app = path
        .strip_prefix("examples/")
        .expect("an example application");
    let mut case = argo_cd_case(app).args(plugin_command("/spec/generate/command"));
    if let Some(parameters) = source.pointer("/plugin/parameters") {
        case = case.env("ARGOCD_APP_PARAMETERS", parameters.to_string());
    }
    for entry in source
        .pointer("/plugin/env")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = entry["name"].as_str().expect("env name");
        let value = entry["value"].as_str().expect("env value");
        case = case.env(format!("ARGOCD_ENV_{name}"), value);
    }
    case.run()
}

#[test]
fn every_migration_example_renders() {
    seed_examples();
    let password = BASE64.encode("s3cr3t-Pa55word");
    render("avp")
        .success()
        .stdout_contains("  username: \"app\"\n")
        .stdout_contains(&format!("  password: \"{password}\"\n"));
    render("avp-helm")
        .success()
        .stdout_contains("  name: demo-db\n")
        .stdout_contains(&format!("  password: {password}\n"))
        .stdout_contains("  log-level: \"info\"\n");
    render("avp-helm-args")
        .success()
        .stdout_contains(&format!("  password: {password}\n"))
        .stdout_contains("  log-level: \"debug\"\n");
    render("avp-helm-values")
        .success()
        .stdout_contains(&format!("  username: {}\n", BASE64.encode("app")))
        .stdout_contains("  log-level: \"warn\"\n");
    render("avp-kustomize")
        .success()
        .stdout_contains(&format!("  password: \"{password}\"\n"))
        .stdout_contains("  namespace: demo\n");
    render("avp-kustomize-edit")
        .success()
        .stdout_contains(&format!("  password: \"{password}\"\n"))
        .stdout_contains("image: registry.example/demo:1.4.2\n")
        .stdout_contains("github.com/url: https://git.example/vaultplate.git\n");
    render("avp-kustomize-plugin-env")
        .success()
        .stdout_contains("image: registry.example/demo:1.4.3\n");
}

#[test]
fn the_example_applications_for_argo_cd_render() {
    seed_examples();
    let password = BASE64.encode("s3cr3t-Pa55word");
    let example = |name: &str| {
        let file = format!("examples/argocd/applications/{name}.yaml");
        let text = std::fs::read_to_string(repo().join(&file)).expect("example Application");
        render_application(&file, &text)
    };
    example("plain")
        .success()
        .stdout_contains(&format!("  password: \"{password}\"\n"));
    example("helm")
        .success()
        .stdout_contains(&format!("  username: {}\n", BASE64.encode("demo")))
        .stdout_contains("  log-level: \"debug\"\n");
    example("kustomize")
        .success()
        .stdout_contains("image: registry.example/demo:1.1\n")
        .stdout_contains("  name: demo-kustomize-prod\n")
        .stdout_contains("team: payments\n");
}
