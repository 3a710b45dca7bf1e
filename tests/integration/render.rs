//! `vaultplate render` and `discover` with the real helm and kubectl (kustomize), the way Argo
//! CD runs a plugin: in the application's folder of a repository copy, with `ARGOCD_APP_*`,
//! `KUBE_*`, `PARAM_*` and `ARGOCD_ENV_*` variables.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::json;

use crate::support::{Case, OpenBao, tool, unique};

/// A secret for one test: `secret/data/<name>` with a user and a password.
fn seed() -> String {
    let name = unique("render");
    OpenBao::shared().put_kv2(
        "secret",
        &name,
        json!({"user": "render-user", "password": "render-Pa55"}),
    );
    format!("secret/data/{name}")
}

const CHART: &str = "apiVersion: v2\nname: shop\nversion: 0.1.0\n";

#[test]
fn plain_manifests_render_like_generate() {
    let path = seed();
    Case::new()
        .file("repo/app/cm.yaml", &format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata:\n  u: <path:{path}#user>\n"))
        .file("repo/app/values.yaml", "not: a manifest\n")
        .vault(OpenBao::shared())
        .cwd("repo/app")
        .args(["render"])
        .run()
        .success()
        .stdout("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  u: \"render-user\"\n");
}

#[test]
fn kustomize_secret_generator_output_is_filled() {
    let path = seed();
    let out = Case::new()
        .file("app/kustomization.yaml", &format!(
            "resources: [cm.yaml]\nsecretGenerator:\n  - name: db\n    literals:\n      - password=<path:{path}#password>\ngeneratorOptions: {{disableNameSuffixHash: true}}\n"
        ))
        .file("app/cm.yaml", &format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata:\n  u: <path:{path}#user>\n"))
        .vault(OpenBao::shared())
        .secret("render-Pa55")
        .cwd("app")
        .args(["render"])
        .run();
    out.success().stdout_contains("  u: \"render-user\"\n");
    let encoded = BASE64.encode("render-Pa55");
    out.stdout_contains(&format!("  password: \"{encoded}\"\n"));
}

#[test]
fn helm_gets_release_namespace_versions_values_and_set_from_argo_cd() {
    let path = seed();
    let template = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n  namespace: {{ .Release.Namespace }}\ndata:\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n  api: {{ .Capabilities.APIVersions.Has \"example.com/v9\" | quote }}\n  color: {{ .Values.color | quote }}\n  size: {{ .Values.size | quote }}\n  tag: {{ .Values.image.tag | quote }}\n  user: {{ .Values.user | quote }}\n";
    Case::new()
        .file("repo/apps/shop/Chart.yaml", CHART)
        .file("repo/apps/shop/values.yaml", "color: red\nsize: s\nimage: {tag: latest}\nuser: nobody\n")
        .file("repo/apps/shop/prod.yaml", "color: blue\n")
        .file("repo/apps/shop/templates/cm.yaml", template)
        .file("repo/apps/shop/crds/crd.yaml", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\n")
        .vault(OpenBao::shared())
        .cwd("repo/apps/shop")
        .env("ARGOCD_APP_NAME", "shop")
        .env("ARGOCD_APP_NAMESPACE", "prod")
        .env("ARGOCD_APP_SOURCE_PATH", "apps/shop")
        .env("KUBE_VERSION", "1.31.0")
        .env("KUBE_API_VERSIONS", "v1,example.com/v9")
        .env("ARGOCD_APP_PARAMETERS", json!([
            {"name": "values-files", "array": ["prod.yaml"]},
            {"name": "values", "string": "size: l\n"},
            {"name": "set", "map": {"image.tag": "1.2.3"}},
        ]).to_string())
        .env("PARAM_VALUES", "ignored: the JSON wins")
        .env("ARGOCD_ENV_HELM_VALUES", format!("user: <path:{path}#user>\n"))
        .args(["render"])
        .run()
        .success()
        .stdout_contains("kind: CustomResourceDefinition")
        .stdout_contains("  name: shop\n  namespace: prod\n")
        .stdout_contains("  kube: \"v1.31.0\"\n  api: \"true\"\n  color: \"blue\"\n  size: \"l\"\n  tag: \"1.2.3\"\n  user: \"nobody\"\n");
}

#[test]
fn crds_can_be_left_out() {
    Case::new()
        .file("app/Chart.yaml", CHART)
        .file("app/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
        .file("app/crds/crd.yaml", "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: w.example.com}\n")
        .env("PARAM_INCLUDE_CRDS", "false")
        .cwd("app")
        .args(["render"])
        .run()
        .success()
        .stdout("---\n# Source: shop/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
}

#[test]
fn chart_dependencies_are_built_when_charts_is_missing() {
    Case::new()
        .file("repo/app/Chart.yaml", "apiVersion: v2\nname: shop\nversion: 0.1.0\ndependencies:\n  - name: lib\n    version: 0.1.0\n    repository: file://../lib\n")
        .file("repo/app/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: parent}\n")
        .file("repo/lib/Chart.yaml", "apiVersion: v2\nname: lib\nversion: 0.1.0\n")
        .file("repo/lib/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-dependency}\n")
        .cwd("repo/app")
        // As Argo CD runs it: the repository is `repo`, so `../lib` is inside it.
        .env("ARGOCD_APP_SOURCE_PATH", "app")
        .args(["render"])
        .run()
        .success()
        .stdout_contains("metadata: {name: from-dependency}")
        .stdout_contains("metadata: {name: parent}");
}

#[test]
fn a_file_dependency_outside_the_repository_is_refused() {
    Case::new()
        .file("repo/app/Chart.yaml", "apiVersion: v2\nname: shop\nversion: 0.1.0\ndependencies:\n  - name: lib\n    version: 0.1.0\n    repository: file://../../lib\n")
        .file("lib/Chart.yaml", "apiVersion: v2\nname: lib\nversion: 0.1.0\n")
        .cwd("repo/app")
        .env("ARGOCD_APP_SOURCE_PATH", "app")
        .args(["render"])
        .run()
        .failure()
        .stderr("error: Chart.yaml: dependency lib: file://../../lib must be a chart folder inside the repository\n");
}

#[test]
fn a_failing_helm_fails_the_run_with_its_message() {
    Case::new()
        .file("app/Chart.yaml", CHART)
        .file("app/templates/cm.yaml", "{{ fail \"the chart refuses\" }}\n")
        .cwd("app")
        .args(["render"])
        .run()
        .failure()
        .stderr_contains("error: helm template failed (exit status: 1): Error: execution error at (shop/templates/cm.yaml:1:3): the chart refuses");
}

/// Renders a one-template chart with `script` as helm (a shell script, alone on PATH besides
/// the system's folders).
fn render_with_stand_in_helm(script: &str) -> crate::support::Outcome {
    use std::os::unix::fs::PermissionsExt as _;

    let tools = tempfile::tempdir().expect("a temporary directory");
    let helm = tools.path().join("helm");
    std::fs::write(&helm, format!("#!/bin/sh\n{script}\n")).expect("a stand-in helm");
    std::fs::set_permissions(&helm, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    Case::new()
        .file("app/Chart.yaml", CHART)
        .file(
            "app/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        )
        .env("PATH", format!("{}:/usr/bin:/bin", tools.path().display()))
        .cwd("app")
        .args(["render"])
        .run()
}

/// A tool that prints without end (a hostile chart's template loop, here a stand-in helm) is
/// stopped at the cap of what vaultplate reads in one run: one line, nothing on stdout, and
/// not the sidecar's memory. Its standard error, kept for the message, is capped too.
#[test]
fn a_tool_that_prints_without_end_is_stopped_at_the_cap() {
    let started = Instant::now();
    let out =
        render_with_stand_in_helm("head -c 300000 /dev/zero | tr '\\0' e >&2\nexec yes 'a: b'");
    out.failure().stdout("").stderr_contains(
        "error: helm template printed more than 256 MiB, the most vaultplate reads in one run; \
         split the application",
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}

/// A failing tool's standard error reaches the message (masked) up to 64 KiB, in whole lines
/// (a line cut in two could end inside a value that masking would then miss): a tool that
/// writes megabytes of it makes a bounded message, not a flood.
#[test]
fn a_failing_tool_s_message_is_bounded() {
    let out = render_with_stand_in_helm("yes 'Error: eeee' | head -c 3000000 >&2\nexit 1");
    out.failure()
        .stdout("")
        .stderr_contains("error: helm template failed (exit status: 1): Error: eeee\nError: eeee\n")
        .stderr_contains("Error: eeee (the rest of its error output is not shown)\n");
    assert!(
        out.stderr_text().len() < 70 << 10,
        "{} bytes of stderr",
        out.stderr_text().len()
    );
}

#[test]
fn a_failing_kustomize_fails_the_run_with_its_message() {
    Case::new()
        .file("app/kustomization.yaml", "resources: [missing.yaml]\n")
        .cwd("app")
        .args(["render"])
        .run()
        .failure()
        .stderr_contains("error: kubectl kustomize failed (exit status: 1): ")
        .stderr_contains("missing.yaml");
}

#[test]
fn values_files_must_stay_inside_the_repository() {
    let case = || {
        Case::new()
            .file("repo/app/Chart.yaml", CHART)
            .file(
                "repo/app/templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
            )
            .file("outside.yaml", "a: 1\n")
            .cwd("repo/app")
            .env("ARGOCD_APP_SOURCE_PATH", "app")
    };
    for (given, why) in [
        ("/etc/hostname", "absolute paths are not allowed"),
        ("../../outside.yaml", "is outside the repository"),
    ] {
        case()
            .env("PARAM_VALUES_FILES_0", given)
            .args(["render"])
            .run()
            .failure()
            .stderr_contains(&format!(
                "error: Application parameter values-files: values file {given:?}"
            ))
            .stderr_contains(why);
    }
}

#[test]
fn children_never_see_vault_settings() {
    let dump = tempfile::tempdir().expect("temp dir");
    let env_file = dump.path().join("helm-env");
    let real_helm = tool("helm");
    let wrapper = format!(
        "#!/bin/sh\nenv > '{}'\nexec '{}' \"$@\"\n",
        env_file.display(),
        real_helm.display()
    );
    let bin = dump.path().join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    std::fs::write(bin.join("helm"), wrapper).expect("write");
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(bin.join("helm"))
        .status()
        .expect("chmod");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Case::new()
        .file("app/Chart.yaml", CHART)
        .file(
            "app/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        )
        .env("VAULT_ADDR", OpenBao::shared().addr())
        .env("VAULT_TOKEN", "tok-must-not-leak")
        .env("PATH", path)
        .env("AVP_AUTH_TYPE", "token")
        .env("AVP_SECRET_ID", "should-not-leak")
        .env("ARGOCD_ENV_SOMETHING", "x")
        .cwd("app")
        .args(["render"])
        .run()
        .success();
    let seen = std::fs::read_to_string(env_file).expect("the wrapper ran");
    let names: Vec<&str> = seen
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, _)| k)
        .collect();
    for forbidden in ["VAULT_", "AVP_", "ARGOCD_"] {
        assert!(
            !names.iter().any(|n| n.starts_with(forbidden)),
            "{forbidden}* reached helm: {names:?}"
        );
    }
    assert!(
        !seen.contains("tok-must-not-leak") && !seen.contains("should-not-leak"),
        "a credential reached helm"
    );
}

#[test]
fn discover_answers_only_for_applications_with_placeholders() {
    Case::new()
        .file("app/Chart.yaml", CHART)
        .file("app/values.yaml", "password: <path:secret/data/x#y>\n")
        .args(["discover", "app"])
        .run()
        .success()
        .stdout("helm\n");
    Case::new()
        .file("app/kustomization.yaml", "resources: [s.yaml]\n")
        .file(
            "app/s.yaml",
            "metadata:\n  annotations:\n    avp.kubernetes.io/path: secret/data/x\n",
        )
        .cwd("app")
        .args(["discover"])
        .run()
        .success()
        .stdout("kustomize\n");
    Case::new()
        .file(
            "app/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        )
        .args(["discover", "app"])
        .run()
        .code(1)
        .stdout("")
        .stderr("");
}

/// Starts `vaultplate render` of a chart in `dir/app` whose template takes about ten seconds
/// (in constant memory), with TMPDIR `dir/tmp` and HOME `dir`. `release` names the release, so
/// that its helm can be told apart in `ps`.
fn start_slow_render(
    dir: &std::path::Path,
    release: &str,
    values: Option<&str>,
    env: &[(&str, &str)],
) -> std::process::Child {
    let app = dir.join("app");
    std::fs::create_dir(dir.join("tmp")).expect("mkdir");
    std::fs::create_dir_all(app.join("templates")).expect("mkdir");
    std::fs::write(app.join("Chart.yaml"), CHART).expect("write");
    if let Some(values) = values {
        std::fs::write(app.join("values.yaml"), values).expect("write");
    }
    let slow = "{{- range $i := until 3000 }}{{- range $j := until 20000 }}{{- end }}{{- end }}\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
    std::fs::write(app.join("templates/cm.yaml"), slow).expect("write");
    let tools = tool("helm").parent().expect("tools dir").to_path_buf();
    let path = format!(
        "{}:{}",
        tools.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new(env!("CARGO_BIN_EXE_vaultplate"))
        .arg("render")
        .current_dir(&app)
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir)
        .env("TMPDIR", dir.join("tmp"))
        .env("ARGOCD_APP_NAME", release)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vaultplate starts")
}

/// Sends SIGTERM to a run and waits for it (a few seconds at most).
fn terminate(mut child: std::process::Child) -> std::process::Output {
    let signalled = Instant::now();
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(5),
            "vaultplate did not stop promptly"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigterm_during_a_build_stops_helm_and_prints_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let release = unique("sigterm");
    let child = start_slow_render(dir.path(), &release, None, &[]);
    std::thread::sleep(Duration::from_millis(1500));
    let tmp = dir.path().join("tmp");
    let private = std::fs::read_dir(&tmp).expect("TMPDIR").count();
    assert_eq!(
        private, 1,
        "the render's private folder exists while helm runs"
    );
    let out = terminate(child);
    assert_eq!(out.status.code(), Some(143));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: stopped by SIGTERM; nothing was printed\n"
    );
    let ps = Command::new("ps")
        .args(["-eo", "args"])
        .output()
        .expect("ps");
    let alive = String::from_utf8_lossy(&ps.stdout)
        .lines()
        .filter(|l| l.contains(&format!("template {release} ")))
        .count();
    assert_eq!(alive, 0, "helm must be stopped with vaultplate");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .expect("TMPDIR")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(left.is_empty(), "the private folder was left: {left:?}");
}

#[test]
fn filled_helm_values_never_reach_the_disk() {
    let bao = OpenBao::shared();
    let name = unique("on-disk");
    let secret = "d1sk-Pa55word";
    bao.put_kv2("secret", &name, json!({ "password": secret }));
    let dir = tempfile::tempdir().expect("temp dir");
    let values = format!("password: <path:secret/data/{name}#password>\n");
    let env = [("VAULT_ADDR", bao.addr()), ("VAULT_TOKEN", "root")];
    let child = start_slow_render(dir.path(), &unique("on-disk"), Some(&values), &env);
    // helm has read its values long before it is done with the slow template.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        bao.reads(&format!("secret/data/{name}")),
        1,
        "values filled"
    );
    let mut files = Vec::new();
    let mut folders = vec![dir.path().to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("folder") {
            let path = entry.expect("entry").path();
            let kind = std::fs::symlink_metadata(&path)
                .expect("metadata")
                .file_type();
            if kind.is_dir() {
                folders.push(path);
            } else if kind.is_file() {
                files.push(path);
            }
        }
    }
    let encoded = BASE64.encode(secret);
    for file in &files {
        let text = String::from_utf8_lossy(&std::fs::read(file).expect("read")).into_owned();
        assert!(
            !text.contains(secret) && !text.contains(&encoded),
            "{} holds the secret",
            file.display()
        );
    }
    assert!(
        files.iter().any(|f| f.ends_with("app/values.yaml")),
        "{files:?}"
    );
    assert_eq!(terminate(child).status.code(), Some(143));
}

#[test]
fn helm_values_are_filled_before_helm_runs() {
    let bao = OpenBao::shared();
    let name = unique("values");
    bao.put_kv2(
        "secret",
        &name,
        json!({"password": "v4lues-Pa55", "replicas": 3, "flag": "on"}),
    );
    let path = format!("secret/data/{name}");
    let template = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations:\n    checksum: {{ .Values.password | sha256sum | quote }}\n    replicas: {{ .Values.replicas | quote }}\n    mode: {{ if eq .Values.flag \"on\" }}enabled{{ else }}disabled{{ end }}\n    set: {{ .Values.fromSet | quote }}\n    inline: {{ .Values.inline | quote }}\ndata:\n  password: {{ .Values.password | b64enc }}\n  again: <path:PATH#password | base64encode>\n";
    let schema =
        r#"{"type": "object", "properties": {"replicas": {"type": "integer", "minimum": 1}}}"#;
    let out = Case::new()
        .file("app/Chart.yaml", CHART)
        .file("app/values.schema.json", schema)
        .file(
            "app/values.yaml",
            &format!("password: <path:{path}#password>\nreplicas: <path:{path}#replicas>\n"),
        )
        .file("app/prod.yaml", &format!("flag: <path:{path}#flag>\n"))
        .file("app/templates/s.yaml", &template.replace("PATH", &path))
        .vault(bao)
        .secret("v4lues-Pa55")
        .env("PARAM_VALUES_FILES_0", "prod.yaml")
        .env(
            "ARGOCD_APP_PARAMETERS",
            json!([
                {"name": "values", "string": format!("inline: <path:{path}#flag | sha256sum>\n")},
                {"name": "set", "map": {"fromSet": format!("pw=<path:{path}#password>")}},
            ])
            .to_string(),
        )
        .cwd("app")
        .args(["render", "--verbose"])
        .run();
    let sha = |text: &str| {
        use sha2::Digest as _;
        format!("{:x}", sha2::Sha256::digest(text.as_bytes()))
    };
    out.success()
        .stdout_contains(&format!("    checksum: \"{}\"\n", sha("v4lues-Pa55")))
        .stdout_contains("    replicas: \"3\"\n    mode: enabled\n")
        .stdout_contains("    set: \"pw=v4lues-Pa55\"\n")
        .stdout_contains(&format!("    inline: \"{}\"\n", sha("on")))
        .stdout_contains(&format!("  password: {}\n", BASE64.encode("v4lues-Pa55")))
        .stdout_contains(&format!("  again: \"{}\"\n", BASE64.encode("v4lues-Pa55")));
    // Values and manifests share one login, and the secret is read once for both.
    assert_eq!(bao.reads(&path), 1);
}

#[test]
fn a_secret_helm_fails_on_never_reaches_stderr() {
    let bao = OpenBao::shared();
    let name = unique("masked");
    bao.put_kv2("secret", &name, json!({"password": "leaky-Pa55"}));
    Case::new()
        .file("app/Chart.yaml", CHART)
        .file("app/values.yaml", &format!("password: <path:secret/data/{name}#password>\n"))
        .file("app/templates/s.yaml", "{{ fail (printf \"password %s is too weak (%s)\" .Values.password (.Values.password | b64enc)) }}\n")
        .vault(bao)
        .secret("leaky-Pa55")
        .cwd("app")
        .args(["render"])
        .run()
        .failure()
        .stderr_contains("password <redacted> is too weak (<redacted>)");
}

#[test]
fn the_helm_example_gets_its_password_through_values() {
    let bao = OpenBao::shared();
    let name = unique("example");
    bao.put_kv2("secret", &name, json!({"password": "ex4mple-Pa55"}));
    bao.put_kv1("kv1", &name, json!({"api-key": "example-key"}));
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/helm");
    let read = |file: &str| {
        std::fs::read_to_string(example.join(file))
            .expect("example file")
            .replace("secret/data/demo/db", &format!("secret/data/{name}"))
            .replace("kv1/demo", &format!("kv1/{name}"))
    };
    Case::new()
        .file("app/Chart.yaml", &read("Chart.yaml"))
        .file("app/values.yaml", &read("values.yaml"))
        .file("app/templates/secret.yaml", &read("templates/secret.yaml"))
        .file(
            "app/templates/configmap.yaml",
            &read("templates/configmap.yaml"),
        )
        .vault(bao)
        .secret("ex4mple-Pa55")
        .env("ARGOCD_APP_NAME", "demo")
        .cwd("app")
        .args(["render"])
        .run()
        .success()
        .stdout_contains(&format!("  password: {}\n", BASE64.encode("ex4mple-Pa55")))
        .stdout_contains("  api-key: \"example-key\"\n");
}

#[test]
fn the_ci_script_writes_one_file_per_successful_render() {
    let bao = OpenBao::shared();
    let path = seed();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_vaultplate"))
        .parent()
        .expect("bin dir")
        .to_path_buf();
    let tools = tool("helm").parent().expect("tools").to_path_buf();
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ci/render.sh");
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = |key: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata:\n  u: <path:{path}#{key}>\n"
        )
    };
    for (app, key) in [
        ("apps/prod/shop", "user"),
        ("apps/staging/shop", "password"),
        ("apps/bad", "nope"),
    ] {
        std::fs::create_dir_all(dir.path().join(app)).expect("mkdir");
        std::fs::write(dir.path().join(app).join("cm.yaml"), manifest(key)).expect("write");
    }
    let run = |path_var: String, flag: Option<&str>| {
        let mut command = Command::new("bash");
        command.arg(&script);
        if let Some(flag) = flag {
            command.arg(flag);
        }
        command
            .args([
                "out",
                "./apps/prod/shop",
                "apps/staging/shop/",
                "apps/bad",
                "apps/gone",
            ])
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", path_var)
            .env("HOME", dir.path())
            .env("VAULT_ADDR", bao.addr())
            .env("VAULT_TOKEN", "root")
            .output()
            .expect("bash runs")
    };
    let out = run(
        format!("{}:{}:/usr/bin:/bin", bin.display(), tools.display()),
        None,
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("FAILED: apps/bad") && stderr.contains("key \"nope\" not found"),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("apps/gone").count(),
        1,
        "a missing folder is reported once: {stderr}"
    );
    assert!(
        stderr.contains("FAILED: apps/gone: no such application folder"),
        "{stderr}"
    );
    let read = |file: &str| std::fs::read_to_string(dir.path().join("out").join(file)).expect(file);
    assert!(read("apps/prod/shop.yaml").contains("  u: \"render-user\"\n"));
    assert!(read("apps/staging/shop.yaml").contains("  u: \"render-Pa55\"\n"));
    assert!(
        !dir.path().join("out/apps/bad.yaml").exists()
            && !dir.path().join("out/apps/bad.yaml.partial").exists()
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir.path().join("out/apps/prod/shop.yaml"))
        .expect("meta")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);

    // --redact passes through: masks, never the value.
    let out = run(
        format!("{}:{}:/usr/bin:/bin", bin.display(), tools.display()),
        Some("--redact"),
    );
    assert_eq!(out.status.code(), Some(1));
    let redacted = read("apps/staging/shop.yaml");
    assert!(
        redacted.contains("vaultplate:sha256-hmac:") && !redacted.contains("render-Pa55"),
        "{redacted}"
    );

    let out = run(format!("{}:/usr/bin:/bin", tools.display()), None);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "vaultplate is not on PATH: install it (or add its folder to PATH) first\n"
    );
}

#[test]
fn the_ci_recipes_are_valid_yaml() {
    for file in [
        "examples/ci/github-actions.yaml",
        "examples/ci/gitlab-ci.yml",
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let text = std::fs::read_to_string(&path).expect(file);
        assert!(
            saphyr_parser::Parser::new_from_str(&text).all(|event| event.is_ok()),
            "{file} is not valid YAML"
        );
        assert!(
            text.contains("vaultplate check") && text.contains("--redact"),
            "{file}"
        );
    }
}

#[test]
fn kustomize_renders_helm_charts_only_when_the_application_enables_it() {
    let path = seed();
    let case = || {
        Case::new()
            .file("app/kustomization.yaml", "helmCharts:\n  - name: lib\n    releaseName: lib\nhelmGlobals:\n  chartHome: charts\n")
            .file("app/charts/lib/Chart.yaml", "apiVersion: v2\nname: lib\nversion: 0.1.0\n")
            .file("app/charts/lib/values.yaml", "{}\n")
            .file("app/charts/lib/templates/cm.yaml", &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-helm\ndata:\n  u: <path:{path}#user>\n"))
            .vault(OpenBao::shared())
            .cwd("app")
            .args(["render"])
    };
    case()
        .env("PARAM_KUSTOMIZE_ENABLE_HELM", "true")
        .run()
        .success()
        .stdout_contains("  name: from-helm\n")
        .stdout_contains("  u: \"render-user\"\n");
    case()
        .run()
        .failure()
        .stderr_contains("error: kubectl kustomize failed")
        .stderr_contains("--enable-helm");
}

/// `render --no-resolve` of `case`'s `app/` folder, with the Application's
/// `kustomize-enable-helm` on.
fn rendered_with_helm(case: Case) -> crate::support::Outcome {
    case.cwd("app")
        .env("PARAM_KUSTOMIZE_ENABLE_HELM", "true")
        .args(["render", "--no-resolve"])
        .run()
}

/// kustomize's `--enable-helm` passes a kustomization's `helmCharts[].releaseName` to helm
/// where helm reads flags: `--post-renderer=<program>` made helm run a program of the
/// repository's choosing on every render. kustomize now runs helm through vaultplate's check,
/// which refuses such a name before helm starts; a release name helm takes still renders.
#[test]
fn a_kustomization_cannot_make_helm_run_a_program() {
    use std::os::unix::fs::PermissionsExt as _;

    let dir = tempfile::tempdir().expect("a temporary directory");
    let marker = dir.path().join("ran");
    let program = dir.path().join("post-render.sh");
    std::fs::write(
        &program,
        format!("#!/bin/sh\necho ran > '{}'\ncat\n", marker.display()),
    )
    .expect("a post-renderer");
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let case = |release: &str| {
        rendered_with_helm(
            Case::new()
                .file(
                    "app/kustomization.yaml",
                    &format!("helmCharts:\n  - name: lib\n    releaseName: \"{release}\"\n"),
                )
                .file(
                    "app/charts/lib/Chart.yaml",
                    "apiVersion: v2\nname: lib\nversion: 0.1.0\n",
                )
                .file("app/charts/lib/values.yaml", "{}\n")
                .file(
                    "app/charts/lib/templates/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
                ),
        )
    };
    let hostile = format!("--post-renderer={}", program.display());
    case(&hostile)
        .failure()
        .stdout("")
        .stderr_contains("error: kubectl kustomize failed")
        .stderr_contains(&format!(
            "helm template got {hostile:?} from a helmCharts entry of the kustomization (its releaseName or name), where helm would read it as a flag"
        ));
    assert!(!marker.exists(), "the post-renderer ran");
    case("lib-1").success().stdout_contains("  name: lib-1\n");
    // Without a release name kustomize passes its own flags there, which go through.
    rendered_with_helm(
        Case::new()
            .file(
                "app/kustomization.yaml",
                "helmCharts:\n  - name: lib\n    namespace: shop\n    includeCRDs: true\n",
            )
            .file("app/charts/lib/Chart.yaml", "apiVersion: v2\nname: lib\nversion: 0.1.0\n")
            .file("app/charts/lib/values.yaml", "{}\n")
            .file(
                "app/charts/lib/templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: generated\n  namespace: {{ .Release.Namespace }}\n",
            ),
    )
    .success()
    .stdout_contains("  namespace: shop\n");
}

/// kustomize fetches a remote base with `git fetch URL REF`, and a `?ref=` that starts with
/// `--upload-pack=` is read by git as that option: with a `file://` URL, git ran the program
/// it names. Children's git may use network transports only, so the base is refused and the
/// program never runs. Needs git (every clone of this repository has it).
#[test]
fn a_remote_base_cannot_make_git_run_a_program() {
    use std::os::unix::fs::PermissionsExt as _;

    let dir = tempfile::tempdir().expect("a temporary directory");
    let git = |args: &[&str]| {
        let done = std::process::Command::new("git")
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("git is needed by this test: install git");
        assert!(done.status.success(), "git {args:?}: {done:?}");
    };
    std::fs::create_dir(dir.path().join("base")).expect("a folder");
    std::fs::write(
        dir.path().join("base/kustomization.yaml"),
        "resources: [cm.yaml]\n",
    )
    .expect("a kustomization");
    std::fs::write(
        dir.path().join("base/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: remote\n",
    )
    .expect("a manifest");
    git(&["init", "-q", "base"]);
    git(&["-C", "base", "add", "."]);
    git(&[
        "-C",
        "base",
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@t",
        "commit",
        "-qm",
        "base",
    ]);
    let marker = dir.path().join("ran");
    let program = dir.path().join("upload-pack.sh");
    std::fs::write(
        &program,
        format!(
            "#!/bin/sh\necho ran > '{}'\nexec git-upload-pack \"$@\"\n",
            marker.display()
        ),
    )
    .expect("a program");
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let base = format!(
        "file://{}/base?ref=--upload-pack={}",
        dir.path().display(),
        program.display()
    );
    Case::new()
        .file(
            "app/kustomization.yaml",
            &format!("resources:\n  - \"{base}\"\n"),
        )
        .cwd("app")
        .args(["render", "--no-resolve"])
        .run()
        .failure()
        .stdout("")
        .stderr_contains("transport 'file' not allowed");
    assert!(!marker.exists(), "git ran the kustomization's program");
}

/// kustomize points helm's data folder at a kustomization's `helmGlobals.configHome`, where
/// helm looks for plugins: a repository could bring a downloader plugin, whose program helm
/// runs to fetch a chart through the plugin's protocol. helm for kustomize looks for plugins in
/// an empty place, so the protocol is unknown and the program never runs.
#[test]
fn a_kustomization_cannot_bring_helm_plugins() {
    use std::os::unix::fs::PermissionsExt as _;

    let dir = tempfile::tempdir().expect("a temporary directory");
    let plugin = dir.path().join("helm/.data/plugins/fetcher");
    std::fs::create_dir_all(&plugin).expect("a plugin folder");
    std::fs::write(
        plugin.join("plugin.yaml"),
        "name: fetcher\nversion: 0.1.0\nusage: fetch\ndescription: fetch\n\
         downloaders:\n  - command: fetch.sh\n    protocols: [fetch]\n",
    )
    .expect("a plugin");
    let marker = dir.path().join("ran");
    std::fs::write(
        plugin.join("fetch.sh"),
        format!("#!/bin/sh\necho ran > '{}'\n", marker.display()),
    )
    .expect("a plugin program");
    std::fs::set_permissions(
        plugin.join("fetch.sh"),
        std::fs::Permissions::from_mode(0o755),
    )
    .expect("chmod");
    let kustomization = format!(
        "helmGlobals:\n  configHome: {}\nhelmCharts:\n  - name: lib\n    repo: fetch://charts\n    version: 1.0.0\n    releaseName: lib\n",
        dir.path().join("helm").display()
    );
    rendered_with_helm(Case::new().file("app/kustomization.yaml", &kustomization))
        .failure()
        .stdout("")
        .stderr_contains("error: kubectl kustomize failed")
        .stderr_contains("could not find protocol handler for: fetch");
    assert!(!marker.exists(), "helm ran the repository's plugin");
}

/// kustomize's `helm pull` takes a helmCharts entry's chart name where helm reads flags:
/// `--destination=<folder>` would write the chart wherever the kustomization says. Refused
/// before helm starts.
#[test]
fn a_kustomization_cannot_give_helm_pull_a_flag() {
    rendered_with_helm(Case::new().file(
        "app/kustomization.yaml",
        "helmCharts:\n  - name: \"--destination=/tmp\"\n    repo: https://127.0.0.1:9/charts\n    version: 1.0.0\n    releaseName: lib\n",
    ))
    .failure()
        .stdout("")
        .stderr_contains(
            "helm pull got \"--destination=/tmp\" from a helmCharts entry of the kustomization (its releaseName or name), where helm would read it as a flag",
        );
}
