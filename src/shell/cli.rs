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
    /// Watch the usage records `render` leaves in VAULTPLATE_RECORDS_DIR and ask Argo CD for a
    /// hard refresh of every Application whose secret changed in Vault (a second container of
    /// the repo-server pod).
    Watch(WatchArgs),
    /// Print the version and git commit.
    Version,
}

/// Options of `watch`.
#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    /// Time between passes (1s to 24h; each wait varies by up to 10 %).
    #[arg(long, default_value = "60s", value_parser = parse_interval)]
    pub interval: std::time::Duration,
    /// One pass, then exit: 0 when it completed, 1 when Vault or the Kubernetes API could not
    /// be asked.
    #[arg(long)]
    pub once: bool,
    /// Serve /healthz and /metrics (Prometheus text) on this address.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<std::net::SocketAddr>,
    /// Namespace of Argo CD's own Applications (default: kube's: the pod's own, or the
    /// kubeconfig context's).
    #[arg(long, value_name = "NAMESPACE", value_parser = parse_namespace)]
    pub argocd_namespace: Option<String>,
    /// Most Applications patched per minute; the others wait for a later pass.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub max_refreshes_per_minute: u32,
    /// A config file: YAML or JSON mapping of settings, or KEY=value lines.
    #[arg(short = 'c', long, value_name = "FILE")]
    pub config_path: Option<PathBuf>,
    /// Settings from this Kubernetes Secret's data (namespace `argocd` unless given).
    #[arg(short = 's', long, value_name = "[NAMESPACE:]NAME", value_parser = KubeSecretName::parse)]
    pub secret_name: Option<KubeSecretName>,
    /// Log every pass (paths, counts) on stderr; secret values are never printed.
    #[arg(long)]
    pub verbose: bool,
}

/// `--interval`: a duration from 1s to 24h.
fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    let interval = crate::config::parse_duration(text).map_err(str::to_owned)?;
    if (std::time::Duration::from_secs(1)..=std::time::Duration::from_secs(86_400))
        .contains(&interval)
    {
        Ok(interval)
    } else {
        Err("must be from 1s to 24h".to_owned())
    }
}

/// `--argocd-namespace`: a namespace name.
fn parse_namespace(text: &str) -> Result<String, String> {
    if crate::config::kube_secret::is_dns_label(text) {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "{text:?} is not a namespace name (lowercase letters, digits and '-', at most 63)"
        ))
    }
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
