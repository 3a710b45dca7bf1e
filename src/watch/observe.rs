//! What Vault says now about the secrets the records name: one request per distinct path.
//! KV v2: the metadata endpoint (versions, no value); KV v1: a read, kept only as an HMAC.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use tokio::task::JoinSet;

use crate::placeholder::secret_ref::KvVersion;
use crate::secrets::vault::{VaultClient, VaultError};
use crate::sensitive::Sensitive;
use crate::watch::record::{Used, data_hmac};

/// A secret's state now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seen {
    /// KV v2: the newest version, `None` when there is none.
    Version(Option<u64>),
    /// KV v1: the HMAC of the data, `None` when nothing is there.
    Hmac(Option<String>),
}

impl Seen {
    /// Whether this is newer than what `used` recorded.
    pub(crate) fn newer_than(&self, used: &Used) -> bool {
        match self {
            Seen::Version(now) => *now > used.version,
            Seen::Hmac(now) => *now != used.hmac,
        }
    }

    /// A short text for markers: `v5`, `v-`, `h<hex>`, `h-`.
    pub(crate) fn label(&self) -> String {
        match self {
            Seen::Version(Some(v)) => format!("v{v}"),
            Seen::Version(None) => "v-".to_owned(),
            Seen::Hmac(Some(h)) => format!("h{h}"),
            Seen::Hmac(None) => "h-".to_owned(),
        }
    }
}

/// The KV v2 metadata path of the data path `path`: its first `data` segment (the one after
/// the mount, as AVP paths write it) becomes `metadata`. `None` without a `data` segment.
pub(crate) fn metadata_path(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    let at = segments.iter().position(|s| *s == "data")?;
    let mut out: Vec<&str> = segments;
    out[at] = "metadata";
    Some(out.join("/"))
}

/// Asks Vault about every `(path, kv)` of `wanted`, at most `concurrency` at a time. A
/// failure that concerns every request (unreachable, a refused login) fails the whole call;
/// a failure for one path is that path's answer.
pub(crate) async fn observe(
    client: &VaultClient,
    wanted: BTreeSet<(String, KvVersion)>,
    key: Option<&Sensitive>,
    concurrency: usize,
) -> Result<BTreeMap<(String, KvVersion), Result<Seen, Arc<VaultError>>>, VaultError> {
    let mut answers = BTreeMap::new();
    let mut asks = JoinSet::new();
    let mut wanted = wanted.into_iter();
    loop {
        while asks.len() < concurrency.max(1) {
            let Some((path, kv)) = wanted.next() else {
                break;
            };
            let client = client.clone();
            let key = key.cloned();
            asks.spawn(async move {
                let seen = ask(&client, &path, kv, key.as_ref()).await;
                ((path, kv), seen)
            });
        }
        let Some(joined) = asks.join_next().await else {
            break;
        };
        let (which, seen) =
            joined.map_err(|e| VaultError::Internal(format!("a watch task failed: {e}")))?;
        match seen {
            Err(e) if e.concerns_every_read() => return Err(e),
            other => {
                answers.insert(which, other.map_err(Arc::new));
            }
        }
    }
    Ok(answers)
}

/// One request about one path.
async fn ask(
    client: &VaultClient,
    path: &str,
    kv: KvVersion,
    key: Option<&Sensitive>,
) -> Result<Seen, VaultError> {
    match kv {
        KvVersion::V2 => {
            let Some(metadata) = metadata_path(path) else {
                return Err(VaultError::Internal(format!(
                    "{path} has no data/ segment: not a KV v2 data path"
                )));
            };
            Ok(Seen::Version(client.current_version(&metadata).await?))
        }
        KvVersion::V1 => {
            let read = client.read(path, None, KvVersion::V1).await?;
            Ok(Seen::Hmac(
                key.zip(read.data.as_ref()).map(|(k, d)| data_hmac(k, d)),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_paths() {
        assert_eq!(
            metadata_path("secret/data/app").as_deref(),
            Some("secret/metadata/app")
        );
        assert_eq!(
            metadata_path("team/kv/data/a/data/b").as_deref(),
            Some("team/kv/metadata/a/data/b")
        );
        assert_eq!(metadata_path("kv1/app"), None);
    }
}
