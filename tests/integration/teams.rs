//! Teams: the operator's policy file (`VAULTPLATE_POLICY`) gives each Argo CD project its own
//! Vault identity (profile), paths and places for values. Two AppRoles on the shared OpenBao,
//! team-a reading only `secret/data/<a>/*` and team-b only `secret/data/<b>/*`; the audit log
//! shows which role read what.

use std::path::PathBuf;

use serde_json::json;

use crate::support::{Case, OpenBao, Outcome, unique};

/// One team's Vault side: its AppRole, its secret-id file and its secret.
pub(crate) struct Team {
    pub(crate) role: String,
    pub(crate) role_id: String,
    pub(crate) secret_id: String,
    /// `secret/data/<unique>`: the team may read what lies below.
    pub(crate) base: String,
    /// Its secret's `password`.
    pub(crate) password: String,
}

/// Two teams and the policy file that separates them.
pub(crate) struct Teams {
    pub(crate) a: Team,
    pub(crate) b: Team,
    pub(crate) policy: PathBuf,
    pub(crate) dir: tempfile::TempDir,
}

fn team(bao: &OpenBao, dir: &std::path::Path, label: &str) -> Team {
    let name = unique(label);
    let policy = format!("{name}-read");
    bao.policy(
        &policy,
        &format!("path \"secret/data/{name}/*\" {{ capabilities = [\"read\"] }}"),
    );
    let password = format!("{label}-pass-{name}");
    bao.put_kv2(
        "secret",
        &format!("{name}/db"),
        json!({ "password": password }),
    );
    let role = format!("{name}-role");
    let (role_id, secret_id) = bao.approle(&role, &[&policy]);
    std::fs::write(dir.join(format!("{label}-secret-id")), &secret_id).expect("secret-id file");
    Team {
        role,
        role_id,
        secret_id,
        base: format!("secret/data/{name}"),
        password,
    }
}

impl Teams {
    /// Team-a's rule allows its profile only; team-b's rule is `secretsOnly`.
    pub(crate) fn new() -> Self {
        let bao = OpenBao::shared();
        let dir = tempfile::tempdir().expect("a temporary directory");
        let a = team(bao, dir.path(), "team-a");
        let b = team(bao, dir.path(), "team-b");
        let d = dir.path().display();
        let policy = dir.path().join("policy.yaml");
        let text = format!(
            "\
profiles:
  team-a:
    AVP_AUTH_TYPE: approle
    AVP_ROLE_ID: {ra}
    AVP_SECRET_ID_FILE: {d}/team-a-secret-id
  team-b:
    AVP_AUTH_TYPE: approle
    AVP_ROLE_ID: {rb}
    AVP_SECRET_ID_FILE: {d}/team-b-secret-id
rules:
  - name: team-a
    projects: [team-a, \"team-a-*\"]
    profiles: [team-a]
    paths: [\"{pa}/*\"]
  - name: team-b
    projects: [team-b]
    profiles: [team-b]
    paths: [\"{pb}/*\"]
    secretsOnly: true
",
            ra = a.role_id,
            rb = b.role_id,
            pa = a.base,
            pb = b.base,
        );
        std::fs::write(&policy, text).expect("policy file");
        Teams { a, b, policy, dir }
    }

    /// `generate m.yaml` for `project`, as Argo CD runs the sidecar: Vault's address and the
    /// policy from the operator, the project from Argo CD.
    fn case(&self, project: &str, manifest: &str) -> Case {
        self.sidecar(project)
            .file("m.yaml", manifest)
            .args(["generate", "m.yaml"])
    }

    /// A run for `project` as Argo CD starts the sidecar, without a command yet.
    pub(crate) fn sidecar(&self, project: &str) -> Case {
        Case::new()
            .env("VAULT_ADDR", OpenBao::shared().addr())
            .env("VAULTPLATE_POLICY", &self.policy)
            .env("ARGOCD_APP_PROJECT_NAME", project)
            .env("ARGOCD_APP_NAME", format!("{project}-app"))
            .env("ARGOCD_APP_NAMESPACE", project)
            .secret(&self.a.password)
            .secret(&self.b.password)
            .secret(&self.a.secret_id)
            .secret(&self.b.secret_id)
    }

    pub(crate) fn logins(&self) -> (usize, usize) {
        let bao = OpenBao::shared();
        (
            bao.approle_logins(&self.a.role_id),
            bao.approle_logins(&self.b.role_id),
        )
    }
}

pub(crate) fn secret_of(team: &Team) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: <path:{}/db#password>\n",
        team.base
    )
}

pub(crate) fn config_map_of(team: &Team) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\ndata:\n  password: <path:{}/db#password>\n",
        team.base
    )
}

#[test]
fn each_project_renders_with_its_own_identity() {
    let teams = Teams::new();
    let bao = OpenBao::shared();
    teams
        .case("team-a-prod", &config_map_of(&teams.a))
        .run()
        .success()
        .stdout_contains(&format!("  password: \"{}\"\n", teams.a.password));
    teams
        .case("team-b", &secret_of(&teams.b))
        .args(["--verbose"])
        .run()
        .success()
        .stdout_contains(&format!("  password: \"{}\"\n", teams.b.password))
        .stderr_contains(r#"project "team-b", rule "team-b", profile "team-b""#);
    assert_eq!(teams.logins(), (1, 1));
    let (a, b) = (&teams.a, &teams.b);
    assert_eq!(bao.reads_by_approle(&a.base, &a.role), 1);
    assert_eq!(bao.reads_by_approle(&b.base, &b.role), 1);
    assert_eq!(bao.reads_by_approle(&a.base, &b.role), 0);
    assert_eq!(bao.reads_by_approle(&b.base, &a.role), 0);
}

#[test]
fn a_team_a_application_naming_team_b_profile_is_refused_before_any_login() {
    let teams = Teams::new();
    let choices: &[(&str, &str)] = &[
        ("PARAM_VAULT_PROFILE", "team-b"),
        (
            "ARGOCD_APP_PARAMETERS",
            r#"[{"name":"vault-profile","string":"team-b"}]"#,
        ),
    ];
    for (name, value) in choices {
        teams
            .case("team-a", &secret_of(&teams.a))
            .env(name, value)
            .run()
            .failure()
            .stderr(
                "error: policy: project \"team-a\" (rule \"team-a\") may not use profile \
                 \"team-b\"; it may use only \"team-a\"\n",
            );
    }
    // AVP's way of choosing credentials, a Secret's name, is refused the same way.
    teams
        .case("team-a", &secret_of(&teams.a))
        .env("ARGOCD_ENV_AVP_SECRET", "argocd:team-b-vault")
        .run()
        .failure()
        .stderr_contains(
            "error: policy: project \"team-a\" (rule \"team-a\") may not use the Kubernetes \
             Secret argocd/team-b-vault (ARGOCD_ENV_AVP_SECRET)",
        );
    // No rule for the project: refused, never another identity.
    for project in ["team-c", ""] {
        teams
            .case(project, &secret_of(&teams.a))
            .run()
            .failure()
            .stderr_contains(&format!(
                "error: policy: no rule of {} matches project {project:?}",
                teams.policy.display()
            ));
    }
    assert_eq!(teams.logins(), (0, 0));
}

#[test]
fn an_application_cannot_point_vaultplate_at_another_policy() {
    let teams = Teams::new();
    let open = teams.dir.path().join("open.yaml");
    std::fs::write(
        &open,
        "profiles:\n  any:\n    AVP_AUTH_TYPE: token\nrules:\n  - projects: ['*']\n    profiles: [any]\n    paths: ['**']\n",
    )
    .expect("a policy file");
    teams
        .case("team-a", &secret_of(&teams.b))
        .env("ARGOCD_ENV_VAULTPLATE_POLICY", &open)
        .run()
        .failure()
        .stderr_contains("ignoring ARGOCD_ENV_VAULTPLATE_POLICY")
        .stderr_contains("is outside the paths the policy allows");
}

#[test]
fn a_path_outside_the_rule_is_refused_before_any_read() {
    let teams = Teams::new();
    let bao = OpenBao::shared();
    let sneaky = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  mine: <path:{a}/db#password>\n  theirs: <path:{b}/db#password>\n  deeper: <path:{a}/db/x#password>\n",
        a = teams.a.base,
        b = teams.b.base
    );
    teams
        .case("team-a", &sneaky)
        .run()
        .failure()
        .stderr(&format!(
            "error: m.yaml (Secret/db): stringData.theirs: <path:{b}/db#password>: \
             path \"{b}/db\" is outside the paths the policy allows (project \"team-a\", rule \
             \"team-a\", profile \"team-a\": {a}/*)\n\
             error: m.yaml (Secret/db): stringData.deeper: <path:{a}/db/x#password>: \
             path \"{a}/db/x\" is outside the paths the policy allows (project \"team-a\", rule \
             \"team-a\", profile \"team-a\": {a}/*)\n",
            a = teams.a.base,
            b = teams.b.base
        ));
    assert_eq!(bao.reads(&teams.a.base) + bao.reads(&teams.b.base), 0);
    assert_eq!(teams.logins(), (0, 0));
}

#[test]
fn a_value_aimed_at_a_config_map_under_a_secrets_only_rule_is_refused() {
    let teams = Teams::new();
    let b = &teams.b.base;
    let cases = [
        (
            config_map_of(&teams.b),
            "error: m.yaml (ConfigMap/leak): data.password",
        ),
        (
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations:\n    note: <path:{b}/db#password>\nstringData:\n  ok: <path:{b}/db#password>\n"
            ),
            "error: m.yaml (Secret/s): metadata.annotations.note",
        ),
        (
            format!(
                "apiVersion: fake.example/v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  p: <path:{b}/db#password>\n"
            ),
            "error: m.yaml (Secret/s): stringData.p",
        ),
    ];
    for (manifest, place) in cases {
        teams
            .case("team-b", &manifest)
            .run()
            .failure()
            .stderr_contains(&format!(
                "{place}: the policy lets values go only into a Secret's \
                 data or stringData (secretsOnly; project \"team-b\", rule \"team-b\", profile \
                 \"team-b\"): move this placeholder into a Secret (apiVersion v1)\n"
            ));
    }
    assert_eq!(OpenBao::shared().reads(b), 0);
    assert_eq!(teams.logins(), (0, 0));
}

#[test]
fn a_policy_file_with_an_error_fails_every_run_naming_the_line() {
    let teams = Teams::new();
    let broken = teams.dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        "profiles:\n  team-a:\n    AVP_AUTH_TYPE: approle\n    VAULT_ADDR: http://elsewhere\nrules: []\n",
    )
    .expect("a policy file");
    let plain = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\n";
    let broken_line = format!(
        "error: policy file {}: line 4: profile \"team-a\": VAULT_ADDR is not a login setting",
        broken.display()
    );
    let missing = teams.dir.path().join("missing.yaml");
    for (file, want) in [
        (&broken, broken_line),
        (
            &missing,
            format!("error: policy file {}: cannot be read", missing.display()),
        ),
    ] {
        // Even a run with nothing to fill.
        teams
            .case("team-a", plain)
            .env("VAULTPLATE_POLICY", file)
            .run()
            .failure()
            .stderr_contains(&want);
    }
}

#[test]
fn concurrent_renders_of_both_teams_never_use_each_other_s_token() {
    let teams = Teams::new();
    let bao = OpenBao::shared();
    let cache = teams.dir.path().join("cache");
    let rounds = 4;
    std::thread::scope(|scope| {
        for round in 0..rounds {
            for (project, team) in [("team-a", &teams.a), ("team-b", &teams.b)] {
                let (teams, cache) = (&teams, &cache);
                scope.spawn(move || {
                    teams
                        .case(project, &secret_of(team))
                        .env("XDG_CACHE_HOME", cache)
                        .run()
                        .success()
                        .stdout_contains(&format!("  password: \"{}\"\n", team.password));
                    let _ = round;
                });
            }
        }
    });
    let (a, b) = (&teams.a, &teams.b);
    assert_eq!(bao.reads_by_approle(&a.base, &a.role), rounds);
    assert_eq!(bao.reads_by_approle(&b.base, &b.role), rounds);
    assert_eq!(bao.reads_by_approle(&a.base, &b.role), 0);
    assert_eq!(bao.reads_by_approle(&b.base, &a.role), 0);
    let (logins_a, logins_b) = teams.logins();
    assert!(
        (1..=rounds).contains(&logins_a) && (1..=rounds).contains(&logins_b),
        "{logins_a} {logins_b}"
    );
}

/// Helm values count as the manifests they become: under a `secretsOnly` rule, a value filled
/// into the chart's values may reach a Secret's data, and nothing else, however a template
/// transforms it.
#[test]
fn a_helm_value_that_ends_up_outside_a_secret_is_refused_under_a_secrets_only_rule() {
    let teams = Teams::new();
    let b = &teams.b;
    let secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {{ .Values.password | quote }}\n";
    let leaks = [
        ("{{ .Values.password }}", "ConfigMap/leak"),
        ("{{ .Values.password | b64enc }}", "ConfigMap/leak"),
        (
            "{{ .Values.password | sha256sum | trunc 8 }}",
            "ConfigMap/leak",
        ),
        ("{{ .Values.password | upper }}", "ConfigMap/leak"),
    ];
    for (expression, object) in leaks {
        let config_map = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leak\ndata:\n  shown: {expression:?}\n"
        );
        render_chart(&teams, secret, &config_map)
            .failure()
            .stderr_contains(&format!(
                "error: helm output: document 2 ({object}): changes with other values: a value \
                 filled into the Helm values reaches it outside a Secret's data or stringData \
                 (secretsOnly; project \"team-b\", rule \"team-b\", profile \"team-b\")"
            ));
    }
    // Into a Secret's data, encoded or not, it may go.
    let encoded = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: encoded\ndata:\n  password: {{ .Values.password | b64enc }}\n";
    render_chart(&teams, secret, encoded)
        .success()
        .stdout_contains(&format!("  password: \"{}\"\n", b.password));
}

/// `render` of a chart whose values read team-b's secret, for project team-b.
fn render_chart(teams: &Teams, secret: &str, extra: &str) -> Outcome {
    chart_case(teams, secret, extra).args(["render"]).run()
}

/// A chart whose values read team-b's secret, run for project team-b in its folder; the
/// command is the caller's.
pub(crate) fn chart_case(teams: &Teams, secret: &str, extra: &str) -> Case {
    Case::new()
        .file(
            "app/Chart.yaml",
            "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
        )
        .file(
            "app/values.yaml",
            &format!("password: <path:{}/db#password>\n", teams.b.base),
        )
        .file("app/templates/secret.yaml", secret)
        .file("app/templates/extra.yaml", extra)
        .env("VAULT_ADDR", OpenBao::shared().addr())
        .env("VAULTPLATE_POLICY", &teams.policy)
        .env("ARGOCD_APP_PROJECT_NAME", "team-b")
        .env("ARGOCD_APP_NAME", "shop")
        .env("ARGOCD_APP_NAMESPACE", "team-b")
        .secret(&teams.b.password)
        .secret(&teams.b.secret_id)
        .cwd("app")
}

/// A profile from a Kubernetes Secret (`secretName`), chosen the AVP way with
/// `ARGOCD_ENV_AVP_SECRET`: read only when used, and holding login settings only.
#[test]
fn a_profile_from_a_kubernetes_secret_chosen_by_avp_secret() {
    let teams = Teams::new();
    let bao = OpenBao::shared();
    let b = &teams.b;
    let api = crate::support::KubeApi::start();
    api.put_secret(
        "argocd",
        "team-b-vault",
        &[
            ("AVP_AUTH_TYPE", "approle"),
            ("AVP_ROLE_ID", &b.role_id),
            ("AVP_SECRET_ID", &b.secret_id),
        ],
    );
    api.put_secret(
        "argocd",
        "team-b-elsewhere",
        &[
            ("AVP_AUTH_TYPE", "approle"),
            ("VAULT_ADDR", "http://elsewhere.example"),
        ],
    );
    let policy = teams.dir.path().join("secret-profiles.yaml");
    std::fs::write(
        &policy,
        format!(
            "profiles:\n  own:\n    AVP_AUTH_TYPE: token\n  b-secret:\n    secretName: team-b-vault\n  \
             b-elsewhere:\n    secretName: argocd:team-b-elsewhere\nrules:\n  - projects: [team-b]\n    \
             profiles: [own, b-secret, b-elsewhere]\n    paths: [\"{}/*\"]\n",
            b.base
        ),
    )
    .expect("a policy file");
    let case = |secret: &str| {
        Case::new()
            .file("m.yaml", &secret_of(b))
            .file("kubeconfig", &api.kubeconfig())
            .env("KUBECONFIG", "kubeconfig")
            .env("VAULT_ADDR", bao.addr())
            .env("VAULTPLATE_POLICY", &policy)
            .env("ARGOCD_APP_PROJECT_NAME", "team-b")
            .env("ARGOCD_ENV_AVP_SECRET", secret)
            .secret(&b.password)
            .secret(&b.secret_id)
            .secret(crate::support::KUBE_TOKEN)
            .args(["generate", "m.yaml"])
            .run()
    };
    case("argocd:team-b-vault")
        .success()
        .stdout_contains(&format!("  password: \"{}\"\n", b.password));
    assert_eq!(bao.reads_by_approle(&b.base, &b.role), 1);
    case("team-b-elsewhere").failure().stderr(
        "error: policy: project \"team-b\", rule \"rule 1\", profile \"b-elsewhere\": Kubernetes \
         Secret argocd/team-b-elsewhere: VAULT_ADDR is not a login setting: a profile holds only \
         how to log in (method, mount, role, credentials); the Vault address, TLS, namespace and \
         path rules are the sidecar's settings\n",
    );
    assert_eq!(
        api.requests().len(),
        2,
        "only the chosen profile's Secret is read"
    );
}

/// Every profile of the file is checked on every run, not only the one a render uses.
#[test]
fn another_team_s_broken_profile_fails_every_run() {
    let teams = Teams::new();
    let policy = teams.dir.path().join("other-broken.yaml");
    std::fs::write(
        &policy,
        "profiles:\n  team-a:\n    AVP_AUTH_TYPE: token\n  team-b:\n    AVP_AUTH_TYPE: oidc\nrules:\n  - projects: [team-a]\n    profiles: [team-a]\n    paths: ['**']\n",
    )
    .expect("a policy file");
    teams
        .case(
            "team-a",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
        )
        .env("VAULTPLATE_POLICY", &policy)
        .run()
        .failure()
        .stderr(&format!(
            "error: policy file {}: line 4: profile \"team-b\": setting AVP_AUTH_TYPE from profile \
             \"team-b\" of the policy file: \"oidc\" must be one of token, approle, userpass, k8s, \
             github, cert, jwt\n",
            policy.display()
        ));
}
