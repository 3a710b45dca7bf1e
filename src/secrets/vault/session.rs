//! Reads every distinct secret exactly once: one login (or a cached token), then concurrent
//! reads with a bound; a cached token Vault refuses is replaced and its reads retried once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::task::JoinSet;
use tracing::debug;

use super::auth::{self, Auth};
use super::settings::VaultSettings;
use crate::placeholder::secret_ref::SecretRef;
use crate::secrets::vault::token_cache::{CacheLookup, Identity, Slot, TokenCache};
use crate::secrets::vault::{VaultClient, VaultError};
use crate::secrets::{SecretAnswer, SecretReader};

/// A run's access to Vault: it logs in (or takes this identity's cached token, see
/// [`crate::secrets::vault::token_cache`]) when the first secret is needed, reads each distinct secret once,
/// and keeps every answer, so that stages of one run (Helm values before the build, manifests
/// after it) share one login and never read a secret twice.
///
/// An error from [`SecretReader::read`] (settings, TLS, login) concerns the whole run; a failed read
/// is kept in [`SecretReader::answers`] so that it can be reported against the placeholders that
/// needed it. The cache never fails a run: when it cannot be read or written the run goes on
/// without it.
pub(crate) struct Session<'a> {
    vault: &'a VaultSettings,
    /// Most reads in flight at once.
    concurrency: usize,
    cache: &'a TokenCache,
    connection: Option<Connection>,
    answers: HashMap<SecretRef, SecretAnswer>,
    /// The KV v2 version each answer held.
    versions: HashMap<SecretRef, u64>,
}

/// The part of a session that exists once Vault was needed.
struct Connection {
    runtime: tokio::runtime::Runtime,
    client: VaultClient,
    /// The cache entry whose token is in use, until Vault refuses it once.
    cached: Option<Slot>,
}

impl<'a> Session<'a> {
    /// A session that has not contacted Vault yet.
    pub(crate) fn new(vault: &'a VaultSettings, concurrency: usize, cache: &'a TokenCache) -> Self {
        Session {
            vault,
            concurrency,
            cache,
            connection: None,
            answers: HashMap::new(),
            versions: HashMap::new(),
        }
    }
}

impl SecretReader for Session<'_> {
    fn answers(&self) -> &HashMap<SecretRef, SecretAnswer> {
        &self.answers
    }

    fn version_read(&self, secret: &SecretRef) -> Option<u64> {
        self.versions.get(secret).copied()
    }

    /// Reads the secrets of `refs` that were not read yet, concurrently (at most
    /// `concurrency` at a time); logs in first if this is the first read of the run.
    ///
    /// A failed read that is about Vault rather than its secret (unreachable, a refused
    /// redirect, see [`VaultError::concerns_every_read`]) fails the whole call: one root cause,
    /// one line, instead of one per path.
    fn read(&mut self, refs: &[SecretRef]) -> Result<(), Arc<VaultError>> {
        let missing: Vec<SecretRef> = refs
            .iter()
            .filter(|r| !self.answers.contains_key(*r))
            .cloned()
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let (vault, concurrency) = (self.vault, self.concurrency);
        if self.connection.is_none() {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| VaultError::Internal(format!("cannot start the runtime: {e}")))?;
            let mut client = VaultClient::new(vault)?;
            let slot = cache_slot(vault, self.cache);
            let (in_use, _) = runtime.block_on(sign_in(&mut client, &vault.auth, slot.as_ref()))?;
            let cached = if in_use { slot } else { None };
            self.connection = Some(Connection {
                runtime,
                client,
                cached,
            });
        }
        let Some(connection) = self.connection.as_mut() else {
            unreachable!("connected above")
        };
        let versions = &mut self.versions;
        let answers = connection.runtime.block_on(async {
            let mut answers = read_all(&connection.client, missing, concurrency, versions).await?;
            if let Some(slot) = connection
                .cached
                .take()
                .filter(|_| answers.values().any(is_denied))
            {
                // A cached token can be revoked, or its policies changed, before it expires:
                // forget it, log in once more and retry what it was refused. Only once: a
                // fresh token's refusal is the answer.
                debug!(
                    "Vault refused the cached token for {}; logging in again",
                    slot.identity().short()
                );
                if let Err(e) = slot.remove() {
                    debug!("cannot remove the refused token from the cache: {e}");
                }
                // A new client, so that the login does not carry the refused token along.
                connection.client = VaultClient::new(vault)?;
                log_in(&mut connection.client, &vault.auth, Some(&slot)).await?;
                let denied: Vec<SecretRef> = answers
                    .iter()
                    .filter(|(_, a)| is_denied(a))
                    .map(|(s, _)| s.clone())
                    .collect();
                answers.extend(read_all(&connection.client, denied, concurrency, versions).await?);
            }
            // Here a token from a login is a fresh one: a refused cached token was replaced.
            let logged_in = !matches!(vault.auth, Auth::Token { .. });
            explain_denials(&connection.client, &mut answers, logged_in).await?;
            Ok::<_, VaultError>(answers)
        })?;
        if let Some(error) = first_run_wide_error(&answers) {
            return Err(error);
        }
        if self.answers.is_empty() {
            // The first read of a run: no second table while the answers move over.
            self.answers = answers;
        } else {
            self.answers.extend(answers);
        }
        Ok(())
    }
}

/// The cache entry of this login, or `None` when its token is not cached: the cache is off, or
/// the method has no credential to bind it to (see [`auth::cache_credential`]).
pub(crate) fn cache_slot(vault: &VaultSettings, cache: &TokenCache) -> Option<Slot> {
    let credential = auth::cache_credential(&vault.auth)?;
    let identity = Identity::new(
        vault.addr.as_ref()?.as_str(),
        vault.namespace.as_deref(),
        &vault.auth.identity(),
        credential.expose(),
    );
    cache
        .slot(identity)
        .inspect_err(|why| debug!("working without the token cache: {why}"))
        .ok()
}

/// Uses the cached token when it has comfortable time left, else logs in. Returns whether the
/// cached token is the one in use, and how long the token in use has left (`None` when Vault
/// gave it no lease).
pub(crate) async fn sign_in(
    client: &mut VaultClient,
    auth: &Auth,
    slot: Option<&Slot>,
) -> Result<(bool, Option<Duration>), VaultError> {
    if let Some(slot) = slot {
        let id = slot.identity().short();
        match slot.load(SystemTime::now()) {
            CacheLookup::Hit { token, left } => {
                debug!(
                    "using cached token for {id} (expires in {}s)",
                    left.as_secs()
                );
                client.use_token(token);
                return Ok((true, Some(left)));
            }
            CacheLookup::Miss(why) => debug!("{why} for {id}; logging in"),
        }
    }
    let lease = log_in(client, auth, slot).await?;
    Ok((false, lease))
}

/// Logs in and, with a cache entry, saves the new token there (one without a lease, which
/// would never expire, is not written down).
async fn log_in(
    client: &mut VaultClient,
    auth: &Auth,
    slot: Option<&Slot>,
) -> Result<Option<Duration>, VaultError> {
    let started = SystemTime::now();
    let login = client.login(auth).await?;
    let (Some(slot), Some(token)) = (slot, client.token()) else {
        return Ok(login.lease);
    };
    let id = slot.identity().short();
    let saved = match login.lease {
        Some(lease) => slot.store(token, started, lease).map(|()| {
            debug!("cached the new token for {id} ({}s lease)", lease.as_secs());
        }),
        None => slot.remove().map(|()| {
            debug!("the token for {id} has no lease: not caching it");
        }),
    };
    if let Err(e) = saved {
        debug!("cannot write the token cache for {id}: {e}; going on without it");
    }
    Ok(login.lease)
}

/// Reads `refs` concurrently, at most `concurrency` at a time. A read is started only when
/// one ends, so that a run over thousands of paths holds `concurrency` reads in memory, not one
/// per path.
async fn read_all(
    client: &VaultClient,
    refs: Vec<SecretRef>,
    concurrency: usize,
    versions: &mut HashMap<SecretRef, u64>,
) -> Result<HashMap<SecretRef, SecretAnswer>, VaultError> {
    debug!(secrets = refs.len(), concurrency, "reading secrets");
    let mut answers = HashMap::with_capacity(refs.len());
    let mut reads = JoinSet::new();
    let mut refs = refs.into_iter();
    loop {
        while reads.len() < concurrency.max(1) {
            let Some(secret) = refs.next() else { break };
            let client = client.clone();
            reads.spawn(async move {
                let answer = client
                    .read(&secret.path, secret.version, secret.kv)
                    .await
                    .map_err(Arc::new);
                (secret, answer)
            });
        }
        let Some(joined) = reads.join_next().await else {
            break;
        };
        // A read task ends only by returning: a panic or cancellation is vaultplate's fault.
        let (secret, answer) =
            joined.map_err(|e| VaultError::Internal(format!("a read task failed: {e}")))?;
        let answer = answer.map(|read| {
            if let Some(version) = read.version {
                versions.insert(secret.clone(), version);
            }
            read.data
        });
        answers.insert(secret, answer);
    }
    Ok(answers)
}

/// Tells the 403s among `answers` apart: a token that cannot read anything nor look itself up
/// is refused as a whole (one error for the run); a valid token (a fresh login's, one that
/// read something, or one that can look itself up) is denied by its policies, path by path.
/// When Vault cannot be asked, the 403s stay as they are.
async fn explain_denials(
    client: &VaultClient,
    answers: &mut HashMap<SecretRef, SecretAnswer>,
    logged_in: bool,
) -> Result<(), VaultError> {
    let denied: Vec<SecretRef> = answers
        .iter()
        .filter(|(_, a)| is_denied(a))
        .map(|(s, _)| s.clone())
        .collect();
    if denied.is_empty() {
        return Ok(());
    }
    let valid = logged_in || answers.values().any(Result::is_ok);
    let policies = match client.token_policies().await {
        Ok(Some(policies)) => Some(policies),
        Ok(None) if !valid => {
            return Err(VaultError::TokenRefused {
                addr: client.addr().to_owned(),
                from_setting: !logged_in,
            });
        }
        Ok(None) => None,
        Err(e) if !valid => {
            debug!("cannot tell why Vault refused the reads: {e}");
            return Ok(());
        }
        Err(_) => None,
    };
    for secret in denied {
        let error = VaultError::ReadDenied {
            addr: client.addr().to_owned(),
            path: secret.path.clone(),
            policies: policies.clone(),
        };
        answers.insert(secret, Err(Arc::new(error)));
    }
    Ok(())
}

/// The error of the first secret (in path order, so that the message is stable) whose read
/// failed for a reason every read shares.
fn first_run_wide_error(answers: &HashMap<SecretRef, SecretAnswer>) -> Option<Arc<VaultError>> {
    answers
        .iter()
        .filter_map(|(secret, answer)| match answer {
            Err(error) if error.concerns_every_read() => Some((secret, error)),
            _ => None,
        })
        .min_by(|a, b| a.0.cmp(b.0))
        .map(|(_, error)| Arc::clone(error))
}

/// Vault answered 403: the token may not read this (or is no longer valid).
fn is_denied(answer: &SecretAnswer) -> bool {
    matches!(answer, Err(e) if matches!(**e, VaultError::ReadRefused { status: 403, .. }))
}
