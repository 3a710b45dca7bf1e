//! How vaultplate reaches Vault: which certificates it trusts (`VAULT_CACERT`,
//! `VAULT_SKIP_VERIFY`), what it retries and how often (`VAULT_MAX_RETRIES`), how long it waits
//! for an answer (`VAULT_CLIENT_TIMEOUT`), where it reads (`VAULT_NAMESPACE`), and what it makes
//! of an address that is not one. TLS comes from [`OpenBao::shared_tls`], outages and silence
//! from a [`FaultServer`] that counts every attempt.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{Case, FaultServer, OpenBao, Outcome, unique};

/// A ConfigMap `c` whose `k0` is the key `a` of the secret at `path`.
fn config_map(path: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata:\n  k0: <path:{path}#a>\n"
    )
}

/// The one line of stderr when reading `path` for [`config_map`] fails with `error`.
fn read_error(path: &str, error: &str) -> String {
    format!("error: c.yaml (ConfigMap/c): data.k0: <path:{path}#a>: reading {path}: {error}\n")
}

#[test]
fn vault_cacert_trusts_the_ca_that_signed_vaults_certificate() {
    let tls = OpenBao::shared_tls();
    let app = unique("cacert");
    tls.put_kv2("secret", &app, json!({"a": "over-tls"}));
    let path = format!("secret/data/{app}");

    Case::new()
        .file("c.yaml", &config_map(&path))
        .vault(tls)
        .env("VAULT_CACERT", tls.ca_cert())
        .args(["generate", "c.yaml"])
        .run()
        .success()
        .stdout_contains("  k0: \"over-tls\"\n");
    assert_eq!(tls.reads(&path), 1);
}

#[test]
fn without_vault_cacert_a_private_ca_is_refused_at_once() {
    let tls = OpenBao::shared_tls();
    let app = unique("untrusted");
    tls.put_kv2("secret", &app, json!({"a": "never-read"}));
    let path = format!("secret/data/{app}");
    let started = Instant::now();

    // The system's roots do not include the dev server's CA.
    Case::new()
        .file("c.yaml", &config_map(&path))
        .vault(tls)
        .env("VAULT_MAX_RETRIES", "10")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr_contains(&format!(
            "error: Vault at {} is unreachable: error sending request: ",
            tls.addr()
        ))
        .stderr_contains(": invalid peer certificate: UnknownIssuer\n");
    // Retrying would only repeat the refusal: 10 retries back off for 30 s and more.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a certificate failure must not be retried (took {:?})",
        started.elapsed()
    );
    assert_eq!(tls.reads(&path), 0);
}

#[test]
fn vault_skip_verify_accepts_an_unknown_certificate() {
    let tls = OpenBao::shared_tls();
    let app = unique("skip-verify");
    tls.put_kv2("secret", &app, json!({"a": "unverified"}));
    let path = format!("secret/data/{app}");

    Case::new()
        .file("c.yaml", &config_map(&path))
        .vault(tls)
        .env("VAULT_SKIP_VERIFY", "true")
        .args(["generate", "c.yaml"])
        .run()
        .success()
        .stdout_contains("  k0: \"unverified\"\n");
}

#[test]
fn an_unusable_vault_cacert_is_named_and_nothing_is_sent() {
    let tls = OpenBao::shared_tls();
    let path = format!("secret/data/{}", unique("bad-cacert"));
    let cases = [
        (
            "missing.pem",
            None,
            "I/O error: No such file or directory (os error 2)",
        ),
        (
            "notes.pem",
            Some("ask the platform team for the CA\n"),
            "no usable CA certificate in the file",
        ),
    ];

    for (cacert, contents, reason) in cases {
        let mut case = Case::new().file("c.yaml", &config_map(&path));
        if let Some(contents) = contents {
            case = case.file(cacert, contents);
        }
        case.vault(tls)
            .env("VAULT_CACERT", cacert)
            .args(["generate", "c.yaml"])
            .run()
            .failure()
            .stderr(&format!(
                "error: TLS set-up for Vault: VAULT_CACERT {cacert}: {reason}\n"
            ));
    }
    assert_eq!(tls.reads(&path), 0);
}

#[test]
fn server_errors_and_throttling_are_retried_vault_max_retries_times() {
    // (status, VAULT_MAX_RETRIES, requests that arrive)
    let cases = [
        (503, Some("2"), 3),
        (503, Some("0"), 1),
        (503, None, 3),
        (500, Some("1"), 2),
        (429, None, 3),
    ];

    for (status, retries, attempts) in cases {
        let fault = FaultServer::status(status, json!({"errors": [format!("outage {status}")]}));
        let mut case = Case::new()
            .file("c.yaml", &config_map("secret/data/x"))
            .env("VAULT_ADDR", fault.addr())
            .env("VAULT_TOKEN", "t");
        if let Some(retries) = retries {
            case = case.env("VAULT_MAX_RETRIES", retries);
        }
        case.args(["generate", "c.yaml"])
            .run()
            .failure()
            .stderr(&read_error(
                "secret/data/x",
                &format!(
                    "Vault at {} answered {status}: outage {status}",
                    fault.addr()
                ),
            ));
        assert_eq!(
            fault.requests(),
            attempts,
            "{status} with VAULT_MAX_RETRIES={retries:?}"
        );
    }
}

#[test]
fn refusals_are_not_retried() {
    let cases = [
        (400, "invalid request"),
        // Not a missing secret either: Vault says why.
        (404, "namespace not found"),
    ];

    for (status, why) in cases {
        let fault = FaultServer::status(status, json!({"errors": [why]}));
        generate_with_retries(&fault).failure().stderr(&read_error(
            "secret/data/x",
            &format!("Vault at {} answered {status}: {why}", fault.addr()),
        ));
        assert_eq!(fault.requests(), 1, "{status} is final");
    }

    // A 403 is final too; then one lookup of the token tells whether the token is the cause.
    let fault = FaultServer::status(403, json!({"errors": ["permission denied"]}));
    generate_with_retries(&fault)
        .failure()
        .stderr_contains(&format!(
            "error: Vault at {} refused the token: ",
            fault.addr()
        ));
    assert_eq!(fault.requests(), 2, "the read and auth/token/lookup-self");
}

/// Renders a ConfigMap reading `secret/data/x` from `fault`, with up to 10 retries allowed.
fn generate_with_retries(fault: &FaultServer) -> Outcome {
    Case::new()
        .file("c.yaml", &config_map("secret/data/x"))
        .env("VAULT_ADDR", fault.addr())
        .env("VAULT_TOKEN", "t")
        .env("VAULT_MAX_RETRIES", "10")
        .args(["generate", "c.yaml"])
        .run()
}

#[test]
fn a_short_outage_is_ridden_out_and_a_longer_one_reported() {
    let bao = OpenBao::shared();
    let app = unique("outage");
    bao.put_kv2("secret", &app, json!({"a": "after-the-outage"}));
    let path = format!("secret/data/{app}");

    // Two failures, then OpenBao answers: the default two retries are enough.
    let short = FaultServer::fail_then_proxy(2, 503, bao.addr());
    Case::new()
        .file("c.yaml", &config_map(&path))
        .env("VAULT_ADDR", short.addr())
        .env("VAULT_TOKEN", "root")
        .args(["generate", "c.yaml"])
        .run()
        .success()
        .stdout_contains("  k0: \"after-the-outage\"\n");
    assert_eq!(short.requests(), 3);
    assert_eq!(bao.reads(&path), 1);

    // Three failures: the retries run out first, and OpenBao is never asked.
    let long = FaultServer::fail_then_proxy(3, 503, bao.addr());
    Case::new()
        .file("c.yaml", &config_map(&path))
        .env("VAULT_ADDR", long.addr())
        .env("VAULT_TOKEN", "root")
        .secret("after-the-outage")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr(&read_error(
            &path,
            &format!("Vault at {} answered 503: injected failure 3", long.addr()),
        ));
    assert_eq!(long.requests(), 3);
    assert_eq!(bao.reads(&path), 1);
}

#[test]
fn a_vault_that_never_answers_times_out_naming_the_address() {
    let silent = FaultServer::hang();
    let started = Instant::now();

    Case::new()
        .file("c.yaml", &config_map("secret/data/x"))
        .env("VAULT_ADDR", silent.addr())
        .env("VAULT_TOKEN", "t")
        .env("VAULT_CLIENT_TIMEOUT", "300ms")
        .env("VAULT_MAX_RETRIES", "0")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr(&format!(
            "error: Vault at {} is unreachable: error sending request: operation timed out\n",
            silent.addr()
        ));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "VAULT_CLIENT_TIMEOUT=300ms, yet the run took {:?}",
        started.elapsed()
    );
    assert_eq!(silent.requests(), 1);
}

#[test]
fn a_timed_out_request_is_retried() {
    let silent = FaultServer::hang();

    Case::new()
        .file("c.yaml", &config_map("secret/data/x"))
        .env("VAULT_ADDR", silent.addr())
        .env("VAULT_TOKEN", "t")
        .env("VAULT_CLIENT_TIMEOUT", "300ms")
        .env("VAULT_MAX_RETRIES", "1")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr_contains(&format!("Vault at {} is unreachable: ", silent.addr()));
    assert_eq!(silent.requests(), 2);
}

#[test]
fn vault_namespace_selects_where_secrets_are_read() {
    let bao = OpenBao::shared();
    let namespace = unique("team");
    let app = unique("namespaced");
    bao.create_namespace(&namespace);
    bao.post_in(
        &namespace,
        "sys/mounts/secret",
        &json!({"type": "kv", "options": {"version": "2"}}),
    );
    bao.post_in(
        &namespace,
        &format!("secret/data/{app}"),
        &json!({"data": {"a": "namespace-value"}}),
    );
    let path = format!("secret/data/{app}");

    Case::new()
        .file("c.yaml", &config_map(&path))
        .vault(bao)
        .env("VAULT_NAMESPACE", &namespace)
        .args(["generate", "c.yaml"])
        .run()
        .success()
        .stdout_contains("  k0: \"namespace-value\"\n");
    // The same path in the root namespace holds nothing.
    Case::new()
        .file("c.yaml", &config_map(&path))
        .vault(bao)
        .secret("namespace-value")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr(&format!(
            "error: c.yaml (ConfigMap/c): data.k0: <path:{path}#a>: no secret at {path}\n"
        ));
}

#[test]
fn an_unknown_namespace_is_an_error_not_a_missing_secret() {
    let bao = OpenBao::shared();
    let app = unique("no-namespace");
    bao.put_kv2("secret", &app, json!({"a": "root-value"}));
    let path = format!("secret/data/{app}");

    // Were it taken for a missing secret, remove-missing would drop k0 without a word.
    Case::new()
        .file(
            "c.yaml",
            &format!(
                "
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: c
                  annotations:
                    avp.kubernetes.io/remove-missing: true
                data:
                  k0: <path:{path}#a>
                "
            ),
        )
        .vault(bao)
        .env("VAULT_NAMESPACE", unique("no-such-team"))
        .secret("root-value")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr(&read_error(
            &path,
            &format!("Vault at {} answered 404: namespace not found", bao.addr()),
        ));
}

/// The check names where the address came from, also when that is the config file.
#[test]
fn a_vault_addr_from_the_config_file_is_named_with_its_origin() {
    Case::new()
        .file("c.yaml", &config_map("secret/data/x"))
        .file("vp.env", "VAULT_ADDR=vault.example:8200\nVAULT_TOKEN=t\n")
        .args(["generate", "-c", "vp.env", "c.yaml"])
        .run()
        .failure()
        .stderr(
            "error: setting VAULT_ADDR from the config file: \"vault.example:8200\" is not an \
             http:// or https:// URL\n",
        );
}

#[test]
fn a_vault_addr_that_is_no_http_url_is_refused_by_name() {
    for addr in ["not a url", "ftp://x", "127.0.0.1:8200"] {
        Case::new()
            .file("c.yaml", &config_map("secret/data/x"))
            .env("VAULT_ADDR", addr)
            .env("VAULT_TOKEN", "t")
            .args(["generate", "c.yaml"])
            .run()
            .failure()
            .stderr(&format!(
                "error: setting VAULT_ADDR from the environment: {addr:?} is not an http:// or \
                 https:// URL\n"
            ));
    }
}

#[test]
fn the_whole_run_deadline_ends_a_hung_vault_with_a_clear_error() {
    let vault = FaultServer::hang();
    let started = Instant::now();
    Case::new()
        .file("c.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  k0: <path:secret/data/x#a>\n")
        .env("VAULT_ADDR", vault.addr())
        .env("VAULT_TOKEN", "t")
        .env("VAULT_CLIENT_TIMEOUT", "60s")
        .env("VAULTPLATE_TIMEOUT", "1s")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr("error: the run did not finish within 1s (VAULTPLATE_TIMEOUT); nothing was printed\n");
    assert!(
        started.elapsed().as_secs() < 10,
        "the deadline must end the run, not the 60 s request timeout"
    );
}

fn one_secret(value: &str) -> (String, String) {
    let app = unique("flaky");
    OpenBao::shared().put_kv2("secret", &app, json!({ "a": value }));
    let manifest = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata:\n  k0: <path:secret/data/{app}#a>\n"
    );
    (app, manifest)
}

#[test]
fn dropped_connections_are_retried() {
    let (_, manifest) = one_secret("survived-drops");
    let proxy = FaultServer::drop_then_proxy(2, OpenBao::shared().addr());
    Case::new()
        .file("c.yaml", &manifest)
        .env("VAULT_ADDR", proxy.addr())
        .env("VAULT_TOKEN", "root")
        .args(["generate", "c.yaml"])
        .run()
        .success()
        .stdout_contains("k0: \"survived-drops\"");
    assert_eq!(proxy.requests(), 3, "two dropped, the third forwarded");
}

#[test]
fn dropped_connections_beyond_the_retries_name_the_address() {
    let (_, manifest) = one_secret("never-seen");
    let proxy = FaultServer::drop_then_proxy(5, OpenBao::shared().addr());
    Case::new()
        .file("c.yaml", &manifest)
        .env("VAULT_ADDR", proxy.addr())
        .env("VAULT_TOKEN", "root")
        .env("VAULT_MAX_RETRIES", "1")
        .secret("never-seen")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr_contains(&format!(
            "error: Vault at {} is unreachable: ",
            proxy.addr()
        ));
    assert_eq!(proxy.requests(), 2);
}

#[test]
fn a_slow_vault_within_the_timeout_is_waited_for_and_beyond_it_is_retried() {
    let (_, manifest) = one_secret("slow-but-fine");
    let slow = FaultServer::delayed_proxy(Duration::from_millis(300), OpenBao::shared().addr());
    Case::new()
        .file("c.yaml", &manifest)
        .env("VAULT_ADDR", slow.addr())
        .env("VAULT_TOKEN", "root")
        .env("VAULT_CLIENT_TIMEOUT", "5s")
        .args(["generate", "c.yaml"])
        .run()
        .success()
        .stdout_contains("k0: \"slow-but-fine\"");
    assert_eq!(slow.requests(), 1);
    Case::new()
        .file("c.yaml", &manifest)
        .env("VAULT_ADDR", slow.addr())
        .env("VAULT_TOKEN", "root")
        .env("VAULT_CLIENT_TIMEOUT", "100ms")
        .env("VAULT_MAX_RETRIES", "2")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr_contains("is unreachable: ");
    assert_eq!(slow.requests(), 1 + 3, "a timed-out request is retried");
}

/// An answer without end (or just too large) is cut off at the cap: the error names the
/// address and the cap, and memory does not grow with what Vault sends.
#[test]
fn an_endless_answer_is_cut_off_at_the_cap() {
    let flood = FaultServer::huge(9 * 1024 * 1024);
    Case::new()
        .file("c.yaml", &config_map("secret/data/x"))
        .env("VAULT_ADDR", flood.addr())
        .env("VAULT_TOKEN", "t")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr(&format!(
            "error: Vault at {} sent an answer larger than 8 MiB; stopped reading it (no Vault \
             secret is that large: is VAULT_ADDR a Vault server?)\n",
            flood.addr()
        ));
}

/// `https://` against a plain HTTP server, and `http://` against a TLS one, say exactly that.
#[test]
fn a_scheme_that_does_not_match_the_server_is_named() {
    let plain = OpenBao::shared().addr();
    let tls = OpenBao::shared_tls().addr();
    let wrong_https = plain.replacen("http://", "https://", 1);
    let wrong_http = tls.replacen("https://", "http://", 1);
    let cases = [
        (
            wrong_https.clone(),
            format!(
                "error: Vault at {wrong_https} does not speak TLS: it answered in plain HTTP; \
                 use {plain}\n"
            ),
        ),
        (
            wrong_http.clone(),
            format!(
                "error: Vault at {wrong_http} speaks only TLS: it answered \"Client sent an HTTP \
                 request to an HTTPS server\"; use {tls}\n"
            ),
        ),
    ];
    for (addr, error) in cases {
        Case::new()
            .file(
                "c.yaml",
                &format!(
                    "{}---\n{}",
                    config_map("secret/data/x"),
                    config_map("secret/data/y").replace("name: c", "name: d")
                ),
            )
            .env("VAULT_ADDR", &addr)
            .env("VAULT_TOKEN", "root")
            .args(["generate", "c.yaml"])
            .run()
            .failure()
            .stderr(&error);
    }
}
