//! Everything needed to reach and log in to Vault, as `config` resolves it from the settings.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use super::RedirectHost;
use super::auth::Auth;

/// `VAULT_ADDR`: an `http://` or `https://` URL with a host, kept as written (without a
/// trailing slash) for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VaultAddr {
    text: String,
    url: Url,
}

impl VaultAddr {
    /// Checks an address; the error says what is wrong with it (after the value).
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let text = text.trim_end_matches('/');
        Url::parse(text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .map(|url| VaultAddr {
                text: text.to_owned(),
                url,
            })
            .ok_or("is not an http:// or https:// URL")
    }

    /// The address as written, without a trailing slash.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The parsed URL.
    pub fn url(&self) -> &Url {
        &self.url
    }
}

impl fmt::Display for VaultAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A TLS client certificate and its key (`VAULT_CLIENT_CERT`, `VAULT_CLIENT_KEY`), read when
/// the Vault client is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCert {
    /// PEM file of the certificate, optionally followed by its intermediates.
    pub cert: PathBuf,
    /// PEM file of the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Everything needed to talk to Vault. Required values are checked when Vault is first needed,
/// so a run with nothing to fill works without any Vault settings.
#[derive(Debug, Clone)]
pub struct VaultSettings {
    /// `VAULT_ADDR`.
    pub addr: Option<VaultAddr>,
    /// `VAULT_NAMESPACE`.
    pub namespace: Option<String>,
    /// `VAULT_CACERT`.
    pub ca_cert: Option<PathBuf>,
    /// `VAULT_CAPATH`: a directory of PEM files of CA certificates.
    pub ca_path: Option<PathBuf>,
    /// `VAULT_SKIP_VERIFY`.
    pub skip_verify: bool,
    /// `VAULT_TLS_SERVER_NAME`: sent as SNI and checked against Vault's certificate.
    pub tls_server_name: Option<String>,
    /// `VAULT_CLIENT_CERT` and `VAULT_CLIENT_KEY`, presented on every TLS connection.
    pub client_cert: Option<ClientCert>,
    /// `VAULT_CLIENT_TIMEOUT`, per request.
    pub timeout: Duration,
    /// `VAULT_MAX_RETRIES`.
    pub max_retries: u32,
    /// `VAULTPLATE_REDIRECT_HOSTS`: hosts besides `VAULT_ADDR`'s that a redirect may lead to.
    pub redirect_hosts: Vec<RedirectHost>,
    /// The login method.
    pub auth: Auth,
}
