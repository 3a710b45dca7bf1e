//! `vaultplate doctor`: checks the sidecar's set-up, one line each (`OK`, `FAIL` with a fix,
//! `SKIP` with the reason, `WARN`), so that a plugin that "does nothing" says why. Never prints
//! a value, token or credential. Exit 0 only when no check fails.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{ChildStdout, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::config::policy::PolicyError;
use crate::config::{Config, ConfigError};
use crate::placeholder::secret_path;
use crate::placeholder::secret_ref::SecretRef;
use crate::render::child;
use crate::secrets::vault::probe::{self, Probe};
use crate::secrets::vault::token_cache::TokenCache;
use crate::shell::cli::DoctorArgs;

/// Where Argo CD's sidecar reads the plugin's configuration. Fixed: a test cannot move it, nor
/// can an Application.
const PLUGIN_YAML: &str = "/home/argocd/cmp-server/config/plugin.yaml";
/// The folder where the sidecar creates the plugin's socket, shared with the repo-server.
const SOCKET_DIR: &str = "/home/argocd/cmp-server/plugins";

/// One check's outcome.
enum Line {
    Ok(&'static str, String),
    Fail(&'static str, String, String),
    Skip(&'static str, String),
    Warn(&'static str, String),
}

/// Runs every check and prints one line each on stdout.
pub(crate) fn doctor(args: &DoctorArgs) -> ExitCode {
    let env: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let mut lines = Vec::new();
    let in_pod = env.contains_key("KUBERNETES_SERVICE_HOST");
    lines.push(plugin_yaml(in_pod));
    lines.push(socket_dir(in_pod));
    lines.push(home(&env));
    lines.push(token_cache(&env));
    lines.push(tool("helm", &["version", "--short"], "helm"));
    lines.push(kustomize());
    let project = env
        .get("ARGOCD_APP_PROJECT_NAME")
        .filter(|p| !p.is_empty())
        .cloned();
    let mut policy_line = Line::Skip(
        POLICY,
        "VAULTPLATE_POLICY is not set: every project logs in with the sidecar's own settings"
            .into(),
    );
    match Config::resolve_with_policy(
        env.clone(),
        args.config_path.as_deref(),
        args.secret_name.as_ref(),
        project.is_some(),
    ) {
        Err(ConfigError::Policy(e)) => {
            policy_line = Line::Fail(POLICY, e.to_string(), policy_fix(&e));
        }
        Err(e @ ConfigError::PolicyRefused(_)) => {
            policy_line = Line::Fail(
                POLICY,
                e.to_string(),
                "add a rule for this project to the policy file, or run doctor with the \
                 ARGOCD_APP_PROJECT_NAME of a project it has a rule for"
                    .into(),
            );
        }
        Err(e) => lines.push(Line::Fail(
            "settings",
            e.to_string(),
            "correct the setting named above".into(),
        )),
        Ok((config, policy)) => {
            if let Some(policy) = &policy {
                policy_line = Line::Ok(
                    POLICY,
                    format!(
                        "{}: {}, {}",
                        policy.path.display(),
                        count(policy.profiles.len(), "profile"),
                        count(policy.rules.len(), "rule")
                    ),
                );
            }
            // Under a policy every render logs in as its project's profile: without a
            // project there is no login to check.
            let login = match (&policy, &config.policy) {
                (None, _) => Login::Own,
                (Some(_), Some(decision)) => Login::Profile(decision.who()),
                (Some(_), None) => Login::NoProject,
            };
            let ignored: Vec<&String> = config
                .warnings
                .iter()
                .filter(|w| w.contains("ARGOCD_ENV_"))
                .collect();
            if ignored.is_empty() {
                lines.push(Line::Ok(
                    "Application settings",
                    "no ARGOCD_ENV_ variable was ignored".into(),
                ));
            }
            for warning in ignored {
                lines.push(Line::Warn("Application settings", warning.clone()));
            }
            lines.extend(vault(&config, args.path.as_deref(), &login));
        }
    }
    lines.push(policy_line);
    print(&lines)
}

const POLICY: &str = "policy file";

/// Whose login the Vault checks try.
enum Login {
    /// The sidecar's own settings: there is no policy.
    Own,
    /// The profile the policy gives `ARGOCD_APP_PROJECT_NAME` (who: project, rule, profile).
    Profile(String),
    /// None: there is a policy, but no project to pick a profile for.
    NoProject,
}

/// What to change for a policy file that does not read.
fn policy_fix(error: &PolicyError) -> String {
    let file = error.path.display();
    match error.line {
        Some(line) => format!(
            "correct line {line} of {file} (see the README's Teams section); until then every \
             render fails"
        ),
        None => format!(
            "mount the policy file at {file} (or correct VAULTPLATE_POLICY); until then every \
             render fails"
        ),
    }
}

/// `1 rule`, `2 rules`.
fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn print(lines: &[Line]) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    for line in lines {
        let _ = match line {
            Line::Ok(what, detail) => writeln!(out, "OK    {what}: {detail}"),
            Line::Skip(what, why) => writeln!(out, "SKIP  {what}: {why}"),
            Line::Warn(what, detail) => writeln!(out, "WARN  {what}: {detail}"),
            Line::Fail(what, detail, fix) => {
                failed = true;
                writeln!(out, "FAIL  {what}: {detail}; fix: {fix}")
            }
        };
    }
    let _ = out.flush();
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn plugin_yaml(in_pod: bool) -> Line {
    const WHAT: &str = "plugin.yaml";
    if !in_pod {
        return Line::Skip(
            WHAT,
            "not in a pod (KUBERNETES_SERVICE_HOST is not set)".into(),
        );
    }
    let fix = format!(
        "mount the plugin's ConfigMap (key plugin.yaml) at {PLUGIN_YAML}, as the vaultplate chart does"
    );
    let text = match read_small(Path::new(PLUGIN_YAML)) {
        Ok(text) => text,
        Err(e) => return Line::Fail(WHAT, format!("cannot read {PLUGIN_YAML}: {e}"), fix),
    };
    match crate::yaml::value::parse_value(&text) {
        Ok(value)
            if value.get("kind").and_then(|k| k.as_str()) == Some("ConfigManagementPlugin") =>
        {
            Line::Ok(WHAT, format!("{PLUGIN_YAML} is a ConfigManagementPlugin"))
        }
        Ok(_) => Line::Fail(
            WHAT,
            format!("{PLUGIN_YAML} is not a ConfigManagementPlugin"),
            fix,
        ),
        Err(e) => Line::Fail(WHAT, format!("{PLUGIN_YAML} is not valid YAML: {e}"), fix),
    }
}

/// Reads a file of at most 1 MiB.
fn read_small(path: &Path) -> std::io::Result<String> {
    let mut text = String::new();
    std::fs::File::open(path)?
        .take(1 << 20)
        .read_to_string(&mut text)?;
    Ok(text)
}

fn socket_dir(in_pod: bool) -> Line {
    const WHAT: &str = "plugin socket folder";
    if !in_pod {
        return Line::Skip(
            WHAT,
            "not in a pod (KUBERNETES_SERVICE_HOST is not set)".into(),
        );
    }
    match writable(Path::new(SOCKET_DIR)) {
        Ok(()) => Line::Ok(WHAT, format!("{SOCKET_DIR} is writable")),
        Err(e) => Line::Fail(
            WHAT,
            format!("{SOCKET_DIR}: {e}"),
            format!(
                "mount the volume shared with the repo-server (var-files/plugins) at {SOCKET_DIR}"
            ),
        ),
    }
}

/// Whether a file can be made in `dir` (it is removed at once).
fn writable(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".vaultplate-doctor-{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    std::fs::remove_file(&probe)
}

fn home(env: &BTreeMap<String, String>) -> Line {
    const WHAT: &str = "HOME";
    let fix =
        "give the sidecar a writable HOME (an emptyDir volume, or set HOME to one)".to_owned();
    match env.get("HOME").map(Path::new) {
        None => Line::Fail(WHAT, "HOME is not set".into(), fix),
        Some(home) if !home.is_absolute() => Line::Fail(
            WHAT,
            format!("{} is not an absolute path", home.display()),
            fix,
        ),
        Some(home) => match writable(home) {
            Ok(()) => Line::Ok(WHAT, format!("{} is writable", home.display())),
            Err(e) => Line::Fail(
                WHAT,
                format!("{} is not writable: {e}", home.display()),
                fix,
            ),
        },
    }
}

fn token_cache(env: &BTreeMap<String, String>) -> Line {
    const WHAT: &str = "token cache";
    let cache = TokenCache::from_env(false, |name| env.get(name).map(Into::into));
    let dir = match cache.dir() {
        Ok(dir) => dir,
        Err(why) => {
            return Line::Fail(
                WHAT,
                format!("off: {why}"),
                "set HOME or XDG_CACHE_HOME to a writable absolute path".into(),
            );
        }
    };
    // The cache makes its folder when it first writes: the nearest existing one must take it.
    let existing = dir.ancestors().find(|d| d.exists()).unwrap_or(dir);
    match writable(existing) {
        Ok(()) => Line::Ok(WHAT, format!("{} is writable", dir.display())),
        Err(e) => Line::Fail(
            WHAT,
            format!("{} is not writable: {e}", existing.display()),
            "make HOME (or XDG_CACHE_HOME) writable, or pass --disable-token-cache".into(),
        ),
    }
}

/// Finds `program` on PATH and runs it with `args`; its first output line is the version.
fn tool(program: &str, args: &[&str], what: &'static str) -> Line {
    let fix = format!("install {program} in the sidecar's image and put its folder on PATH");
    let Some(path) = child::locate(program) else {
        return Line::Fail(what, format!("{program} is not on PATH"), fix);
    };
    match version_of(&path, args) {
        Ok(version) => Line::Ok(what, format!("{version} ({})", path.display())),
        Err(e) => Line::Fail(what, format!("{} does not run: {e}", path.display()), fix),
    }
}

/// kustomize on its own, else kubectl's.
fn kustomize() -> Line {
    if child::locate("kustomize").is_some() {
        return tool("kustomize", &["version"], "kustomize");
    }
    let Some(path) = child::locate("kubectl") else {
        return Line::Fail(
            "kustomize",
            "neither kustomize nor kubectl is on PATH".into(),
            "install kustomize (or kubectl) in the sidecar's image and put its folder on PATH"
                .into(),
        );
    };
    match output_of(&path, &["version", "--client"]) {
        Ok(output) => {
            let version = output
                .lines()
                .find_map(|l| l.strip_prefix("Kustomize Version: ").map(str::to_owned))
                .unwrap_or_else(|| "unknown version".into());
            Line::Ok(
                "kustomize",
                format!("{version} (kubectl kustomize, {})", path.display()),
            )
        }
        Err(e) => Line::Fail(
            "kustomize",
            format!("{} does not run: {e}", path.display()),
            "install a working kubectl (or kustomize) in the sidecar's image".into(),
        ),
    }
}

/// The first line `path args` prints, when it succeeds.
fn version_of(path: &Path, args: &[&str]) -> Result<String, String> {
    Ok(output_of(path, args)?
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned())
}

/// How long a tool may take to say its version: a broken one (waiting on a network, a lock)
/// must not make doctor hang, as a sidecar that "does nothing" is what doctor is run for.
const TOOL_TIMEOUT: Duration = Duration::from_secs(5);

/// What `path args` prints on stdout (the first 64 KiB), when it exits 0 within
/// [`TOOL_TIMEOUT`]; it is killed after that.
fn output_of(path: &Path, args: &[&str]) -> Result<String, String> {
    let mut child = Command::new(path)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() < TOOL_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "it did not answer within {} s (killed)",
                    TOOL_TIMEOUT.as_secs()
                ));
            }
            Err(e) => return Err(e.to_string()),
        }
    };
    if !status.success() {
        return Err(format!("it exited with {status}"));
    }
    // A version fits in a pipe's buffer, so the child could exit before it was read.
    Ok(child.stdout.take().map(printed).unwrap_or_default())
}

/// What a tool that has exited left in its standard output, up to 64 KiB. Read without
/// waiting for the pipe's end: a process it started (a wrapper script's daemon) may hold the
/// pipe open for ever.
fn printed(mut stdout: ChildStdout) -> String {
    const MOST: usize = 64 << 10;
    let mut out = Vec::new();
    if rustix::io::ioctl_fionbio(&stdout, true).is_ok() {
        let mut buffer = [0; 8 << 10];
        while out.len() < MOST {
            match stdout.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buffer[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // Nothing more now (WouldBlock), or the pipe failed: what was read is all.
                Err(_) => break,
            }
        }
        out.truncate(MOST);
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The Vault checks: address, login, and the path asked about.
fn vault(config: &Config, path: Option<&str>, login_as: &Login) -> Vec<Line> {
    let Some(addr) = &config.vault.addr else {
        return vec![Line::Fail(
            "Vault address",
            "VAULT_ADDR is not set".into(),
            "set VAULT_ADDR in the sidecar's environment, e.g. https://vault.example:8200".into(),
        )];
    };
    let addr = addr.to_string();
    let secret = match path.map(secret_path::normalise) {
        None => None,
        Some(Ok(path)) => Some(SecretRef {
            path,
            version: None,
            kv: config.kv_version,
        }),
        Some(Err(e)) => {
            return vec![Line::Fail(
                "--path",
                e.to_string(),
                "give a secret's path, e.g. secret/data/app".into(),
            )];
        }
    };
    let Probe {
        reachable,
        login,
        read,
    } = probe::probe(&config.vault, secret.as_ref());
    let (login, read) = if matches!(login_as, Login::NoProject) {
        (None, None)
    } else {
        (login, read)
    };
    let mut lines = vec![match reachable {
        Ok(state) => Line::Ok("Vault address", format!("{addr} answers: {state}")),
        Err(e) => Line::Fail("Vault address", e.clone(), tls_fix(&e)),
    }];
    if matches!(login_as, Login::NoProject) && lines.iter().all(|l| matches!(l, Line::Ok(..))) {
        lines.push(Line::Skip(
            "Vault login",
            "VAULTPLATE_POLICY is set: each project logs in as its rule's profile; set \
             ARGOCD_APP_PROJECT_NAME to check a project's login"
                .into(),
        ));
    }
    if matches!(login_as, Login::NoProject) && secret.is_some() {
        lines.push(Line::Skip(
            "--path",
            "it is read with a project's login: set ARGOCD_APP_PROJECT_NAME".into(),
        ));
    }
    let whose = match login_as {
        Login::Profile(who) => format!(" ({who})"),
        Login::Own | Login::NoProject => String::new(),
    };
    if let Some(login) = login {
        lines.push(match login {
            Ok(who) => Line::Ok("Vault login", format!("{who}{whose}")),
            Err(e) => Line::Fail(
                "Vault login",
                format!("{e}{whose}"),
                match login_as {
                Login::Profile(_) => "check the profile's login settings in the policy file (AVP_AUTH_TYPE, the mount, the role or credential) against Vault's auth configuration".into(),
                Login::Own | Login::NoProject => "check AVP_AUTH_TYPE, the mount (AVP_MOUNT_PATH) and the role or credential settings against Vault's auth configuration".into(),
            },
            ),
        });
    }
    match read {
        Some(Ok(found)) => lines.push(Line::Ok("--path", found)),
        Some(Err(e)) => lines.push(Line::Fail(
            "--path",
            e,
            "grant the identity's policy read on the path, or correct the path (KV v2 paths have data/)".into(),
        )),
        None => {}
    }
    lines
}

/// What to change for an address that does not answer, from the error's cause.
fn tls_fix(error: &str) -> String {
    if error.contains("UnknownIssuer") {
        "set VAULT_CACERT (or VAULT_CAPATH) to the CA that signed Vault's certificate".into()
    } else if error.contains("not valid for name") {
        "use the name Vault's certificate holds in VAULT_ADDR, or set VAULT_TLS_SERVER_NAME to it"
            .into()
    } else if error.contains("does not speak TLS") || error.contains("speaks only TLS") {
        "match VAULT_ADDR's scheme to what Vault speaks (https:// for TLS, http:// without)".into()
    } else {
        "check VAULT_ADDR and that the sidecar can reach it (network policy, DNS, port)".into()
    }
}
