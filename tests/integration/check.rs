//! `vaultplate check`: every placeholder verified against Vault, a summary or JSON per
//! placeholder, and never a value, even in the messages of the problems it finds.

use serde_json::{Value, json};

use crate::support::{Case, OpenBao, unique};
use crate::teams::{Teams, chart_case, config_map_of, secret_of};

const VALUE: &str = "check-Pa55-value";

/// Seeds two versions of `secret/data/<unique>` and returns its path.
fn seed() -> String {
    let bao = OpenBao::shared();
    let name = unique("check");
    bao.put_kv2("secret", &name, json!({"password": "first-check-value"}));
    bao.put_kv2(
        "secret",
        &name,
        json!({"password": VALUE, "user": "check-user"}),
    );
    format!("secret/data/{name}")
}

fn config_map(name: &str, data: &[(&str, String)]) -> String {
    let mut text = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata:\n");
    for (key, placeholder) in data {
        text.push_str(&format!("  {key}: {placeholder}\n"));
    }
    text
}

#[test]
fn a_good_app_passes_with_a_summary() {
    let path = seed();
    let other = seed();
    let text = format!(
        "{}---\n{}",
        config_map(
            "a",
            &[
                ("p", format!("<path:{path}#password>")),
                ("u", format!("<path:{path}#user>")),
                ("v1", format!("<path:{path}#password#1>")),
            ]
        ),
        config_map("b", &[("p", format!("<path:{other}#password>"))]),
    );
    Case::new()
        .file("repo/app/all.yaml", &text)
        .vault(OpenBao::shared())
        .secret(VALUE)
        .secret("first-check-value")
        .cwd("repo/app")
        .args(["check"])
        .run()
        .success()
        .stdout("4 placeholders over 3 secrets in 2 manifests: all resolved\n")
        .stderr("");
}

#[test]
fn every_kind_of_problem_is_found_without_printing_a_value() {
    let bao = OpenBao::shared();
    let path = seed();
    let hidden = seed();
    let user = unique("check-user");
    let policy = unique("check-policy");
    bao.policy(
        &policy,
        &format!("path \"{path}\" {{ capabilities = [\"read\"] }}"),
    );
    bao.userpass(&user, "pw", &[&policy]);
    let text = config_map(
        "c",
        &[
            ("ok", format!("<path:{path}#password>")),
            ("key", format!("<path:{path}#absent>")),
            ("version", format!("<path:{path}#password#9>")),
            ("denied", format!("<path:{hidden}#password>")),
            ("modifier", format!("<path:{path}#password | base64decode>")),
        ],
    );
    let run = |format: &str| {
        Case::new()
            .file("c.yaml", &text)
            .env("VAULT_ADDR", bao.addr())
            .env("AVP_AUTH_TYPE", "userpass")
            .env("AVP_USERNAME", &user)
            .env("AVP_PASSWORD", "pw")
            .secret(VALUE)
            .secret("first-check-value")
            .args(["check", "--format", format, "c.yaml"])
            .run()
    };
    let human = run("human");
    human
        .failure()
        .stdout("")
        .stderr_contains(&format!(
            "error: c.yaml (ConfigMap/c): data.key: <path:{path}#absent>: key \"absent\" not found"
        ))
        .stderr_contains("5 placeholders over 3 secrets in 1 manifest: 4 did not resolve\n");
    let json = run("json");
    json.failure();
    let entries: Value = serde_json::from_str(json.stdout_text()).expect("JSON on stdout");
    let statuses: Vec<(&str, &str)> = entries
        .as_array()
        .expect("an array")
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap_or(""),
                e["status"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("data.ok", "ok"),
            ("data.key", "missing-key"),
            ("data.version", "missing-version"),
            ("data.denied", "denied"),
            ("data.modifier", "modifier"),
        ]
    );
    assert_eq!(
        entries[2],
        json!({
            "file": "c.yaml", "document": null, "kind": "ConfigMap", "name": "c",
            "field": "data.version", "placeholder": format!("<path:{path}#password#9>"),
            "path": path, "key": "password", "version": 9, "status": "missing-version",
            "message": format!("no secret at {path} version 9"),
        })
    );
}

#[test]
fn a_value_that_does_not_fit_its_field_fails_and_stdin_is_checked_like_generate() {
    let path = seed();
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\ndata:\n  p: <path:{path}#password>\n"
    );
    Case::new()
        .stdin(&secret)
        .vault(OpenBao::shared())
        .secret(VALUE)
        .args(["check", "--format", "json", "-"])
        .run()
        .failure()
        .stdout_contains("\"status\": \"field\"")
        .stdout_contains("the value is not base64");
}

#[test]
fn a_run_wide_failure_is_one_error_and_an_unknown_format_is_refused() {
    let path = seed();
    Case::new()
        .file(
            "c.yaml",
            &config_map("c", &[("p", format!("<path:{path}#password>"))]),
        )
        .env("VAULT_ADDR", "http://127.0.0.1:9")
        .env("VAULT_TOKEN", "t")
        .args(["check", "c.yaml"])
        .run()
        .failure()
        .stdout("")
        .stderr_contains("error: Vault at http://127.0.0.1:9 is unreachable");
    Case::new()
        .args(["check", "--format", "yaml", "."])
        .run()
        .code(2)
        .stderr_contains("invalid value 'yaml'");
}

/// The statuses of a JSON answer, by field.
fn statuses(json: &str) -> Vec<(String, String)> {
    let entries: Value = serde_json::from_str(json).expect("JSON on stdout");
    entries
        .as_array()
        .expect("an array")
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap_or("").to_owned(),
                e["status"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// With `VAULTPLATE_POLICY`, `check` logs in as the project's profile and applies its rule,
/// as the sidecar would: refusals have their own statuses, and nothing is read or logged in
/// for a refused run.
#[test]
fn check_uses_the_project_s_profile_and_rule() {
    let teams = Teams::new();
    let bao = OpenBao::shared();
    let (a, b) = (&teams.a, &teams.b);
    teams
        .sidecar("team-a-prod")
        .file("m.yaml", &config_map_of(a))
        .args(["check", "m.yaml"])
        .run()
        .success()
        .stdout("1 placeholder over 1 secret in 1 manifest: all resolved\n");
    assert_eq!(teams.logins(), (1, 0));
    assert_eq!(bao.reads_by_approle(&a.base, &a.role), 1);
    let text = format!(
        "{}---\n{}",
        secret_of(a).replace("name: db", "name: theirs"),
        config_map_of(b)
    );
    let run = |format: &str| {
        teams
            .sidecar("team-b")
            .file("m.yaml", &text)
            .args(["check", "--format", format, "m.yaml"])
            .run()
    };
    run("human")
        .failure()
        .stdout("")
        .stderr_contains(&format!(
            "error: m.yaml: document 1 (Secret/theirs): stringData.password: \
             <path:{pa}/db#password>: path \"{pa}/db\" is outside the paths the policy allows \
             (project \"team-b\", rule \"team-b\", profile \"team-b\": {pb}/*)\n",
            pa = a.base,
            pb = b.base
        ))
        .stderr_contains("error: m.yaml: document 2 (ConfigMap/leak): data.password: the policy lets values go only into a Secret's data or stringData (secretsOnly;")
        .stderr_contains("2 placeholders over 2 secrets in 2 manifests: 2 did not resolve\n");
    let json = run("json");
    json.failure();
    assert_eq!(
        statuses(json.stdout_text()),
        [
            (
                "stringData.password".to_owned(),
                "outside-policy".to_owned()
            ),
            ("data.password".to_owned(), "secrets-only".to_owned()),
        ]
    );
    let entries: Value = serde_json::from_str(json.stdout_text()).expect("JSON");
    assert_eq!(
        entries[1],
        json!({
            "file": "m.yaml", "document": 2, "kind": "ConfigMap", "name": "leak",
            "field": "data.password", "placeholder": format!("<path:{}/db#password>", b.base),
            "path": format!("{}/db", b.base), "key": "password", "version": null,
            "status": "secrets-only",
            "message": "the policy lets values go only into a Secret's data or stringData \
                        (secretsOnly; project \"team-b\", rule \"team-b\", profile \"team-b\"): \
                        move this placeholder into a Secret (apiVersion v1)",
        })
    );
    assert_eq!(teams.logins(), (1, 0), "a refused check logs in as nobody");
}

/// A Helm value that the chart copies out of a Secret, under a `secretsOnly` rule: `check`
/// names the values' placeholder `secrets-only`, once (the stand-ins' second render notes
/// nothing).
#[test]
fn check_of_a_chart_applies_secrets_only_to_its_values() {
    let teams = Teams::new();
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {{ .Values.password | quote }}\n";
    let leak = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\ndata:\n  shown: {{ .Values.password | b64enc | quote }}\n";
    let json = chart_case(&teams, secret, leak)
        .args(["check", "--format", "json"])
        .run();
    json.failure().stderr_contains(
        "error: helm output: document 2 (ConfigMap/leak): changes with other values",
    );
    assert_eq!(
        statuses(json.stdout_text()),
        [("password".to_owned(), "secrets-only".to_owned())]
    );
    chart_case(&teams, secret, "")
        .args(["check"])
        .run()
        .success()
        .stdout("1 placeholder over 1 secret in 1 manifest: all resolved\n");
}

#[test]
fn the_json_names_the_version_read() {
    let path = seed();
    let text = config_map(
        "v",
        &[
            ("latest", format!("<path:{path}#password>")),
            ("pinned", format!("<path:{path}#password#1>")),
        ],
    );
    let outcome = Case::new()
        .file("repo/app/v.yaml", &text)
        .vault(OpenBao::shared())
        .secret(VALUE)
        .secret("first-check-value")
        .cwd("repo/app")
        .args(["check", "--format", "json"])
        .run();
    outcome.success();
    let entries: Value = serde_json::from_str(outcome.stdout_text()).expect("JSON");
    let versions: Vec<(&str, &Value)> = entries
        .as_array()
        .expect("an array")
        .iter()
        .map(|e| (e["field"].as_str().expect("field"), &e["version"]))
        .collect();
    assert_eq!(
        versions,
        [("data.latest", &json!(2)), ("data.pinned", &json!(1))],
        "an unpinned placeholder reports the version it read"
    );
}
