//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::kube_secret::KubeSecretName;

/// The version and git commit, as `--version` and `vaultplate version` print them after the
/// program name: `0.1.0 (commit abcdef123456)`.
pub(crate) const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("VAULTPLATE_GIT_COMMIT"),
    ")"
);

/// Fills Vault-backed placeholders in Kubernetes manifests (argocd-vault-plugin compatible).
#[derive(Debug, Parser)]
#[command(name = "vaultplate", version = VERSION, about, long_about = None,
    after_help = crate::shell::help::reference())]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Fill placeholders in manifests and print them.
    #[command(after_help = crate::shell::help::reference())]
    Generate(GenerateArgs),
    /// Build an application directory (kustomize, Helm or plain), fill placeholders, print.
    #[command(after_help = crate::shell::help::reference())]
    Render(RenderArgs),
    /// Check that every placeholder of DIR (rendered like `render`), a file or - (read like
    /// `generate`) resolves against Vault; print no value, only the outcome.
    #[command(after_help = crate::shell::help::reference())]
    Check(CheckArgs),
    /// Exit 0 and print the source type when DIR, what its kustomization leads to inside the
    /// repository, or the Application's parameters hold placeholders or avp annotations.
    Discover(DiscoverArgs),
    /// Check the sidecar's set-up (plugin.yaml, folders, helm, kustomize, Vault address,
    /// login, a path): one line each, OK, FAIL with a fix, SKIP or WARN; exit 0 unless one fails.
    Doctor(DoctorArgs),
    /// Print the version and git commit.
    Version,
}

/// Options of `generate`.
#[derive(Debug, Args)]
pub(crate) struct GenerateArgs {
    /// A file, a directory (walked for *.yaml, *.yml, *.json), or - for standard input.
    pub path: String,
    /// Options shared with `render`.
    #[command(flatten)]
    pub run: RunArgs,
    /// What placeholders become.
    #[command(flatten)]
    pub fill: FillArgs,
}

/// Options of `render`.
#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    /// The application directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Options shared with `generate`.
    #[command(flatten)]
    pub run: RunArgs,
    /// What placeholders become.
    #[command(flatten)]
    pub fill: FillArgs,
}

/// Options of `check`.
#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// An application directory (rendered like `render`), a manifest file, or - for standard
    /// input (read like `generate`).
    #[arg(default_value = ".")]
    pub path: String,
    /// `human`: one line per problem and a summary; `json`: one object per placeholder.
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
    /// Options shared with `render` and `generate`.
    #[command(flatten)]
    pub run: RunArgs,
}

/// How `check` prints its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum CheckFormat {
    /// Problems on stderr, a summary line on stdout.
    Human,
    /// A JSON array on stdout, one object per placeholder.
    Json,
}

/// What `render` and `generate` fill placeholders with.
#[derive(Debug, Args)]
pub(crate) struct FillArgs {
    /// Print a mask (vaultplate:sha256-hmac:<12 hex>, keyed with VAULTPLATE_REDACT_KEY) instead
    /// of every value, for diffs that show which secrets changed without their values.
    #[arg(long, conflicts_with = "no_resolve")]
    pub redact: bool,
    /// Leave placeholders as written and contact no Vault (structure-only renders).
    #[arg(long)]
    pub no_resolve: bool,
}

/// Options of `doctor`.
#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// Also check that the identity may read this secret path (its values are never printed).
    #[arg(long, value_name = "PATH")]
    pub path: Option<String>,
    /// A config file: YAML or JSON mapping of settings, or KEY=value lines.
    #[arg(short = 'c', long, value_name = "FILE")]
    pub config_path: Option<PathBuf>,
    /// Settings from this Kubernetes Secret's data (namespace `argocd` unless given).
    #[arg(short = 's', long, value_name = "[NAMESPACE:]NAME", value_parser = KubeSecretName::parse)]
    pub secret_name: Option<KubeSecretName>,
}

/// Options of `discover`.
#[derive(Debug, Args)]
pub(crate) struct DiscoverArgs {
    /// The application directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

/// Options of every command that fills placeholders.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// Exit 0 even when there are no manifests (by default that is an error, so that an
    /// upstream render that printed nothing never makes Argo CD prune an application).
    #[arg(long)]
    pub allow_empty: bool,
    /// A config file: YAML or JSON mapping of settings, or KEY=value lines.
    #[arg(short = 'c', long, value_name = "FILE")]
    pub config_path: Option<PathBuf>,
    /// Settings from this Kubernetes Secret's data (namespace `argocd` unless given); the
    /// environment and the config file take precedence over it.
    #[arg(short = 's', long, value_name = "[NAMESPACE:]NAME", value_parser = KubeSecretName::parse)]
    pub secret_name: Option<KubeSecretName>,
    /// Never read or write a cached Vault token.
    #[arg(long)]
    pub disable_token_cache: bool,
    /// Log what is done (paths, counts, timings) on stderr; secret values are never printed.
    #[arg(long, visible_alias = "verbose-sensitive-output")]
    pub verbose: bool,
}
