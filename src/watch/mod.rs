//! `vaultplate watch`: rotation without a hard refresh. `render` leaves a usage record per
//! Application ([`record`]); the watcher, a second container of the repo-server pod, asks
//! Vault once per distinct path every interval ([`observe`]) and patches the Applications whose
//! secrets changed with `argocd.argoproj.io/refresh: hard` ([`apps`]), one pass at a time
//! ([`pass`]), with its own Vault login ([`vault`]), counters ([`metrics`]) and an HTTP
//! endpoint for them ([`serve`]).

pub(crate) mod apps;
pub(crate) mod metrics;
pub(crate) mod observe;
pub(crate) mod pass;
pub(crate) mod record;
pub(crate) mod serve;
pub(crate) mod vault;

use std::collections::{BTreeMap, HashSet};
use std::io::Read as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tracing::{debug, info, warn};

use crate::config::Config;
use crate::secrets::SecretReader;
use crate::secrets::vault::token_cache::TokenCache;
use crate::watch::apps::Applications;
use crate::watch::metrics::Metrics;
use crate::watch::pass::{Outcome, RateLimit, Watcher};
use crate::watch::record::AppId;

/// How the watcher runs (its command-line options).
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Time between passes, before jitter.
    pub interval: Duration,
    /// One pass, then exit.
    pub once: bool,
    /// Where `/healthz` and `/metrics` are served.
    pub listen: Option<SocketAddr>,
    /// Where Applications named without a namespace live.
    pub argocd_namespace: Option<String>,
    /// Most patches per minute.
    pub max_refreshes_per_minute: u32,
}

/// Runs the watcher. `Ok(true)` when it stopped on a signal or its one pass completed,
/// `Ok(false)` when the one pass (`--once`) could not ask Vault or the API; `Err` when it
/// cannot start.
pub(crate) fn run(options: &Options, config: &Config) -> Result<bool, String> {
    let dir = config.records_dir.clone().ok_or(
        "VAULTPLATE_RECORDS_DIR is not set: the watcher reads the records `render` writes there \
         (set it to the same folder in both containers)",
    )?;
    if !dir.is_dir() {
        return Err(format!(
            "VAULTPLATE_RECORDS_DIR {} is not a folder",
            dir.display()
        ));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(watch(options, config, dir))
}

async fn watch(options: &Options, config: &Config, dir: PathBuf) -> Result<bool, String> {
    use tokio::signal::unix::{SignalKind, signal};
    let metrics = Arc::new(Metrics::default());
    if let Some(addr) = options.listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr} (--listen): {e}"))?;
        info!("serving /healthz and /metrics on {addr}");
        tokio::spawn(serve::serve(listener, Arc::clone(&metrics)));
    }
    let apps = Applications::connect(options.argocd_namespace.clone())
        .await
        .map_err(|e| format!("Kubernetes API: {e}"))?;
    if config.records_key.is_none() {
        warn!("VAULTPLATE_RECORDS_KEY is not set: changes of KV v1 secrets cannot be seen");
    }
    // Its own entry of the token cache, found as the renders find theirs (`XDG_CACHE_HOME`).
    let cache = TokenCache::from_env(false, |name| std::env::var_os(name));
    let mut login = vault::VaultLogin::new(&config.vault, &cache);
    let mut watcher = Watcher {
        dir: &dir,
        key: config.records_key.as_ref(),
        concurrency: config.concurrency,
        vault: &mut login,
        apps: &apps,
        metrics: &metrics,
        limit: RateLimit::new(options.max_refreshes_per_minute),
        counted: HashSet::new(),
    };
    if options.once {
        return Ok(watcher.pass().await == Outcome::Complete);
    }
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM: {e}"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("SIGINT: {e}"))?;
    let mut random = Random::new();
    let mut failures = 0u32;
    info!(
        "watching {} every {:?} (Applications in {} unless named with a namespace)",
        dir.display(),
        options.interval,
        apps.home
    );
    loop {
        let outcome = tokio::select! {
            outcome = watcher.pass() => outcome,
            _ = term.recv() => break,
            _ = int.recv() => break,
        };
        failures = match outcome {
            Outcome::Complete => 0,
            Outcome::Incomplete => failures.saturating_add(1),
        };
        let wait = pass::next_wait(options.interval, failures, random.next());
        debug!(?wait, failures, "next pass");
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    info!("stopped by a signal");
    Ok(true)
}

/// Writes the usage record of a successful render, when `VAULTPLATE_RECORDS_DIR` is set and
/// Argo CD named the Application. A record that cannot be written never fails the render
/// (its manifests are right); it is logged, and the previous record stays.
pub(crate) fn record_render(
    config: &Config,
    env: &BTreeMap<String, String>,
    secrets: &dyn SecretReader,
) {
    let Some(dir) = &config.records_dir else {
        return;
    };
    let Some(name) = env.get("ARGOCD_APP_NAME").filter(|n| !n.is_empty()) else {
        debug!("no ARGOCD_APP_NAME: no usage record");
        return;
    };
    let app = match AppId::parse(name) {
        Ok(app) => app,
        Err(why) => {
            return warn!("no usage record: ARGOCD_APP_NAME {why}");
        }
    };
    let record = record::record_of(
        name,
        secrets.answers(),
        |s| secrets.version_read(s),
        config.records_key.as_ref(),
    );
    match record::write(dir, &app, &record) {
        Ok(()) => debug!(
            application = %app,
            secrets = record.secrets.len(),
            "wrote the usage record"
        ),
        Err(e) => warn!(
            "cannot write the usage record of Application {app} in VAULTPLATE_RECORDS_DIR {}: {e}",
            dir.display()
        ),
    }
}

/// A small xorshift generator for jitter, seeded from the system.
struct Random(u64);

impl Random {
    fn new() -> Self {
        let mut seed = [0u8; 8];
        let _ = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut seed));
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| u64::from(d.subsec_nanos()));
        Random(u64::from_le_bytes(seed) ^ nanos | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
