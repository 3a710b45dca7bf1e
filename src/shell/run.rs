//! The process around the library: command line, logging, deadline, signals, stdout and exit
//! codes.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

use crate::config::Config;
use crate::engine::check::{self, Entry, Ledger};
use crate::engine::generate::{self, GenerateRequest};
use crate::engine::mode::{FillMode, Resolution};
use crate::engine::output::Output;
use crate::engine::problem::Problem;
use crate::engine::redact::RedactKey;
use crate::engine::source;
use crate::render;
use crate::render::child;
use crate::render::{autodiscover, discover};
use crate::secrets::SecretReader;
use crate::secrets::vault::session::Session;
use crate::secrets::vault::token_cache::TokenCache;
use crate::shell::cli::{self, CheckFormat, Cli, Command, FillArgs, RunArgs};
use crate::shell::deadline::OutputGate;
use crate::shell::doctor;
use crate::shell::signals;
use crate::shell::signals::Stop;
use crate::watch;

/// Runs the command line `args` (program name first) and returns the process exit code:
/// 0 on success, 1 when the run failed, 2 for a usage error, 143/130 when stopped by
/// SIGTERM/SIGINT. Started through the link a render gives kustomize as its helm
/// (`render/helm_shim.rs`), it checks helm's arguments and runs helm instead.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let mut args = args.into_iter().peekable();
    if let Some(link) = args.next_if(render::helm_shim::started_as_shim) {
        return render::helm_shim::run(&link, args.collect());
    }
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Version => write_stdout(|out| writeln!(out, "{}", version())),
        Command::Doctor(args) => {
            init_logging(false);
            doctor::doctor(&args)
        }
        Command::Discover(args) => {
            let env: BTreeMap<String, String> = std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect();
            if autodiscover::wants_vaultplate(&args.dir, &env) {
                write_stdout(|out| writeln!(out, "{}", discover::detect(&args.dir)))
            } else {
                ExitCode::FAILURE
            }
        }
        Command::Generate(args) => run(&args.run, Want::of(&args.fill), |job| {
            generate_from(&args.path, args.run.allow_empty, job)
        }),
        Command::Render(args) => run(&args.run, Want::of(&args.fill), |job| {
            let request = render::RenderRequest {
                dir: args.dir.clone(),
                allow_empty: args.run.allow_empty,
            };
            let output = render::render(&request, job.config, job.env, job.secrets, job.mode)?;
            if job.mode.reads() {
                watch::record_render(job.config, job.env, &*job.secrets);
            }
            Ok(output)
        }),
        Command::Watch(args) => watch(&args),
        Command::Check(args) => run(&args.run, Want::Check(args.format), |job| {
            if args.path != "-" && std::path::Path::new(&args.path).is_dir() {
                let request = render::RenderRequest {
                    dir: args.path.clone().into(),
                    allow_empty: args.run.allow_empty,
                };
                render::render(&request, job.config, job.env, job.secrets, job.mode)
            } else {
                generate_from(&args.path, args.run.allow_empty, job)
            }
        }),
    }
}

/// What a run prints.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// The manifests, filled with values.
    Values,
    /// The manifests, filled with masks (`--redact`).
    Masks,
    /// The manifests as written (`--no-resolve`).
    AsWritten,
    /// Each placeholder's outcome (`check`), no manifest.
    Check(CheckFormat),
}

impl Want {
    fn of(fill: &FillArgs) -> Self {
        if fill.redact {
            Want::Masks
        } else if fill.no_resolve {
            Want::AsWritten
        } else {
            Want::Values
        }
    }

    /// How placeholders are filled for this output.
    fn mode(self, config: &Config) -> Result<FillMode, Problem> {
        let resolution = match self {
            Want::Values => Resolution::Values,
            Want::AsWritten => Resolution::AsWritten,
            Want::Masks => Resolution::Masks(match &config.redact_key {
                Some(key) => RedactKey::new(key.clone()),
                None => RedactKey::random().map_err(|e| {
                    Problem::general(format!(
                        "cannot make a random key for --redact (set VAULTPLATE_REDACT_KEY): {e}"
                    ))
                })?,
            }),
            Want::Check(_) => {
                return Ok(FillMode {
                    resolution: Resolution::Values,
                    ledger: Some(Ledger::default()),
                });
            }
        };
        Ok(FillMode {
            resolution,
            ledger: None,
        })
    }
}

/// What a job of [`run`] works with.
struct Job<'a> {
    config: &'a Config,
    env: &'a BTreeMap<String, String>,
    secrets: &'a mut dyn SecretReader,
    mode: &'a FillMode,
}

/// `generate` of `path` (a file, a folder, or `-` for standard input) as `job` asks.
fn generate_from(path: &str, allow_empty: bool, job: Job<'_>) -> Result<Output, Vec<Problem>> {
    let request = GenerateRequest {
        path,
        stdin_size: source::regular_file_size(std::io::stdin()),
        allow_empty,
        env: job.env,
    };
    let stdin = &mut std::io::stdin().lock();
    generate::generate(&request, job.config, stdin, job.secrets, job.mode)
}

/// `vaultplate 0.1.0 (commit abcdef123456)`.
pub(crate) fn version() -> String {
    format!("vaultplate {}", cli::VERSION)
}

/// Runs a command that fills placeholders: settings, then `job` under the deadline and the
/// signal handlers; prints its whole output, or its problems and nothing on stdout.
fn run(
    args: &RunArgs,
    want: Want,
    job: impl FnOnce(Job<'_>) -> Result<Output, Vec<Problem>>,
) -> ExitCode {
    let started = Instant::now();
    init_logging(args.verbose);
    let env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let config = match Config::resolve(
        env.clone(),
        args.config_path.as_deref(),
        args.secret_name.as_ref(),
    ) {
        Ok(config) => config,
        Err(e) => return report(&[Problem::general(e)]),
    };
    let mode = match want.mode(&config) {
        Ok(mode) => mode,
        Err(problem) => return report(&[problem]),
    };
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    let deadline = config.deadline;
    let gate = OutputGate::default();
    let on_stop = gate.clone();
    // Reading the Kubernetes Secret took part of the run's time already.
    signals::watch(deadline.saturating_sub(started.elapsed()), move |stop| {
        on_stop.give_up(|| {
            child::stop_all();
            let (message, code) = match stop {
                Stop::Deadline => (
                    format!(
                        "the run did not finish within {deadline:?} (VAULTPLATE_TIMEOUT); nothing was printed"
                    ),
                    1,
                ),
                Stop::Signal(name) => (
                    format!("stopped by {name}; nothing was printed"),
                    if name == "SIGINT" { 130 } else { 143 },
                ),
            };
            let _ = report(&[Problem::general(message)]);
            std::process::exit(code);
        });
    });
    let token_cache = TokenCache::from_env(args.disable_token_cache, |name| std::env::var_os(name));
    let mut session = Session::new(&config.vault, config.concurrency, &token_cache);
    let result = job(Job {
        config: &config,
        env: &env,
        secrets: &mut session,
        mode: &mode,
    });
    gate.finish(|| match (want, result) {
        (Want::Check(format), result) => {
            let mut entries = mode.ledger.map(Ledger::into_entries).unwrap_or_default();
            let problems = result.err().unwrap_or_default();
            // Refusals found before Vault was contacted (the policy's) list their placeholders.
            entries.extend(problems.iter().flat_map(|p| p.refused.iter().cloned()));
            print_check(format, &entries, problems)
        }
        (_, Ok(output)) => write_stdout(|out| output.write_to(out)),
        (_, Err(problems)) => report(&problems),
    })
    .unwrap_or(ExitCode::FAILURE)
}

/// `vaultplate watch`: its settings as a render's (the watcher's own container environment,
/// config file or Secret), then passes until SIGTERM, or one pass with `--once`.
fn watch(args: &cli::WatchArgs) -> ExitCode {
    init_logging_at(if args.verbose {
        tracing::Level::DEBUG
    } else {
        tracing::Level::INFO
    });
    let env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let config = match Config::resolve(env, args.config_path.as_deref(), args.secret_name.as_ref())
    {
        Ok(config) => config,
        Err(e) => return report(&[Problem::general(e)]),
    };
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    let options = watch::Options {
        interval: args.interval,
        once: args.once,
        listen: args.listen,
        argocd_namespace: args.argocd_namespace.clone(),
        max_refreshes_per_minute: args.max_refreshes_per_minute,
    };
    match watch::run(&options, &config) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => report(&[Problem::general(e)]),
    }
}

/// Logs vaultplate's own events only: libraries report through our errors, not log lines of
/// their own (kube logs an `ERROR` line for every failed request, ahead of our one line).
fn init_logging(verbose: bool) {
    init_logging_at(if verbose {
        tracing::Level::DEBUG
    } else {
        tracing::Level::WARN
    });
}

/// [`init_logging`] at `level`.
fn init_logging_at(level: tracing::Level) {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let format = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_ansi(false);
    let _ = tracing_subscriber::registry()
        .with(format)
        .with(
            tracing_subscriber::filter::Targets::new().with_target(env!("CARGO_CRATE_NAME"), level),
        )
        .try_init();
}

/// Prints `check`'s outcome: the problems on stderr, then the summary line (on stdout when
/// everything resolved, else on stderr after the problems), or the JSON array on stdout
/// whatever the outcome. Success only when there is no problem.
fn print_check(format: CheckFormat, entries: &[Entry], problems: Vec<Problem>) -> ExitCode {
    let failed = !problems.is_empty() || entries.iter().any(|e| !e.status.resolved());
    let _ = report(&problems);
    let printed = match format {
        CheckFormat::Json => write_stdout(|out| {
            serde_json::to_writer_pretty(&mut *out, entries)?;
            writeln!(out)
        }),
        CheckFormat::Human if !failed => {
            write_stdout(|out| writeln!(out, "{}", check::summary(entries)))
        }
        // A run that stopped before any placeholder was looked up has nothing to sum up.
        CheckFormat::Human if problems.is_empty() || !entries.is_empty() => {
            let _ = writeln!(std::io::stderr(), "{}", check::summary(entries));
            ExitCode::FAILURE
        }
        CheckFormat::Human => ExitCode::FAILURE,
    };
    if failed { ExitCode::FAILURE } else { printed }
}

/// Prints every problem on its own line of stderr and returns the failure code.
fn report(problems: &[Problem]) -> ExitCode {
    let mut stderr = std::io::stderr().lock();
    for problem in problems {
        let _ = writeln!(stderr, "error: {problem}");
    }
    ExitCode::FAILURE
}

/// Writes the output with `write`; a closed pipe (`| head`) is a quiet exit.
fn write_stdout(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match write(&mut stdout).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => report(&[Problem::general(format!("cannot write the output: {e}"))]),
    }
}
