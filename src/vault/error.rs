//! What can go wrong between vaultplate and Vault. No variant ever holds a secret value.

use crate::config::ConfigError;

/// A failed Vault operation, with the address, auth method or path it concerns.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// A setting needed to reach or log in to Vault is missing or unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// TLS could not be set up (unreadable CA file, no usable certificate).
    #[error("TLS set-up for Vault: {0}")]
    TlsSetup(String),
    /// No answer: connection refused, DNS, TLS handshake, or timeout (after retries).
    #[error("Vault at {addr} is unreachable: {reason}")]
    Unreachable {
        /// `VAULT_ADDR`.
        addr: String,
        /// The transport's own explanation.
        reason: String,
    },
    /// Vault refused the login.
    #[error("{method} login at auth/{mount} on {addr} failed: Vault answered {status}{}", vault_text(.errors))]
    LoginRefused {
        /// `AVP_AUTH_TYPE`.
        method: &'static str,
        /// The auth mount.
        mount: String,
        /// `VAULT_ADDR`.
        addr: String,
        /// HTTP status.
        status: u16,
        /// Vault's `errors` array.
        errors: Vec<String>,
    },
    /// Vault answered a read with an error status other than 404.
    #[error("Vault answered {status}{}", vault_text(.errors))]
    ReadRefused {
        /// HTTP status.
        status: u16,
        /// Vault's `errors` array.
        errors: Vec<String>,
    },
    /// Vault redirected a request to an address it may not go to (another host, not listed in
    /// `VAULTPLATE_REDIRECT_HOSTS`): a token or login would leave the operator's Vault.
    #[error(
        "Vault at {addr} redirected a request to {to}, another address; vaultplate sends a token \
         or login only to VAULT_ADDR (if {listing} is one of your Vault's nodes, list it in \
         VAULTPLATE_REDIRECT_HOSTS and use https)"
    )]
    RedirectRefused {
        /// `VAULT_ADDR`.
        addr: String,
        /// The origin redirected to.
        to: String,
        /// The target as `VAULTPLATE_REDIRECT_HOSTS` would list it.
        listing: String,
    },
    /// Vault redirected a request to a listed host over plain `http://`.
    #[error(
        "Vault at {addr} redirected a request to {to}, which is listed in \
         VAULTPLATE_REDIRECT_HOSTS but not https; vaultplate follows redirects to https only"
    )]
    RedirectNotHttps {
        /// `VAULT_ADDR`.
        addr: String,
        /// The origin redirected to.
        to: String,
    },
    /// The address a redirect led to redirected the request once more.
    #[error(
        "Vault at {addr} redirected a request to {first}, which redirected it again to \
         {second}; vaultplate follows at most one redirect"
    )]
    RedirectRepeated {
        /// `VAULT_ADDR`.
        addr: String,
        /// The origin of the first redirect.
        first: String,
        /// The origin of the second.
        second: String,
    },
    /// Vault's answer is larger than [`super::MAX_ANSWER_BYTES`]; reading stopped there.
    #[error(
        "Vault at {addr} sent an answer larger than {} MiB; stopped reading it (no Vault \
         secret is that large: is VAULT_ADDR a Vault server?)",
        .cap / (1024 * 1024)
    )]
    AnswerTooLarge {
        /// `VAULT_ADDR`.
        addr: String,
        /// The cap, in bytes.
        cap: usize,
    },
    /// Vault's answer does not have the expected shape (e.g. a KV v1 path read as KV v2).
    #[error("unexpected answer from Vault: {0}")]
    AnswerMalformed(String),
}

impl VaultError {
    /// Whether the error is about Vault or the run's token rather than one secret: every read
    /// would fail alike, so it is reported once, not once per path.
    pub fn concerns_every_read(&self) -> bool {
        matches!(
            self,
            VaultError::Config(_)
                | VaultError::TlsSetup(_)
                | VaultError::Unreachable { .. }
                | VaultError::LoginRefused { .. }
                | VaultError::RedirectRefused { .. }
                | VaultError::RedirectNotHttps { .. }
                | VaultError::RedirectRepeated { .. }
                | VaultError::AnswerTooLarge { .. }
        )
    }
}

fn vault_text(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(": {}", errors.join("; "))
    }
}
