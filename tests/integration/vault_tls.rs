//! The TLS settings of the Vault SDK against [`OpenBao::shared_tls`]: CAs from a directory
//! (`VAULT_CAPATH`), the name Vault's certificate is checked against
//! (`VAULT_TLS_SERVER_NAME`), and a client certificate (`VAULT_CLIENT_CERT`,
//! `VAULT_CLIENT_KEY`) with no login of its own. The dev server's certificate holds
//! `localhost`, `127.0.0.1` and a few other local names, never `vault.invalid`.

use std::path::Path;

use serde_json::json;

use crate::support::{Case, OpenBao, TestCa, unique};

/// A ConfigMap `c` whose `k0` is the key `a` of the secret at `path`.
fn config_map(path: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata:\n  k0: <path:{path}#a>\n"
    )
}

/// A secret of the test's own on the TLS server holding `{"a": value}`; its path.
fn secret(tls: &OpenBao, prefix: &str, value: &str) -> String {
    let app = unique(prefix);
    tls.put_kv2("secret", &app, json!({ "a": value }));
    format!("secret/data/{app}")
}

fn ca_pem(tls: &OpenBao) -> String {
    std::fs::read_to_string(tls.ca_cert()).expect("reading the dev server's CA")
}

#[test]
fn vault_capath_trusts_the_certificates_of_a_directory() {
    let tls = OpenBao::shared_tls();
    let path = secret(tls, "capath", "capath-value");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cas = dir.path();
    // As Kubernetes mounts a ConfigMap: links to a hidden, versioned folder.
    std::fs::create_dir(cas.join("..2026_11_23")).expect("creating the data folder");
    std::fs::write(cas.join("..2026_11_23/vault-ca.crt"), ca_pem(tls)).expect("writing the CA");
    std::os::unix::fs::symlink("..2026_11_23", cas.join("..data")).expect("linking ..data");
    std::os::unix::fs::symlink("..data/vault-ca.crt", cas.join("vault-ca.crt"))
        .expect("linking the CA");
    // Beside it: another CA, and a file that holds no certificate.
    std::fs::write(cas.join("other.pem"), TestCa::new("other").pem()).expect("writing a CA");
    std::fs::write(cas.join("README"), "CAs for Vault\n").expect("writing a note");

    Case::new()
        .file("c.yaml", &config_map(&path))
        .vault(tls)
        .env("VAULT_CAPATH", cas)
        .args(["generate", "c.yaml"])
        .run()
        .success()
        .stdout_contains("  k0: \"capath-value\"\n");
    assert_eq!(tls.reads(&path), 1);
}

#[test]
fn vault_capath_without_vaults_ca_is_refused() {
    let tls = OpenBao::shared_tls();
    let path = secret(tls, "capath-other", "never-read");

    Case::new()
        .file("c.yaml", &config_map(&path))
        .file("cas/other.pem", &TestCa::new("other").pem())
        .vault(tls)
        .env("VAULT_CAPATH", "cas")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr_contains(": invalid peer certificate: UnknownIssuer\n");
    assert_eq!(tls.reads(&path), 0);
}

#[test]
fn an_unusable_vault_capath_is_named_and_nothing_is_sent() {
    let tls = OpenBao::shared_tls();
    let path = secret(tls, "capath-bad", "never-read");
    /// (files of the run, `VAULT_CAPATH`, the reason given)
    type Files = &'static [(&'static str, &'static str)];
    let cases: &[(Files, &str, &str)] = &[
        (&[], "missing", "No such file or directory (os error 2)"),
        (
            &[("cas/README", "CAs for Vault\n")],
            "cas",
            "no usable CA certificate in the directory",
        ),
        (
            &[(
                "cas/broken.pem",
                "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
            )],
            "cas",
            "broken.pem: ",
        ),
    ];
    for (files, capath, reason) in cases {
        let mut case = Case::new().file("c.yaml", &config_map(&path));
        for (file, contents) in *files {
            case = case.file(file, contents);
        }
        case.vault(tls)
            .env("VAULT_CAPATH", capath)
            .args(["generate", "c.yaml"])
            .run()
            .failure()
            .stderr_contains(&format!(
                "error: TLS set-up for Vault: VAULT_CAPATH {capath}: {reason}"
            ));
    }
    assert_eq!(tls.reads(&path), 0);
}

#[test]
fn vault_tls_server_name_is_the_name_vaults_certificate_must_hold() {
    let tls = OpenBao::shared_tls();
    let path = secret(tls, "server-name", "server-name-value");
    let by_name = tls.addr().replace("127.0.0.1", "localhost");
    // (VAULT_ADDR, VAULT_TLS_SERVER_NAME): connect to one, check the other.
    let held = [(tls.addr(), "localhost"), (by_name.as_str(), "127.0.0.1")];
    for (addr, name) in held {
        Case::new()
            .file("c.yaml", &config_map(&path))
            .vault(tls)
            .env("VAULT_ADDR", addr)
            .env("VAULT_CACERT", tls.ca_cert())
            .env("VAULT_TLS_SERVER_NAME", name)
            .args(["generate", "c.yaml"])
            .run()
            .success()
            .stdout_contains("  k0: \"server-name-value\"\n");
    }
    assert_eq!(tls.reads(&path), 2);

    let not_held = [
        (tls.addr(), "vault.invalid"),
        (by_name.as_str(), "127.0.0.2"),
    ];
    for (addr, name) in not_held {
        Case::new()
            .file("c.yaml", &config_map(&path))
            .vault(tls)
            .env("VAULT_ADDR", addr)
            .env("VAULT_CACERT", tls.ca_cert())
            .env("VAULT_TLS_SERVER_NAME", name)
            .args(["generate", "c.yaml"])
            .run()
            .failure()
            .stderr_contains(&format!(
                "error: Vault at {addr} is unreachable: error sending request: "
            ))
            .stderr_contains(&format!(
                "invalid peer certificate: certificate not valid for name {name:?}; \
                 certificate is only valid for DnsName(\"localhost\"), "
            ));
    }
    assert_eq!(tls.reads(&path), 2);
}

/// `client.pem` and `client-key.pem` of a new client certificate, in a fresh directory.
fn client_files(dir: &Path) -> (String, String) {
    let client = TestCa::new("clients").client("vaultplate");
    let (cert, key) = (dir.join("client.pem"), dir.join("client-key.pem"));
    std::fs::write(&cert, client.cert_pem).expect("writing the certificate");
    std::fs::write(&key, client.key_pem).expect("writing the key");
    (cert.display().to_string(), key.display().to_string())
}

#[test]
fn a_client_certificate_goes_with_any_login() {
    let tls = OpenBao::shared_tls();
    let path = secret(tls, "client-cert", "client-cert-value");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (cert, key) = client_files(dir.path());

    // The dev server asks for a certificate but needs none: a token login works with one.
    Case::new()
        .file("c.yaml", &config_map(&path))
        .vault(tls)
        .env("VAULT_CACERT", tls.ca_cert())
        .env("VAULT_CLIENT_CERT", &cert)
        .env("VAULT_CLIENT_KEY", &key)
        .args(["generate", "c.yaml"])
        .run()
        .success()
        .stdout_contains("  k0: \"client-cert-value\"\n");
}

#[test]
fn an_unusable_client_certificate_or_key_is_named_and_nothing_is_sent() {
    let tls = OpenBao::shared_tls();
    let path = secret(tls, "client-cert-bad", "never-read");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (cert, key) = client_files(dir.path());
    let other = tempfile::tempdir().expect("a temporary directory");
    let (_, other_key) = client_files(other.path());
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "ask the platform team\n").expect("writing a note");
    let notes = notes.display().to_string();
    let cases = [
        (
            "missing.pem",
            key.as_str(),
            "VAULT_CLIENT_CERT missing.pem: I/O error: No such file or directory (os error 2)"
                .to_owned(),
        ),
        (
            notes.as_str(),
            key.as_str(),
            format!("VAULT_CLIENT_CERT {notes}: no certificate in the file"),
        ),
        (
            cert.as_str(),
            notes.as_str(),
            format!("VAULT_CLIENT_KEY {notes}: no private key in the file"),
        ),
        (
            cert.as_str(),
            other_key.as_str(),
            format!("VAULT_CLIENT_KEY {other_key}: not the key of VAULT_CLIENT_CERT {cert}"),
        ),
    ];
    let key_pem = std::fs::read_to_string(&key).expect("reading the key");
    for (cert, key, error) in cases {
        Case::new()
            .file("c.yaml", &config_map(&path))
            .vault(tls)
            .env("VAULT_CACERT", tls.ca_cert())
            .env("VAULT_CLIENT_CERT", cert)
            .env("VAULT_CLIENT_KEY", key)
            .secret(key_pem.trim())
            .args(["generate", "c.yaml"])
            .run()
            .failure()
            .stderr(&format!("error: TLS set-up for Vault: {error}\n"));
    }
    assert_eq!(tls.reads(&path), 0);
}
