//! How vaultplate uses Vault: one login, one read per distinct secret, logins by method,
//! settings precedence, and failures that name the address or method.

use serde_json::json;

use crate::support::OpenBao;
use crate::support::{Case, KUBE_TOKEN, KubeApi, unique};

fn manifest(paths: &[&str]) -> String {
    let data: String = paths
        .iter()
        .enumerate()
        .map(|(i, p)| format!("  k{i}: <path:{p}>\n"))
        .collect();
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata:\n{data}")
}

#[test]
fn each_distinct_secret_is_read_once_per_run() {
    let bao = OpenBao::shared();
    let app = unique("once");
    bao.put_kv2("secret", &format!("{app}/one"), json!({"a": "1", "b": "2"}));
    bao.put_kv2("secret", &format!("{app}/two"), json!({"a": "3"}));
    bao.put_kv2("secret", &format!("{app}/two"), json!({"a": "4"}));
    let one = format!("secret/data/{app}/one");
    let two = format!("secret/data/{app}/two");
    let mut files = Case::new();
    for n in 0..5 {
        let mut text = manifest(&[
            &format!("{one}#a"),
            &format!("{one}#b"),
            &format!("{two}#a"),
            &format!("{two}#a#1"),
        ]);
        text.push_str(&format!("---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: s{n}\n  annotations:\n    avp.kubernetes.io/path: {one}\nstringData:\n  a: <a>\n  b: <b>-<a>\n"));
        files = files.file(&format!("app/m{n}.yaml"), &text);
    }
    let out = files.vault(bao).args(["generate", "app"]).run();
    out.success();
    assert_eq!(out.stdout_text().matches("\"4\"").count(), 5);
    assert_eq!(out.stdout_text().matches("\"3\"").count(), 5);
    // 40 placeholders over 3 distinct (path, version) pairs; AVP would make 25 reads.
    assert_eq!(bao.reads(&format!("secret/data/{app}")), 3);
}

#[test]
fn nothing_to_fill_needs_no_vault_at_all() {
    Case::new()
        .file(
            "c.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n",
        )
        .env("AVP_AUTH_TYPE", "approle")
        .args(["generate", "c.yaml"])
        .run()
        .success()
        .stdout("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n");
}

fn reader_policy(bao: &OpenBao, app: &str) -> String {
    let policy = unique("read");
    bao.policy(
        &policy,
        &format!("path \"secret/data/{app}\" {{ capabilities = [\"read\"] }}"),
    );
    policy
}

#[test]
fn approle_login_happens_once_per_run() {
    let bao = OpenBao::shared();
    let app = unique("approle");
    bao.put_kv2("secret", &app, json!({"a": "approle-value", "b": "x"}));
    let policy = reader_policy(bao, &app);
    let (role_id, secret_id) = bao.approle(&unique("role"), &[&policy]);
    let path = format!("secret/data/{app}");
    Case::new()
        .file(
            "c.yaml",
            &manifest(&[&format!("{path}#a"), &format!("{path}#b")]),
        )
        .env("VAULT_ADDR", bao.addr())
        .env("AVP_AUTH_TYPE", "approle")
        .env("AVP_ROLE_ID", &role_id)
        .env("AVP_SECRET_ID", &secret_id)
        .secret(&secret_id)
        .args(["generate", "c.yaml"])
        .run()
        .success()
        .stdout_contains("k0: \"approle-value\"");
    assert_eq!(bao.approle_logins(&role_id), 1);
    assert_eq!(bao.reads(&path), 1);
}

#[test]
fn userpass_login_on_a_custom_mount() {
    let bao = OpenBao::shared();
    let app = unique("userpass");
    bao.put_kv2("secret", &app, json!({"a": "userpass-value"}));
    let policy = reader_policy(bao, &app);
    let user = unique("user");
    bao.userpass(&user, "userpass-password", &[&policy]);
    Case::new()
        .file("c.yaml", &manifest(&[&format!("secret/data/{app}#a")]))
        .env("VAULT_ADDR", bao.addr())
        .env("AVP_AUTH_TYPE", "userpass")
        .env("AVP_MOUNT_PATH", "auth/userpass")
        .env("AVP_USERNAME", &user)
        .env("AVP_PASSWORD", "userpass-password")
        .secret("userpass-password")
        .args(["generate", "c.yaml"])
        .run()
        .success()
        .stdout_contains("k0: \"userpass-value\"");
    assert_eq!(bao.userpass_logins(&user), 1);
}

#[test]
fn a_refused_login_names_the_method_and_reads_nothing() {
    let bao = OpenBao::shared();
    let app = unique("refused");
    let (role_id, _) = bao.approle(&unique("role"), &["default"]);
    Case::new()
        .file("c.yaml", &manifest(&[&format!("secret/data/{app}#a")]))
        .env("VAULT_ADDR", bao.addr())
        .env("AVP_AUTH_TYPE", "approle")
        .env("AVP_ROLE_ID", &role_id)
        .env("AVP_SECRET_ID", "wrong-secret-id")
        .secret("wrong-secret-id")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr_contains(&format!(
            "error: approle login at auth/approle on {} failed: Vault answered 400: ",
            bao.addr()
        ));
    assert_eq!(bao.reads(&format!("secret/data/{app}")), 0);
}

#[test]
fn missing_credentials_are_named() {
    Case::new()
        .file("c.yaml", &manifest(&["secret/data/x#a"]))
        .env("VAULT_ADDR", OpenBao::shared().addr())
        .env("AVP_AUTH_TYPE", "approle")
        .env("AVP_ROLE_ID", "r")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr("error: setting AVP_SECRET_ID is required for AVP_AUTH_TYPE=approle\n");
    Case::new()
        .file("c.yaml", &manifest(&["secret/data/x#a"]))
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr("error: setting VAULT_ADDR is required to read secrets\n");
}

#[test]
fn a_denied_read_says_the_policy_denies_it_once_per_secret() {
    let bao = OpenBao::shared();
    let app = unique("denied");
    bao.put_kv2("secret", &app, json!({"a": "denied-value"}));
    let user = unique("user");
    bao.userpass(&user, "pw", &["default"]);
    let path = format!("secret/data/{app}");
    Case::new()
        .file(
            "c.yaml",
            &manifest(&[
                &format!("{path}#a"),
                &format!("{path}#a"),
                &format!("{path}#b"),
            ]),
        )
        .env("VAULT_ADDR", bao.addr())
        .env("AVP_AUTH_TYPE", "userpass")
        .env("AVP_USERNAME", &user)
        .env("AVP_PASSWORD", "pw")
        .secret("denied-value")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr(&format!(
            "error: c.yaml (ConfigMap/c): data.k0: <path:{path}#a>: reading {path}: Vault at {} \
             answered 403 (permission denied): the token is valid, but its policies (default) do \
             not allow reading {path} (and 2 more placeholders)\n",
            bao.addr()
        ));
}

/// One root cause, one line: the address is unreachable for every path alike, so the error
/// says so once, not once per secret.
#[test]
fn an_unreachable_vault_fails_fast_naming_the_address_once() {
    let started = std::time::Instant::now();
    let out = Case::new()
        .file(
            "c.yaml",
            &manifest(&["secret/data/x#a", "secret/data/y#a", "other/z#a"]),
        )
        .env("VAULT_ADDR", "http://127.0.0.1:1")
        .env("VAULT_TOKEN", "t")
        .env("VAULT_MAX_RETRIES", "0")
        .args(["generate", "c.yaml"])
        .run();
    out.failure()
        .stderr_contains("error: Vault at http://127.0.0.1:1 is unreachable: ");
    assert_eq!(
        out.stderr_text().lines().count(),
        1,
        "{}",
        out.stderr_text()
    );
    assert!(
        started.elapsed().as_secs() < 10,
        "connection refused must not wait for timeouts"
    );
}

#[test]
fn an_application_cannot_redirect_vault() {
    let bao = OpenBao::shared();
    let app = unique("redirect");
    bao.put_kv2("secret", &app, json!({"a": "real-value"}));
    Case::new()
        .file("c.yaml", &manifest(&[&format!("secret/data/{app}#a")]))
        .vault(bao)
        .env("ARGOCD_ENV_VAULT_ADDR", "http://attacker.invalid:8200")
        .env("ARGOCD_ENV_VAULT_TOKEN", "attacker-token")
        .secret("attacker.invalid")
        .secret("attacker-token")
        .args(["generate", "c.yaml"])
        .run()
        .success()
        .stdout_contains("k0: \"real-value\"")
        .stderr_contains(
            "ignoring ARGOCD_ENV_VAULT_ADDR: an Argo CD Application may not change this setting",
        )
        .stderr_contains(
            "ignoring ARGOCD_ENV_VAULT_TOKEN: an Argo CD Application may not change this setting",
        );
}

#[test]
fn settings_from_a_config_file_yield_to_the_environment() {
    let bao = OpenBao::shared();
    let app = unique("config");
    bao.put_kv2("secret", &app, json!({"a": "config-value"}));
    let body = manifest(&[&format!("secret/data/{app}#a")]);
    let yaml = format!(
        "VAULT_ADDR: {}\nVAULT_TOKEN: root\nVAULT_MAX_RETRIES: 1\n",
        bao.addr()
    );
    let lines = format!(
        "# vaultplate settings\nVAULT_ADDR={}\nVAULT_TOKEN=root\n",
        bao.addr()
    );
    for (file, text) in [
        ("vp.yaml", yaml.as_str()),
        (
            "vp.json",
            &format!(
                "{{\"VAULT_ADDR\": \"{}\", \"VAULT_TOKEN\": \"root\"}}",
                bao.addr()
            ),
        ),
        ("vp.env", lines.as_str()),
    ] {
        Case::new()
            .file("c.yaml", &body)
            .file(file, text)
            .args(["generate", "-c", file, "c.yaml"])
            .run()
            .success()
            .stdout_contains("k0: \"config-value\"");
    }
    Case::new()
        .file("c.yaml", &body)
        .file(
            "vp.env",
            "VAULT_ADDR=http://127.0.0.1:1\nVAULT_TOKEN=root\n",
        )
        .env("VAULT_ADDR", bao.addr())
        .args(["generate", "--config-path", "vp.env", "c.yaml"])
        .run()
        .success()
        .stdout_contains("k0: \"config-value\"");
}

#[test]
fn verbose_logs_never_print_values() {
    let bao = OpenBao::shared();
    let app = unique("verbose");
    bao.put_kv2("secret", &app, json!({"a": "verbose-secret-value"}));
    Case::new()
        .file("c.yaml", &manifest(&[&format!("secret/data/{app}#a")]))
        .vault(bao)
        .secret("verbose-secret-value")
        .secret("root")
        .args(["generate", "--verbose-sensitive-output", "c.yaml"])
        .run()
        .success()
        .stderr_contains("reading secret");
}

/// AVP trims its settings: a Kubernetes Secret made with `kubectl create secret generic
/// --from-file` (or `echo` into a config file) ends every value with a newline, and
/// `AVP_TYPE="vault\n"` still means Vault, wherever the value comes from.
#[test]
fn settings_are_trimmed_wherever_they_come_from() {
    let bao = OpenBao::shared();
    let app = unique("trimmed");
    bao.put_kv2("secret", &app, json!({"a": "trimmed-value"}));
    let body = manifest(&[&format!("secret/data/{app}#a")]);
    let api = KubeApi::start();
    api.put_secret(
        "argocd",
        "avp",
        &[
            ("AVP_TYPE", "vault\n"),
            ("AVP_AUTH_TYPE", "token\n"),
            ("VAULT_ADDR", &format!("{}\n", bao.addr())),
            ("VAULT_TOKEN", "root\n"),
        ],
    );
    Case::new()
        .file("c.yaml", &body)
        .file("kubeconfig", &api.kubeconfig())
        .env("KUBECONFIG", "kubeconfig")
        .secret(KUBE_TOKEN)
        .args(["generate", "--secret-name", "avp", "c.yaml"])
        .run()
        .success()
        .stdout_contains("k0: \"trimmed-value\"");
    Case::new()
        .file("c.yaml", &body)
        .file(
            "vp.yaml",
            &format!(
                "AVP_TYPE: \"vault\\n\"\nVAULT_ADDR: \" {} \"\nAVP_KV_VERSION: \"2\\n\"\n",
                bao.addr()
            ),
        )
        .env("VAULT_TOKEN", "root\n")
        .env("VAULT_MAX_RETRIES", " 1\n")
        .args(["generate", "-c", "vp.yaml", "c.yaml"])
        .run()
        .success()
        .stdout_contains("k0: \"trimmed-value\"");
}

/// A KV v2 path written without `data/` (the most common mistake of a newcomer) is an error
/// that gives the corrected path and quotes Vault's warning; never a missing secret, which
/// `remove-missing` would drop quietly. The mount may have several segments.
#[test]
fn a_kv2_path_without_data_names_the_corrected_path() {
    let bao = OpenBao::shared();
    let app = unique("no-data");
    bao.put_kv2("secret", &app, json!({"a": "v2-value"}));
    let team = unique("team");
    bao.post(
        &format!("sys/mounts/{team}/kv"),
        &json!({"type": "kv", "options": {"version": "2"}}),
    );
    bao.post(
        &format!("{team}/kv/data/{app}"),
        &json!({"data": {"a": "v2-value"}}),
    );
    let warning = "Invalid path for a versioned K/V secrets engine. See the API docs for the \
                   appropriate API endpoints to use. If using the OpenBao CLI, use 'bao kv get' \
                   for this operation.";
    for (path, corrected) in [
        (format!("secret/{app}"), format!("secret/data/{app}")),
        (format!("{team}/kv/{app}"), format!("{team}/kv/data/{app}")),
    ] {
        for annotations in [
            "",
            "\n  annotations:\n    avp.kubernetes.io/remove-missing: \"true\"",
        ] {
            Case::new()
                .file(
                    "c.yaml",
                    &format!(
                        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{annotations}\ndata:\n  k0: <path:{path}#a>\n"
                    ),
                )
                .vault(bao)
                .secret("v2-value")
                .args(["generate", "c.yaml"])
                .run()
                .failure()
                .stderr(&format!(
                    "error: c.yaml (ConfigMap/c): data.k0: <path:{path}#a>: reading {path}: Vault \
                     at {} has no secret at {path}: it is on a KV v2 engine, whose paths need \
                     data/ after the mount: write {corrected} (Vault warned: \"{warning}\")\n",
                    bao.addr()
                ));
        }
    }
}

/// A KV v2 secret read as KV v1 shows up as keys `data` and `metadata`; the error says so and
/// names what made the read KV v1: the manifest's annotation, or `AVP_KV_VERSION`.
#[test]
fn a_kv2_secret_read_as_kv1_names_what_made_it_kv1() {
    let bao = OpenBao::shared();
    let app = unique("as-v1");
    bao.put_kv2("secret", &app, json!({"a": "v2-value"}));
    let path = format!("secret/data/{app}");
    let annotated = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    avp.kubernetes.io/kv-version: \"1\"\ndata:\n  k0: <path:{path}#a>\n"
    );
    let plain = manifest(&[&format!("{path}#a")]);
    let cases = [
        (
            annotated,
            None,
            "because of this manifest's avp.kubernetes.io/kv-version: \"1\" annotation; remove \
             the annotation or set it to \"2\"",
        ),
        (
            plain,
            Some("1"),
            "because of AVP_KV_VERSION=1; set it to 2, or give this manifest the annotation \
             avp.kubernetes.io/kv-version: \"2\"",
        ),
    ];
    for (text, setting, because) in cases {
        let mut case = Case::new()
            .file("c.yaml", &text)
            .vault(bao)
            .secret("v2-value");
        if let Some(version) = setting {
            case = case.env("AVP_KV_VERSION", version);
        }
        case.args(["generate", "c.yaml"])
            .run()
            .failure()
            .stderr(&format!(
                "error: c.yaml (ConfigMap/c): data.k0: <path:{path}#a>: reading {path}: Vault at \
                 {} answered with a KV v2 secret (data and metadata) for {path}, which was read \
                 as KV v1 {because}\n",
                bao.addr()
            ));
    }
}

/// A token Vault does not know fails every read and its own lookup: one line for the run,
/// not one per path, saying the token is the cause.
#[test]
fn an_invalid_token_is_reported_once_as_the_cause() {
    let bao = OpenBao::shared();
    let out = Case::new()
        .file(
            "c.yaml",
            &manifest(&["secret/data/one#a", "secret/data/two#a", "other/three#a"]),
        )
        .env("VAULT_ADDR", bao.addr())
        .env("VAULT_TOKEN", "not-a-token")
        .secret("not-a-token")
        .args(["generate", "c.yaml"])
        .run();
    out.failure().stderr(&format!(
        "error: Vault at {} refused the token: every read and the token's lookup of itself \
         (auth/token/lookup-self) answered 403; the token is invalid, expired or revoked (or \
         lacks Vault's default policy, which that lookup needs); check VAULT_TOKEN or \
         VAULT_TOKEN_FILE\n",
        bao.addr()
    ));
}
