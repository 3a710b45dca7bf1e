//! Every user-visible error of `generate`, pinned in full: one line per problem, naming file,
//! object, field and placeholder, never a secret value, never partial output.

use serde_json::json;

use crate::support::OpenBao;
use crate::support::{Case, unique};

fn seeded() -> String {
    let name = unique("errors");
    OpenBao::shared().put_kv2(
        "secret",
        &name,
        json!({"password": "hunter2-secret", "blob": "not base64!"}),
    );
    format!("secret/data/{name}")
}

#[test]
fn every_problem_of_a_run_is_reported_with_its_place() {
    let path = seeded();
    let missing = format!("secret/data/{}", unique("missing"));
    Case::new()
        .file("app/a.yaml", &format!("
            apiVersion: v1
            kind: Secret
            metadata:
              name: db
              annotations:
                avp.kubernetes.io/path: {path}
            stringData:
              ok: <password>
              nope: <nope>
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {{name: cm}}
            data:
              gone: <path:{missing}#x>
              bad: <path:{path}#blob | base64decode>
        "))
        .vault(OpenBao::shared())
        .secret("hunter2-secret")
        .secret("not base64!")
        .args(["generate", "app"])
        .run()
        .failure()
        .stderr(&format!(
            "error: app/a.yaml: document 1 (Secret/db): stringData.nope: <nope>: key \"nope\" not found in {path}\n\
             error: app/a.yaml: document 2 (ConfigMap/cm): data.gone: <path:{missing}#x>: no secret at {missing}\n\
             error: app/a.yaml: document 2 (ConfigMap/cm): data.bad: <path:{path}#blob | base64decode>: base64decode: value is not valid base64\n"
        ));
}

#[test]
fn syntax_problems_are_found_before_vault_is_contacted() {
    let name = unique("syntax");
    Case::new()
        .file("a.yaml", &format!("
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: c
              annotations:
                avp.kubernetes.io/path: secret/data/{name}
                avp.kubernetes.io/kv-version: \"3\"
        "))
        .file("b.yaml", &format!("
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: d
              annotations:
                avp.kubernetes.io/path: secret/data/{name}
            data:
              a: <key | frobnicate>
              b: <key | >
              c: <path:secret/data/{name}>
              d: <path:secret/data/{name}#k#v2>
              e: <path:secret/data/{name}#k | indent x>
              f: <path:secret/data/{name}#k
        "))
        .file("c.yaml", "apiVersion: v1\nkind: ConfigMap\ndata: {a: [unclosed\n")
        .env("VAULT_ADDR", "http://127.0.0.1:1")
        .args(["generate", "."])
        .run()
        .failure()
        .stderr_contains("error: ./a.yaml (ConfigMap/c): annotation avp.kubernetes.io/kv-version: \"3\" is not 1 or 2\n")
        .stderr_contains("error: ./b.yaml (ConfigMap/d): data.a: <key | frobnicate>: unknown modifier \"frobnicate\"")
        .stderr_contains("error: ./b.yaml (ConfigMap/d): data.b: <key | >: ")
        .stderr_contains(&format!("error: ./b.yaml (ConfigMap/d): data.c: <path:secret/data/{name}>: "))
        .stderr_contains(&format!("error: ./b.yaml (ConfigMap/d): data.d: <path:secret/data/{name}#k#v2>: "))
        .stderr_contains(&format!("error: ./b.yaml (ConfigMap/d): data.e: <path:secret/data/{name}#k | indent x>: "))
        .stderr_contains(&format!("error: ./b.yaml (ConfigMap/d): data.f: <path:secret/data/{name}#k: "))
        .stderr_contains("error: ./c.yaml: invalid YAML at line ");
    assert_eq!(OpenBao::shared().reads(&format!("secret/data/{name}")), 0);
}

#[test]
fn path_validation_refuses_paths_before_reading() {
    let path = seeded();
    Case::new()
        .file("c.yaml", &format!("
            apiVersion: v1
            kind: ConfigMap
            metadata: {{name: c}}
            data:
              a: <path:{path}#password>
        "))
        .vault(OpenBao::shared())
        .env("AVP_PATH_VALIDATION", "^secret/data/allowed/")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr(&format!(
            "error: c.yaml (ConfigMap/c): data.a: <path:{path}#password>: path \"{path}\" does not match AVP_PATH_VALIDATION\n"
        ));
    assert_eq!(OpenBao::shared().reads(&path), 0);
}

#[test]
fn other_backends_are_refused_by_name() {
    Case::new()
        .env("AVP_TYPE", "awssecretsmanager")
        .args(["generate", "-"])
        .run()
        .failure()
        .stderr("error: setting AVP_TYPE from the environment: \"awssecretsmanager\" only `vault` is supported\n");
}

#[test]
fn usage_errors_exit_2_without_output() {
    Case::new()
        .args(["generate"])
        .run()
        .code(2)
        .stdout("")
        .stderr_contains("<PATH>");
    Case::new().args(["frobnicate"]).run().code(2).stdout("");
}
