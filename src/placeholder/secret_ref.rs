//! What a placeholder refers to, once its path is checked and its manifest's annotations are
//! applied: the secret to read and how to read it. The engine plans reads of these and a
//! secret backend answers them.

/// One secret read: Vault is asked once per distinct value of this.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SecretRef {
    /// Raw logical path, normalised (see [`super::secret_path::normalise`]): `secret/data/app`.
    /// Never under a Vault system mount.
    pub path: String,
    /// KV v2 version; `None` for the latest, and always for KV v1.
    pub version: Option<u64>,
    /// How to read the answer.
    pub kv: KvVersion,
}

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
