//! `*.tera` templates (issue 17): structure from tera, values only through the engine. Every
//! case runs the real binary against the shared OpenBao; the attacks are here too: files
//! outside the application, the environment, endless loops, huge output, broken templates.

use serde_json::{Value, json};

use crate::cmp::plugin_command;
use crate::support::{Case, OpenBao, tool, unique};
use crate::teams::Teams;

/// Values that would break YAML or tera if they ever went through a template.
fn tricky() -> Value {
    json!({
        "quote": "it's \"quoted\"",
        "lines": "one\ntwo\n",
        "colon": "a: b # not a comment",
        "tera": "{{ app.name }} {% if x %}",
        "yaml": "- [yes, no]\n{on: 0644}",
    })
}

/// The Secret's `stringData` of a render's single document, parsed back.
fn string_data(stdout: &str) -> Value {
    let doc = stdout.trim_start_matches("---\n");
    let value = vaultplate::yaml::value::parse_value(doc).expect("the output parses");
    serde_json::to_value(&value).expect("as JSON")["stringData"].clone()
}

const ALL_KEYS: &str = "apiVersion: v1
kind: Secret
metadata:
  name: {{ app.name | yaml_str }}
stringData:
{%- for key in vault_keys(path=\"PATH\") %}
  {{ key | yaml_str }}: {{ placeholder(path=\"PATH\", key=key) | yaml_str }}
{%- endfor %}
";

#[test]
fn every_key_of_a_secret_comes_out_exactly_through_plugin_yaml_with_one_read() {
    let server = OpenBao::shared();
    let name = unique("tera-keys");
    let path = format!("secret/data/{name}");
    server.put_kv2("secret", &name, tricky());
    let template = ALL_KEYS.replace("PATH", &path);
    let run = || {
        let before = server.reads(&path);
        let out = Case::new()
            .file("repo/app/secret.yaml.tera", &template)
            .vault(server)
            .secret("it's \"quoted\"")
            .cwd("repo/app")
            .env("ARGOCD_APP_NAME", "shop")
            .args(plugin_command("/spec/generate/command"))
            .run();
        out.success();
        assert_eq!(
            server.reads(&path) - before,
            1,
            "vault_keys and the fill share one read"
        );
        string_data(out.stdout_text())
    };
    assert_eq!(run(), tricky());
    let mut more = tricky();
    more["added"] = json!("later");
    server.put_kv2("secret", &name, more.clone());
    assert_eq!(
        run(),
        more,
        "a key added in Vault appears at the next render"
    );
}

#[test]
fn the_example_renders_tenants_and_a_connection_string() {
    let server = OpenBao::shared();
    server.put_kv2(
        "secret",
        "app",
        json!({"user": "app-user", "password": "app-Pa55", "host": "db.internal"}),
    );
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/templates");
    let mut case = Case::new()
        .vault(server)
        .secret("app-Pa55")
        .cwd("app")
        .env("ARGOCD_APP_NAME", "shop")
        .env(
            "ARGOCD_APP_PARAMETERS",
            json!([{"name": "vars", "map": {"tenants": "blue, green"}}]).to_string(),
        )
        .args(["render"]);
    for file in ["secret.yaml.tera", "tenants.yaml.tera"] {
        let text = std::fs::read_to_string(example.join(file)).expect("example");
        case = case.file(&format!("app/{file}"), &text);
    }
    let out = case.run();
    out.success()
        .stdout_contains("  name: \"db-blue\"\nstringData:\n  password: \"app-Pa55\"\n")
        .stdout_contains("  name: \"db-green\"\n")
        .stdout_contains("  url: \"postgres://app-user@db.internal/shop\"\n")
        .stdout_contains("  \"host\": \"db.internal\"\n");
}

/// A seeded secret with a user and a password, for the build tests.
fn seed() -> String {
    let name = unique("tera");
    OpenBao::shared().put_kv2(
        "secret",
        &name,
        json!({"user": "tera-user", "password": "tera-Pa55"}),
    );
    format!("secret/data/{name}")
}

#[test]
fn kustomize_resources_and_helm_values_files_can_be_templates() {
    tool("kubectl");
    tool("helm");
    let path = seed();
    let secret = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData:\n{{% for k in vault_keys(path=\"{path}\") %}}  {{{{ k }}}}: {{{{ placeholder(path=\"{path}\", key=k) | yaml_str }}}}\n{{% endfor %}}"
    );
    Case::new()
        .file("app/kustomization.yaml", "resources: [secret.yaml]\n")
        .file("app/secret.yaml.tera", &secret)
        .vault(OpenBao::shared())
        .secret("tera-Pa55")
        .cwd("app")
        .args(["render"])
        .run()
        .success()
        .stdout_contains("  password: \"tera-Pa55\"\n  user: \"tera-user\"\n");
    let values = format!(
        "user: {{{{ placeholder(path=\"{path}\", key=\"user\") | yaml_str }}}}\nenv: {{{{ params.vars.env | yaml_str }}}}\n"
    );
    Case::new()
        .file("app/Chart.yaml", "apiVersion: v2\nname: shop\nversion: 0.1.0\n")
        .file("app/values-prod.yaml.tera", &values)
        .file("app/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  user: {{ .Values.user | quote }}\n  env: {{ .Values.env | quote }}\n")
        .vault(OpenBao::shared())
        .cwd("app")
        .env("ARGOCD_APP_PARAMETERS", json!([
            {"name": "values-files", "array": ["values-prod.yaml"]},
            {"name": "vars", "map": {"env": "prod"}},
        ]).to_string())
        .args(["render"])
        .run()
        .success()
        .stdout_contains("  user: \"tera-user\"\n  env: \"prod\"\n");
}

#[test]
fn generate_renders_a_template_file() {
    let path = seed();
    Case::new()
        .file("s.yaml.tera", &format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData:\n  u: {{{{ placeholder(path=\"{path}\", key=\"user\") }}}}\n"))
        .vault(OpenBao::shared())
        .args(["generate", "s.yaml.tera"])
        .run()
        .success()
        .stdout("---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  u: \"tera-user\"\n");
}

/// A render of `app/` holding `template` as `t.yaml.tera` fails with `message` in stderr.
#[track_caller]
fn refused(case: Case, template: &str, message: &str) {
    case.file("app/t.yaml.tera", template)
        .vault(OpenBao::shared())
        .env("HOME_SECRET", "env-leak-value")
        .secret("env-leak-value")
        .cwd("app")
        .args(["render"])
        .run()
        .failure()
        .stderr_contains(message);
}

#[test]
fn templates_see_nothing_outside_the_application() {
    let outside = "secret: outside-value\n";
    refused(
        Case::new().file("app/ok.yaml", "a: 1\n"),
        "{% include \"../../../../../../etc/passwd\" %}",
        "Unknown template `../../../../../../etc/passwd`",
    );
    refused(
        Case::new()
            .file("other/x.tera", outside)
            .symlink("app/_x.tera", "../other/x.tera"),
        "{% include \"_x.tera\" %}",
        "_x.tera: is a symlink to ",
    );
    refused(
        Case::new().symlink("app/_p.tera", "/etc/passwd"),
        "a: 1\n",
        "outside the application directory",
    );
    refused(
        Case::new(),
        "a: {{ get_env(name=\"HOME_SECRET\") }}\n",
        "Unknown function `get_env`",
    );
    refused(
        Case::new(),
        "a: {{ __tera_context }}\n{{ nope }}\n",
        "t.yaml.tera:2:4: ",
    );
}

#[test]
fn mistakes_are_named_by_file_line_and_column() {
    refused(
        Case::new(),
        "a: 1\nb: {{ params.vars.missing }}\n",
        "t.yaml.tera:2:19: Field `missing` is not defined",
    );
    refused(Case::new(), "a: 1\nb: {% if %}\n", "t.yaml.tera:2:");
    refused(
        Case::new(),
        "a: 1\n{% for i in range(end=2) %}b: [\n{% endfor %}",
        "t.yaml.tera: the rendered text is not valid YAML: line 3, column 1",
    );
    refused(
        Case::new(),
        "a: {{ vault_keys(path=\"sys/mounts\") }}\n",
        "vault_keys: ",
    );
    refused(
        Case::new(),
        "a: {{ placeholder(path=\"secret/data/x\", key=\"k> <path:sys/x#y\") }}\n",
        "placeholder: ",
    );
}

#[test]
fn endless_loops_and_huge_output_are_stopped() {
    refused(
        Case::new(),
        "{% for i in range(end=100000) %}{% for j in range(end=100000) %}{% endfor %}{% endfor %}",
        "took longer than 5 s",
    );
    refused(
        Case::new(),
        "{% for i in range(end=100000) %}{% for j in range(end=1000) %}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{% endfor %}{% endfor %}",
        "renders to more than 32 MiB",
    );
}

#[test]
fn the_context_holds_no_value_and_no_environment() {
    let path = seed();
    let out = Case::new()
        .file("app/s.yaml.tera", &format!(
            "{{% set k = vault_keys(path=\"{path}\") %}}apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata:\n  context: {{{{ __tera_context | to_json | yaml_str }}}}\n"
        ))
        .vault(OpenBao::shared())
        .env("HOME_SECRET", "env-leak-value")
        .cwd("app")
        .args(["render"])
        .run();
    out.success();
    let text = out.stdout_text();
    assert!(
        !text.contains("tera-Pa55") && !text.contains("env-leak-value"),
        "{text}"
    );
    assert!(text.contains("user"), "{text}");
}

#[test]
fn vault_keys_follows_the_path_rules_of_placeholders_before_any_read() {
    let path = seed();
    let keys = format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData:\n{{% for k in vault_keys(path=\"{path}\") %}}  {{{{ k }}}}: x\n{{% endfor %}}"
    );
    let bao = OpenBao::shared();
    Case::new()
        .file("app/t.yaml.tera", &keys)
        .vault(bao)
        .env("AVP_PATH_VALIDATION", "^secret/data/allowed/")
        .cwd("app")
        .args(["render"])
        .run()
        .failure()
        .stdout("")
        .stderr_contains("does not match AVP_PATH_VALIDATION");
    assert_eq!(bao.reads(&path), 0, "refused before any read");

    // Under the operator's policy, team-a's project may list only its own secrets.
    let teams = Teams::new();
    let other = format!("{}/db", teams.b.base);
    teams
        .sidecar("team-a")
        .file("app/t.yaml.tera", &keys.replace(&path, &other))
        .cwd("app")
        .args(["render"])
        .run()
        .failure()
        .stdout("")
        .stderr_contains("is outside the paths the policy allows (project \"team-a\"");
    assert_eq!(bao.reads(&other), 0, "another team's path is never read");
    assert_eq!(teams.logins(), (0, 0), "nor is anyone logged in for it");
}
