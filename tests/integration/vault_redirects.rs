//! Where Vault's redirects may take a request: nowhere but `VAULT_ADDR`'s own origin unless
//! the operator lists the host in `VAULTPLATE_REDIRECT_HOSTS` (https only, one hop), so that a
//! token or a login's credentials never reach another host. The redirecting Vault is a
//! [`FaultServer`]; where it points is a [`StandIn`] that keeps every request it gets, or the
//! real TLS OpenBao.

use serde_json::json;

use crate::support::{Case, FaultServer, OpenBao, StandIn, unique};

/// A ConfigMap `c` whose `k0` is the key `a` of the secret at `path`.
fn config_map(path: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c}}\ndata:\n  k0: <path:{path}#a>\n"
    )
}

/// Another host: answers logins with a token and reads with a value, and keeps what it got.
fn elsewhere() -> StandIn {
    StandIn::start(|request| {
        if request.method == "POST" {
            (
                200,
                json!({"auth": {"client_token": "planted-token", "lease_duration": 60}}),
            )
        } else {
            (200, json!({"data": {"data": {"a": "planted-value"}}}))
        }
    })
}

/// `scheme://host:port` of a base URL.
fn origin(addr: &str) -> &str {
    addr.trim_end_matches('/')
}

#[test]
fn a_redirect_to_another_host_is_not_followed_and_the_token_stays_home() {
    let other = elsewhere();
    for code in [301, 302, 307, 308] {
        let vault = FaultServer::redirect(code, other.addr());
        Case::new()
            .file("c.yaml", &config_map("secret/data/app"))
            .file(
                "d.yaml",
                &config_map("secret/data/other").replace("name: c", "name: d"),
            )
            .env("VAULT_ADDR", vault.addr())
            .env("VAULT_TOKEN", "home-token")
            .secret("home-token")
            .secret("planted-value")
            .args(["generate", "."])
            .run()
            .failure()
            .stderr(&format!(
                "error: Vault at {} redirected a request to {}, another address; vaultplate \
                 sends a token or login only to VAULT_ADDR (if {} is one of your Vault's nodes, \
                 list it in VAULTPLATE_REDIRECT_HOSTS and use https)\n",
                vault.addr(),
                origin(other.addr()),
                other.addr().trim_start_matches("http://"),
            ));
        assert_eq!(vault.requests(), 2, "{code}: one request per secret");
    }
    assert!(other.requests().is_empty(), "{:?}", other.requests());
}

#[test]
fn an_approle_login_is_never_reposted_to_another_host() {
    let other = elsewhere();
    let vault = FaultServer::redirect(307, other.addr());
    Case::new()
        .file("c.yaml", &config_map("secret/data/app"))
        .env("VAULT_ADDR", vault.addr())
        .env("AVP_AUTH_TYPE", "approle")
        .env("AVP_ROLE_ID", "role-id-1")
        .env("AVP_SECRET_ID", "approle-secret-id")
        .secret("approle-secret-id")
        .secret("planted-value")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr_contains(&format!(
            "error: Vault at {} redirected a request to {}, another address; ",
            vault.addr(),
            origin(other.addr()),
        ));
    assert_eq!(vault.requests(), 1);
    assert!(other.requests().is_empty(), "{:?}", other.requests());
}

#[test]
fn a_listed_host_is_followed_over_https_once() {
    let tls = OpenBao::shared_tls();
    let app = unique("standby");
    tls.put_kv2("secret", &app, json!({"a": "from-the-active-node"}));
    let path = format!("secret/data/{app}");
    let active = tls.addr().trim_start_matches("https://").to_owned();
    let standby = FaultServer::redirect(307, tls.addr());

    Case::new()
        .file("c.yaml", &config_map(&path))
        .vault(tls)
        .env("VAULT_ADDR", standby.addr())
        .env("VAULT_CACERT", tls.ca_cert())
        .env(
            "VAULTPLATE_REDIRECT_HOSTS",
            format!("other.example, {active}"),
        )
        .args(["generate", "c.yaml"])
        .run()
        .success()
        .stdout_contains("  k0: \"from-the-active-node\"\n");
    assert_eq!(standby.requests(), 1);
    assert_eq!(tls.reads(&path), 1);
}

#[test]
fn a_listed_host_over_plain_http_is_refused() {
    let other = elsewhere();
    let vault = FaultServer::redirect(307, other.addr());
    let listed = other.addr().trim_start_matches("http://");
    Case::new()
        .file("c.yaml", &config_map("secret/data/app"))
        .env("VAULT_ADDR", vault.addr())
        .env("VAULT_TOKEN", "home-token")
        .env("VAULTPLATE_REDIRECT_HOSTS", listed)
        .secret("home-token")
        .secret("planted-value")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr(&format!(
            "error: Vault at {} redirected a request to {}, which is listed in \
             VAULTPLATE_REDIRECT_HOSTS but not https; vaultplate follows redirects to https \
             only\n",
            vault.addr(),
            origin(other.addr()),
        ));
    assert!(other.requests().is_empty(), "{:?}", other.requests());
}

/// A redirect within `VAULT_ADDR`'s own origin is followed (the token goes where it went
/// anyway), but only once: this server redirects every request to itself.
#[test]
fn a_second_redirect_is_not_followed() {
    let looping = FaultServer::redirect(307, "");
    Case::new()
        .file("c.yaml", &config_map("secret/data/app"))
        .env("VAULT_ADDR", looping.addr())
        .env("VAULT_TOKEN", "home-token")
        .secret("home-token")
        .args(["generate", "c.yaml"])
        .run()
        .failure()
        .stderr(&format!(
            "error: Vault at {0} redirected a request to {0}, which redirected it again to {0}; \
             vaultplate follows at most one redirect\n",
            looping.addr()
        ));
    assert_eq!(looping.requests(), 2);
}

#[test]
fn vaultplate_redirect_hosts_is_checked() {
    for (value, why) in [
        ("https://vault-1:8200", "is not a host or host:port"),
        ("vault-1:99999", "is not a host or host:port"),
        ("vault 1", "is not a host or host:port"),
    ] {
        Case::new()
            .file("c.yaml", &config_map("secret/data/app"))
            .env("VAULT_ADDR", "http://127.0.0.1:1")
            .env("VAULT_TOKEN", "t")
            .env("VAULTPLATE_REDIRECT_HOSTS", value)
            .args(["generate", "c.yaml"])
            .run()
            .failure()
            .stderr(&format!(
                "error: setting VAULTPLATE_REDIRECT_HOSTS from the environment: {value:?} {why} \
                 (a comma-separated list such as vault-1.internal:8200,vault-2.internal:8200)\n"
            ));
    }
}
