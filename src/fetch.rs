//! Reads every distinct secret exactly once: one login, then concurrent reads with a bound.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::config::Config;
use crate::scan::{Part, SecretRef, Site};
use crate::vault::{VaultClient, VaultError};

/// The answer for one secret: its key/value map, `None` when Vault has nothing at the path, or
/// the read's error (shared by every placeholder that needs it).
pub type SecretAnswer = Result<Option<Map<String, Value>>, Arc<VaultError>>;

/// The distinct secrets the sites read, in a stable order.
pub fn plan(sites: &[Site<'_>]) -> Vec<SecretRef> {
    let refs: BTreeSet<&SecretRef> = sites
        .iter()
        .flat_map(|site| &site.parts)
        .filter_map(|part| match part {
            Part::Lookup { secret, .. } => Some(secret),
            Part::Text(_) => None,
        })
        .collect();
    refs.into_iter().cloned().collect()
}

/// Logs in once and reads `refs` concurrently (at most `config.concurrency` at a time).
///
/// An error here (settings, TLS, login) concerns the whole run; a failed read is kept in the
/// map so that it can be reported against the placeholders that needed it.
pub fn fetch(
    config: &Config,
    refs: Vec<SecretRef>,
) -> Result<HashMap<SecretRef, SecretAnswer>, VaultError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| VaultError::Unreachable {
            addr: String::new(),
            reason: format!("cannot start the runtime: {e}"),
        })?;
    runtime.block_on(async {
        let mut client = VaultClient::new(&config.vault)?;
        client.login(&config.vault.auth).await?;
        tracing::debug!(
            secrets = refs.len(),
            concurrency = config.concurrency,
            "reading secrets"
        );
        let limit = Arc::new(Semaphore::new(config.concurrency));
        let mut reads = JoinSet::new();
        for secret in refs {
            let client = client.clone();
            let limit = Arc::clone(&limit);
            reads.spawn(async move {
                let _permit = limit.acquire_owned().await;
                let answer = client
                    .read(&secret.path, secret.version, secret.kv)
                    .await
                    .map_err(Arc::new);
                (secret, answer)
            });
        }
        let mut answers = HashMap::new();
        while let Some(joined) = reads.join_next().await {
            let (secret, answer) = joined
                .map_err(|e| VaultError::AnswerMalformed(format!("read task failed: {e}")))?;
            answers.insert(secret, answer);
        }
        Ok(answers)
    })
}
