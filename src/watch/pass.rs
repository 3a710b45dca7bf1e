//! One pass of `watch`: read the records, ask Vault once per distinct path, patch every
//! Application whose unpinned secret is newer than what it rendered (once per change, within
//! the rate limit), and forget the records of Applications that are gone.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::{debug, error, info, warn};

use crate::placeholder::secret_ref::KvVersion;
use crate::sensitive::Sensitive;
use crate::watch::apps::{Applications, Patched};
use crate::watch::metrics::{ErrorKind, Metrics};
use crate::watch::observe;
use crate::watch::record::{self, Marker};

/// How a pass ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Vault and the API were asked (some paths may still have been refused).
    Complete,
    /// Vault or the Kubernetes API could not be asked: nothing was patched on uncertainty.
    Incomplete,
}

/// Patches per minute, as a token bucket.
#[derive(Debug)]
pub(crate) struct RateLimit {
    per_minute: u32,
    tokens: f64,
    last: Instant,
}

impl RateLimit {
    /// At most `per_minute` patches a minute, the whole minute's worth at once.
    pub(crate) fn new(per_minute: u32) -> Self {
        RateLimit {
            per_minute,
            tokens: f64::from(per_minute),
            last: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill =
            now.duration_since(self.last).as_secs_f64() * f64::from(self.per_minute) / 60.0;
        self.tokens = (self.tokens + refill).min(f64::from(self.per_minute));
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What passes share.
pub(crate) struct Watcher<'a> {
    pub dir: &'a Path,
    pub key: Option<&'a Sensitive>,
    pub concurrency: usize,
    pub vault: &'a mut super::vault::VaultLogin<'a>,
    pub apps: &'a Applications,
    pub metrics: &'a Arc<Metrics>,
    pub limit: RateLimit,
    /// Changes already counted (record file, its time, what was seen), so that one deferred
    /// by the rate limit is counted once.
    pub counted: HashSet<(String, u64, String)>,
}

impl Watcher<'_> {
    /// Runs one pass.
    pub(crate) async fn pass(&mut self) -> Outcome {
        let (found, problems) = match record::read_all(self.dir) {
            Ok(read) => read,
            Err(e) => {
                self.metrics.error(ErrorKind::Records);
                error!("cannot read the records folder {}: {e}", self.dir.display());
                return Outcome::Incomplete;
            }
        };
        for problem in problems {
            self.metrics.error(ErrorKind::Records);
            warn!("skipping a record: {problem}");
        }
        let wanted: BTreeSet<(String, KvVersion)> = found
            .iter()
            .flat_map(|f| f.record.secrets.iter())
            .filter(|u| u.watchable())
            .filter(|u| u.kv() == KvVersion::V2 || self.key.is_some())
            .map(|u| (u.path.clone(), u.kv()))
            .collect();
        self.metrics.set_paths(wanted.len());
        debug!(records = found.len(), paths = wanted.len(), "pass");
        if wanted.is_empty() {
            return Outcome::Complete;
        }
        let client = match self.vault.client().await {
            Ok(client) => client,
            Err(e) => {
                self.metrics.error(ErrorKind::Vault);
                error!("cannot log in to Vault: {e}; nothing is patched until it answers");
                return Outcome::Incomplete;
            }
        };
        let seen = match observe::observe(&client, wanted, self.key, self.concurrency).await {
            Ok(seen) => seen,
            Err(e) => {
                self.metrics.error(ErrorKind::Vault);
                self.vault.forget_if_refused(&e);
                error!("cannot ask Vault: {e}; nothing is patched until it answers");
                return Outcome::Incomplete;
            }
        };
        for ((path, _), answer) in &seen {
            if let Err(e) = answer {
                self.metrics.error(ErrorKind::Vault);
                self.vault.forget_if_refused(e);
                warn!("cannot tell whether {path} changed: {e}");
            }
        }
        let mut outcome = Outcome::Complete;
        for found in found {
            let changed: BTreeMap<String, (String, String)> = found
                .record
                .secrets
                .iter()
                .filter(|u| u.watchable())
                .filter_map(|u| match seen.get(&(u.path.clone(), u.kv())) {
                    Some(Ok(now)) if now.newer_than(u) => {
                        Some((u.path.clone(), (recorded(u), now.label())))
                    }
                    _ => None,
                })
                .collect();
            if changed.is_empty() {
                continue;
            }
            let marker = Marker {
                rendered_at_ms: found.record.rendered_at_ms,
                seen: changed
                    .iter()
                    .map(|(p, (_, now))| (p.clone(), now.clone()))
                    .collect(),
            };
            if found.marker.as_ref() == Some(&marker) {
                continue;
            }
            let what = changed
                .iter()
                .map(|(p, (was, now))| format!("{p} ({was} -> {now})"))
                .collect::<Vec<_>>()
                .join(", ");
            let id = (found.app.stem(), found.record.rendered_at_ms, what.clone());
            if self.counted.insert(id) {
                self.metrics.change();
            }
            if !self.limit.take() {
                debug!(
                    "rate limit reached: refreshing Application {} on a later pass",
                    found.app
                );
                continue;
            }
            let namespace = self.apps.namespace_of(&found.app).to_owned();
            match self.apps.refresh(&found.app).await {
                Patched::Done => {
                    self.metrics.refresh();
                    info!(
                        "asked Argo CD for a hard refresh of Application {} in {namespace}: {what}",
                        found.app
                    );
                    if let Err(e) = record::mark(self.dir, &found.app, &marker) {
                        self.metrics.error(ErrorKind::Records);
                        warn!(
                            "cannot note the refresh of {} in {}: {e}",
                            found.app,
                            self.dir.display()
                        );
                    }
                }
                Patched::Gone => {
                    info!(
                        "Application {} no longer exists in {namespace}: removing its record",
                        found.app
                    );
                    record::remove(self.dir, &found.app);
                }
                Patched::Forbidden(message) => {
                    self.metrics.error(ErrorKind::Forbidden);
                    outcome = Outcome::Incomplete;
                    error!(
                        "the Kubernetes API at {} refused to patch Application {} (403): the \
                         watcher's service account needs the RBAC verb patch on \
                         applications.argoproj.io in namespace {namespace}; the API said: {message}",
                        self.apps.api, found.app
                    );
                }
                Patched::Failed(why) => {
                    self.metrics.error(ErrorKind::Kubernetes);
                    error!("cannot patch Application {}: {why}", found.app);
                    return Outcome::Incomplete;
                }
            }
        }
        outcome
    }
}

/// What a record says of a secret, in the markers' notation.
fn recorded(used: &record::Used) -> String {
    match (used.kv(), used.version, &used.hmac) {
        (KvVersion::V2, Some(v), _) => format!("v{v}"),
        (KvVersion::V2, None, _) => "v-".to_owned(),
        (KvVersion::V1, _, Some(_)) => "h(recorded)".to_owned(),
        (KvVersion::V1, _, None) => "h-".to_owned(),
    }
}

/// The wait before the next pass: `interval` with up to ±10 % jitter, doubled for each of the
/// last failed passes (at most 8 times the interval, at most 10 minutes more than it).
pub(crate) fn next_wait(interval: Duration, failures: u32, random: u64) -> Duration {
    let factor = 1u32 << failures.min(3);
    let base = interval
        .saturating_mul(factor)
        .min(interval + Duration::from_secs(600));
    // random in [0, 2^64): a factor in [0.9, 1.1).
    let jitter = 0.9 + 0.2 * (random >> 11) as f64 / (1u64 << 53) as f64;
    base.mul_f64(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_have_jitter_and_back_off() {
        let minute = Duration::from_secs(60);
        assert_eq!(next_wait(minute, 0, 1 << 63), minute);
        assert!(next_wait(minute, 0, 0) >= Duration::from_secs(54));
        assert!(next_wait(minute, 0, u64::MAX) < Duration::from_secs(67));
        assert_eq!(next_wait(minute, 1, 1 << 63), 2 * minute);
        assert_eq!(next_wait(minute, 9, 1 << 63), 8 * minute);
    }

    #[test]
    fn the_rate_limit_holds_a_minute_of_patches() {
        let mut limit = RateLimit::new(2);
        assert!(limit.take() && limit.take());
        assert!(!limit.take());
    }
}
