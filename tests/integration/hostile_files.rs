//! Files a hostile repository can hold: symlink loops, links to devices, FIFOs and files
//! outside the repository, values that helm reformats in its errors, and `set` values that
//! helm's `--set` parser would reinterpret.

use serde_json::json;

use crate::support::{Case, OpenBao, unique};

const CHART: &str = "apiVersion: v2\nname: shop\nversion: 0.1.0\n";
const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n";

#[test]
fn symlink_loops_are_walked_once() {
    Case::new()
        .file("app/a.yaml", CM)
        .symlink("app/loop", ".")
        .symlink("app/sub/up", "..")
        .args(["generate", "app"])
        .run()
        .success()
        .stdout(&format!("---\n{CM}"));
}

#[test]
fn a_device_behind_a_symlink_is_refused_at_once() {
    Case::new()
        .file("app/a.yaml", CM)
        .symlink("app/zero.yaml", "/dev/zero")
        .args(["generate", "app"])
        .run()
        .failure()
        .stderr("error: app/zero.yaml: is not a regular file (a device, FIFO or socket, perhaps behind a symlink); vaultplate reads only regular files\n");
}

#[test]
fn a_fifo_is_refused_without_waiting() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let started = std::time::Instant::now();
    Case::new()
        .file("app/a.yaml", CM)
        .symlink("app/f.yaml", &fifo)
        .args(["generate", "app"])
        .run()
        .failure()
        .stderr_contains("error: app/f.yaml: is not a regular file");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

#[test]
fn render_refuses_a_plain_manifest_linked_outside_the_repository() {
    Case::new()
        .file("outside.yaml", CM)
        .symlink("repo/app/cm.yaml", "../../outside.yaml")
        .cwd("repo/app")
        .env("ARGOCD_APP_SOURCE_PATH", "app")
        .args(["render"])
        .run()
        .failure()
        .stderr_contains("app/cm.yaml: is a symlink to a file outside the repository");
}

#[test]
fn render_refuses_chart_files_linked_outside_the_repository() {
    for link in ["values.yaml", "files/passwd"] {
        Case::new()
            .file("repo/app/Chart.yaml", CHART)
            .file(
                "repo/app/templates/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  f: {{ .Files.Get \"files/passwd\" | quote }}\n",
            )
            .symlink(&format!("repo/app/{link}"), "/etc/passwd")
            .cwd("repo/app")
            .env("ARGOCD_APP_SOURCE_PATH", "app")
            .args(["render"])
            .run()
            .failure()
            .stderr_contains(&format!(
                "app/{link}: is a symlink to a file outside the repository"
            ));
    }
}

#[test]
fn symlinks_inside_the_repository_keep_working() {
    Case::new()
        .file("repo/common/cm.yaml", CM)
        .symlink("repo/app/cm.yaml", "../common/cm.yaml")
        .cwd("repo/app")
        .env("ARGOCD_APP_SOURCE_PATH", "app")
        .args(["render"])
        .run()
        .success()
        .stdout(&format!("---\n{CM}"));
}

#[test]
fn helm_errors_hide_each_line_and_the_json_form_of_a_multi_line_value() {
    let name = unique("mask");
    let cert = "-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\nKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n-----END KEY-----\n";
    OpenBao::shared().put_kv2("secret", &name, json!({"cert": cert}));
    for shown in [
        "toYaml .Values.cert",
        "toJson .Values.cert",
        "index (splitList \"\\n\" .Values.cert) 1",
        "dict \"c\" .Values.cert | toYaml",
    ] {
        let mut case = Case::new()
            .file("app/Chart.yaml", CHART)
            .file(
                "app/values.yaml",
                &format!("cert: <path:secret/data/{name}#cert>\n"),
            )
            .file(
                "app/templates/cm.yaml",
                &format!("{{{{ fail ({shown}) }}}}\n"),
            )
            .vault(OpenBao::shared())
            .cwd("app")
            .args(["render"]);
        for line in cert.lines() {
            case = case.secret(line);
        }
        case.secret(&serde_json::to_string(cert).expect("json"))
            .run()
            .failure()
            .stderr_contains("<redacted>");
    }
}

#[test]
fn set_values_reach_helm_verbatim() {
    let template = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  keys: {{ keys .Values | sortAlpha | join \",\" | quote }}\n  regex: {{ .Values.regex | quote }}\n  comma: {{ .Values.comma | quote }}\n  number: {{ .Values.number | quote }}\n  enabled: {{ if .Values.enabled }}yes{{ else }}no{{ end }}\n";
    Case::new()
        .file("app/Chart.yaml", CHART)
        .file("app/templates/cm.yaml", template)
        .cwd("app")
        .env(
            "ARGOCD_APP_PARAMETERS",
            json!([{"name": "set", "map": {
                "regex": "^\\d+$",
                "comma": "x\\,b=INJECTED",
                "number": "3",
                "enabled": "false",
            }}])
            .to_string(),
        )
        .args(["render"])
        .run()
        .success()
        .stdout_contains("  keys: \"comma,enabled,number,regex\"\n  regex: \"^\\\\d+$\"\n  comma: \"x\\\\,b=INJECTED\"\n  number: \"3\"\n  enabled: no\n");
}
