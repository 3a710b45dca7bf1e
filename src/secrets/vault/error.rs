//! What can go wrong between vaultplate and Vault. No variant ever holds a secret value.

use super::auth::LoginSettingError;

/// A failed Vault operation, with the address, auth method or path it concerns.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// `VAULT_ADDR` is not set, and something needs Vault.
    #[error("setting VAULT_ADDR is required to read secrets")]
    AddressMissing,
    /// A setting or credential file the login method needs is missing or unusable.
    #[error(transparent)]
    LoginSettings(#[from] LoginSettingError),
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
    /// Vault answered a read with an error status other than a plain 404 (a 403 is told apart
    /// later: [`VaultError::ReadDenied`] or [`VaultError::TokenRefused`]).
    #[error("Vault at {addr} answered {status}{}", vault_text(.errors))]
    ReadRefused {
        /// `VAULT_ADDR`.
        addr: String,
        /// HTTP status.
        status: u16,
        /// Vault's `errors` array.
        errors: Vec<String>,
    },
    /// A 403 on a read with a token that is valid (it can look itself up, or a read of the
    /// run succeeded with it): the token's policies do not allow this path.
    #[error(
        "Vault at {addr} answered 403 (permission denied): the token is valid, but its \
         policies{} do not allow reading {path}",
        policies.as_ref().map(|p| format!(" ({})", p.join(", "))).unwrap_or_default()
    )]
    ReadDenied {
        /// `VAULT_ADDR`.
        addr: String,
        /// The path read.
        path: String,
        /// The token's policies, when it could look itself up.
        policies: Option<Vec<String>>,
    },
    /// Every read was refused (403) and so was the token's lookup of itself.
    #[error(
        "Vault at {addr} refused the token: every read and the token's lookup of itself \
         (auth/token/lookup-self) answered 403; the token is invalid, expired or revoked (or \
         lacks Vault's default policy, which that lookup needs){}",
        if *.from_setting { "; check VAULT_TOKEN or VAULT_TOKEN_FILE" } else { "" }
    )]
    TokenRefused {
        /// `VAULT_ADDR`.
        addr: String,
        /// Whether the token is a setting's (`AVP_AUTH_TYPE=token`) rather than a login's.
        from_setting: bool,
    },
    /// A KV v2 path read without `data/` after the mount; Vault said so in a warning.
    #[error(
        "Vault at {addr} has no secret at {path}: it is on a KV v2 engine, whose paths need \
         data/ after the mount: write {corrected} (Vault warned: {warning:?})"
    )]
    KvV2PathWithoutData {
        /// `VAULT_ADDR`.
        addr: String,
        /// The path as written.
        path: String,
        /// The path with `data/` after the mount.
        corrected: String,
        /// Vault's warning, as given.
        warning: String,
    },
    /// A path read as KV v1 answered with a KV v2 secret (`data` and `metadata`).
    #[error(
        "Vault at {addr} answered with a KV v2 secret (data and metadata) for {path}, which was \
         read as KV v1"
    )]
    KvV2ReadAsV1 {
        /// `VAULT_ADDR`.
        addr: String,
        /// The path read.
        path: String,
    },
    /// `VAULT_ADDR` is `https://`, but the server answered the TLS handshake in plain HTTP.
    #[error(
        "Vault at {addr} does not speak TLS: it answered in plain HTTP; use {}",
        .addr.replacen("https://", "http://", 1)
    )]
    TlsNotSpoken {
        /// `VAULT_ADDR`.
        addr: String,
    },
    /// `VAULT_ADDR` is `http://`, but the server speaks only TLS (Go's answer to plain HTTP).
    #[error(
        "Vault at {addr} speaks only TLS: it answered \"Client sent an HTTP request to an HTTPS \
         server\"; use {}",
        .addr.replacen("http://", "https://", 1)
    )]
    TlsRequired {
        /// `VAULT_ADDR`.
        addr: String,
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
    /// vaultplate itself failed (its runtime could not start, a read task panicked): no
    /// setting or Vault answer is the cause.
    #[error("internal error while reading from Vault: {0}")]
    Internal(String),
    /// Vault's answer does not have the expected shape (e.g. a KV v1 path read as KV v2).
    #[error("unexpected answer from Vault at {addr}: {reason}")]
    AnswerMalformed {
        /// `VAULT_ADDR`.
        addr: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl VaultError {
    /// Whether the error is about Vault or the run's token rather than one secret: every read
    /// would fail alike, so it is reported once, not once per path.
    pub fn concerns_every_read(&self) -> bool {
        matches!(
            self,
            VaultError::AddressMissing
                | VaultError::Internal(_)
                | VaultError::LoginSettings(_)
                | VaultError::TlsSetup(_)
                | VaultError::Unreachable { .. }
                | VaultError::LoginRefused { .. }
                | VaultError::RedirectRefused { .. }
                | VaultError::RedirectNotHttps { .. }
                | VaultError::RedirectRepeated { .. }
                | VaultError::AnswerTooLarge { .. }
                | VaultError::TokenRefused { .. }
                | VaultError::TlsNotSpoken { .. }
                | VaultError::TlsRequired { .. }
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
