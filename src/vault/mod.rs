//! Talking to Vault (or OpenBao): TLS set-up, logins and reads of raw logical paths.

mod client;
mod error;
mod tls;

pub use client::{Login, VaultClient};
pub use error::VaultError;

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
