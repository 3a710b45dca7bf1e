//! plugin.yaml run the way Argo CD's CMP server runs it: its own `discover` and `generate`
//! commands, in a copy of the application's folder inside an unpacked repository, with the
//! build environment, parameters and `ARGOCD_ENV_*` variables set.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use crate::support::{Case, OpenBao};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A command of plugin.yaml (`spec.discover.find.command` or `spec.generate.command`) as
/// arguments for the vaultplate binary.
pub(crate) fn plugin_command(pointer: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("plugin.yaml")).expect("plugin.yaml");
    let plugin = vaultplate::yaml::value::parse_value(&text).expect("plugin.yaml parses");
    let command: Vec<String> = plugin
        .pointer(pointer)
        .and_then(Value::as_array)
        .expect("the command is a list")
        .iter()
        .map(|a| a.as_str().expect("text").to_owned())
        .collect();
    assert_eq!(
        command[0], "vaultplate",
        "plugin.yaml calls vaultplate directly, without a shell"
    );
    command[1..].to_vec()
}

/// Seeds the example secrets (examples/vault/MOUNT/PATH.json) into the shared OpenBao.
fn seed_examples() {
    let bao = OpenBao::shared();
    for (mount, file) in [
        ("secret", "demo/db"),
        ("secret", "demo/tls"),
        ("kv1", "demo"),
    ] {
        let text =
            std::fs::read_to_string(repo().join(format!("examples/vault/{mount}/{file}.json")))
                .expect("seed");
        let data: Value = serde_json::from_str(&text).expect("JSON");
        if mount == "kv1" {
            bao.put_kv1(mount, file, data)
        } else {
            bao.put_kv2(mount, file, data);
        }
    }
}

/// A case holding a copy of `examples/<app>` at `_cmp_server/<uuid>/examples/<app>`, with the
/// environment the CMP server gives a plugin, running in that folder.
fn argo_cd_case(app: &str) -> Case {
    let source_path = format!("examples/{app}");
    let work = format!("_cmp_server/7f9c2ba4-e88f-4c1b-9c39-0d4e1a2b3c4d/{source_path}");
    let mut case = Case::new();
    let mut pending = vec![repo().join(&source_path)];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("example folder").flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path
                    .strip_prefix(repo().join(&source_path))
                    .expect("inside");
                let text = std::fs::read_to_string(&path).expect("example file");
                case = case.file(&format!("{work}/{}", relative.display()), &text);
            }
        }
    }
    case.cwd(&work)
        .vault(OpenBao::shared())
        .env("ARGOCD_APP_NAME", "demo")
        .env("ARGOCD_APP_NAMESPACE", "demo-ns")
        .env("ARGOCD_APP_PROJECT_NAME", "default")
        .env(
            "ARGOCD_APP_REVISION",
            "0123456789abcdef0123456789abcdef01234567",
        )
        .env("ARGOCD_APP_REVISION_SHORT", "0123456")
        .env(
            "ARGOCD_APP_SOURCE_REPO_URL",
            "https://git.example/vaultplate.git",
        )
        .env("ARGOCD_APP_SOURCE_PATH", &source_path)
        .env("ARGOCD_APP_SOURCE_TARGET_REVISION", "main")
        .env("KUBE_VERSION", "1.32.0")
        .env("KUBE_API_VERSIONS", "v1,apps/v1")
        .secret("s3cr3t-Pa55word")
}

#[test]
fn discover_selects_every_example() {
    for (app, kind) in [
        ("plain", "plain"),
        ("kustomize", "kustomize"),
        ("helm", "helm"),
    ] {
        argo_cd_case(app)
            .args(plugin_command("/spec/discover/find/command"))
            .run()
            .success()
            .stdout(&format!("{kind}\n"));
    }
}

#[test]
fn generate_renders_every_example() {
    seed_examples();
    let password = BASE64.encode("s3cr3t-Pa55word");
    argo_cd_case("plain")
        .args(plugin_command("/spec/generate/command"))
        .run()
        .success()
        .stdout_contains("  username: \"app\"\n")
        .stdout_contains(&format!("  password: \"{password}\"\n"));
    argo_cd_case("kustomize")
        .args(plugin_command("/spec/generate/command"))
        .run()
        .success()
        .stdout_contains(&format!("  password: \"{password}\"\n"))
        .stdout_contains("  namespace: demo\n");
    argo_cd_case("helm")
        .env(
            "ARGOCD_APP_PARAMETERS",
            json!([{"name": "set", "map": {"settings.logLevel": "debug"}}]).to_string(),
        )
        .env("ARGOCD_ENV_VAULT_ADDR", "http://attacker.invalid")
        .args(plugin_command("/spec/generate/command"))
        .run()
        .success()
        .stdout_contains("  name: demo-db\n")
        .stdout_contains(&format!("  password: {password}\n"))
        .stdout_contains("  log-level: \"debug\"\n")
        .stderr_contains("ignoring ARGOCD_ENV_VAULT_ADDR");
}
