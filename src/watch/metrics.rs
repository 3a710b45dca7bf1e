//! The watcher's counters, and their Prometheus text form for `/metrics`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// What can go wrong, as the `kind` label of `vaultplate_watch_errors_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    /// Vault unreachable, a refused login, a refused or broken answer.
    Vault,
    /// The Kubernetes API unreachable or answering an error other than 403.
    Kubernetes,
    /// The Kubernetes API refused a patch (403): RBAC.
    Forbidden,
    /// A record that cannot be read, or written.
    Records,
}

impl ErrorKind {
    const ALL: [ErrorKind; 4] = [
        ErrorKind::Vault,
        ErrorKind::Kubernetes,
        ErrorKind::Forbidden,
        ErrorKind::Records,
    ];

    fn label(self) -> &'static str {
        match self {
            ErrorKind::Vault => "vault",
            ErrorKind::Kubernetes => "kubernetes",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Records => "records",
        }
    }
}

/// The counters, shared by the passes and the HTTP endpoint.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    paths: AtomicU64,
    changes: AtomicU64,
    refreshes: AtomicU64,
    errors: [AtomicU64; 4],
}

impl Metrics {
    /// Distinct paths asked about in the last pass.
    pub(crate) fn set_paths(&self, paths: usize) {
        self.paths.store(paths as u64, Ordering::Relaxed);
    }

    /// One more Application found with a newer secret than it rendered.
    pub(crate) fn change(&self) {
        self.changes.fetch_add(1, Ordering::Relaxed);
    }

    /// One more Application patched for a hard refresh.
    pub(crate) fn refresh(&self) {
        self.refreshes.fetch_add(1, Ordering::Relaxed);
    }

    /// One more error of `kind`.
    pub(crate) fn error(&self, kind: ErrorKind) {
        self.errors[kind as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Prometheus text exposition format (version 0.0.4).
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, samples: &[(String, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        metric(
            "vaultplate_watch_paths",
            "gauge",
            "Distinct secret paths asked about in the last pass.",
            &[(String::new(), load(&self.paths))],
        );
        metric(
            "vaultplate_watch_changes_total",
            "counter",
            "Applications found with a newer secret than they rendered.",
            &[(String::new(), load(&self.changes))],
        );
        metric(
            "vaultplate_watch_refreshes_total",
            "counter",
            "Applications patched with argocd.argoproj.io/refresh: hard.",
            &[(String::new(), load(&self.refreshes))],
        );
        let errors: Vec<(String, u64)> = ErrorKind::ALL
            .iter()
            .map(|k| {
                (
                    format!("{{kind=\"{}\"}}", k.label()),
                    load(&self.errors[*k as usize]),
                )
            })
            .collect();
        metric(
            "vaultplate_watch_errors_total",
            "counter",
            "Errors by kind: vault, kubernetes, forbidden (RBAC), records.",
            &errors,
        );
        out
    }
}
