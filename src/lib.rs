//! vaultplate: fills Vault-backed placeholders in Kubernetes manifests.
//!
//! Data flows one way, one module per stage, driven by [`generate::generate`]:
//!
//! 1. [`source`]: read standard input, a file or a directory;
//! 2. [`yaml`]: parse each stream into documents of nodes with byte spans, handing each
//!    document on as soon as it is complete, so that only its outline outlives its tree:
//! 3. [`manifest`]: tell Kubernetes objects from other documents, read their
//!    `avp.kubernetes.io/*` annotations, and have
//! 4. [`scan`] find their placeholders ([`placeholder`], [`modifier`]) and what secret each
//!    reads (paths checked by [`secret_path`]); then select the objects to print;
//! 5. [`fetch`]: log in once (or reuse a token from [`token_cache`]) and read each distinct
//!    secret once, concurrently ([`vault`]);
//! 6. [`fill`]: compute the new value of every placeholder-holding scalar, manifest by manifest
//!    as
//! 7. [`output`] edits those scalars in place and assembles all documents; all are printed, or
//!    nothing.
//!
//! Settings come from [`settings`] (the table and precedence) and [`config`] (validation),
//! which reads the config file and the Kubernetes Secret ([`kube_secret`]).

pub mod app_params;
pub mod child;
pub mod cli;
pub mod config;
pub mod credential;
pub mod deadline;
pub mod discover;
pub mod fetch;
pub mod fill;
pub mod generate;
pub mod help;
pub mod jsonpath;
pub mod kube_secret;
pub mod manifest;
pub mod mask;
pub mod modifier;
pub mod output;
pub mod placeholder;
pub mod problem;
pub mod render;
pub mod run;
pub mod scan;
pub mod secret_path;
pub mod sensitive;
pub mod settings;
pub mod signals;
pub mod source;
pub mod token_cache;
pub mod vault;
pub mod yaml;

pub use run::main_with_args;
