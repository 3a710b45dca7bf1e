//! The test harness checked against itself: the OpenBao servers are up and set up as the other
//! tests assume, the seeding helpers write what they say, audit counts are exact per test,
//! `FaultServer` fails as asked, and `Case` runs the built binary under the house rules.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::blocking::Client;
use serde_json::{Value, json};

use crate::support::{Case, FaultServer, OpenBao, house_rule_violations, tool, unindent, unique};

#[test]
fn openbao_is_up_with_the_mounts_and_auth_methods_tests_rely_on() {
    let bao = OpenBao::shared();

    let health = bao.get("sys/health");
    assert_eq!(
        (&health["initialized"], &health["sealed"]),
        (&json!(true), &json!(false))
    );
    let mounts = bao.get("sys/mounts");
    assert_eq!(mounts["secret/"]["type"], "kv");
    assert_eq!(mounts["secret/"]["options"]["version"], "2");
    assert_eq!(mounts["kv1/"]["type"], "kv");
    assert_eq!(mounts["kv1/"]["options"]["version"], "1");
    let auth = bao.get("sys/auth");
    assert_eq!(auth["approle/"]["type"], "approle");
    assert_eq!(auth["userpass/"]["type"], "userpass");
}

#[test]
fn the_tls_server_is_set_up_alike_and_trusted_through_its_ca_alone() {
    let tls = OpenBao::shared_tls();
    let app = unique("tls");

    assert!(
        tls.addr().starts_with("https://127.0.0.1:"),
        "{}",
        tls.addr()
    );
    let pem = std::fs::read_to_string(tls.ca_cert()).expect("the CA file is readable");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert_eq!(tls.get("sys/mounts")["kv1/"]["options"]["version"], "1");
    assert_eq!(tls.get("sys/auth")["approle/"]["type"], "approle");
    tls.put_kv2("secret", &app, json!({ "k": "over TLS" }));
    assert_eq!(
        tls.get(&format!("secret/data/{app}"))["data"]["data"],
        json!({ "k": "over TLS" })
    );
    assert_eq!(
        tls.reads(&format!("secret/data/{app}")),
        1,
        "its own audit log"
    );
    let trusting_nothing = Client::builder()
        .no_proxy()
        .tls_certs_only([])
        .build()
        .expect("a client");
    let refused = trusting_nothing
        .get(format!("{}/v1/sys/health", tls.addr()))
        .send()
        .expect_err("no trusted root, no connection");
    assert!(
        format!("{refused:?}").contains("InvalidCertificate(UnknownIssuer)"),
        "{refused:?}"
    );
}

#[test]
#[should_panic(expected = "serves plain HTTP: no CA")]
fn the_plain_server_has_no_ca() {
    let _ = OpenBao::shared().ca_cert();
}

#[test]
fn secrets_written_in_a_namespace_are_read_only_there() {
    let bao = OpenBao::shared();
    let namespace = unique("ns");
    let app = unique("ns-app");

    bao.create_namespace(&namespace);
    bao.post_in(
        &namespace,
        "sys/mounts/secret",
        &json!({ "type": "kv", "options": { "version": "2" } }),
    );
    bao.post_in(
        &namespace,
        &format!("secret/data/{app}"),
        &json!({ "data": { "k": "namespaced" } }),
    );

    // A namespace may also be named in the path; the root namespace has no such secret.
    assert_eq!(
        bao.get(&format!("{namespace}/secret/data/{app}"))["data"]["data"],
        json!({ "k": "namespaced" })
    );
    let (status, _) = bao.request(
        Some("root"),
        Method::GET,
        &format!("secret/data/{app}"),
        None,
    );
    assert_eq!(status, 404);
}

#[test]
fn kv2_secrets_are_written_and_read_back_by_version() {
    let bao = OpenBao::shared();
    let app = format!("{}/app", unique("kv2"));

    assert_eq!(
        bao.put_kv2("secret", &app, json!({ "password": "first" })),
        1
    );
    assert_eq!(
        bao.put_kv2("secret", &app, json!({ "password": "second" })),
        2
    );

    let latest = bao.get(&format!("secret/data/{app}"));
    assert_eq!(latest["data"]["data"], json!({ "password": "second" }));
    assert_eq!(latest["data"]["metadata"]["version"], 2);
    let first = bao.get(&format!("secret/data/{app}?version=1"));
    assert_eq!(first["data"]["data"], json!({ "password": "first" }));
}

#[test]
fn kv1_secrets_are_written_and_read_back() {
    let bao = OpenBao::shared();
    let app = format!("{}/app", unique("kv1"));

    bao.put_kv1("kv1", &app, json!({ "user": "admin", "port": 5432 }));

    assert_eq!(
        bao.get(&format!("kv1/{app}"))["data"],
        json!({ "user": "admin", "port": 5432 })
    );
}

#[test]
fn approle_login_gives_a_token_limited_to_its_policies() {
    let bao = OpenBao::shared();
    let app = unique("approle-app");
    bao.put_kv2("secret", &app, json!({ "key": "value" }));
    let policy = unique("read-app");
    bao.policy(
        &policy,
        &format!(r#"path "secret/data/{app}" {{ capabilities = ["read"] }}"#),
    );
    let (role_id, secret_id) = bao.approle(&unique("role"), &[&policy]);

    let (status, login) = bao.request(
        None,
        Method::POST,
        "auth/approle/login",
        Some(&json!({ "role_id": role_id, "secret_id": secret_id })),
    );

    assert_eq!(status, 200, "{login}");
    let token = login["auth"]["client_token"]
        .as_str()
        .expect("a login gives a client token");
    let (allowed, secret) = bao.request(
        Some(token),
        Method::GET,
        &format!("secret/data/{app}"),
        None,
    );
    assert_eq!(
        (allowed, &secret["data"]["data"]),
        (200, &json!({ "key": "value" }))
    );
    let (denied, _) = bao.request(Some(token), Method::GET, "secret/data/elsewhere", None);
    assert_eq!(denied, 403);
    assert_eq!(bao.approle_logins(&role_id), 1);
}

#[test]
fn userpass_login_works_and_is_counted_per_user() {
    let bao = OpenBao::shared();
    let user = unique("alice");
    bao.userpass(&user, "correct horse", &["default"]);
    let login = |password: &str| {
        let body = json!({ "password": password });
        bao.request(
            None,
            Method::POST,
            &format!("auth/userpass/login/{user}"),
            Some(&body),
        )
        .0
    };

    assert_eq!(login("correct horse"), 200);
    assert_eq!(login("wrong"), 400);
    assert_eq!(bao.userpass_logins(&user), 2, "failed logins count too");
}

#[test]
fn logins_are_counted_per_auth_mount() {
    let bao = OpenBao::shared();
    let mount = bao.enable_auth("userpass");
    let body = json!({ "password": "pw", "token_policies": ["default"] });
    for user in ["ann", "bob"] {
        bao.post(&format!("auth/{mount}/users/{user}"), &body);
        let login = format!("auth/{mount}/login/{user}");
        assert_eq!(bao.request(None, Method::POST, &login, Some(&body)).0, 200);
    }

    assert_eq!(bao.logins(&mount), 2);
}

#[test]
fn audit_counts_exactly_the_reads_under_a_prefix_as_soon_as_they_are_answered() {
    let bao = OpenBao::shared();
    let mine = unique("audit");
    for name in ["a", "ab", "b"] {
        bao.put_kv2("secret", &format!("{mine}/{name}"), json!({ "k": name }));
    }
    assert_eq!(
        bao.reads(&format!("secret/data/{mine}")),
        0,
        "writes are not reads"
    );

    for done in 1..=10 {
        bao.get(&format!("secret/data/{mine}/a"));
        assert_eq!(
            bao.reads(&format!("secret/data/{mine}/a")),
            done,
            "counted once answered"
        );
    }
    bao.get(&format!("secret/data/{mine}/ab"));
    bao.get(&format!("secret/data/{mine}/b?version=1"));
    let (missing, _) = bao.request(
        Some("root"),
        Method::GET,
        &format!("secret/data/{mine}/none"),
        None,
    );
    bao.request(
        Some("root"),
        Method::from_bytes(b"LIST").expect("LIST"),
        &format!("secret/metadata/{mine}"),
        None,
    );

    assert_eq!(missing, 404);
    assert_eq!(
        bao.reads(&format!("secret/data/{mine}/a")),
        10,
        "whole segments: not a/../ab"
    );
    assert_eq!(
        bao.reads(&format!("/v1/secret/data/{mine}/b/")),
        1,
        "query and slashes ignored"
    );
    assert_eq!(
        bao.reads(&format!("secret/data/{mine}")),
        13,
        "a missing secret is a read too"
    );
    assert_eq!(
        bao.reads(&format!("secret/metadata/{mine}")),
        0,
        "a list is not a read"
    );
}

#[test]
fn unique_names_never_repeat_nor_prefix_each_other() {
    let names: Vec<String> = (0..1000).map(|_| unique("t")).collect();

    for (i, name) in names.iter().enumerate() {
        assert!(
            names[i + 1..]
                .iter()
                .all(|other| !other.starts_with(name.as_str())),
            "{name}"
        );
    }
}

#[test]
fn case_runs_the_built_binary_in_an_empty_directory() {
    Case::new()
        .args(["version"])
        .run()
        .success()
        .stdout_contains(env!("CARGO_PKG_VERSION"))
        .stderr("");
}

#[test]
fn case_writes_files_and_stdin_unindented() {
    // The stub ignores them; this checks only that a case with both runs.
    Case::new()
        .file(
            "app/secret.yaml",
            "\n    kind: Secret\n    data:\n      a: b\n",
        )
        .stdin("\n    kind: ConfigMap\n  ")
        .env("VAULTPLATE_TEST", "1")
        .secret("s3cr3t")
        .vault(OpenBao::shared())
        .args(["generate", "app"])
        .run()
        .failure();
}

#[test]
fn unindent_removes_the_common_indent_of_an_inline_literal() {
    let yaml = "
        kind: Secret
        stringData:

          password: x
        ";

    assert_eq!(
        unindent(yaml),
        "kind: Secret\nstringData:\n\n  password: x\n"
    );
    assert_eq!(unindent("  kept: as is\n"), "  kept: as is\n");
}

#[test]
fn house_rules_catch_output_on_failure_and_leaked_secrets() {
    let secrets = ["hunter2".to_owned()];

    assert!(house_rule_violations(true, "out\n", "fine\n", &secrets).is_empty());
    assert_eq!(
        house_rule_violations(false, "partial\n", "error\n", &secrets),
        ["a failing run must print nothing on stdout"]
    );
    assert_eq!(
        house_rule_violations(true, "", "token hunter2\n", &secrets),
        [r#"stderr leaks the secret "hunter2""#]
    );
    assert_eq!(
        house_rule_violations(true, "", "aHVudGVyMg==\n", &secrets),
        [r#"stderr leaks the secret "hunter2" (base64)"#]
    );
}

#[test]
#[should_panic(expected = "the test never said how the run should end")]
fn a_case_must_state_how_the_run_ends() {
    let _ = Case::new().run();
}

#[test]
fn helm_and_kubectl_are_installed_at_the_pinned_major_versions() {
    let version = |name: &str, args: &[&str]| {
        let output = std::process::Command::new(tool(name))
            .args(args)
            .output()
            .expect(name);
        assert!(output.status.success(), "{name} {args:?}: {output:?}");
        String::from_utf8(output.stdout).expect("a version is UTF-8")
    };

    assert!(version("helm", &["version", "--template", "{{.Version}}"]).starts_with("v3."));
    assert!(version("kubectl", &["version", "--client"]).contains("Client Version: v1.32."));
    assert!(version("bao", &["version"]).starts_with("OpenBao v2."));
}

/// A plain client for talking to a `FaultServer` directly.
fn client(timeout: Duration) -> Client {
    // Needed even for plain HTTP; whoever installs it first wins, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .no_proxy()
        .timeout(timeout)
        .build()
        .expect("a client")
}

#[test]
fn a_fault_server_answers_every_request_with_its_status_and_counts_them() {
    let fault = FaultServer::status(503, json!({ "errors": ["down for a test"] }));
    let http = client(Duration::from_secs(10));

    assert!(
        fault.addr().starts_with("http://127.0.0.1:"),
        "{}",
        fault.addr()
    );
    for n in 1..=3 {
        let response = http
            .post(format!("{}/v1/secret/data/x", fault.addr()))
            .json(&json!({ "data": { "a": n } }))
            .send()
            .expect("an answer");
        assert_eq!(response.status(), 503);
        assert_eq!(
            response.json::<Value>().expect("a JSON body"),
            json!({ "errors": ["down for a test"] })
        );
        assert_eq!(fault.requests(), n, "counted before it answers");
    }
}

#[test]
fn a_hanging_fault_server_never_answers_and_lets_go_when_dropped() {
    let fault = FaultServer::hang();
    let started = Instant::now();

    let error = client(Duration::from_millis(300))
        .get(format!("{}/v1/secret/data/x", fault.addr()))
        .send()
        .expect_err("no answer comes");

    assert!(error.is_timeout(), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(fault.requests(), 1);
    let host_port = fault.addr().trim_start_matches("http://").to_owned();
    let mut waiting = TcpStream::connect(&host_port).expect("a connection");
    waiting
        .write_all(b"GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("a request");
    waiting
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a read timeout");
    let asked = Instant::now();
    while fault.requests() < 2 && asked.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(fault.requests(), 2, "the second request was read");
    let dropping = Instant::now();
    drop(fault);
    assert!(
        dropping.elapsed() < Duration::from_secs(2),
        "dropped in {:?}",
        dropping.elapsed()
    );
    let mut rest = Vec::new();
    assert_eq!(
        waiting
            .read_to_end(&mut rest)
            .expect("closed, not timed out"),
        0,
        "a hanging connection ends without an answer"
    );
    assert!(
        TcpStream::connect(&host_port).is_err(),
        "no longer listening"
    );
}

#[test]
fn fail_then_proxy_fails_the_first_requests_then_relays_openbao() {
    let bao = OpenBao::shared();
    let app = unique("proxied");
    let fault = FaultServer::fail_then_proxy(2, 502, bao.addr());
    let http = client(Duration::from_secs(10));
    let url = format!("{}/v1/secret/data/{app}", fault.addr());
    let read = || {
        let response = http
            .get(&url)
            .header("X-Vault-Token", "root")
            .send()
            .expect("an answer");
        let status = response.status().as_u16();
        (status, response.json::<Value>().expect("a JSON body"))
    };

    assert_eq!(read(), (502, json!({ "errors": ["injected failure 1"] })));
    assert_eq!(read(), (502, json!({ "errors": ["injected failure 2"] })));
    let written = http
        .post(&url)
        .header("X-Vault-Token", "root")
        .json(&json!({ "data": { "a": "through the proxy" } }))
        .send()
        .expect("an answer");
    assert_eq!(written.status(), 200, "a body is forwarded");
    let (status, secret) = read();

    assert_eq!(status, 200);
    assert_eq!(secret["data"]["data"], json!({ "a": "through the proxy" }));
    assert_eq!(fault.requests(), 4);
    assert_eq!(
        bao.reads(&format!("secret/data/{app}")),
        1,
        "failed requests never reach OpenBao"
    );
}
