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
            "error: app/a.yaml: document 1 (Secret/db): stringData.nope: <nope>: key \"nope\" not found in {path} (if \"<nope>\" is meant as text, write it as \"\\<nope>\")\n\
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

/// Issue 11, security 2: with KV v1 a placeholder could read `auth/token/lookup-self` and print
/// the plugin's own token. Vault's system mounts are refused before Vault is contacted, written
/// inline or as the `path` annotation, with or without a leading `/`.
#[test]
fn paths_under_vault_system_mounts_are_refused_before_vault_is_contacted() {
    let under = |path: &str, mount: &str| {
        format!(
            "path \"{path}\" is under Vault's system mount {mount}/, where no KV secrets engine \
             can be mounted: vaultplate never reads it (use the path of a KV secret, such as \
             secret/data/app)"
        )
    };
    Case::new()
        .file("c.yaml", "
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: c
              annotations:
                avp.kubernetes.io/kv-version: \"1\"
            data:
              token: <path:auth/token/lookup-self#id>
              mounts: <path:/sys/mounts#x>
              entity: <path:identity/entity/id#x>
              own: <path:cubbyhole/x#y>
              dotted: <path:./auth/token/lookup-self#id>
              upper: <path:Auth/kv#y>
            ---
            apiVersion: v1
            kind: Secret
            metadata:
              name: s
              annotations:
                avp.kubernetes.io/kv-version: \"1\"
                avp.kubernetes.io/path: /auth/token/lookup-self
            stringData:
              token: <id>
        ")
        .vault(OpenBao::shared())
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr(&format!(
            "error: c.yaml: document 1 (ConfigMap/c): data.token: <path:auth/token/lookup-self#id>: {}\n\
             error: c.yaml: document 1 (ConfigMap/c): data.mounts: <path:/sys/mounts#x>: {}\n\
             error: c.yaml: document 1 (ConfigMap/c): data.entity: <path:identity/entity/id#x>: {}\n\
             error: c.yaml: document 1 (ConfigMap/c): data.own: <path:cubbyhole/x#y>: {}\n\
             error: c.yaml: document 1 (ConfigMap/c): data.dotted: <path:./auth/token/lookup-self#id>: \"./auth/token/lookup-self\" is not a valid secret path (a segment is empty, \".\" or \"..\")\n\
             error: c.yaml: document 2 (Secret/s): stringData.token: <id>: {}\n",
            under("auth/token/lookup-self", "auth"),
            under("sys/mounts", "sys"),
            under("identity/entity/id", "identity"),
            under("cubbyhole/x", "cubbyhole"),
            under("auth/token/lookup-self", "auth"),
        ));
    // Runs of other tests that explain a denied read look their own token up meanwhile.
    assert_eq!(OpenBao::shared().root_reads("auth/token/lookup-self"), 0);
    assert_eq!(OpenBao::shared().reads("Auth/kv"), 0);
}

/// Issue 11, security 4: `indent N` with a huge N panicked (capacity overflow) or aborted.
#[test]
fn indent_with_a_huge_count_is_refused_naming_the_argument() {
    let path = seeded();
    // Alone, the largest count used to reach the modifier and panic (exit 101).
    Case::new()
        .file("c.yaml", &format!("
            apiVersion: v1
            kind: ConfigMap
            metadata: {{name: c}}
            data:
              a: <path:{path}#password | indent 18446744073709551615>
        "))
        .vault(OpenBao::shared())
        .args(["generate", "c.yaml"])
        .run()
        .code(1)
        .stderr(&format!(
            "error: c.yaml (ConfigMap/c): data.a: <path:{path}#password | indent 18446744073709551615>: modifier \"indent\": \"18446744073709551615\" is too large (at most 1000)\n"
        ));
    Case::new()
        .file("c.yaml", &format!("
            apiVersion: v1
            kind: ConfigMap
            metadata: {{name: c}}
            data:
              a: <path:{path}#password | indent 18446744073709551615>
              b: <path:{path}#password | indent 1001>
              c: <path:{path}#password | indent 99999999999999999999999>
        "))
        .vault(OpenBao::shared())
        .args(["generate", "c.yaml"])
        .run()
        .code(1)
        .stderr(&format!(
            "error: c.yaml (ConfigMap/c): data.a: <path:{path}#password | indent 18446744073709551615>: modifier \"indent\": \"18446744073709551615\" is too large (at most 1000)\n\
             error: c.yaml (ConfigMap/c): data.b: <path:{path}#password | indent 1001>: modifier \"indent\": \"1001\" is too large (at most 1000)\n\
             error: c.yaml (ConfigMap/c): data.c: <path:{path}#password | indent 99999999999999999999999>: modifier \"indent\": \"99999999999999999999999\" is too large (at most 1000)\n"
        ));
    assert_eq!(OpenBao::shared().reads(&path), 0);
}

/// Issue 11, security 9: a value that is not base64 under a Secret's `data` was written as is,
/// and Kubernetes refused the object at sync.
#[test]
fn a_raw_value_under_secret_data_must_be_base64() {
    let name = unique("rawdata");
    OpenBao::shared().put_kv2(
        "secret",
        &name,
        json!({"password": "hunter2-secret", "encoded": "aHVudGVyMg==", "port": 80}),
    );
    let path = format!("secret/data/{name}");
    let hint = "the value is not base64, which Secret data must be (add | base64encode to the \
                placeholder, or move the entry to stringData)";
    Case::new()
        .file(
            "s.yaml",
            &format!(
                "
            apiVersion: v1
            kind: Secret
            metadata:
              name: s
              annotations:
                avp.kubernetes.io/path: {path}
            data:
              password: <password>
              inline: <path:{path}#password>
              port: <port>
              encoded: <encoded>
              fine: <password | base64encode>
        "
            ),
        )
        .vault(OpenBao::shared())
        .secret("hunter2-secret")
        .args(["generate", "s.yaml"])
        .run()
        .failure()
        .stderr(&format!(
            "error: s.yaml (Secret/s): data.password: {hint}\n\
             error: s.yaml (Secret/s): data.inline: {hint}\n\
             error: s.yaml (Secret/s): data.port: {hint}\n"
        ));
}

/// Issue 11, security 3: AVP refuses `remove-missing` on kinds without data entries to drop.
#[test]
fn remove_missing_on_a_kind_other_than_secret_or_configmap_is_an_error() {
    Case::new()
        .file("d.yaml", "
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: d
              annotations:
                avp.kubernetes.io/remove-missing: \"true\"
            spec: {}
        ")
        .env("VAULT_ADDR", "http://127.0.0.1:1")
        .args(["generate", "d.yaml"])
        .run()
        .failure()
        .stderr("error: d.yaml (Deployment/d): annotation avp.kubernetes.io/remove-missing applies only to a Secret or a ConfigMap (remove it from this Deployment)\n");
}

/// Issue 11, errors that teach: in an annotated manifest any `<word>` is a placeholder; when the
/// secret has no such key, the message says how to keep the text literal.
#[test]
fn a_generic_word_that_is_not_a_key_suggests_escaping_it() {
    let path = seeded();
    Case::new()
        .file("c.yaml", &format!("
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: c
              annotations:
                avp.kubernetes.io/path: {path}
            data:
              help: 'send <password> to <admin>'
              piped: <email | base64encode>
              inline: <path:{path}#admin>
        "))
        .vault(OpenBao::shared())
        .secret("hunter2-secret")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr(&format!(
            "error: c.yaml (ConfigMap/c): data.help: <admin>: key \"admin\" not found in {path} (if \"<admin>\" is meant as text, write it as \"\\<admin>\")\n\
             error: c.yaml (ConfigMap/c): data.piped: <email | base64encode>: key \"email\" not found in {path}\n\
             error: c.yaml (ConfigMap/c): data.inline: <path:{path}#admin>: key \"admin\" not found in {path}\n"
        ));
}

/// Issue 11, errors that teach: a document of helm's output has no file of its own; its
/// message names the template from helm's `# Source:` comment.
#[test]
fn errors_in_helm_output_name_the_template() {
    let path = seeded();
    Case::new()
        .file("app/Chart.yaml", "apiVersion: v2\nname: shop\nversion: 0.1.0\n")
        .file("app/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
        .file("app/templates/secret.yaml", &format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: db}}\nstringData:\n  password: <path:{path}#nope>\n"
        ))
        .vault(OpenBao::shared())
        .cwd("app")
        .args(["render"])
        .run()
        .failure()
        .stderr(&format!(
            "error: helm output: document 1 (Secret/db) from shop/templates/secret.yaml: stringData.password: <path:{path}#nope>: key \"nope\" not found in {path}\n"
        ));
}
