//! `render`'s usage records and `vaultplate watch`, through the real binary, against the real
//! OpenBao and the loopback stand-in of the Kubernetes API ([`KubeApi`]: no API server runs
//! here), which serves Application objects and records their patches.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Case, KubeApi, OpenBao, file_names, unique};

/// Renders a one-ConfigMap app reading `placeholder` as Argo CD would for `app`.
fn render(records: &Path, app: &str, placeholder: &str, extra: &[(&str, &str)]) {
    let mut case = Case::new()
        .file(
            "repo/app/cm.yaml",
            &format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata:\n  v: {placeholder}\n"),
        )
        .vault(OpenBao::shared())
        .cwd("repo/app")
        .env("ARGOCD_APP_NAME", app)
        .env("VAULTPLATE_RECORDS_DIR", records)
        .args(["render"]);
    for (k, v) in extra {
        case = case.env(k, v);
    }
    case.run().success();
}

/// `watch --once` against `api`; the outcome is the caller's to check.
fn watch_once(records: &Path, api: &KubeApi, extra: &[(&str, &str)]) -> crate::support::Outcome {
    watch_once_hiding(records, api, extra, &[])
}

/// [`watch_once`], checking that none of `secrets` reaches stderr.
fn watch_once_hiding(
    records: &Path,
    api: &KubeApi,
    extra: &[(&str, &str)],
    secrets: &[&str],
) -> crate::support::Outcome {
    let mut case = Case::new()
        .file("kubeconfig", &api.kubeconfig())
        .env("KUBECONFIG", "kubeconfig")
        .vault(OpenBao::shared())
        .env("VAULTPLATE_RECORDS_DIR", records)
        .args(["watch", "--once", "--argocd-namespace", "argocd"]);
    for (k, v) in extra {
        case = case.env(k, v);
    }
    for secret in secrets {
        case = case.secret(secret);
    }
    case.run()
}

fn patched(api: &KubeApi) -> Vec<String> {
    api.patches()
        .into_iter()
        .map(|(line, kind, body)| {
            assert_eq!(kind, "application/merge-patch+json", "{line}");
            assert_eq!(
                body,
                json!({"metadata": {"annotations": {"argocd.argoproj.io/refresh": "hard"}}}),
                "{line}"
            );
            line
        })
        .collect()
}

fn records_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("vaultplate-records-")
        .tempdir()
        .expect("a records folder")
}

#[test]
fn a_changed_secret_refreshes_exactly_its_applications_once() {
    let bao = OpenBao::shared();
    let (a, b) = (unique("watch-a"), unique("watch-b"));
    bao.put_kv2("secret", &a, json!({"k": "alpha-Value-1"}));
    bao.put_kv2("secret", &b, json!({"k": "beta-Value-1"}));
    let records = records_dir();
    let dir = records.path();
    let api = KubeApi::start();
    for (ns, name) in [
        ("argocd", "uses-a"),
        ("argocd", "uses-b"),
        ("argocd", "pinned"),
        ("team-x", "other-ns"),
    ] {
        api.put_application(ns, name);
    }
    render(dir, "uses-a", &format!("<path:secret/data/{a}#k>"), &[]);
    render(dir, "uses-b", &format!("<path:secret/data/{b}#k>"), &[]);
    render(dir, "pinned", &format!("<path:secret/data/{a}#k#1>"), &[]);
    render(
        dir,
        "team-x_other-ns",
        &format!("<path:secret/data/{a}#k>"),
        &[],
    );
    render(
        dir,
        "team-y/gone",
        &format!("<path:secret/data/{a}#k>"),
        &[],
    );
    // A name Argo CD never gives: the render succeeds, and leaves no record.
    render(
        dir,
        "../../escape",
        &format!("<path:secret/data/{a}#k>"),
        &[],
    );

    assert_eq!(
        file_names(dir),
        [
            "pinned.json",
            "team-x_other-ns.json",
            "team-y_gone.json",
            "uses-a.json",
            "uses-b.json"
        ]
    );
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("uses-a.json")).expect("a record"))
            .expect("JSON");
    assert_eq!(record["application"], "uses-a");
    assert_eq!(
        record["secrets"],
        json!([{"path": format!("secret/data/{a}"), "kv": 2, "pinned": false, "version": 1, "present": true}])
    );
    let mode = std::fs::metadata(dir.join("uses-a.json"))
        .expect("metadata")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // Nothing changed: nothing to do.
    watch_once(dir, &api, &[]).success();
    assert_eq!(patched(&api), Vec::<String>::new());

    bao.put_kv2("secret", &a, json!({"k": "alpha-Value-2"}));
    let out = watch_once(dir, &api, &[]);
    out.success();
    assert_eq!(
        patched(&api),
        [
            "PATCH /apis/argoproj.io/v1alpha1/namespaces/argocd/applications/uses-a?",
            "PATCH /apis/argoproj.io/v1alpha1/namespaces/team-x/applications/other-ns?",
        ]
    );
    assert!(
        !dir.join("team-y_gone.json").exists(),
        "the record of a deleted Application stays"
    );
    out.stderr_contains(&format!(
        "Application uses-a in argocd: secret/data/{a} (v1 -> v2)"
    ));

    // Once per change, also across runs; a re-render replaces the record (and the marker).
    watch_once(dir, &api, &[]).success();
    assert_eq!(patched(&api).len(), 2);
    render(dir, "uses-a", &format!("<path:secret/data/{a}#k>"), &[]);
    watch_once(dir, &api, &[]).success();
    assert_eq!(patched(&api).len(), 2);
    assert!(!dir.join("uses-a.refreshed.json").exists());
    bao.put_kv2("secret", &a, json!({"k": "alpha-Value-3"}));
    watch_once(dir, &api, &[]).success();
    assert_eq!(patched(&api).len(), 4, "a second change refreshes again");
    for file in std::fs::read_dir(dir).expect("the records") {
        let text = std::fs::read_to_string(file.expect("entry").path()).expect("a record");
        assert!(!text.contains("Value"), "a value in a record: {text}");
    }
}

#[test]
fn a_kv1_change_is_seen_through_the_keyed_hmac() {
    let bao = OpenBao::shared();
    let name = unique("watch-v1");
    bao.put_kv1("kv1", &name, json!({"k": "v1-Secret-1"}));
    let records = records_dir();
    let dir = records.path();
    let api = KubeApi::start();
    api.put_application("argocd", "v1-app");
    let key = [
        ("VAULTPLATE_RECORDS_KEY", "records-key"),
        ("AVP_KV_VERSION", "1"),
    ];
    render(dir, "v1-app", &format!("<path:kv1/{name}#k>"), &key);
    let text = std::fs::read_to_string(dir.join("v1-app.json")).expect("a record");
    let record: Value = serde_json::from_str(&text).expect("JSON");
    let hmac = record["secrets"][0]["hmac"]
        .as_str()
        .expect("an HMAC")
        .to_owned();
    assert_eq!(hmac.len(), 64);
    assert!(!text.contains("v1-Secret-1"));
    // Not a plain hash of the data.
    use sha2::Digest as _;
    let plain = format!("{:x}", sha2::Sha256::digest(br#"{"k":"v1-Secret-1"}"#));
    assert_ne!(hmac, plain);

    watch_once_hiding(dir, &api, &key[..1], &["v1-Secret-1"]).success();
    assert!(patched(&api).is_empty());
    bao.put_kv1("kv1", &name, json!({"k": "v1-Secret-2"}));
    watch_once_hiding(dir, &api, &key[..1], &["v1-Secret-1", "v1-Secret-2"]).success();
    assert_eq!(
        patched(&api),
        ["PATCH /apis/argoproj.io/v1alpha1/namespaces/argocd/applications/v1-app?"]
    );
}

#[test]
fn a_thousand_records_over_a_hundred_paths_cost_a_hundred_requests() {
    let bao = OpenBao::shared();
    let prefix = unique("watch-scale");
    for i in 0..100 {
        bao.put_kv2("secret", &format!("{prefix}/p{i}"), json!({"k": "x"}));
    }
    let records = records_dir();
    for app in 0..1000 {
        let record = json!({
            "format": 1,
            "application": format!("app-{app}"),
            "rendered_at_ms": 1,
            "secrets": [{"path": format!("secret/data/{prefix}/p{}", app % 100), "kv": 2, "pinned": false, "version": 1, "present": true}],
        });
        std::fs::write(
            records.path().join(format!("app-{app}.json")),
            record.to_string(),
        )
        .expect("a record");
    }
    let api = KubeApi::start();
    let started = Instant::now();
    watch_once(records.path(), &api, &[]).success();
    let elapsed = started.elapsed();
    assert_eq!(bao.reads(&format!("secret/metadata/{prefix}")), 100);
    assert_eq!(
        bao.reads(&format!("secret/data/{prefix}")),
        0,
        "values were read"
    );
    assert!(api.patches().is_empty());
    assert!(elapsed < Duration::from_secs(20), "a pass took {elapsed:?}");
}

#[test]
fn vault_down_means_no_patch_and_a_forbidden_patch_names_the_rbac() {
    let bao = OpenBao::shared();
    let name = unique("watch-down");
    bao.put_kv2("secret", &name, json!({"k": "down-Value-1"}));
    let records = records_dir();
    let dir = records.path();
    let api = KubeApi::start();
    api.put_application("argocd", "down");
    render(dir, "down", &format!("<path:secret/data/{name}#k>"), &[]);
    bao.put_kv2("secret", &name, json!({"k": "down-Value-2"}));
    // A Vault nobody listens on: exit 1, nothing patched.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = closed.local_addr().expect("its address").port();
    drop(closed);
    let out = watch_once(
        dir,
        &api,
        &[
            ("VAULT_ADDR", &format!("http://127.0.0.1:{port}")),
            ("VAULT_MAX_RETRIES", "0"),
        ],
    );
    out.failure()
        .stderr_contains("nothing is patched until it answers");
    assert!(patched(&api).is_empty());
    // Back: the change is refreshed.
    watch_once(dir, &api, &[]).success();
    assert_eq!(patched(&api).len(), 1);

    // Refused by RBAC.
    let forbidden = KubeApi::start();
    forbidden.put_application("locked", "app");
    forbidden.forbid("locked");
    render(
        dir,
        "locked_app",
        &format!("<path:secret/data/{name}#k#1>"),
        &[],
    );
    render(
        dir,
        "locked/app2",
        &format!("<path:secret/data/{name}#k>"),
        &[],
    );
    bao.put_kv2("secret", &name, json!({"k": "down-Value-3"}));
    watch_once(dir, &forbidden, &[]).failure().stderr_contains(
        "refused to patch Application locked/app2 (403): the watcher's service account needs the \
         RBAC verb patch on applications.argoproj.io in namespace locked",
    );
}

/// An HTTP GET of `path` on `addr`: the status line and the body.
fn get(addr: &str, path: &str) -> Option<(String, String)> {
    let mut stream = TcpStream::connect(addr).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_owned(), body.to_owned()))
}

/// Checks Prometheus text format: HELP/TYPE comments, then `name{labels} value` samples.
fn parse_metrics(text: &str) -> Vec<(String, f64)> {
    let mut samples = Vec::new();
    for line in text.lines() {
        if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
            continue;
        }
        let (name, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("not a sample: {line:?}"));
        let bare = name.split('{').next().unwrap_or_default();
        assert!(
            !bare.is_empty() && bare.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "not a metric name: {line:?}"
        );
        if let Some(labels) = name.strip_prefix(bare) {
            assert!(
                labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')),
                "{line:?}"
            );
        }
        samples.push((
            name.to_owned(),
            value
                .parse()
                .unwrap_or_else(|_| panic!("not a number: {line:?}")),
        ));
    }
    samples
}

#[test]
fn the_long_running_watcher_serves_metrics_and_stops_on_sigterm() {
    let bao = OpenBao::shared();
    let name = unique("watch-long");
    bao.put_kv2("secret", &name, json!({"k": "long-Value-1"}));
    let records = records_dir();
    let dir = records.path();
    let api = KubeApi::start();
    api.put_application("argocd", "long");
    api.put_application("locked", "app");
    api.forbid("locked");
    render(dir, "long", &format!("<path:secret/data/{name}#k>"), &[]);
    render(
        dir,
        "locked_app",
        &format!("<path:secret/data/{name}#k>"),
        &[],
    );
    let kubeconfig = dir.join("../kubeconfig-long");
    std::fs::write(&kubeconfig, api.kubeconfig()).expect("a kubeconfig");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a port")
        .local_addr()
        .expect("addr")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vaultplate"))
        .args([
            "watch",
            "--interval",
            "1s",
            "--argocd-namespace",
            "argocd",
            "--listen",
            &addr,
        ])
        .env_clear()
        .env("KUBECONFIG", &kubeconfig)
        .env("VAULT_ADDR", bao.addr())
        .env("VAULT_TOKEN", "root")
        .env("VAULTPLATE_RECORDS_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the watcher");
    let wait_for = |what: &str, check: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !check() {
            assert!(Instant::now() < deadline, "waited in vain for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    wait_for("/healthz", &|| {
        get(&addr, "/healthz").is_some_and(|(s, _)| s.contains(" 200 "))
    });
    bao.put_kv2("secret", &name, json!({"k": "long-Value-2"}));
    wait_for("the patch", &|| api.patches().len() == 1);
    let metric = |name: &str| {
        let (_, body) = get(&addr, "/metrics").expect("metrics");
        parse_metrics(&body)
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    };
    wait_for("the forbidden error", &|| {
        metric("vaultplate_watch_errors_total{kind=\"forbidden\"}") >= Some(1.0)
    });
    assert_eq!(metric("vaultplate_watch_refreshes_total"), Some(1.0));
    assert_eq!(metric("vaultplate_watch_paths"), Some(1.0));
    assert!(metric("vaultplate_watch_changes_total") >= Some(2.0));
    assert_eq!(
        metric("vaultplate_watch_errors_total{kind=\"vault\"}"),
        Some(0.0)
    );
    let (status, _) = get(&addr, "/nothing").expect("an answer");
    assert!(status.contains(" 404 "), "{status}");

    let stopped = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting") {
            break status;
        }
        assert!(Instant::now() < deadline, "still running 5 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(
        stopped.elapsed() < Duration::from_secs(1),
        "stopped after {:?}",
        stopped.elapsed()
    );
    assert!(status.success(), "{status}");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr");
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("stdout");
    assert_eq!(stdout, "");
    assert!(!stderr.contains("long-Value"), "{stderr}");
    assert!(stderr.contains("needs the RBAC verb patch"), "{stderr}");
}

#[test]
fn hostile_record_files_and_options_are_refused() {
    let records = records_dir();
    let dir = records.path();
    std::os::unix::fs::symlink("/etc/passwd", dir.join("linked.json")).expect("a symlink");
    std::fs::write(dir.join("garbage.json"), "{not json").expect("a file");
    // A record whose file name is not the Application it names.
    let record = json!({"format": 1, "application": "other", "rendered_at_ms": 1, "secrets": []});
    std::fs::write(dir.join("mine.json"), record.to_string()).expect("a file");
    let api = KubeApi::start();
    let out = watch_once(dir, &api, &[]);
    out.success()
        .stderr_contains("skipping a record: linked.json: not a regular file")
        .stderr_contains("skipping a record: garbage.json: ")
        .stderr_contains("skipping a record: mine.json: names Application other, not mine");
    assert!(api.patches().is_empty());

    for (args, message) in [
        (&["--interval", "500ms"][..], "must be from 1s to 24h"),
        (&["--interval", "soon"][..], "must be a duration"),
        (
            &["--argocd-namespace", "../argocd"][..],
            "is not a namespace name",
        ),
        (
            &["--max-refreshes-per-minute", "0"][..],
            "--max-refreshes-per-minute",
        ),
    ] {
        Case::new()
            .args(["watch"])
            .args(args)
            .run()
            .code(2)
            .stderr_contains(message);
    }
    Case::new()
        .args(["watch", "--once"])
        .run()
        .failure()
        .stderr_contains("VAULTPLATE_RECORDS_DIR is not set");
}

#[test]
fn once_runs_share_the_watcher_s_own_cached_token() {
    let bao = OpenBao::shared();
    let prefix = unique("watch-cache");
    bao.put_kv2("secret", &format!("{prefix}/p"), json!({"k": "x"}));
    let policy = format!("{prefix}-watch");
    bao.policy(
        &policy,
        &format!("path \"secret/metadata/{prefix}/*\" {{ capabilities = [\"read\"] }}"),
    );
    let (role_id, secret_id) = bao.approle(&format!("{prefix}-role"), &[&policy]);
    let records = records_dir();
    let record = json!({
        "format": 1,
        "application": "cached",
        "rendered_at_ms": 1,
        "secrets": [{"path": format!("secret/data/{prefix}/p"), "kv": 2, "pinned": false, "version": 1, "present": true}],
    });
    std::fs::write(records.path().join("cached.json"), record.to_string()).expect("a record");
    let cache = tempfile::tempdir().expect("a cache folder");
    let cache_dir = cache.path().display().to_string();
    let api = KubeApi::start();
    for _ in 0..2 {
        watch_once_hiding(
            records.path(),
            &api,
            &[
                ("AVP_AUTH_TYPE", "approle"),
                ("AVP_ROLE_ID", &role_id),
                ("AVP_SECRET_ID", &secret_id),
                ("XDG_CACHE_HOME", &cache_dir),
            ],
            &[&secret_id],
        )
        .success();
    }
    assert_eq!(
        bao.approle_logins(&role_id),
        1,
        "the second run used the token the first one cached"
    );
    assert_eq!(bao.reads(&format!("secret/metadata/{prefix}")), 2);
}
