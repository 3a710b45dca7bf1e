//! The one integration-test binary. Every CLI test runs the built `vaultplate` through
//! [`support::Case`], against a real OpenBao server started once per test process
//! ([`support::OpenBao::shared`]). Test modules are declared below, one concern each.

mod support;

mod architecture;
mod auth_methods;
mod bench_workload;
mod check;
mod cli;
mod cmp;
mod discovery;
mod doctor;
mod errors;
mod fidelity;
mod harness_selftest;
mod hostile_files;
mod inputs;
mod jsonpath;
mod kube_secret;
mod migration;
mod packaging;
mod placeholders;
mod readme;
mod redact;
mod render;
mod render_helm_params;
mod render_kustomize;
mod render_remote_charts;
mod teams;
mod templates;
mod token_cache;
mod vault_access;
mod vault_redirects;
mod vault_tls;
mod vault_transport;
mod watch;
