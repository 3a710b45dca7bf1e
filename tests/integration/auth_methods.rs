//! Every way a cluster logs in (`AVP_AUTH_TYPE`), each against a real OpenBao: one login per
//! run, refusals that name the method and the mount, missing settings named in full before
//! anything is sent, and credential files read anew on every run. GitHub's login goes to a
//! stand-in of Vault's endpoint in front of OpenBao, which has no GitHub auth method.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::{
    Case, FaultServer, JwtKey, OpenBao, ServiceAccount, StandIn, TestCa, github_login, now,
    token_review_api, unique,
};

/// A ConfigMap `c` whose `k0` is the key `a` of the secret at `path`.
fn config_map(path: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata:\n  k0: <path:{path}#a>\n"
    )
}

/// A ConfigMap without placeholders: a run that needs no Vault.
const NOTHING_TO_FILL: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n";

/// A KV v2 secret `{"a": value}` of the test's own and a policy that may read it:
/// `(path, policy)`.
fn secret(bao: &OpenBao, prefix: &str, value: &str) -> (String, String) {
    let app = unique(prefix);
    bao.put_kv2("secret", &app, json!({ "a": value }));
    let policy = unique("read");
    bao.policy(
        &policy,
        &format!("path \"secret/data/{app}\" {{ capabilities = [\"read\"] }}"),
    );
    (format!("secret/data/{app}"), policy)
}

fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a string, got {value}"))
        .to_owned()
}

/// A new token holding `policy`, made with root.
fn token_with(bao: &OpenBao, policy: &str) -> String {
    text(
        &bao.post(
            "auth/token/create",
            &json!({ "policies": [policy], "ttl": "10m" }),
        )["auth"]["client_token"],
    )
}

fn write(path: &Path, contents: &str) {
    std::fs::write(path, contents)
        .unwrap_or_else(|error| panic!("writing {}: {error}", path.display()));
}

/// A kubernetes auth mount of the test's own whose TokenReviews go to `api`, where `role`
/// lets `account` read with `policy`. See `support/token_review_api.rs` for what OpenBao needs.
fn kubernetes_auth(
    bao: &OpenBao,
    api: &StandIn,
    account: &ServiceAccount,
    role: &str,
    policy: &str,
) -> String {
    let mount = bao.enable_auth("kubernetes");
    bao.post(
        &format!("auth/{mount}/config"),
        &json!({
            "kubernetes_host": api.addr(),
            // Refused without it when disable_local_ca_jwt is set, though unused over http://.
            "kubernetes_ca_cert": TestCa::new("kubernetes").pem(),
            "disable_local_ca_jwt": true,
        }),
    );
    bao.post(
        &format!("auth/{mount}/role/{role}"),
        &json!({
            "bound_service_account_names": [account.name],
            "bound_service_account_namespaces": [account.namespace],
            "token_policies": [policy],
        }),
    );
    mount
}

fn repo_server() -> ServiceAccount {
    ServiceAccount {
        namespace: "argocd".to_owned(),
        name: unique("argocd-repo-server"),
        uid: unique("uid"),
    }
}

#[test]
fn k8s_logs_in_once_with_the_service_account_token() {
    let bao = OpenBao::shared();
    let (path, policy) = secret(bao, "k8s", "k8s-value");
    let account = repo_server();
    let jwt = account.token(&JwtKey::new());
    let api = token_review_api(jwt.clone(), &account);
    let mount = kubernetes_auth(bao, &api, &account, "argocd", &policy);

    Case::new()
        .file("c.yaml", &config_map(&path))
        .file("serviceaccount/token", &format!("{jwt}\n"))
        .env("VAULT_ADDR", bao.addr())
        .env("AVP_AUTH_TYPE", "k8s")
        .env("AVP_K8S_ROLE", "argocd")
        .env("AVP_K8S_MOUNT_PATH", format!("auth/{mount}"))
        .env("AVP_K8S_TOKEN_PATH", "serviceaccount/token")
        .secret(&jwt)
        .args(["generate", "--verbose", "c.yaml"])
        .run()
        .success()
        .stdout_contains("  k0: \"k8s-value\"\n");
    assert_eq!(bao.logins(&mount), 1);
    assert_eq!(api.requests().len(), 1, "one TokenReview");
    assert_eq!(bao.reads(&path), 1);
}

#[test]
fn a_refused_k8s_login_names_the_method_and_mount() {
    let bao = OpenBao::shared();
    let (path, policy) = secret(bao, "k8s-refused", "never-read");
    let account = repo_server();
    let key = JwtKey::new();
    let api = token_review_api(account.token(&key), &account);
    let mount = kubernetes_auth(bao, &api, &account, "argocd", &policy);
    // Well formed, but not a token the cluster issued.
    let forged = account.token(&key);

    Case::new()
        .file("c.yaml", &config_map(&path))
        .file("token", &forged)
        .env("VAULT_ADDR", bao.addr())
        .env("AVP_AUTH_TYPE", "k8s")
        .env("AVP_K8S_ROLE", "argocd")
        .env("AVP_MOUNT_PATH", &mount)
        .env("AVP_K8S_TOKEN_PATH", "token")
        .secret(&forged)
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr(&format!(
            "error: k8s login at auth/{mount} on {} failed: Vault answered 403: permission denied\n",
            bao.addr()
        ));
    assert_eq!(bao.logins(&mount), 1);
    assert_eq!(bao.reads(&path), 0);
}

#[test]
fn github_logs_in_once_with_a_personal_access_token() {
    let bao = OpenBao::shared();
    let (path, policy) = secret(bao, "github", "github-value");
    // The default mount: this stand-in is the test's own.
    let vault = github_login(bao, "github", "ghp_accepted0123456789", &policy);

    Case::new()
        .file("c.yaml", &config_map(&path))
        .env("VAULT_ADDR", vault.addr())
        .env("AVP_AUTH_TYPE", "github")
        .env("AVP_GITHUB_TOKEN", "ghp_accepted0123456789")
        .secret("ghp_accepted0123456789")
        .args(["generate", "--verbose", "c.yaml"])
        .run()
        .success()
        .stdout_contains("  k0: \"github-value\"\n");
    let logins = vault
        .requests()
        .iter()
        .filter(|r| r.path == "/v1/auth/github/login")
        .count();
    assert_eq!(logins, 1);
    assert_eq!(bao.reads(&path), 1);
}

#[test]
fn a_refused_github_login_names_the_method_and_mount() {
    let bao = OpenBao::shared();
    let (path, policy) = secret(bao, "github-refused", "never-read");
    let vault = github_login(bao, "team-github", "ghp_accepted", &policy);

    Case::new()
        .file("c.yaml", &config_map(&path))
        .env("VAULT_ADDR", vault.addr())
        .env("AVP_AUTH_TYPE", "github")
        .env("AVP_MOUNT_PATH", "auth/team-github")
        .env("AVP_GITHUB_TOKEN", "ghp_revoked")
        .secret("ghp_revoked")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr(&format!(
            "error: github login at auth/team-github on {} failed: Vault answered 400: GET /user: 401 Bad credentials []\n",
            vault.addr()
        ));
    assert_eq!(bao.reads(&path), 0);
}

/// A cert auth mount of the test's own on the TLS server, whose role `argocd` admits the
/// certificates `ca` signed and reads with `policy`.
fn cert_auth(tls: &OpenBao, ca: &TestCa, policy: &str) -> String {
    let mount = tls.enable_auth("cert");
    tls.post(
        &format!("auth/{mount}/certs/argocd"),
        &json!({ "certificate": ca.pem(), "token_policies": [policy] }),
    );
    mount
}

#[test]
fn cert_logs_in_once_with_the_tls_client_certificate() {
    let tls = OpenBao::shared_tls();
    let (path, policy) = secret(tls, "cert", "cert-value");
    let ca = TestCa::new("argocd clients");
    let mount = cert_auth(tls, &ca, &policy);
    let client = ca.client("argocd-repo-server");

    Case::new()
        .file("c.yaml", &config_map(&path))
        .file("tls/client.pem", &client.cert_pem)
        .file("tls/client-key.pem", &client.key_pem)
        .env("VAULT_ADDR", tls.addr())
        .env("VAULT_CACERT", tls.ca_cert())
        .env("VAULT_CLIENT_CERT", "tls/client.pem")
        .env("VAULT_CLIENT_KEY", "tls/client-key.pem")
        .env("AVP_AUTH_TYPE", "cert")
        .env("AVP_MOUNT_PATH", &mount)
        .env("AVP_CERT_ROLE", "argocd")
        .args(["generate", "c.yaml"])
        .run()
        .success()
        .stdout_contains("  k0: \"cert-value\"\n");
    assert_eq!(tls.logins(&mount), 1);
    assert_eq!(tls.reads(&path), 1);
}

#[test]
fn a_refused_cert_login_names_the_method_and_mount() {
    let tls = OpenBao::shared_tls();
    let (path, policy) = secret(tls, "cert-refused", "never-read");
    let mount = cert_auth(tls, &TestCa::new("argocd clients"), &policy);
    let stranger = TestCa::new("someone else").client("argocd-repo-server");

    Case::new()
        .file("c.yaml", &config_map(&path))
        .file("client.pem", &stranger.cert_pem)
        .file("client-key.pem", &stranger.key_pem)
        .env("VAULT_ADDR", tls.addr())
        .env("VAULT_CACERT", tls.ca_cert())
        .env("VAULT_CLIENT_CERT", "client.pem")
        .env("VAULT_CLIENT_KEY", "client-key.pem")
        .env("AVP_AUTH_TYPE", "cert")
        .env("AVP_MOUNT_PATH", &mount)
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr(&format!(
            "error: cert login at auth/{mount} on {} failed: Vault answered 400: invalid certificate or no client certificate supplied\n",
            tls.addr()
        ));
    assert_eq!(tls.logins(&mount), 1);
    assert_eq!(tls.reads(&path), 0);
}

/// A JWT auth mount of the test's own trusting `key`, whose role `deploy` admits JWTs for
/// the audience `vaultplate` and reads with `policy`.
fn jwt_auth(bao: &OpenBao, key: &JwtKey, policy: &str) -> String {
    let mount = bao.enable_auth("jwt");
    bao.post(
        &format!("auth/{mount}/config"),
        &json!({ "jwt_validation_pubkeys": [key.public_pem()] }),
    );
    // OpenBao refuses a role without a bound constraint, and a JWT without iat, nbf or exp.
    bao.post(
        &format!("auth/{mount}/role/deploy"),
        &json!({
            "role_type": "jwt",
            "user_claim": "sub",
            "bound_audiences": ["vaultplate"],
            "token_policies": [policy],
        }),
    );
    mount
}

fn deploy_jwt(key: &JwtKey) -> String {
    key.sign(&json!({ "sub": "ci-deploy", "aud": "vaultplate", "iat": now(), "exp": now() + 600 }))
}

#[test]
fn jwt_logs_in_once_with_a_jwt_from_a_file() {
    let bao = OpenBao::shared();
    let (path, policy) = secret(bao, "jwt", "jwt-value");
    let key = JwtKey::new();
    let mount = jwt_auth(bao, &key, &policy);
    let jwt = deploy_jwt(&key);

    Case::new()
        .file("c.yaml", &config_map(&path))
        .file("jwt", &jwt)
        .env("VAULT_ADDR", bao.addr())
        .env("AVP_AUTH_TYPE", "jwt")
        .env("AVP_MOUNT_PATH", &mount)
        .env("AVP_JWT_ROLE", "deploy")
        .env("AVP_JWT_TOKEN_PATH", "jwt")
        .secret(&jwt)
        .args(["generate", "--verbose", "c.yaml"])
        .run()
        .success()
        .stdout_contains("  k0: \"jwt-value\"\n");
    assert_eq!(bao.logins(&mount), 1);
    assert_eq!(bao.reads(&path), 1);
}

#[test]
fn a_refused_jwt_login_names_the_method_and_mount() {
    let bao = OpenBao::shared();
    let (path, policy) = secret(bao, "jwt-refused", "never-read");
    let mount = jwt_auth(bao, &JwtKey::new(), &policy);
    let forged = deploy_jwt(&JwtKey::new());

    Case::new()
        .file("c.yaml", &config_map(&path))
        .file("jwt", &forged)
        .env("VAULT_ADDR", bao.addr())
        .env("AVP_AUTH_TYPE", "jwt")
        .env("AVP_MOUNT_PATH", &mount)
        .env("AVP_JWT_ROLE", "deploy")
        .env("AVP_JWT_TOKEN_PATH", "jwt")
        .secret(&forged)
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr(&format!(
            "error: jwt login at auth/{mount} on {} failed: Vault answered 400: error validating token: \
             error verifying token signature: no known key successfully validated the token signature\n",
            bao.addr()
        ));
    assert_eq!(bao.logins(&mount), 1);
    assert_eq!(bao.reads(&path), 0);
}

#[test]
fn a_token_file_is_read_anew_on_every_run() {
    let bao = OpenBao::shared();
    let (path, policy) = secret(bao, "token-file", "token-file-value");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("token");
    let first = token_with(bao, &policy);
    // As a Vault Agent sink writes it.
    write(&file, &format!("{first}\n"));
    let run = |secrets: &[&str]| {
        let mut case = Case::new()
            .file("c.yaml", &config_map(&path))
            .env("VAULT_ADDR", bao.addr())
            .env("VAULT_TOKEN_FILE", &file);
        for secret in secrets {
            case = case.secret(secret);
        }
        case.args(["generate", "c.yaml"]).run()
    };

    run(&[&first])
        .success()
        .stdout_contains("  k0: \"token-file-value\"\n");
    // The agent renews: a new token in the file, the old one revoked.
    let second = token_with(bao, &policy);
    write(&file, &second);
    bao.post("auth/token/revoke", &json!({ "token": first }));
    run(&[&first, &second])
        .success()
        .stdout_contains("  k0: \"token-file-value\"\n");
    assert_eq!(bao.reads(&path), 2);
}

#[test]
fn a_token_in_the_home_directory_is_used_without_settings() {
    let bao = OpenBao::shared();
    let (path, policy) = secret(bao, "vault-token", "home-token-value");
    let home = tempfile::tempdir().expect("a temporary directory");
    let token = token_with(bao, &policy);
    write(&home.path().join(".vault-token"), &token);

    Case::new()
        .file("c.yaml", &config_map(&path))
        .env("VAULT_ADDR", bao.addr())
        .env("HOME", home.path())
        .secret(&token)
        .args(["generate", "c.yaml"])
        .run()
        .success()
        .stdout_contains("  k0: \"home-token-value\"\n");
}

#[test]
fn a_secret_id_file_is_read_anew_on_every_run() {
    let bao = OpenBao::shared();
    let (path, policy) = secret(bao, "secret-id-file", "secret-id-value");
    let role = unique("role");
    let (role_id, first) = bao.approle(&role, &[&policy]);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("secret-id");
    write(&file, &first);
    let run = |secrets: &[&str]| {
        let mut case = Case::new()
            .file("c.yaml", &config_map(&path))
            .env("VAULT_ADDR", bao.addr())
            .env("AVP_AUTH_TYPE", "approle")
            .env("AVP_ROLE_ID", &role_id)
            .env("AVP_SECRET_ID_FILE", &file);
        for secret in secrets {
            case = case.secret(secret);
        }
        case.args(["generate", "c.yaml"]).run()
    };

    run(&[&first])
        .success()
        .stdout_contains("  k0: \"secret-id-value\"\n");
    // Rotation: a new secret-id in the file, the old one destroyed.
    let second = text(
        &bao.post(&format!("auth/approle/role/{role}/secret-id"), &json!({}))["data"]["secret_id"],
    );
    bao.post(
        &format!("auth/approle/role/{role}/secret-id/destroy"),
        &json!({ "secret_id": first }),
    );
    write(&file, &format!("{second}\n"));
    run(&[&first, &second])
        .success()
        .stdout_contains("  k0: \"secret-id-value\"\n");
    assert_eq!(bao.approle_logins(&role_id), 2);
}

#[test]
fn a_missing_credential_is_named_and_nothing_is_sent() {
    type Setting = (&'static str, &'static str);
    let cases: &[(&[Setting], &[Setting], &str)] = &[
        (
            &[],
            &[],
            "setting VAULT_TOKEN is required for AVP_AUTH_TYPE=token",
        ),
        (
            &[("VAULT_TOKEN_FILE", "token")],
            &[("token", "\n")],
            "setting VAULT_TOKEN_FILE: token is empty",
        ),
        (
            &[("VAULT_TOKEN_FILE", "run/token")],
            &[],
            "setting VAULT_TOKEN_FILE: run/token cannot be read: No such file or directory (os error 2)",
        ),
        (
            &[
                ("AVP_AUTH_TYPE", "approle"),
                ("AVP_ROLE_ID", "r"),
                ("AVP_SECRET_ID_FILE", "secret-id"),
            ],
            &[],
            "setting AVP_SECRET_ID_FILE: secret-id cannot be read: No such file or directory (os error 2)",
        ),
        (
            &[("AVP_AUTH_TYPE", "k8s")],
            &[],
            "setting AVP_K8S_ROLE is required for AVP_AUTH_TYPE=k8s",
        ),
        (
            &[
                ("AVP_AUTH_TYPE", "k8s"),
                ("AVP_K8S_ROLE", "argocd"),
                ("AVP_K8S_TOKEN_PATH", "sa/token"),
            ],
            &[],
            "setting AVP_K8S_TOKEN_PATH: sa/token cannot be read: No such file or directory (os error 2)",
        ),
        (
            &[("AVP_AUTH_TYPE", "github")],
            &[],
            "setting AVP_GITHUB_TOKEN is required for AVP_AUTH_TYPE=github",
        ),
        (
            &[("AVP_AUTH_TYPE", "cert")],
            &[],
            "setting VAULT_CLIENT_CERT is required for AVP_AUTH_TYPE=cert",
        ),
        (
            &[("AVP_AUTH_TYPE", "jwt")],
            &[],
            "setting AVP_JWT_TOKEN_PATH is required for AVP_AUTH_TYPE=jwt",
        ),
        (
            &[("AVP_AUTH_TYPE", "jwt"), ("AVP_JWT_TOKEN_PATH", "jwt")],
            &[("jwt", "  \n")],
            "setting AVP_JWT_TOKEN_PATH: jwt is empty",
        ),
    ];
    let vault = FaultServer::status(500, json!({ "errors": ["not to be asked"] }));
    for (env, files, error) in cases {
        let mut case = Case::new()
            .file("c.yaml", &config_map("secret/data/app"))
            .env("VAULT_ADDR", vault.addr());
        for (name, value) in *env {
            case = case.env(name, value);
        }
        for (path, contents) in *files {
            case = case.file(path, contents);
        }
        case.args(["generate", "c.yaml"])
            .run()
            .failure()
            .stderr(&format!("error: {error}\n"));
    }
    assert_eq!(vault.requests(), 0);
}

#[test]
fn credential_files_are_read_only_when_vault_is_needed() {
    let cases: &[&[(&str, &str)]] = &[
        &[("VAULT_TOKEN_FILE", "missing")],
        &[
            ("AVP_AUTH_TYPE", "approle"),
            ("AVP_SECRET_ID_FILE", "missing"),
        ],
        // The default service-account token path does not exist here.
        &[("AVP_AUTH_TYPE", "k8s"), ("AVP_K8S_ROLE", "argocd")],
        &[("AVP_AUTH_TYPE", "jwt"), ("AVP_JWT_TOKEN_PATH", "missing")],
    ];
    for env in cases {
        let mut case = Case::new().file("c.yaml", NOTHING_TO_FILL);
        for (name, value) in *env {
            case = case.env(name, value);
        }
        case.args(["generate", "c.yaml"])
            .run()
            .success()
            .stdout(&format!("---\n{NOTHING_TO_FILL}"));
    }
}

#[test]
fn contradictory_settings_fail_every_run() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[
                ("AVP_AUTH_TYPE", "approle"),
                ("AVP_SECRET_ID", "approle-secret-id"),
                ("AVP_SECRET_ID_FILE", "secret-id"),
            ],
            "settings AVP_SECRET_ID and AVP_SECRET_ID_FILE are both set; set only one of them",
        ),
        (
            &[("VAULT_CLIENT_CERT", "client.pem")],
            "setting VAULT_CLIENT_KEY is required with VAULT_CLIENT_CERT",
        ),
        (
            &[("VAULT_CLIENT_KEY", "client-key.pem")],
            "setting VAULT_CLIENT_CERT is required with VAULT_CLIENT_KEY",
        ),
    ];
    for (env, error) in cases {
        let mut case = Case::new().file("c.yaml", NOTHING_TO_FILL);
        for (name, value) in *env {
            case = case.env(name, value);
        }
        case.secret("approle-secret-id")
            .args(["generate", "c.yaml"])
            .run()
            .failure()
            .stderr(&format!("error: {error}\n"));
    }
}
