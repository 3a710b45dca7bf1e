//! Runs helm and kustomize: an argument list (never a shell), an environment that holds no
//! Vault address, credential or `AVP_*`/`ARGOCD_ENV_*` setting, and HOME and helm's folders in a
//! private temporary folder. Running children and private folders are registered so that a
//! signal or the deadline can stop the ones and remove the others before the process exits.

use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, poll};
use rustix::io::Errno;

use crate::engine::source::RUN_CAP;

/// The most of a child's standard output that is read: what vaultplate reads of an
/// application's files in one run. A chart or kustomization that prints more (a template loop
/// gone wild, or on purpose) stops the run instead of the sidecar's memory.
const OUTPUT_CAP: usize = RUN_CAP as usize;

/// The most of a child's standard error that is kept for its message; the rest is read and
/// dropped, so that the child never stalls on a full pipe.
const ERRORS_KEPT: usize = 64 << 10;

/// A private folder (0700) for one render: the children's HOME, TMPDIR and helm's
/// cache/config/data, and values that hold no secret (0600 files). Removed when dropped, or by
/// [`stop_all`].
#[derive(Debug)]
pub(crate) struct Sandbox {
    dir: PathBuf,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        locked(&SANDBOXES).retain(|dir| dir != &self.dir);
    }
}

/// A pipe that a child reads like a file: it inherits the read end and opens it by
/// [`FilePipe::path`]; [`run_feeding`] writes the text into the other end. What passes through
/// it stays in memory: it never reaches the disk, and no file name can be opened by another
/// process meanwhile.
#[derive(Debug)]
pub(crate) struct FilePipe {
    read: OwnedFd,
    write: OwnedFd,
}

impl FilePipe {
    /// A new pipe; neither end is inherited by children until [`run_feeding`] hands the read
    /// end to its child.
    pub(crate) fn new() -> std::io::Result<Self> {
        // pipe(2) and then CLOEXEC (pipe2 is not everywhere): vaultplate starts children from
        // one thread only, so none can start in between.
        let (read, write) = rustix::pipe::pipe()?;
        for end in [&read, &write] {
            rustix::io::fcntl_setfd(end, rustix::io::FdFlags::CLOEXEC)?;
        }
        rustix::io::ioctl_fionbio(&write, true)?;
        Ok(FilePipe { read, write })
    }

    /// The name under which the child opens it: its own copy of the read end, `/dev/fd/N` (as
    /// in a shell's process substitution). The number is never 0-2, which the child's standard
    /// streams take: Rust's start-up opens /dev/null on any of them that is closed.
    pub(crate) fn path(&self) -> PathBuf {
        PathBuf::from(format!("/dev/fd/{}", self.read.as_raw_fd()))
    }
}

/// Why a child could not do its job.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ChildError {
    /// The program is not installed.
    #[error("{tool} was not found on PATH")]
    NotFound {
        /// Program name.
        tool: String,
    },
    /// It ran and failed; `stderr` is what it said (masked by the caller before showing).
    #[error("{tool} failed ({status}): {stderr}")]
    Failed {
        /// The command as run, without values (e.g. `helm template`).
        tool: String,
        /// Its exit status.
        status: ExitStatus,
        /// Its standard error, trimmed.
        stderr: String,
    },
    /// Starting or talking to it failed.
    #[error("running {tool}: {source}")]
    Io {
        /// Program name.
        tool: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The output is not UTF-8 text.
    #[error("{tool} printed something that is not UTF-8 text")]
    NotText {
        /// Program name.
        tool: String,
    },
    /// It printed more than [`OUTPUT_CAP`]; it was stopped there.
    #[error(
        "{tool} printed more than {} MiB, the most vaultplate reads in one run; split the \
         application",
        OUTPUT_CAP >> 20
    )]
    TooMuchOutput {
        /// The command as run (e.g. `helm template`).
        tool: String,
    },
}

impl Sandbox {
    /// Creates the folder under the system temporary folder.
    pub(crate) fn new() -> std::io::Result<Self> {
        let dir = tempfile::Builder::new().prefix("vaultplate-").tempdir()?;
        // From here on the folder is removed by this type's Drop, or by stop_all.
        let sandbox = Sandbox { dir: dir.keep() };
        locked(&SANDBOXES).push(sandbox.dir.clone());
        std::fs::set_permissions(&sandbox.dir, std::fs::Permissions::from_mode(0o700))?;
        // The folder itself is the children's TMPDIR (which must exist beforehand); HOME and
        // helm's folders are made by the tools if they need them (most renders never do),
        // which spares a render making and removing folders on every run.
        Ok(sandbox)
    }

    /// The folder.
    pub(crate) fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes a private (0600) file in the sandbox and returns its path.
    pub(crate) fn write_private(&self, name: &str, content: &str) -> std::io::Result<PathBuf> {
        let path = self.dir.join(name);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        std::io::Write::write_all(&mut file, content.as_bytes())?;
        Ok(path)
    }

    /// The whole environment of a child: PATH from ours, everything else private.
    fn env(&self) -> Vec<(&'static str, OsString)> {
        let at = |sub: &str| self.dir.join(sub).into_os_string();
        vec![
            ("PATH", std::env::var_os("PATH").unwrap_or_default()),
            ("HOME", at("home")),
            ("TMPDIR", self.dir.clone().into_os_string()),
            ("HELM_CACHE_HOME", at("helm/cache")),
            ("HELM_CONFIG_HOME", at("helm/config")),
            ("HELM_DATA_HOME", at("helm/data")),
            // No cluster is ever contacted by a render.
            ("KUBECONFIG", at("no-kubeconfig")),
            // kustomize fetches remote bases with `git fetch URL REF`, a REF from the
            // kustomization where git reads options: with the `file` transport,
            // `?ref=--upload-pack=<program>` runs that program here (and `file` reads outside
            // the repository anyway). Network transports only; `ext` is git's default no.
            ("GIT_ALLOW_PROTOCOL", "https:http:ssh:git".into()),
        ]
    }
}

/// Children running now, so that [`stop_all`] can end them.
static RUNNING: Mutex<Vec<Arc<Mutex<Child>>>> = Mutex::new(Vec::new());

/// Private folders that exist now, so that [`stop_all`] can remove them.
static SANDBOXES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// `mutex` locked; a panic elsewhere while it was held does not stop a cleanup.
fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Kills every running child and removes every private folder (on SIGTERM, SIGINT or the
/// deadline, before the process exits without running destructors): a run that is stopped
/// leaves nothing behind.
pub(crate) fn stop_all() {
    for child in locked(&RUNNING).iter() {
        let _ = locked(child).kill();
    }
    for dir in locked(&SANDBOXES).drain(..) {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Runs `program args` in `cwd` with the sandbox's environment and returns its standard output.
/// `label` names the command in messages (e.g. `helm template`).
pub(crate) fn run(
    program: &str,
    args: &[OsString],
    cwd: &Path,
    sandbox: &Sandbox,
    label: &str,
) -> Result<String, ChildError> {
    let nothing = || Ok::<_, std::convert::Infallible>(Vec::new());
    match run_feeding(program, args, cwd, sandbox, label, Vec::new(), nothing) {
        Ok(output) => output,
        Err(FeedError::Child(e)) => Err(e),
        Err(FeedError::Contents(never)) => match never {},
    }
}

/// Why [`run_feeding`] failed: the child, or what was to be written into its pipes.
#[derive(Debug)]
pub(crate) enum FeedError<E> {
    /// The child could not be run, or failed.
    Child(ChildError),
    /// `contents` failed; the child was stopped.
    Contents(E),
}

/// Like [`run`], and writes the texts that `contents` returns into `pipes` (one each, in
/// order) while the child runs. `contents` is called once the child has started, so that what
/// it computes (e.g. Vault reads) overlaps the child's start-up; the child waits in its reads
/// meanwhile. When `contents` fails, the child is killed and its error returned.
pub(crate) fn run_feeding<E>(
    program: &str,
    args: &[OsString],
    cwd: &Path,
    sandbox: &Sandbox,
    label: &str,
    pipes: Vec<FilePipe>,
    contents: impl FnOnce() -> Result<Vec<String>, E>,
) -> Result<Result<String, ChildError>, FeedError<E>> {
    let io = io_error(label);
    tracing::debug!(command = label, args = args.len(), "running");
    let path = locate(program).ok_or_else(|| {
        FeedError::Child(ChildError::NotFound {
            tool: program.to_owned(),
        })
    })?;
    let mut command = Command::new(path);
    command
        .arg0(program)
        .args(args)
        .current_dir(cwd)
        .env_clear()
        .envs(sandbox.env())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // This child, and no other, inherits the read ends.
    for pipe in &pipes {
        rustix::io::fcntl_setfd(&pipe.read, rustix::io::FdFlags::empty())
            .map_err(|e| FeedError::Child(io(e.into())))?;
    }
    let spawned = command.spawn();
    let (_read_ends, write_ends): (Vec<OwnedFd>, Vec<OwnedFd>) =
        pipes.into_iter().map(|p| (p.read, p.write)).unzip();
    let mut child = spawned.map_err(|e| FeedError::Child(io(e)))?;
    let output_pipes = child.stdout.take().zip(child.stderr.take());
    let child = Arc::new(Mutex::new(child));
    locked(&RUNNING).push(Arc::clone(&child));
    let feeds = match contents() {
        Ok(texts) => write_ends
            .into_iter()
            .zip(texts)
            .map(|(end, text)| Feed {
                end,
                text: text.into_bytes(),
                written: 0,
            })
            .collect(),
        Err(e) => {
            let _ = locked(&child).kill();
            let _ = wait(&child);
            locked(&RUNNING).retain(|c| !Arc::ptr_eq(c, &child));
            return Err(FeedError::Contents(e));
        }
    };
    // A child closes its pipes when it exits: read them to the end first, then reap it (at
    // once, as a rule), rather than polling for its exit and finding it up to a poll late.
    let output = output_pipes.map_or(Ok([Vec::new(), Vec::new()]), |(out, err)| {
        drain([out.into(), err.into()], feeds)
    });
    if matches!(output, Err(Drained::TooMuch)) {
        let _ = locked(&child).kill();
    }
    let status = wait(&child);
    locked(&RUNNING).retain(|c| !Arc::ptr_eq(c, &child));
    Ok(finish(label, status, output))
}

/// The child's standard output, or why it failed.
fn finish(
    label: &str,
    status: std::io::Result<ExitStatus>,
    output: Result<[Vec<u8>; 2], Drained>,
) -> Result<String, ChildError> {
    let io = io_error(label);
    let [stdout, stderr] = match output {
        Ok(output) => output,
        Err(Drained::TooMuch) => {
            return Err(ChildError::TooMuchOutput {
                tool: label.to_owned(),
            });
        }
        Err(Drained::Io(e)) => return Err(io(e)),
    };
    let status = status.map_err(&io)?;
    if !status.success() {
        return Err(ChildError::Failed {
            tool: label.to_owned(),
            status,
            stderr: shown_errors(&stderr),
        });
    }
    String::from_utf8(stdout).map_err(|_| ChildError::NotText {
        tool: label.to_owned(),
    })
}

/// What of a child's standard error its message shows: all of it, or, when there was more
/// than [`ERRORS_KEPT`], the whole lines up to there: a line cut in two could end inside a
/// value, which masking would then not recognise.
fn shown_errors(stderr: &[u8]) -> String {
    if stderr.len() <= ERRORS_KEPT {
        return String::from_utf8_lossy(stderr).trim().to_owned();
    }
    let kept = &stderr[..ERRORS_KEPT];
    let lines = kept
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(&kept[..0], |end| &kept[..end]);
    let lines = String::from_utf8_lossy(lines);
    match lines.trim() {
        "" => "(its error output is too long to show)".to_owned(),
        lines => format!("{lines} (the rest of its error output is not shown)"),
    }
}

/// Wraps an I/O error while running the command `label`.
fn io_error(label: &str) -> impl Fn(std::io::Error) -> ChildError + '_ {
    move |source| ChildError::Io {
        tool: label.to_owned(),
        source,
    }
}

/// A text on its way into a [`FilePipe`].
struct Feed {
    end: OwnedFd,
    text: Vec<u8>,
    written: usize,
}

/// What [`drain`] polls: one of the two pipes it reads, or a feed it writes.
#[derive(Clone, Copy)]
enum Watched {
    Pipe(usize),
    Feed(usize),
}

/// Why [`drain`] stopped before the end of the child's output.
#[derive(Debug)]
enum Drained {
    /// Reading or writing a pipe failed.
    Io(std::io::Error),
    /// Standard output went past [`OUTPUT_CAP`].
    TooMuch,
}

impl From<std::io::Error> for Drained {
    fn from(e: std::io::Error) -> Self {
        Drained::Io(e)
    }
}

impl From<Errno> for Drained {
    fn from(e: Errno) -> Self {
        Drained::Io(e.into())
    }
}

/// Reads two pipes (a child's standard output and error) to their ends on this thread, taking
/// from whichever has data, so that neither can fill up and stall the child; meanwhile writes
/// each feed into its pipe as the child reads it, and closes it when written (the child then
/// reads the end of it). What is left unwritten when the child has closed its output is
/// dropped. Standard output is read up to [`OUTPUT_CAP`] (beyond it, [`Drained::TooMuch`]);
/// of standard error the first [`ERRORS_KEPT`] bytes are kept, and one more if there are.
fn drain(pipes: [OwnedFd; 2], mut feeds: Vec<Feed>) -> Result<[Vec<u8>; 2], Drained> {
    let mut pipes = pipes.map(File::from);
    let mut texts = [Vec::new(), Vec::new()];
    let mut open = [true, true];
    let mut chunk = vec![0; 64 * 1024];
    feeds.retain(|feed| !feed.text.is_empty());
    while open.contains(&true) {
        let watched: Vec<Watched> = (0..pipes.len())
            .filter(|&i| open[i])
            .map(Watched::Pipe)
            .chain((0..feeds.len()).map(Watched::Feed))
            .collect();
        let mut polled: Vec<PollFd<'_>> = watched
            .iter()
            .map(|&w| match w {
                Watched::Pipe(i) => PollFd::new(&pipes[i], PollFlags::IN),
                Watched::Feed(i) => PollFd::new(&feeds[i].end, PollFlags::OUT),
            })
            .collect();
        match poll(&mut polled, None) {
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
        let ready: Vec<Watched> = watched
            .iter()
            .zip(&polled)
            .filter(|(_, fd)| !fd.revents().is_empty())
            .map(|(&w, _)| w)
            .collect();
        drop(polled);
        let mut written = Vec::new();
        for w in ready {
            match w {
                Watched::Pipe(i) => match pipes[i].read(&mut chunk) {
                    Ok(0) => open[i] = false,
                    Ok(n) => {
                        // One byte more than is shown tells that there was more.
                        let cap = if i == 0 { OUTPUT_CAP } else { ERRORS_KEPT + 1 };
                        let room = cap - texts[i].len();
                        if n > room && i == 0 {
                            return Err(Drained::TooMuch);
                        }
                        texts[i].extend_from_slice(&chunk[..n.min(room)]);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e.into()),
                },
                Watched::Feed(i) => {
                    let feed = &mut feeds[i];
                    match rustix::io::write(&feed.end, &feed.text[feed.written..]) {
                        Ok(n) => feed.written += n,
                        Err(Errno::AGAIN | Errno::INTR) => {}
                        // The child closed its end without reading it all (it failed, or did
                        // not need this text): nothing more to write.
                        Err(Errno::PIPE) => feed.written = feed.text.len(),
                        Err(e) => return Err(e.into()),
                    }
                    if feed.written == feed.text.len() {
                        written.push(i);
                    }
                }
            }
        }
        // Closing a written feed is the end of the text for the child.
        for i in written.into_iter().rev() {
            feeds.remove(i);
        }
    }
    Ok(texts)
}

/// Where `program` is: the first absolute folder on PATH that holds an executable file of
/// that name, as `execvp` would find it. A relative PATH entry is skipped: children run in the
/// application's folder, so it would pick a program from the repository being rendered.
///
/// Spawning by full path also lets the standard library start the child with `posix_spawn`
/// (the child's PATH is set explicitly, so it cannot let the C library search), which costs a
/// fraction of copying this process with `fork`.
pub(crate) fn locate(program: &str) -> Option<PathBuf> {
    find_on(&std::env::var_os("PATH")?, program)
}

/// [`locate`] with the search path `paths` (a PATH value).
fn find_on(paths: &std::ffi::OsStr, program: &str) -> Option<PathBuf> {
    std::env::split_paths(paths)
        .filter(|dir| dir.is_absolute())
        .map(|dir| dir.join(program))
        .find(|path| is_executable(path))
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Waits for the child without holding its lock, so that [`stop_all`] can kill it meanwhile.
fn wait(child: &Mutex<Child>) -> std::io::Result<ExitStatus> {
    // A child that has closed its pipes has exited, or is about to: poll briefly at first.
    let mut pause = Duration::from_micros(100);
    loop {
        if let Some(status) = locked(child).try_wait()? {
            return Ok(status);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_output_is_shown_whole_or_in_whole_lines() {
        assert_eq!(shown_errors(b"  Error: no\n"), "Error: no");
        let mut long = b"Error: first\n".to_vec();
        long.extend(std::iter::repeat_n(b'x', ERRORS_KEPT - long.len() - 3));
        // A value that the cut would split: none of its line is shown.
        long.extend(b"s3cr3t\n");
        assert_eq!(
            shown_errors(&long),
            "Error: first (the rest of its error output is not shown)"
        );
        let one_line = vec![b'x'; ERRORS_KEPT + 1];
        assert_eq!(
            shown_errors(&one_line),
            "(its error output is too long to show)"
        );
    }

    #[test]
    fn children_see_only_a_private_environment() {
        let sandbox = Sandbox::new().expect("sandbox");
        let out = run("env", &[], Path::new("/"), &sandbox, "env").expect("env runs");
        let mut names: Vec<&str> = out
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, _)| k)
            .collect();
        names.sort_unstable();
        let want = [
            "GIT_ALLOW_PROTOCOL",
            "HELM_CACHE_HOME",
            "HELM_CONFIG_HOME",
            "HELM_DATA_HOME",
            "HOME",
            "KUBECONFIG",
            "PATH",
            "TMPDIR",
        ];
        assert_eq!(names, want);
        assert!(out.contains(&sandbox.path().display().to_string()));
    }

    #[test]
    fn failures_carry_status_and_stderr() {
        let sandbox = Sandbox::new().expect("sandbox");
        let args = ["-c".into(), "echo oops >&2; exit 3".into()];
        let error = run("sh", &args, Path::new("/"), &sandbox, "sh -c").expect_err("fails");
        assert_eq!(error.to_string(), "sh -c failed (exit status: 3): oops");
        let missing =
            run("no-such-tool-here", &[], Path::new("/"), &sandbox, "x").expect_err("missing");
        assert_eq!(
            missing.to_string(),
            "no-such-tool-here was not found on PATH"
        );
    }

    #[test]
    fn private_files_are_0600_in_a_0700_folder() {
        let sandbox = Sandbox::new().expect("sandbox");
        let file = sandbox
            .write_private("values.yaml", "a: 1\n")
            .expect("write");
        let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!((mode(sandbox.path()), mode(&file)), (0o700, 0o600));
        let root = sandbox.path().to_path_buf();
        drop(sandbox);
        assert!(!root.exists(), "removed when dropped");
    }

    #[test]
    fn both_pipes_are_read_whole_whatever_the_order_of_writing() {
        let sandbox = Sandbox::new().expect("sandbox");
        // A megabyte on standard error before any output: a reader that waited on standard
        // output alone would leave the child blocked on a full pipe.
        let script = |code: u8| {
            format!(
                "head -c 1000000 /dev/zero | tr '\\0' e >&2; \
                 head -c 1000000 /dev/zero | tr '\\0' o; exit {code}"
            )
        };
        let run_script = |code| {
            let args = ["-c".into(), script(code).into()];
            run("sh", &args, Path::new("/"), &sandbox, "sh -c")
        };
        let out = run_script(0).expect("succeeds");
        assert_eq!((out.len(), out.trim_matches('o')), (1_000_000, ""));
        match run_script(1) {
            // Read to its end (the child finished), and kept up to the cap for the message.
            Err(ChildError::Failed { stderr, .. }) => {
                assert_eq!(stderr, "(its error output is too long to show)");
            }
            other => panic!("expected a failure with standard error, got {other:?}"),
        }
    }

    /// `sh -c script sh PIPE...`: the script finds the pipes' paths in `$1`, `$2`, ...
    fn sh(script: &str, pipes: &[&FilePipe]) -> Vec<OsString> {
        let mut args = vec!["-c".into(), script.into(), "sh".into()];
        args.extend(pipes.iter().map(|p| p.path().into_os_string()));
        args
    }

    /// Runs `script` in sh, fed through `count` new pipes with what `contents` returns.
    fn feed_sh<E>(
        script: &str,
        count: usize,
        contents: impl FnOnce() -> Result<Vec<String>, E>,
    ) -> Result<Result<String, ChildError>, FeedError<E>> {
        let sandbox = Sandbox::new().expect("sandbox");
        let pipes: Vec<FilePipe> = (0..count).map(|_| FilePipe::new().expect("pipe")).collect();
        let args = sh(script, &pipes.iter().collect::<Vec<_>>());
        run_feeding("sh", &args, Path::new("/"), &sandbox, "sh", pipes, contents)
    }

    #[test]
    fn texts_reach_the_child_through_pipes_it_reads_as_files() {
        // More than a pipe holds, so that writing has to wait for the child's reads.
        let big = "x".repeat(300_000);
        let texts = vec![big.clone(), "second".to_owned()];
        let out = feed_sh("cat \"$1\"; echo; cat \"$2\"", 2, || Ok::<_, ()>(texts));
        assert_eq!(
            out.expect("contents").expect("runs"),
            format!("{big}\nsecond")
        );
    }

    #[test]
    fn a_child_that_does_not_read_its_pipe_is_not_waited_for() {
        let out = feed_sh("echo done", 1, || Ok::<_, ()>(vec!["x".repeat(300_000)]));
        assert_eq!(out.expect("contents").expect("runs"), "done\n");
    }

    #[test]
    fn when_the_contents_fail_the_child_is_stopped() {
        let started = std::time::Instant::now();
        // The child waits for its text, which never comes.
        let out = feed_sh("cat \"$1\"; sleep 30", 1, || {
            Err::<Vec<String>, _>("no values")
        });
        assert!(matches!(out, Err(FeedError::Contents("no values"))));
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the child was killed"
        );
    }

    #[test]
    fn only_the_fed_child_inherits_a_pipe() {
        let sandbox = Sandbox::new().expect("sandbox");
        let pipe = FilePipe::new().expect("pipe");
        // `[` is built into sh, which opens nothing else here.
        let probe = sh(
            "if [ -e \"$1\" ]; then echo open; else echo closed; fi",
            &[&pipe],
        );
        let unfed = run("sh", &probe, Path::new("/"), &sandbox, "sh").expect("sh runs");
        assert_eq!(unfed, "closed\n", "another child inherited the read end");
        let fed = run_feeding(
            "sh",
            &probe,
            Path::new("/"),
            &sandbox,
            "sh",
            vec![pipe],
            || Ok::<_, ()>(vec![String::new()]),
        );
        assert_eq!(fed.expect("contents").expect("runs"), "open\n");
    }

    #[test]
    fn programs_are_found_in_absolute_path_folders_only() {
        let sandbox = Sandbox::new().expect("sandbox");
        let folder = sandbox.path().join("bin");
        std::fs::create_dir(&folder).expect("bin folder");
        let tool = folder.join("tool");
        std::fs::write(&tool, "#!/bin/sh\n").expect("tool");
        let not_executable = folder.join("readme");
        std::fs::write(&not_executable, "text").expect("readme");
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let search = |paths: &str| find_on(std::ffi::OsStr::new(paths), "tool");

        let absolute = format!("/nonexistent:{}", folder.display());
        assert_eq!(search(&absolute), Some(tool.clone()));
        assert_eq!(find_on(std::ffi::OsStr::new(&absolute), "readme"), None);
        // A relative entry (which would resolve in the application's folder, i.e. the
        // repository) is skipped, even when it leads to the tool from here.
        let cwd = std::env::current_dir().expect("current folder");
        let relative = Path::new(&"../".repeat(cwd.components().count()))
            .join(folder.strip_prefix("/").expect("absolute"));
        assert!(
            relative.join("tool").is_file(),
            "the relative entry leads to the tool"
        );
        assert_eq!(search(&relative.display().to_string()), None);
        assert_eq!(search(""), None);
    }
}
