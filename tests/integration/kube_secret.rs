//! Settings from a Kubernetes Secret (`-s/--secret-name [NAMESPACE:]NAME`): they reach Vault,
//! rank below the environment and the config file, are read from the right namespace, and
//! every failure names the Secret and the cause, never a value. The Kubernetes API is the
//! [`KubeApi`] stand-in, found through a kubeconfig the case writes (`KUBECONFIG`).

use std::net::{Ipv4Addr, TcpListener};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{Case, FaultServer, KUBE_TOKEN, KubeApi, OpenBao, kubeconfig_for, unique};

/// A manifest with one placeholder, for key `a` of `secret/data/{app}`.
fn manifest(app: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata:\n  k0: <path:secret/data/{app}#a>\n"
    )
}

/// A manifest with nothing to fill: Vault is never asked, the Secret is still read.
const NOTHING_TO_FILL: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n";

/// An application in the shared OpenBao whose key `a` is `value`.
fn seeded() -> String {
    let app = unique("kube");
    OpenBao::shared().put_kv2("secret", &app, json!({"a": "value"}));
    app
}

/// A case that finds the Kubernetes API at `server` through `./kubeconfig`, and must never
/// show the kubeconfig's token.
fn with_kubeconfig(server: &str) -> Case {
    Case::new()
        .file("kubeconfig", &kubeconfig_for(server))
        .env("KUBECONFIG", "kubeconfig")
        .secret(KUBE_TOKEN)
}

fn with_api(api: &KubeApi) -> Case {
    with_kubeconfig(api.addr())
}

/// An address where nothing listens.
fn closed_port() -> String {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("binding 127.0.0.1:0");
    let addr = listener.local_addr().expect("its address");
    drop(listener);
    format!("http://{addr}")
}

#[test]
fn settings_from_the_secret_reach_vault() {
    let bao = OpenBao::shared();
    let app = seeded();
    let api = KubeApi::start();
    api.put_secret(
        "argocd",
        "avp",
        &[("VAULT_ADDR", bao.addr()), ("VAULT_TOKEN", "root")],
    );
    with_api(&api)
        .file("c.yaml", &manifest(&app))
        .args(["generate", "--secret-name", "avp", "c.yaml"])
        .run()
        .success()
        .stdout_contains("  k0: \"value\"")
        .stderr("");
    // Read once per run, during configuration.
    assert_eq!(
        api.requests(),
        ["GET /api/v1/namespaces/argocd/secrets/avp"]
    );
}

#[test]
fn the_environment_beats_the_secret() {
    let app = seeded();
    let api = KubeApi::start();
    api.put_secret(
        "argocd",
        "avp",
        &[("VAULT_ADDR", &closed_port()), ("VAULT_TOKEN", "root")],
    );
    with_api(&api)
        .env("VAULT_ADDR", OpenBao::shared().addr())
        .file("c.yaml", &manifest(&app))
        .args(["generate", "-s", "avp", "c.yaml"])
        .run()
        .success()
        .stdout_contains("  k0: \"value\"");
}

#[test]
fn the_config_file_beats_the_secret() {
    let app = seeded();
    let api = KubeApi::start();
    api.put_secret(
        "argocd",
        "avp",
        &[("VAULT_ADDR", &closed_port()), ("VAULT_TOKEN", "root")],
    );
    with_api(&api)
        .file(
            "settings.yaml",
            &format!("VAULT_ADDR: {}\n", OpenBao::shared().addr()),
        )
        .file("c.yaml", &manifest(&app))
        .args(["generate", "-c", "settings.yaml", "-s", "avp", "c.yaml"])
        .run()
        .success()
        .stdout_contains("  k0: \"value\"");
}

#[test]
fn the_namespace_is_argocd_unless_given() {
    let api = KubeApi::start();
    api.put_secret("argocd", "avp", &[]);
    api.put_secret("team-a", "avp.credentials", &[]);
    for flag in ["avp", "team-a:avp.credentials"] {
        with_api(&api)
            .file("c.yaml", NOTHING_TO_FILL)
            .args(["generate", "-s", flag, "c.yaml"])
            .run()
            .success();
    }
    assert_eq!(
        api.requests(),
        [
            "GET /api/v1/namespaces/argocd/secrets/avp",
            "GET /api/v1/namespaces/team-a/secrets/avp.credentials",
        ]
    );
}

#[test]
fn a_missing_secret_is_named_before_any_manifest_is_read() {
    let api = KubeApi::start();
    with_api(&api)
        .args(["generate", "--secret-name", "missing", "no-such-dir"])
        .run()
        .code(1)
        .stderr(&format!(
            "error: Kubernetes Secret argocd/missing: not found (404 from the Kubernetes API at {})\n",
            api.addr()
        ));
}

#[test]
fn a_forbidden_secret_names_the_permission_needed() {
    let api = KubeApi::start();
    api.put_secret("team", "avp", &[("VAULT_TOKEN", "never-read-token")]);
    api.forbid("team");
    with_api(&api)
        .file("c.yaml", NOTHING_TO_FILL)
        .secret("never-read-token")
        .args(["generate", "-s", "team:avp", "c.yaml"])
        .run()
        .code(1)
        .stderr(&format!(
            "error: Kubernetes Secret team/avp: forbidden (403 from the Kubernetes API at {}): \
             the sidecar's service account needs get on secrets in team; the API said: \
             secrets \"avp\" is forbidden: User \"system:serviceaccount:argocd:argocd-repo-server\" \
             cannot get resource \"secrets\" in API group \"\" in the namespace \"team\"\n",
            api.addr()
        ));
}

#[test]
fn an_unreachable_api_is_named_by_its_address() {
    let addr = closed_port();
    with_kubeconfig(&addr)
        .file("c.yaml", NOTHING_TO_FILL)
        .args(["generate", "-s", "avp", "c.yaml"])
        .run()
        .code(1)
        .stderr(&format!(
            "error: Kubernetes Secret argocd/avp: cannot reach the Kubernetes API at {addr}: \
             Connection refused (os error 111)\n"
        ));
}

#[test]
fn a_silent_api_ends_the_read_within_the_run_deadline() {
    let api = FaultServer::hang();
    let started = Instant::now();
    with_kubeconfig(api.addr())
        .env("VAULTPLATE_TIMEOUT", "1s")
        .file("c.yaml", NOTHING_TO_FILL)
        .args(["generate", "-s", "avp", "c.yaml"])
        .run()
        .code(1)
        .stderr(&format!(
            "error: Kubernetes Secret argocd/avp: no answer from the Kubernetes API at {} within 1s\n",
            api.addr()
        ));
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(api.requests(), 1);
}

#[test]
fn without_a_kubeconfig_or_a_pod_there_is_no_api_to_ask() {
    let out = Case::new()
        .file("c.yaml", NOTHING_TO_FILL)
        .args(["generate", "-s", "avp", "c.yaml"])
        .run();
    let home = out
        .cwd()
        .parent()
        .expect("the case directory holds work/ and home/")
        .join("home");
    out.code(1).stderr(&format!(
        "error: Kubernetes Secret argocd/avp: no way to reach the Kubernetes API: no usable \
         kubeconfig ({}/.kube/config does not exist) and not in a pod (KUBERNETES_SERVICE_HOST \
         is not set)\n",
        home.display()
    ));
}

#[test]
fn a_bad_secret_name_is_a_usage_error() {
    let cases = [
        ("a:b:c", "expected [NAMESPACE:]NAME, with at most one ':'"),
        ("", "expected [NAMESPACE:]NAME, got an empty value"),
        (
            "Argo:avp",
            "\"Argo\" is not a namespace name (lowercase letters, digits and '-', at most 63)",
        ),
    ];
    for (value, why) in cases {
        Case::new()
            .args(["generate", "--secret-name", value, "c.yaml"])
            .run()
            .code(2)
            .stderr(&format!(
                "error: invalid value '{value}' for '--secret-name <[NAMESPACE:]NAME>': {why}\n\n\
                 For more information, try '--help'.\n"
            ));
    }
}

#[test]
fn a_bad_value_names_the_secret_as_its_origin() {
    let api = KubeApi::start();
    api.put_secret("argocd", "avp", &[("AVP_KV_VERSION", "3")]);
    with_api(&api)
        .file("c.yaml", NOTHING_TO_FILL)
        .args(["generate", "-s", "avp", "c.yaml"])
        .run()
        .code(1)
        .stderr(
            "error: setting AVP_KV_VERSION from the Kubernetes Secret argocd/avp: \"3\" must be 1 or 2\n",
        );
}

#[test]
fn a_binary_setting_value_is_refused_by_name() {
    let api = KubeApi::start();
    api.put_secret_bytes(
        "argocd",
        "avp",
        vec![
            ("VAULT_TOKEN".to_owned(), vec![0xff, 0xfe, 0x00]),
            ("keystore.p12".to_owned(), vec![0x30, 0x82, 0xff]),
        ],
    );
    with_api(&api)
        .file("c.yaml", NOTHING_TO_FILL)
        .args(["generate", "-s", "avp", "c.yaml"])
        .run()
        .code(1)
        .stderr(
            "error: Kubernetes Secret argocd/avp: the value of VAULT_TOKEN is not UTF-8 text\n",
        );
}

#[test]
fn unknown_keys_are_named_without_their_values() {
    let api = KubeApi::start();
    api.put_secret(
        "argocd",
        "avp",
        &[
            ("VAULT_ADRR", "http://typo.example:8200"),
            ("ARGOCD_ENV_AVP_KV_VERSION", "1"),
            ("password", "unknown-key-secret-value"),
        ],
    );
    with_api(&api)
        .file("c.yaml", NOTHING_TO_FILL)
        .secret("http://typo.example:8200")
        .secret("unknown-key-secret-value")
        .args(["generate", "-s", "avp", "c.yaml"])
        .run()
        .success()
        .stderr(
            " WARN ignoring unknown setting ARGOCD_ENV_AVP_KV_VERSION in the Kubernetes Secret argocd/avp\n \
             WARN ignoring unknown setting VAULT_ADRR in the Kubernetes Secret argocd/avp\n \
             WARN ignoring unknown setting password in the Kubernetes Secret argocd/avp\n",
        );
}

#[test]
fn credentials_from_the_secret_never_reach_stderr() {
    let bao = OpenBao::shared();
    let app = seeded();
    let (role_id, _) = bao.approle(&unique("role"), &["default"]);
    let api = KubeApi::start();
    api.put_secret(
        "argocd",
        "avp",
        &[
            ("VAULT_ADDR", bao.addr()),
            ("AVP_AUTH_TYPE", "approle"),
            ("AVP_ROLE_ID", &role_id),
            ("AVP_SECRET_ID", "wrong-secret-id-from-kubernetes"),
        ],
    );
    let out = with_api(&api)
        .file("c.yaml", &manifest(&app))
        .secret("wrong-secret-id-from-kubernetes")
        .args(["generate", "--verbose", "-s", "avp", "c.yaml"])
        .run();
    out.code(1).stderr_contains("approle");
    assert_eq!(bao.approle_logins(&role_id), 1);
}
