//! `Case`: runs the built `vaultplate` once in a fresh directory with a scrubbed environment,
//! and checks what it did. House rules every run obeys, whatever the test asserts:
//! a failing run prints nothing on stdout, and no declared secret reaches stderr.

use std::cell::Cell;
use std::ffi::{OsStr, OsString};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use tempfile::TempDir;

use super::openbao::{OpenBao, ROOT_TOKEN};
use super::tools_dir;

/// A run that takes longer than this is stopped and fails the test.
const TIMEOUT: Duration = Duration::from_secs(60);

/// One run of `vaultplate`, described before it happens:
///
/// ```ignore
/// Case::new()
///     .file("app/secret.yaml", "
///         kind: Secret
///         stringData:
///           password: <password>
///     ")
///     .vault(bao)
///     .secret("hunter2")
///     .args(["generate", "app"])
///     .run()
///     .success()
///     .stdout_contains("hunter2");
/// ```
///
/// Texts that start with a newline (file contents, stdin, expected output) are unindented
/// first, see [`unindent`]: inline YAML can follow the code's indentation.
#[must_use]
pub(crate) struct Case {
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    files: Vec<(PathBuf, String)>,
    links: Vec<(PathBuf, PathBuf)>,
    stdin: Option<String>,
    secrets: Vec<String>,
    subdir: Option<PathBuf>,
}

impl Case {
    pub(crate) fn new() -> Self {
        Case {
            args: Vec::new(),
            env: Vec::new(),
            files: Vec::new(),
            links: Vec::new(),
            stdin: None,
            secrets: Vec::new(),
            subdir: None,
        }
    }

    /// Runs in `dir` (relative to the case's directory, where [`Case::file`] writes) instead
    /// of the case's directory itself, as Argo CD runs a plugin in the application's folder.
    pub(crate) fn cwd(mut self, dir: &str) -> Self {
        self.subdir = Some(PathBuf::from(dir));
        self
    }

    pub(crate) fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|arg| arg.as_ref().to_owned()));
        self
    }

    /// Writes `contents` to `path`, relative to the run's directory (parents are created).
    pub(crate) fn file(mut self, path: &str, contents: &str) -> Self {
        let path = PathBuf::from(path);
        assert!(
            path.is_relative(),
            "Case::file takes a relative path, got {}",
            path.display()
        );
        self.files.push((path, unindent(contents)));
        self
    }

    /// Makes `path` (relative, as in [`Case::file`]) a symlink to `target` (as given: relative
    /// to the link's folder, or absolute), after the files are written.
    pub(crate) fn symlink(mut self, path: &str, target: impl AsRef<Path>) -> Self {
        self.links
            .push((PathBuf::from(path), target.as_ref().to_path_buf()));
        self
    }

    pub(crate) fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(unindent(text));
        self
    }

    /// Sets one variable; the binary sees only `PATH`, `HOME` and what the case sets.
    pub(crate) fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Points the binary at `server` as root: `VAULT_ADDR` and `VAULT_TOKEN`.
    pub(crate) fn vault(self, server: &OpenBao) -> Self {
        self.env("VAULT_ADDR", server.addr())
            .env("VAULT_TOKEN", ROOT_TOKEN)
    }

    /// Declares a value that must never appear on stderr, as is or base64-encoded.
    pub(crate) fn secret(mut self, value: &str) -> Self {
        self.secrets.push(value.to_owned());
        self
    }

    /// Runs the binary, checks the house rules, and hands back what happened.
    #[track_caller]
    pub(crate) fn run(self) -> Outcome {
        let root = tempfile::Builder::new()
            .prefix("vaultplate-case-")
            .tempdir()
            .expect("creating the case's directory");
        let cwd = root.path().join("work");
        let home = root.path().join("home");
        for dir in [&cwd, &home] {
            std::fs::create_dir_all(dir).expect("creating the case's work and home directories");
        }
        for (path, contents) in &self.files {
            let path = cwd.join(path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("creating a case file's directory");
            }
            std::fs::write(&path, contents).expect("writing a case file");
        }
        for (path, target) in &self.links {
            let path = cwd.join(path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).expect("creating a case link's directory");
            }
            std::os::unix::fs::symlink(target, &path).expect("making a case symlink");
        }

        let binary = env!("CARGO_BIN_EXE_vaultplate");
        let mut command = Command::new(binary);
        command
            .args(&self.args)
            .current_dir(
                self.subdir
                    .as_ref()
                    .map_or_else(|| cwd.clone(), |sub| cwd.join(sub)),
            )
            .env_clear()
            .env("PATH", path_with_tools())
            .env("HOME", &home)
            .envs(self.env.iter().map(|(key, value)| (key, value)))
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let display = std::iter::once("vaultplate".to_owned())
            .chain(
                self.args
                    .iter()
                    .map(|arg| arg.to_string_lossy().into_owned()),
            )
            .collect::<Vec<_>>()
            .join(" ");

        let mut child = command
            .spawn()
            .unwrap_or_else(|error| panic!("starting {binary}: {error}"));
        let stdin = self.stdin.clone().map(|text| {
            let mut pipe = child.stdin.take().expect("stdin is piped");
            // A binary that exits without reading all of it is not our concern here.
            std::thread::spawn(move || drop(pipe.write_all(text.as_bytes())))
        });
        let stdout = drain(child.stdout.take().expect("stdout is piped"));
        let stderr = drain(child.stderr.take().expect("stderr is piped"));
        let deadline = Instant::now() + TIMEOUT;
        let (status, timed_out) = loop {
            if let Some(status) = child.try_wait().expect("waiting for vaultplate") {
                break (status, false);
            }
            if Instant::now() > deadline {
                drop(child.kill());
                break (
                    child.wait().expect("waiting for the stopped vaultplate"),
                    true,
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        if let Some(writer) = stdin {
            drop(writer.join());
        }
        let outcome = Outcome {
            command: display,
            cwd,
            status,
            stdout: collect(stdout),
            stderr: collect(stderr),
            status_checked: Cell::new(false),
            _root: root,
        };
        if timed_out {
            outcome.fail(&format!("still running after {TIMEOUT:?}; stopped"));
        }
        // `check` and `doctor` print a report, never manifests: it is on stdout even when they
        // fail, and no secret may appear there either.
        let check = self
            .args
            .first()
            .is_some_and(|a| a == "check" || a == "doctor");
        let mut broken = house_rule_violations(
            status.success() || check,
            &outcome.stdout,
            &outcome.stderr,
            &self.secrets,
        );
        if check {
            broken.extend(
                house_rule_violations(true, "", &outcome.stdout, &self.secrets)
                    .into_iter()
                    .map(|rule| rule.replace("stderr", "stdout")),
            );
        }
        if !broken.is_empty() {
            outcome.fail(&format!("house rule broken: {}", broken.join("; ")));
        }
        outcome
    }
}

/// What a run did. Assertions panic with the whole run on display. A test must say how the
/// run ended ([`Outcome::success`], [`Outcome::failure`] or [`Outcome::code`]): an outcome
/// dropped without that fails the test.
pub(crate) struct Outcome {
    command: String,
    cwd: PathBuf,
    status: ExitStatus,
    stdout: String,
    stderr: String,
    status_checked: Cell<bool>,
    /// Keeps the run's directory (and so `cwd`) until the outcome goes.
    _root: TempDir,
}

impl Outcome {
    #[track_caller]
    pub(crate) fn success(&self) -> &Self {
        self.status_checked.set(true);
        if !self.status.success() {
            self.fail("expected success");
        }
        self
    }

    /// Whether the run exited 0, for a test that accepts either ending and checks each.
    pub(crate) fn succeeded(&self) -> bool {
        self.status_checked.set(true);
        self.status.success()
    }

    /// Any non-zero exit (or death by a signal).
    #[track_caller]
    pub(crate) fn failure(&self) -> &Self {
        self.status_checked.set(true);
        if self.status.success() {
            self.fail("expected failure");
        }
        self
    }

    #[track_caller]
    pub(crate) fn code(&self, code: i32) -> &Self {
        self.status_checked.set(true);
        if self.status.code() != Some(code) {
            self.fail(&format!("expected exit code {code}"));
        }
        self
    }

    /// Stdout is exactly `expected` (unindented if it starts with a newline).
    #[track_caller]
    pub(crate) fn stdout(&self, expected: &str) -> &Self {
        self.exact("stdout", &self.stdout, expected)
    }

    #[track_caller]
    pub(crate) fn stdout_contains(&self, needle: &str) -> &Self {
        if !self.stdout.contains(needle) {
            self.fail(&format!("expected stdout to contain {needle:?}"));
        }
        self
    }

    /// Stderr is exactly `expected` (unindented if it starts with a newline).
    #[track_caller]
    pub(crate) fn stderr(&self, expected: &str) -> &Self {
        self.exact("stderr", &self.stderr, expected)
    }

    #[track_caller]
    pub(crate) fn stderr_contains(&self, needle: &str) -> &Self {
        if !self.stderr.contains(needle) {
            self.fail(&format!("expected stderr to contain {needle:?}"));
        }
        self
    }

    pub(crate) fn stdout_text(&self) -> &str {
        &self.stdout
    }

    pub(crate) fn stderr_text(&self) -> &str {
        &self.stderr
    }

    /// The directory the binary ran in, to check files it wrote.
    pub(crate) fn cwd(&self) -> &Path {
        &self.cwd
    }

    #[track_caller]
    fn exact(&self, stream: &str, actual: &str, expected: &str) -> &Self {
        let expected = unindent(expected);
        if actual != expected {
            let line = actual
                .lines()
                .zip(expected.lines())
                .take_while(|(a, e)| a == e)
                .count()
                + 1;
            self.fail(&format!(
                "{stream} differs from what was expected, first at line {line}\n--- expected {stream}:\n{}",
                fenced(&expected),
            ));
        }
        self
    }

    #[track_caller]
    fn fail(&self, message: &str) -> ! {
        self.status_checked.set(true);
        panic!(
            "{message}\n--- command: {}\n--- cwd: {}\n--- status: {}\n--- stdout:\n{}--- stderr:\n{}",
            self.command,
            self.cwd.display(),
            self.status,
            fenced(&self.stdout),
            fenced(&self.stderr),
        );
    }
}

impl Drop for Outcome {
    fn drop(&mut self) {
        if !self.status_checked.get() && !std::thread::panicking() {
            self.fail("the test never said how the run should end: add .success(), .failure() or .code(n)");
        }
    }
}

/// The house rules every run obeys, as messages for the rules broken (empty when none): a
/// failing run prints nothing on stdout; no secret, nor its base64 form, appears on stderr.
pub(crate) fn house_rule_violations(
    succeeded: bool,
    stdout: &str,
    stderr: &str,
    secrets: &[String],
) -> Vec<String> {
    let mut broken = Vec::new();
    if !succeeded && !stdout.is_empty() {
        broken.push("a failing run must print nothing on stdout".to_owned());
    }
    for secret in secrets.iter().filter(|secret| !secret.is_empty()) {
        for (form, text) in [("", secret.clone()), (" (base64)", BASE64.encode(secret))] {
            if stderr.contains(&text) {
                broken.push(format!("stderr leaks the secret {secret:?}{form}"));
            }
        }
    }
    broken
}

/// Removes the common indentation of `text` if it starts with a newline, as a string literal
/// written indented in a test does: that first newline and a last line of only spaces go
/// too, and whitespace-only lines become empty. Any other text is returned as it is.
pub(crate) fn unindent(text: &str) -> String {
    let Some(body) = text.strip_prefix('\n') else {
        return text.to_owned();
    };
    let indent = body
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    let mut out = String::with_capacity(body.len());
    for line in body.split_inclusive('\n') {
        if line.trim().is_empty() {
            if line.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push_str(&line[indent..]);
        }
    }
    out
}

/// `PATH` for the binary: the pinned tools first, then this process's `PATH`, so plain
/// `cargo test` finds the same helm and kubectl as `scripts/test`.
fn path_with_tools() -> OsString {
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(tools_dir()).chain(std::env::split_paths(&inherited)))
        .expect("PATH entries hold no separator")
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        drop(pipe.read_to_end(&mut bytes));
        bytes
    })
}

fn collect(reader: JoinHandle<Vec<u8>>) -> String {
    let bytes = reader
        .join()
        .expect("the output reader thread does not panic");
    String::from_utf8(bytes)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// `text` on its own lines, with a marker for a missing final newline.
fn fenced(text: &str) -> String {
    let mut out = text.to_owned();
    if !text.is_empty() && !text.ends_with('\n') {
        let _ = writeln!(out, "⏎ (no final newline)");
    }
    out
}
