//! The Helm options an Application can set (`spec.source.helm` as CMP parameters), run through
//! plugin.yaml's own `generate` command the way Argo CD calls it, and compared with what the
//! pinned helm prints when given the same options as flags. Hostile values are refused.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::cmp::plugin_command;
use crate::support::{Case, OpenBao, tool, unique};

const CHART: &str = "apiVersion: v2\nname: shop\nversion: 0.1.0\n";
const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n  api: {{ .Capabilities.APIVersions.Has \"example.com/v9\" | quote }}\n  size: {{ .Values.size | quote }}\n  config: {{ .Values.config | quote }}\n";
const TEST_HOOK: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: smoke\n  annotations: {\"helm.sh/hook\": test}\nspec: {containers: [{name: t, image: busybox}]}\n";
const SCHEMA: &str = r#"{"type": "object", "properties": {"size": {"type": "integer"}}}"#;

/// A small chart at `repo/apps/shop` of an unpacked repository, with Argo CD's build
/// environment, run by plugin.yaml's generate command.
fn chart() -> Case {
    Case::new()
        .file("repo/apps/shop/Chart.yaml", CHART)
        .file("repo/apps/shop/values.yaml", "size: 1\nconfig: none\n")
        .file("repo/apps/shop/values.schema.json", SCHEMA)
        .file("repo/apps/shop/templates/cm.yaml", CM)
        .file("repo/apps/shop/templates/tests/smoke.yaml", TEST_HOOK)
        .file("repo/apps/shop/big.yaml", "size: big\n")
        .file("repo/apps/shop/prod.yaml", "size: 3\n")
        .file("repo/apps/shop/files/app.conf", "level=debug\nname=shop\n")
        .file("repo/apps/shop/files/a,b.conf", "comma in the name\n")
        .file("repo/outside-app.conf", "still in the repository\n")
        .file("elsewhere.conf", "outside the repository\n")
        .cwd("repo/apps/shop")
        .env("ARGOCD_APP_NAME", "shop")
        .env("ARGOCD_APP_NAMESPACE", "prod")
        .env("ARGOCD_APP_SOURCE_PATH", "apps/shop")
        .env("KUBE_VERSION", "1.32.0")
        .env("KUBE_API_VERSIONS", "v1,apps/v1")
        .args(plugin_command("/spec/generate/command"))
}

/// `helm template` in `dir` with Argo CD's defaults for the chart above and `flags`.
fn helm_template(dir: &Path, flags: &[&str]) -> String {
    let home = tempfile::tempdir().expect("temp dir");
    let output = Command::new(tool("helm"))
        .args([
            "template",
            "shop",
            ".",
            "--namespace",
            "prod",
            "--include-crds",
        ])
        .args(flags)
        .current_dir(dir)
        .env_clear()
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_DATA_HOME", home.path().join("data"))
        .output()
        .expect("running helm");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "helm {flags:?}: {stderr}");
    String::from_utf8(output.stdout).expect("UTF-8")
}

const DEFAULTS: &[&str] = &[
    "--kube-version",
    "1.32.0",
    "--api-versions",
    "v1",
    "--api-versions",
    "apps/v1",
];

/// Variables an Application run gets.
type Env = Vec<(&'static str, String)>;

/// How an Application sets an option, the flags helm gets for the same, and the values files
/// with which the chart does not render without it.
type Row = (Env, Vec<&'static str>, Option<&'static [&'static str]>);

#[test]
fn each_helm_option_renders_what_helm_renders_with_the_flag() {
    let json = |params: Value| ("ARGOCD_APP_PARAMETERS", params.to_string());
    let cases: Vec<Row> = vec![
        (
            vec![json(
                json!([{"name": "file-parameters", "map": {"config": "files/app.conf"}}]),
            )],
            [DEFAULTS, &["--set-file", "config=files/app.conf"]].concat(),
            None,
        ),
        (
            vec![json(
                json!([{"name": "file-parameters", "map": {"config": "files/a,b.conf"}}]),
            )],
            [DEFAULTS, &["--set-file", "config=files/a\\,b.conf"]].concat(),
            None,
        ),
        (
            vec![json(
                json!([{"name": "file-parameters", "map": {"config": "../../outside-app.conf"}}]),
            )],
            [DEFAULTS, &["--set-file", "config=../../outside-app.conf"]].concat(),
            None,
        ),
        (
            vec![json(json!([
                {"name": "values-files", "array": ["absent.yaml", "prod.yaml", "../../absent.yaml"]},
                {"name": "ignore-missing-value-files", "string": "true"},
            ]))],
            [DEFAULTS, &["--values", "prod.yaml"]].concat(),
            Some(&["absent.yaml", "prod.yaml"]),
        ),
        (
            vec![
                ("PARAM_VALUES_FILES_0", "big.yaml".into()),
                ("PARAM_SKIP_SCHEMA_VALIDATION", "true".into()),
            ],
            [
                DEFAULTS,
                &["--values", "big.yaml", "--skip-schema-validation"],
            ]
            .concat(),
            Some(&["big.yaml"]),
        ),
        (
            vec![("PARAM_SKIP_TESTS", "true".into())],
            [DEFAULTS, &["--skip-tests"]].concat(),
            None,
        ),
        (
            vec![("PARAM_KUBE_VERSION", "v1.29.4".into())],
            vec![
                "--kube-version",
                "v1.29.4",
                "--api-versions",
                "v1",
                "--api-versions",
                "apps/v1",
            ],
            None,
        ),
        (
            vec![
                ("PARAM_API_VERSIONS_0", "example.com/v9".into()),
                ("PARAM_API_VERSIONS_1", "v1".into()),
            ],
            vec![
                "--kube-version",
                "1.32.0",
                "--api-versions",
                "example.com/v9",
                "--api-versions",
                "v1",
            ],
            None,
        ),
        (
            vec![json(
                json!([{"name": "pass-credentials", "string": "true"}]),
            )],
            [DEFAULTS, &["--pass-credentials"]].concat(),
            None,
        ),
    ];
    let baseline = chart().run();
    baseline.success();
    let defaults = helm_template(baseline.cwd().join("repo/apps/shop").as_path(), DEFAULTS);
    assert_eq!(
        baseline.stdout_text(),
        defaults,
        "the defaults are Argo CD's"
    );
    for (env, flags, fails_without) in cases {
        let mut case = chart();
        for (key, value) in &env {
            case = case.env(key, value);
        }
        let out = case.run();
        out.success();
        let want = helm_template(out.cwd().join("repo/apps/shop").as_path(), &flags);
        assert_eq!(out.stdout_text(), want, "{env:?} renders as helm {flags:?}");
        if flags.contains(&"--pass-credentials") {
            // Nothing to fetch from a local chart: the flag changes nothing yet.
            continue;
        }
        // The option made a difference: without it the chart renders otherwise, or (with the
        // same values files) not at all.
        let mut without = chart();
        match &fails_without {
            Some(files) => {
                for (n, file) in files.iter().enumerate() {
                    without = without.env(format!("PARAM_VALUES_FILES_{n}"), file);
                }
                without.run().failure();
            }
            None => {
                assert_ne!(
                    without.run().success().stdout_text(),
                    want,
                    "{env:?} changes nothing"
                );
            }
        }
    }
}

#[test]
fn file_parameters_are_filled_like_values_and_reach_helm_through_a_pipe() {
    let name = unique("helm-params");
    OpenBao::shared().put_kv2("secret", &name, json!({"password": "fileParam-Pa55"}));
    let config = format!("user=shop\npassword=<path:secret/data/{name}#password>\n");
    let out = chart()
        .file("repo/apps/shop/files/secret.conf", &config)
        .vault(OpenBao::shared())
        .secret("fileParam-Pa55")
        .env(
            "ARGOCD_APP_PARAMETERS",
            json!([{"name": "file-parameters", "map": {"config": "files/secret.conf"}}])
                .to_string(),
        )
        .run();
    out.success()
        .stdout_contains("  config: \"user=shop\\npassword=fileParam-Pa55\\n\"\n");
    let on_disk = std::fs::read_to_string(out.cwd().join("repo/apps/shop/files/secret.conf"))
        .expect("the file is still there");
    assert_eq!(on_disk, config, "the repository file is not rewritten");
}

#[test]
fn hostile_helm_options_are_refused_before_helm_runs() {
    let file_parameter = |key: &str, file: &str| {
        json!([{"name": "file-parameters", "map": {key: file}}]).to_string()
    };
    let cases = [
        (
            file_parameter("a=b", "files/app.conf"),
            r#"error: Application parameter file-parameters: "a=b" is not a values key"#,
        ),
        (
            file_parameter("a,b", "files/app.conf"),
            r#"error: Application parameter file-parameters: "a,b" is not a values key"#,
        ),
        (
            file_parameter("--post-renderer", "files/app.conf"),
            r#"error: Application parameter file-parameters: "--post-renderer" is not a values key"#,
        ),
        (
            file_parameter("config", "../../../elsewhere.conf"),
            r#"error: Application parameter file-parameters config: file "../../../elsewhere.conf" is outside the repository"#,
        ),
        (
            file_parameter("config", "/etc/hostname"),
            r#"error: Application parameter file-parameters config: file "/etc/hostname": absolute paths are not allowed"#,
        ),
        (
            file_parameter("config", "files"),
            r#"error: Application parameter file-parameters config: file "files" is not a file"#,
        ),
        (
            json!([
                {"name": "values-files", "array": ["../../../elsewhere.yaml"]},
                {"name": "ignore-missing-value-files", "string": "true"},
            ])
            .to_string(),
            r#"error: Application parameter values-files: values file "../../../elsewhere.yaml": No such file or directory"#,
        ),
        (
            json!([{"name": "kube-version", "string": "--post-renderer=/bin/sh"}]).to_string(),
            r#"error: Application parameter kube-version: "--post-renderer=/bin/sh" is not a Kubernetes version (write it like 1.32 or v1.32.3)"#,
        ),
        (
            json!([{"name": "api-versions", "array": ["v1,apps/v1", "-x"]}]).to_string(),
            r#"error: Application parameter api-versions: "v1,apps/v1" is not an API version (write it like apps/v1 or monitoring.coreos.com/v1/ServiceMonitor)"#,
        ),
        (
            json!([{"name": "skip-tests", "string": "yes please"}]).to_string(),
            r#"error: Application parameter skip-tests: "yes please" is not true or false"#,
        ),
    ];
    for (parameters, want) in cases {
        chart()
            .env("ARGOCD_APP_PARAMETERS", parameters)
            .run()
            .failure()
            .stdout("")
            .stderr_contains(want);
    }
}

/// The release name is the one value helm takes as a positional argument. Before it was
/// checked and put after `--`, `--post-renderer=/usr/bin/id` as a release name made helm run
/// that program on its output (a repository's templates piped into a shell of the
/// Application's choosing). Refused, from the parameter and from ARGOCD_ENV_RELEASE_NAME, before
/// helm runs.
#[test]
fn a_release_name_cannot_become_a_flag() {
    let refused = |release: &str| {
        format!(
            "error: the release name {release:?} (Application parameter release-name, else \
             ARGOCD_ENV_RELEASE_NAME, else the Application's name) is not one helm takes: \
             lowercase letters, digits, '-' and '.', starting and ending with a letter or digit, \
             at most 53 characters"
        )
    };
    let hostile = "--post-renderer=/usr/bin/id";
    for case in [
        chart().env(
            "ARGOCD_APP_PARAMETERS",
            json!([{"name": "release-name", "string": hostile}]).to_string(),
        ),
        chart().env("ARGOCD_ENV_RELEASE_NAME", hostile),
    ] {
        let out = case.run();
        out.failure().stdout("").stderr_contains(&refused(hostile));
        assert!(!out.stderr_text().contains("uid="), "{}", out.stderr_text());
    }
    chart()
        .env(
            "ARGOCD_APP_PARAMETERS",
            json!([{"name": "release-name", "string": "Shop_1"}]).to_string(),
        )
        .run()
        .failure()
        .stdout("")
        .stderr_contains(&refused("Shop_1"));
    chart()
        .env(
            "ARGOCD_APP_PARAMETERS",
            json!([{"name": "release-name", "string": "shop.v2-a"}]).to_string(),
        )
        .run()
        .success()
        .stdout_contains("name: shop.v2-a\n");
}
