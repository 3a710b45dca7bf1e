//! Talking to Vault (or OpenBao): TLS set-up, logins and reads of raw logical paths.

pub mod auth;
mod client;
pub(crate) mod credential;
mod error;
pub(crate) mod probe;
mod redirect;
pub(crate) mod session;
pub(crate) mod settings;
mod tls;
pub(crate) mod token_cache;

pub use client::{Login, VaultClient};
pub use error::VaultError;
pub use redirect::RedirectHost;

/// Most bytes of one Vault answer that are read; a larger answer is an error, and an endless
/// one stops there instead of growing memory. A KV secret is at most 1 MiB in Vault's and
/// OpenBao's integrated storage by default (`max_entry_size`; 512 KiB in Consul); as JSON,
/// with every byte escaped at worst six times over, 8 MiB still holds it.
pub const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;
