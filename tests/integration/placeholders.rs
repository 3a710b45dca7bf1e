//! Placeholder forms, typed values, modifiers and the Secret/ConfigMap rules, end to end against
//! a real OpenBao.

use serde_json::json;

use crate::support::OpenBao;
use crate::support::{Case, unindent, unique};

/// Seeds a KV v2 secret under a fresh name and returns its AVP path (`secret/data/<name>`).
fn seed(data: serde_json::Value) -> String {
    let name = unique("app");
    OpenBao::shared().put_kv2("secret", &name, data);
    format!("secret/data/{name}")
}

fn db() -> String {
    seed(
        json!({"username": "app-user", "password": "pw-123", "replicas": 3, "enabled": true,
                "settings": "{\"pool\": {\"size\": 10}, \"hosts\": [\"a\", \"b\"]}",
                "list": "- x\n- y\n", "pem": "-----BEGIN-----\nLINE1\n-----END-----"}),
    )
}

#[test]
fn generic_placeholders_read_the_annotation_path() {
    let path = db();
    Case::new()
        .file(
            "s.yaml",
            &format!(
                "
            apiVersion: v1
            kind: Secret
            metadata:
              name: db
              annotations:
                avp.kubernetes.io/path: {path}
            stringData:
              user: <username>
              url: postgres://<username>:<password>@db:5432/<username>
        "
            ),
        )
        .vault(OpenBao::shared())
        .secret("pw-123")
        .args(["generate", "s.yaml"])
        .run()
        .success()
        .stdout(&format!(
            "
            ---
            apiVersion: v1
            kind: Secret
            metadata:
              name: db
              annotations:
                avp.kubernetes.io/path: {path}
            stringData:
              user: \"app-user\"
              url: \"postgres://app-user:pw-123@db:5432/app-user\"
        "
        ));
}

#[test]
fn inline_placeholders_with_versions_and_whitespace() {
    let name = unique("versions");
    let bao = OpenBao::shared();
    bao.put_kv2("secret", &name, json!({"password": "old"}));
    bao.put_kv2("secret", &name, json!({"password": "new"}));
    let path = format!("secret/data/{name}");
    Case::new()
        .file(
            "c.yaml",
            &format!(
                "
            apiVersion: v1
            kind: ConfigMap
            metadata: {{name: c}}
            data:
              latest: <path:{path}#password>
              first: <path:{path}#password#1>
              spaced: '< path: {path} # password # 2 >'
              generic: <password>
        "
            ),
        )
        .vault(bao)
        .args(["generate", "c.yaml"])
        .run()
        .success()
        .stdout(
            "
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: c}
            data:
              latest: \"new\"
              first: \"old\"
              spaced: \"new\"
              generic: <password>
        ",
        );
}

#[test]
fn kv_version_1_from_the_setting_the_annotation_or_the_application() {
    let name = unique("kv1");
    let bao = OpenBao::shared();
    bao.put_kv1("kv1", &name, json!({"key": "v1-value"}));
    let manifest = |annotation: &str| {
        format!(
            "
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: c
          annotations: {{{annotation}}}
        data:
          k: <path:kv1/{name}#key>
    "
        )
    };
    let expected = |annotation: &str| {
        manifest(annotation).replace(&format!("<path:kv1/{name}#key>"), "\"v1-value\"")
    };
    let annotated = "avp.kubernetes.io/kv-version: \"1\"";
    for (case, annotation) in [
        (Case::new().env("AVP_KV_VERSION", "1"), ""),
        (Case::new().env("ARGOCD_ENV_AVP_KV_VERSION", "1"), ""),
        (Case::new().env("AVP_KV_VERSION", "2"), annotated),
    ] {
        case.file("c.yaml", &manifest(annotation))
            .vault(bao)
            .args(["generate", "c.yaml"])
            .run()
            .success()
            .stdout(&format!("---\n{}", unindent(&expected(annotation))));
    }
}

#[test]
fn a_whole_placeholder_keeps_the_value_type() {
    let path = db();
    Case::new()
        .file(
            "d.yaml",
            &format!(
                "
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: d
              annotations:
                avp.kubernetes.io/path: {path}
            spec:
              replicas: <replicas>
              paused: <enabled>
              template:
                metadata:
                  annotations:
                    text: 'replicas=<replicas>'
                    settings: <settings | jsonParse>
                    list: <list | yamlParse>
                    size: <settings | jsonPath {{.pool.size}}>
                    hosts: <settings | jsonPath {{.hosts[*]}}>
        "
            ),
        )
        .vault(OpenBao::shared())
        .args(["generate", "d.yaml"])
        .run()
        .success()
        .stdout(&format!(
            "
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: d
              annotations:
                avp.kubernetes.io/path: {path}
            spec:
              replicas: 3
              paused: true
              template:
                metadata:
                  annotations:
                    text: \"replicas=3\"
                    settings: {{\"pool\": {{\"size\": 10}}, \"hosts\": [\"a\", \"b\"]}}
                    list: [\"x\", \"y\"]
                    size: \"10\"
                    hosts: \"a b\"
        "
        ));
}

#[test]
fn modifiers_base64_hash_and_indent_into_a_block_scalar() {
    let path = db();
    Case::new()
        .file(
            "m.yaml",
            &format!(
                "
            apiVersion: v1
            kind: Secret
            metadata:
              name: m
              annotations:
                avp.kubernetes.io/path: {path}
            data:
              password: <password | base64encode>
              round-trip: <password | base64encode | base64decode | base64encode>
            stringData:
              digest: <password | sha256sum>
              bundle.yaml: |
                ca: |
                  <pem | indent 2>
                user: <username>
              after: kept
        "
            ),
        )
        .vault(OpenBao::shared())
        .secret("pw-123")
        .args(["generate", "m.yaml"])
        .run()
        .success()
        .stdout(&format!(
            "
            ---
            apiVersion: v1
            kind: Secret
            metadata:
              name: m
              annotations:
                avp.kubernetes.io/path: {path}
            data:
              password: \"cHctMTIz\"
              round-trip: \"cHctMTIz\"
            stringData:
              digest: \"073220a42b00321910fc31943f92fb8e7d22cc43832fe1b8d718999dc7a1785b\"
              bundle.yaml: |
                ca: |
                  -----BEGIN-----
                  LINE1
                  -----END-----
                user: app-user
              after: kept
        "
        ));
}

#[test]
fn secret_data_encoded_by_helm_or_kustomize_is_decoded_filled_and_encoded_again() {
    let path = db();
    // base64("<password>") and base64("user=<username>\n"), as Helm's b64enc or a kustomize
    // secretGenerator write them; "aGVsbG8=" (hello) holds no placeholder and stays as written.
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
              password: PHBhc3N3b3JkPg==
              env: dXNlcj08dXNlcm5hbWU+Cg==
              plain: aGVsbG8=
        "
            ),
        )
        .vault(OpenBao::shared())
        .secret("pw-123")
        .args(["generate", "s.yaml"])
        .run()
        .success()
        .stdout(&format!(
            "
            ---
            apiVersion: v1
            kind: Secret
            metadata:
              name: s
              annotations:
                avp.kubernetes.io/path: {path}
            data:
              password: \"cHctMTIz\"
              env: \"dXNlcj1hcHAtdXNlcgo=\"
              plain: aGVsbG8=
        "
        ));
}

#[test]
fn configmap_values_become_text_and_maps_are_refused() {
    let path = db();
    let manifest = |value: &str| {
        format!(
            "
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: c
          annotations:
            avp.kubernetes.io/path: {path}
        data:
          v: {value}
    "
        )
    };
    Case::new()
        .file("c.yaml", &manifest("<replicas>"))
        .vault(OpenBao::shared())
        .args(["generate", "c.yaml"])
        .run()
        .success()
        .stdout(&format!("---\n{}", unindent(&manifest("\"3\""))));
    Case::new()
        .file("c.yaml", &manifest("<settings | jsonParse>"))
        .vault(OpenBao::shared())
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr("error: c.yaml (ConfigMap/c): data.v: the value is a map, but this field only takes text (add | jsonPath or keep it a string in Vault)\n");
}

#[test]
fn remove_missing_drops_entries_without_a_value() {
    let path = db();
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
                avp.kubernetes.io/remove-missing: true
            stringData:
              user: <username>
              gone: <not-in-vault>
              kept: literal
        "
            ),
        )
        .vault(OpenBao::shared())
        .args(["generate", "s.yaml"])
        .run()
        .success()
        .stdout(&format!(
            "
            ---
            apiVersion: v1
            kind: Secret
            metadata:
              name: s
              annotations:
                avp.kubernetes.io/path: {path}
                avp.kubernetes.io/remove-missing: true
            stringData:
              user: \"app-user\"
              kept: literal
        "
        ));
}

#[test]
fn ignored_manifests_are_printed_untouched_and_read_nothing() {
    let name = unique("ignored");
    let manifest = format!(
        "
        apiVersion: v1
        kind: Secret
        metadata:
          name: s
          annotations:
            avp.kubernetes.io/path: secret/data/{name}
            avp.kubernetes.io/ignore: \"true\"
        stringData:
          a: <password>
          b: <path:secret/data/{name}#x>
    "
    );
    Case::new()
        .file("s.yaml", &manifest)
        .vault(OpenBao::shared())
        .args(["generate", "s.yaml"])
        .run()
        .success()
        .stdout(&format!("---\n{}", unindent(&manifest)));
    assert_eq!(OpenBao::shared().reads(&format!("secret/data/{name}")), 0);
}

#[test]
fn escaped_placeholders_stay_literal() {
    let path = db();
    Case::new()
        .file(
            "c.yaml",
            &format!(
                "
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: c
              annotations:
                avp.kubernetes.io/path: {path}
            data:
              help: '\\<username> is filled in as <username>'
              inline: '\\<path:{path}#username>'
              regex: '\\<word\\>'
              html: '<a href=\"x\">link</a>'
        "
            ),
        )
        .vault(OpenBao::shared())
        .args(["generate", "c.yaml"])
        .run()
        .success()
        .stdout(&format!(
            "
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: c
              annotations:
                avp.kubernetes.io/path: {path}
            data:
              help: \"<username> is filled in as app-user\"
              inline: \"<path:{path}#username>\"
              regex: '\\<word\\>'
              html: '<a href=\"x\">link</a>'
        "
        ));
}

/// Issue 11, security 3: `remove-missing` drops keys missing from a secret that exists; a
/// secret that does not exist (here a KV v2 path without `data/`, or one never written) is an
/// error, never an empty Secret.
#[test]
fn remove_missing_never_hides_a_missing_secret() {
    let name = unique("rm-missing");
    OpenBao::shared().put_kv2("secret", &name, json!({"username": "app-user"}));
    let manifest = |path: &str| {
        format!(
            "
            apiVersion: v1
            kind: Secret
            metadata:
              name: s
              annotations:
                avp.kubernetes.io/path: {path}
                avp.kubernetes.io/remove-missing: \"true\"
            stringData:
              user: <username>
        "
        )
    };
    let never_written = format!("secret/data/{}", unique("never"));
    Case::new()
        .file("s.yaml", &manifest(&never_written))
        .vault(OpenBao::shared())
        .args(["generate", "s.yaml"])
        .run()
        .failure()
        .stderr(&format!(
            "error: s.yaml (Secret/s): stringData.user: <username>: no secret at {never_written} \
             (remove-missing drops only keys missing from a secret that exists)\n"
        ));
    Case::new()
        .file("s.yaml", &manifest(&format!("secret/{name}")))
        .vault(OpenBao::shared())
        .args(["generate", "s.yaml"])
        .run()
        .failure()
        .stderr_contains("error: s.yaml (Secret/s): stringData.user: <username>: ");
}

/// Issue 11, AVP compatibility: AVP ignores a version on a KV v1 path; `--verbose` says so.
#[test]
fn a_version_on_a_kv_v1_path_is_ignored_as_avp_does() {
    let name = unique("kv1-version");
    OpenBao::shared().put_kv1("kv1", &name, json!({"key": "v1-value"}));
    let manifest = |a: &str, b: &str| {
        format!(
            "
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: c
              annotations:
                avp.kubernetes.io/kv-version: \"1\"
                avp.kubernetes.io/path: kv1/{name}
                avp.kubernetes.io/secret-version: \"2\"
            data:
              inline: {a}
              generic: {b}
        "
        )
    };
    Case::new()
        .file("c.yaml", &manifest(&format!("<path:kv1/{name}#key#3>"), "<key>"))
        .vault(OpenBao::shared())
        .args(["generate", "--verbose", "c.yaml"])
        .run()
        .success()
        .stdout(&format!("---\n{}", unindent(&manifest("\"v1-value\"", "\"v1-value\""))))
        .stderr_contains(&format!(
            "data.inline: <path:kv1/{name}#key#3>: version 3 ignored: kv1/{name} is read as KV v1, which has no versions (argocd-vault-plugin ignores it too)"
        ))
        .stderr_contains(&format!(
            "data.generic: <key>: version 2 ignored: kv1/{name} is read as KV v1, which has no versions (argocd-vault-plugin ignores it too)"
        ));
    assert_eq!(OpenBao::shared().reads(&format!("kv1/{name}")), 1);
}

/// Issue 11, AVP compatibility: a leading `/` is accepted, as AVP's Vault client does, inline
/// and in the path annotation; `/a` and `a` are one secret, read once.
#[test]
fn a_leading_slash_in_a_path_is_the_same_path() {
    let path = db();
    Case::new()
        .file(
            "c.yaml",
            &format!(
                "
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: c
              annotations:
                avp.kubernetes.io/path: /{path}
            data:
              generic: <username>
              slash: <path:/{path}#username>
              plain: <path:{path}#username>
        "
            ),
        )
        .vault(OpenBao::shared())
        .args(["generate", "c.yaml"])
        .run()
        .success()
        .stdout(&format!(
            "
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: c
              annotations:
                avp.kubernetes.io/path: /{path}
            data:
              generic: \"app-user\"
              slash: \"app-user\"
              plain: \"app-user\"
        "
        ));
    assert_eq!(OpenBao::shared().reads(&path), 1);
}
