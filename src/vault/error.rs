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
    /// Vault's answer does not have the expected shape (e.g. a KV v1 path read as KV v2).
    #[error("unexpected answer from Vault: {0}")]
    AnswerMalformed(String),
}

fn vault_text(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(": {}", errors.join("; "))
    }
}
