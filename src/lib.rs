//! vaultplate: fills Vault-backed placeholders in Kubernetes manifests.
//!
//! The folders, each one concern, importing one way (a module uses only those listed before it):
//!
//! - [`sensitive`]: a wrapper that keeps secret text out of `Debug` and messages;
//! - [`yaml`]: a YAML parser with byte spans and an editor that changes only replaced scalars;
//! - [`placeholder`]: the placeholder grammar, the modifiers and JSONPath, secret path rules;
//! - [`secrets`]: the seam the engine reads secrets through, the Vault backend (client, TLS,
//!   logins, token cache, the session that reads each distinct secret once), and the masking
//!   of values in others' messages;
//! - [`config`]: the settings table, their precedence (flags, environment, config file,
//!   Kubernetes Secret) and their validation into a [`config::Config`];
//! - [`engine`]: the generate pipeline: read, parse, outline, select, plan, read secrets, fill,
//!   assemble all or nothing;
//! - [`render`]: Argo CD applications: discovery, the Application's parameters, helm and
//!   kustomize in a sandbox, Helm values filled before helm reads them;
//! - [`watch`]: usage records of renders, and `vaultplate watch`, which asks Argo CD for a
//!   hard refresh of the Applications whose secrets changed;
//! - [`shell`]: the process: command line, help, logging, deadline, signals, exit codes.
//!
//! `ARCHITECTURE.md` walks through the data flow and where to add things.

pub mod config;
pub(crate) mod engine;
pub mod placeholder;
pub mod render;
pub mod secrets;
pub(crate) mod sensitive;
pub(crate) mod shell;
pub(crate) mod watch;
pub mod yaml;

pub use shell::run::main_with_args;
