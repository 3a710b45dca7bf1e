//! What the integration tests stand on: real OpenBao servers ([`OpenBao`]), the [`Case`]
//! builder that runs the built binary, a server that fails on purpose ([`FaultServer`]),
//! stand-ins for what OpenBao calls or lacks ([`StandIn`]), a stand-in for the Kubernetes
//! API's Secret reads ([`KubeApi`]), keys and certificates made in the test ([`TestCa`],
//! [`JwtKey`]), and the pinned tools from `scripts/install-tools`. The test's own servers
//! (fault server, stand-ins) are handlers on one loopback HTTP server, `http::Server`.

// Each test module uses a different part of the support code; the rest is not dead.
#![allow(dead_code, reason = "helpers for test modules that come and go")]

mod case;
pub(crate) mod chart_repos;
mod fault;
mod github_login;
mod http;
mod kube_api;
mod openbao;
mod pki;
mod standin;
mod token_review_api;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

pub(crate) use case::{Case, Outcome, house_rule_violations, unindent};
pub(crate) use fault::FaultServer;
pub(crate) use github_login::github_login;
pub(crate) use kube_api::{KUBE_TOKEN, KubeApi, kubeconfig_for};
pub(crate) use openbao::OpenBao;
pub(crate) use pki::{JwtKey, TestCa, now};
pub(crate) use standin::StandIn;
pub(crate) use token_review_api::{ServiceAccount, token_review_api};

/// The names of the entries of `dir`, sorted; none when it cannot be read (e.g. is missing).
pub(crate) fn file_names(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Directory holding `bao`, `helm` and `kubectl`: `$VAULTPLATE_TOOLS` (set by `scripts/test`),
/// else `.tools/bin` in this checkout (where `scripts/install-tools` puts them).
pub(crate) fn tools_dir() -> PathBuf {
    std::env::var_os("VAULTPLATE_TOOLS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".tools/bin"),
        PathBuf::from,
    )
}

/// Path of a pinned tool; panics (never skips) when it is not installed.
pub(crate) fn tool(name: &str) -> PathBuf {
    let path = tools_dir().join(name);
    assert!(
        path.is_file(),
        "`{name}` is not installed at {}: run scripts/install-tools \
         (or point VAULTPLATE_TOOLS at a directory holding it)",
        path.display()
    );
    path
}

/// `prefix` plus a counter, unique within this test process (and so within its OpenBao
/// server): parallel tests that put their secrets, roles and users under their own `unique`
/// name never share them, and audit counts filtered by it are theirs alone.
pub(crate) fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    // Fixed width, so that no name is a prefix of another with the same `prefix`.
    format!("{prefix}-{:05}", NEXT.fetch_add(1, Ordering::Relaxed))
}
