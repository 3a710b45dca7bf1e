//! `vaultplate doctor`: one line per check of the sidecar's set-up, a fix for each failure,
//! and never a value, token or credential.

use serde_json::json;

use crate::support::{Case, OpenBao, unique};
use crate::teams::Teams;

/// A userpass identity that may read one seeded secret; (user, password, path).
fn identity() -> (String, String, String) {
    let bao = OpenBao::shared();
    let name = unique("doctor");
    bao.put_kv2("secret", &name, json!({"k": "doctor-secret-value"}));
    let path = format!("secret/data/{name}");
    let policy = unique("doctor-policy");
    bao.policy(
        &policy,
        &format!("path \"{path}\" {{ capabilities = [\"read\"] }}"),
    );
    let user = unique("doctor-user");
    bao.userpass(&user, "doctor-Pa55word", &[&policy]);
    (user, "doctor-Pa55word".to_owned(), path)
}

/// A case logged in as `user`, with the secrets it must never print declared.
fn logged_in(user: &str, password: &str) -> Case {
    Case::new()
        .env("VAULT_ADDR", OpenBao::shared().addr())
        .env("AVP_AUTH_TYPE", "userpass")
        .env("AVP_USERNAME", user)
        .env("AVP_PASSWORD", password)
        .secret(password)
        .secret("doctor-secret-value")
}

#[test]
fn a_good_setup_passes_every_check() {
    let (user, password, path) = identity();
    let bao = OpenBao::shared();
    let out = logged_in(&user, &password)
        .args(["doctor", "--path", &path])
        .run();
    out.success()
        .stdout_contains("SKIP  plugin.yaml: not in a pod (KUBERNETES_SERVICE_HOST is not set)\n")
        .stdout_contains("SKIP  plugin socket folder: not in a pod")
        .stdout_contains("OK    HOME: ")
        .stdout_contains("OK    token cache: ")
        .stdout_contains("OK    helm: v3.")
        .stdout_contains("OK    kustomize: v")
        .stdout_contains(&format!(
            "OK    Vault address: {} answers: active",
            bao.addr()
        ))
        .stdout_contains(&format!(
            "OK    Vault login: userpass login at auth/userpass as {user}\n"
        ))
        .stdout_contains(&format!("OK    --path: {path} holds 1 keys\n"))
        .stdout_contains("SKIP  policy file: VAULTPLATE_POLICY is not set");
    assert!(!out.stdout_text().contains("FAIL"), "{}", out.stdout_text());
}

/// With `VAULTPLATE_POLICY`, doctor checks the file as every run does, and logs in as the
/// profile `ARGOCD_APP_PROJECT_NAME` gets (or says that it needs a project to).
#[test]
fn the_policy_file_is_checked_and_the_login_is_the_project_s_profile() {
    let teams = Teams::new();
    let policy = teams.policy.display().to_string();
    let a_path = format!("{}/db", teams.a.base);
    let out = teams
        .sidecar("team-a-prod")
        .args(["doctor", "--path", &a_path])
        .run();
    out.success()
        .stdout_contains(&format!(
            "OK    policy file: {policy}: 2 profiles, 2 rules\n"
        ))
        .stdout_contains("OK    Vault login: approle login at auth/approle")
        .stdout_contains(" (project \"team-a-prod\", rule \"team-a\", profile \"team-a\")\n")
        .stdout_contains(&format!("OK    --path: {a_path} holds 1 keys\n"));
    assert_eq!(teams.logins(), (1, 0));
    teams
        .sidecar("")
        .args(["doctor", "--path", &a_path])
        .run()
        .success()
        .stdout_contains(&format!("OK    policy file: {policy}: 2 profiles, 2 rules\n"))
        .stdout_contains("SKIP  Vault login: VAULTPLATE_POLICY is set: each project logs in as its rule's profile; set ARGOCD_APP_PROJECT_NAME to check a project's login\n")
        .stdout_contains("SKIP  --path: ");
    assert_eq!(teams.logins(), (1, 0), "no project, no login");
    teams
        .sidecar("team-c")
        .args(["doctor"])
        .run()
        .failure()
        .stdout_contains("FAIL  policy file: policy: no rule of ")
        .stdout_contains("fix: add a rule for this project to the policy file");
    let broken = teams.dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        "profiles:\n  x:\n    AVP_AUTH_TYPE: approle\n    VAULT_ADDR: http://elsewhere\nrules: []\n",
    )
    .expect("a policy file");
    let out = teams
        .sidecar("team-a")
        .env("VAULTPLATE_POLICY", &broken)
        .args(["doctor"])
        .run();
    out.failure()
        .stdout_contains(&format!(
            "FAIL  policy file: policy file {}: line ",
            broken.display()
        ))
        .stdout_contains(&format!("fix: correct line 4 of {}", broken.display()));
}

#[test]
fn each_broken_setup_is_named_with_its_fix() {
    let (user, password, path) = identity();
    let bao = OpenBao::shared();
    let tls = OpenBao::shared_tls();
    let http_as_https = bao.addr().replacen("http://", "https://", 1);
    let cases: Vec<(&str, Case, &str)> = vec![
        (
            "wrong address",
            Case::new().env("VAULT_ADDR", "http://127.0.0.1:9"),
            "FAIL  Vault address: Vault at http://127.0.0.1:9 is unreachable",
        ),
        (
            "wrong address: check VAULT_ADDR",
            Case::new().env("VAULT_ADDR", "http://127.0.0.1:9"),
            "fix: check VAULT_ADDR and that the sidecar can reach it",
        ),
        (
            "wrong scheme",
            Case::new().env("VAULT_ADDR", &http_as_https),
            "does not speak TLS: it answered in plain HTTP; use http://",
        ),
        (
            "wrong scheme: fix",
            Case::new().env("VAULT_ADDR", &http_as_https),
            "fix: match VAULT_ADDR's scheme to what Vault speaks",
        ),
        (
            "unknown CA",
            Case::new().env("VAULT_ADDR", tls.addr()),
            "UnknownIssuer; fix: set VAULT_CACERT (or VAULT_CAPATH) to the CA that signed Vault's certificate\n",
        ),
        (
            "bad role",
            logged_in(&user, "not-the-password"),
            "FAIL  Vault login: userpass login at auth/userpass on ",
        ),
        (
            "bad role: fix",
            logged_in(&user, "not-the-password"),
            "fix: check AVP_AUTH_TYPE, the mount (AVP_MOUNT_PATH)",
        ),
        (
            "an AppRole role that does not exist",
            Case::new()
                .env("VAULT_ADDR", bao.addr())
                .env("AVP_AUTH_TYPE", "approle")
                .env("AVP_ROLE_ID", "00000000-0000-4000-8000-000000000000")
                .env("AVP_SECRET_ID", "doctor-unknown-secret-id")
                .secret("doctor-unknown-secret-id"),
            "FAIL  Vault login: approle login at auth/approle on ",
        ),
        (
            "unreadable path",
            logged_in(&user, &password).args(["doctor", "--path", "secret/data/elsewhere"]),
            "FAIL  --path: ",
        ),
        (
            "unwritable HOME",
            logged_in(&user, &password).env("HOME", "/nonexistent-vaultplate-home"),
            "FAIL  HOME: /nonexistent-vaultplate-home is not writable: No such file or directory (os error 2); fix: give the sidecar a writable HOME",
        ),
        (
            "missing helm",
            logged_in(&user, &password).env("PATH", "/usr/bin:/bin"),
            "FAIL  helm: helm is not on PATH; fix: install helm in the sidecar's image and put its folder on PATH\n",
        ),
        (
            "in a pod without the plugin's files",
            logged_in(&user, &password).env("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
            "FAIL  plugin.yaml: cannot read /home/argocd/cmp-server/config/plugin.yaml: ",
        ),
        (
            "in a pod without the socket folder",
            logged_in(&user, &password).env("KUBERNETES_SERVICE_HOST", "10.0.0.1"),
            "FAIL  plugin socket folder: /home/argocd/cmp-server/plugins: ",
        ),
    ];
    for (what, case, expected) in cases {
        let case = if what == "unreadable path" {
            case
        } else {
            case.args(["doctor", "--path", &path])
        };
        let out = case.run();
        out.failure();
        assert!(
            out.stdout_text().contains(expected),
            "{what}: expected {expected:?} in:\n{}",
            out.stdout_text()
        );
    }
}

#[test]
fn an_application_cannot_point_the_doctor_elsewhere_and_is_told_so() {
    let (user, password, path) = identity();
    let out = logged_in(&user, &password)
        .env("ARGOCD_ENV_VAULT_ADDR", "http://127.0.0.1:9")
        .args(["doctor", "--path", &path])
        .run();
    out.success()
        .stdout_contains(
            "WARN  Application settings: ignoring ARGOCD_ENV_VAULT_ADDR: an Argo CD Application may not change this setting\n",
        )
        .stdout_contains(&format!("OK    --path: {path} holds 1 keys\n"));
}

/// A `helm` that never answers: doctor gives up on it within its bound and says so, instead of
/// hanging as the sidecar it is run to debug.
#[test]
fn a_hanging_helm_is_a_failure_not_a_hang() {
    use std::os::unix::fs::PermissionsExt as _;

    let (user, password, _) = identity();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let helm = dir.path().join("helm");
    std::fs::write(&helm, "#!/bin/sh\nexec sleep 120\n").expect("a stand-in helm");
    std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let started = std::time::Instant::now();
    logged_in(&user, &password)
        .env("PATH", format!("{}:/usr/bin:/bin", dir.path().display()))
        .args(["doctor"])
        .run()
        .failure()
        .stdout_contains(&format!(
            "FAIL  helm: {} does not run: it did not answer within 5 s (killed); fix: ",
            helm.display()
        ));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "doctor took {:?}",
        started.elapsed()
    );
}

/// A `helm` that prints its version and exits, leaving a process behind that holds its
/// standard output open (a wrapper script starting a daemon): doctor reads what the tool
/// printed and goes on, instead of waiting for that process to end.
#[test]
fn a_tool_that_leaves_a_process_behind_does_not_hold_doctor() {
    use std::os::unix::fs::PermissionsExt as _;

    let (user, password, _) = identity();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let helm = dir.path().join("helm");
    std::fs::write(&helm, "#!/bin/sh\necho v3.99.1\nsleep 60 &\nexit 0\n")
        .expect("a stand-in helm");
    std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let started = std::time::Instant::now();
    logged_in(&user, &password)
        .env(
            "PATH",
            format!(
                "{}:{}:/usr/bin:/bin",
                dir.path().display(),
                crate::support::tools_dir().display()
            ),
        )
        .args(["doctor"])
        .run()
        .success()
        .stdout_contains(&format!("OK    helm: v3.99.1 ({})\n", helm.display()));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "doctor took {:?}",
        started.elapsed()
    );
}
