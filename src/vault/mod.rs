//! Talking to Vault (or OpenBao): TLS set-up, logins and reads of raw logical paths.

mod client;
mod error;
mod redirect;
mod tls;

pub use client::{Login, VaultClient};
pub use error::VaultError;
pub use redirect::RedirectHost;

/// Most bytes of one Vault answer that are read; a larger answer is an error, and an endless
/// one stops there instead of growing memory. A KV secret is at most 1 MiB in Vault's and
/// OpenBao's integrated storage by default (`max_entry_size`; 512 KiB in Consul); as JSON,
/// with every byte escaped at worst six times over, 8 MiB still holds it.
pub const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// The version of a KV secrets engine, which decides the shape of a read's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum KvVersion {
    /// KV v1: the secret is `.data`; no versions.
    V1,
    /// KV v2: the secret is `.data.data`; paths carry `/data/`; versions exist.
    V2,
}

impl KvVersion {
    /// Parses `1` or `2`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "1" => Some(KvVersion::V1),
            "2" => Some(KvVersion::V2),
            _ => None,
        }
    }
}
