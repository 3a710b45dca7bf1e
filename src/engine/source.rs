//! Reads the input of `generate`: standard input, one file, or a directory walked in lexical
//! order for `*.yaml`, `*.yml` and `*.json`, skipping hidden folders. Regular files only, each
//! directory once (symlink loops are walked once), and no more than [`FILE_CAP`] per file and
//! [`RUN_CAP`] in all.

use std::collections::HashSet;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::engine::problem::Problem;

/// The most vaultplate reads from one file: far above any real manifest file (the API server
/// takes objects up to about 1.5 MB), far below what would exhaust a repo-server's memory.
pub(crate) const FILE_CAP: u64 = 32 << 20;

/// The most vaultplate reads in one run, all files (or standard input) together.
pub(crate) const RUN_CAP: u64 = 256 << 20;

/// Where an input came from, which decides how documents without a `kind` are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// Standard input: every non-empty document must be an object.
    Stdin,
    /// A file named on the command line or found in a directory.
    File,
}

/// One input text and the name used for it in messages.
#[derive(Debug, Clone)]
pub struct Input {
    /// The path as the user would recognise it, or `<stdin>`.
    pub name: String,
    /// The whole text.
    pub text: String,
    /// Where it came from.
    pub origin: InputKind,
}

/// Reads `path` (`-` is standard input, read from `stdin`; `stdin_size` is its size when known,
/// see [`regular_file_size`]).
pub(crate) fn load(
    path: &str,
    stdin: &mut dyn Read,
    stdin_size: Option<u64>,
) -> Result<Vec<Input>, Problem> {
    load_confined(path, stdin, stdin_size, None)
}

/// Like [`load`]; with `root`, a symlink that resolves outside `root` is refused (`render`
/// reads only the repository).
pub(crate) fn load_confined(
    path: &str,
    stdin: &mut dyn Read,
    stdin_size: Option<u64>,
    root: Option<&Path>,
) -> Result<Vec<Input>, Problem> {
    if path == "-" {
        // Without a size, the buffer grows by doubling: at its last step the old and the new
        // buffer are both held, two to three times the input at once.
        let mut text = String::new();
        if let Some(size) = stdin_size.and_then(|size| usize::try_from(size.min(RUN_CAP)).ok()) {
            // Only a hint: a size that cannot be had is left to the reading to find out.
            let _ = text.try_reserve_exact(size.saturating_add(1));
        }
        stdin
            .take(RUN_CAP + 1)
            .read_to_string(&mut text)
            .map_err(|e| Problem::at("<stdin>", format!("cannot read: {e}")))?;
        if text.len() as u64 > RUN_CAP {
            return Err(Problem::at("<stdin>", too_much(RUN_CAP, "in one run")));
        }
        return Ok(vec![Input {
            name: "<stdin>".into(),
            text,
            origin: InputKind::Stdin,
        }]);
    }
    let start = PathBuf::from(path);
    let metadata =
        std::fs::metadata(&start).map_err(|e| Problem::at(path, format!("cannot read: {e}")))?;
    let files = if metadata.is_dir() {
        manifest_files(&start, root)?
    } else {
        if let Some(root) = root {
            outside_check(&start, root)?;
        }
        vec![start]
    };
    let mut budget = RUN_CAP;
    files
        .into_iter()
        .map(|file| {
            let name = file.display().to_string();
            let text = read_text(&file, &name, &mut budget)?;
            Ok(Input {
                name,
                text,
                origin: InputKind::File,
            })
        })
        .collect()
}

/// The manifest files (`*.yaml`, `*.yml`, `*.json`) under `dir` in lexical order, hidden folders
/// skipped, symlinks followed, each directory once (by device and inode). With `root`, a
/// symlink that resolves outside it is refused.
pub(crate) fn manifest_files(dir: &Path, root: Option<&Path>) -> Result<Vec<PathBuf>, Problem> {
    let is_manifest = |name: &str| {
        [".yaml", ".yml", ".json"]
            .iter()
            .any(|ext| name.ends_with(ext))
    };
    files_below(dir, &is_manifest, root.map(|r| (r, REPOSITORY)), usize::MAX)
}

/// How messages name the folder a walk of the repository is confined to.
const REPOSITORY: &str = "the repository";

/// The files below `dir` whose names `wanted` picks, in lexical order: folders whose names start
/// with `.` skipped, symlinks followed, each folder once (by device and inode), at most `limit`.
/// With `confined` (a folder and how messages name it), a symlink that resolves outside that
/// folder is refused.
pub(crate) fn files_below(
    dir: &Path,
    wanted: &dyn Fn(&str) -> bool,
    confined: Option<(&Path, &str)>,
    limit: usize,
) -> Result<Vec<PathBuf>, Problem> {
    let mut files = Vec::new();
    let mut walk = Walk {
        wanted,
        confined,
        limit,
        visited: HashSet::new(),
    };
    walk.folder(dir, &mut files)?;
    Ok(files)
}

/// Reads the regular file `path` (named `name` in messages) as UTF-8 text, at most
/// [`FILE_CAP`] bytes and at most `budget`, which shrinks by what was read. A device, FIFO or
/// socket is refused before anything is read from it, without waiting.
pub(crate) fn read_text(path: &Path, name: &str, budget: &mut u64) -> Result<String, Problem> {
    let unreadable = |e: std::io::Error| Problem::at(name, format!("cannot read: {e}"));
    let not_regular = || {
        Problem::at(
            name,
            "is not a regular file (a device, FIFO or socket, perhaps behind a symlink); \
             vaultplate reads only regular files",
        )
    };
    if !std::fs::metadata(path).map_err(unreadable)?.is_file() {
        return Err(not_regular());
    }
    // Non-blocking, so that a file swapped for a FIFO meanwhile cannot hold the open.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits().cast_signed())
        .open(path)
        .map_err(unreadable)?;
    if !file.metadata().map_err(unreadable)?.is_file() {
        return Err(not_regular());
    }
    let cap = FILE_CAP.min(*budget);
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    let read = bytes.len() as u64;
    if read > cap {
        return Err(Problem::at(
            name,
            if cap == FILE_CAP {
                too_much(FILE_CAP, "from one file")
            } else {
                too_much(RUN_CAP, "in one run")
            },
        ));
    }
    *budget -= read;
    String::from_utf8(bytes).map_err(|_| Problem::at(name, "is not UTF-8 text"))
}

/// The message for a read beyond `cap`.
fn too_much(cap: u64, scope: &str) -> String {
    format!(
        "is more than {} MiB, the most vaultplate reads {scope}; split the application or \
         remove what is not a manifest",
        cap >> 20
    )
}

/// Refuses `link` when it is a symlink that resolves outside `root`; the name in the message
/// is relative to `root`.
pub(crate) fn outside_check(link: &Path, root: &Path) -> Result<(), Problem> {
    outside(link, root, REPOSITORY)
}

/// [`outside_check`] for a walk confined to `root`, which messages call `named`.
fn outside(link: &Path, root: &Path, named: &str) -> Result<(), Problem> {
    let is_link = std::fs::symlink_metadata(link).is_ok_and(|m| m.file_type().is_symlink());
    let Ok(real) = link.canonicalize() else {
        // Dangling: there is nothing to read through it.
        return Ok(());
    };
    if !is_link || real.starts_with(root) {
        return Ok(());
    }
    let shown = link
        .parent()
        .and_then(|p| p.canonicalize().ok())
        .and_then(|p| Some(p.join(link.file_name()?)))
        .and_then(|p| p.strip_prefix(root).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| link.to_path_buf());
    let what = if real.is_dir() { "a folder" } else { "a file" };
    Err(Problem::at(
        shown.display().to_string(),
        format!(
            "is a symlink to {what} outside {named} ({}); only files inside {named} are read: \
             put a copy in {named} instead",
            real.display()
        ),
    ))
}

/// The size of the file behind `fd` when it is a regular file (standard input redirected from
/// a file), `None` for a pipe, a terminal or anything else.
pub(crate) fn regular_file_size(fd: impl std::os::fd::AsFd) -> Option<u64> {
    let file = std::fs::File::from(fd.as_fd().try_clone_to_owned().ok()?);
    let metadata = file.metadata().ok()?;
    metadata.is_file().then_some(metadata.len())
}

/// A walk of [`files_below`].
struct Walk<'w> {
    wanted: &'w dyn Fn(&str) -> bool,
    confined: Option<(&'w Path, &'w str)>,
    limit: usize,
    visited: HashSet<(u64, u64)>,
}

impl Walk<'_> {
    fn folder(&mut self, dir: &Path, files: &mut Vec<PathBuf>) -> Result<(), Problem> {
        let unreadable =
            |e: std::io::Error| Problem::at(dir.display().to_string(), format!("cannot read: {e}"));
        let metadata = std::fs::metadata(dir).map_err(unreadable)?;
        if !self.visited.insert((metadata.dev(), metadata.ino())) {
            tracing::debug!(dir = %dir.display(), "already walked (a symlink loop or a second link)");
            return Ok(());
        }
        let mut entries = std::fs::read_dir(dir)
            .map_err(unreadable)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(unreadable)?;
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            if files.len() >= self.limit {
                return Ok(());
            }
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            // Follows symlinks, as reading the file would.
            let is_dir = std::fs::metadata(&path)
                .map(|m| m.is_dir())
                .unwrap_or(false);
            let wanted = if is_dir {
                !name.starts_with('.')
            } else {
                (self.wanted)(&name)
            };
            if !wanted {
                continue;
            }
            if let Some((root, named)) = self.confined
                && entry.file_type().is_ok_and(|t| t.is_symlink())
            {
                outside(&path, root, named)?;
            }
            if is_dir {
                self.folder(&path, files)?;
            } else {
                files.push(path);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_in_lexical_order_skipping_hidden_folders_and_other_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        for file in [
            "b.yaml",
            "a/z.yml",
            "a/y.json",
            ".git/x.yaml",
            "c.txt",
            "a/.hidden.yaml",
        ] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, "x: 1\n").expect("write");
        }
        let inputs = load(
            &dir.path().display().to_string(),
            &mut std::io::empty(),
            None,
        )
        .expect("loads");
        let names: Vec<_> = inputs
            .iter()
            .map(|i| {
                i.name
                    .strip_prefix(&dir.path().display().to_string())
                    .expect("under dir")
                    .to_owned()
            })
            .collect();
        assert_eq!(
            names,
            ["/a/.hidden.yaml", "/a/y.json", "/a/z.yml", "/b.yaml"]
        );
    }

    #[test]
    fn standard_input_is_read_whole_with_or_without_its_size() {
        let text = "a: 1\n".repeat(1000);
        for size in [None, Some(text.len() as u64), Some(3), Some(u64::MAX)] {
            let inputs = load("-", &mut text.as_bytes(), size).expect("reads");
            assert_eq!(inputs[0].text, text, "size {size:?}");
        }
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), &text).expect("write");
        assert_eq!(regular_file_size(file.as_file()), Some(text.len() as u64));
        let (reader, _writer) = std::io::pipe().expect("pipe");
        assert_eq!(regular_file_size(&reader), None);
    }

    #[test]
    fn reads_stop_at_the_run_budget() {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), "a: 1\n").expect("write");
        let mut budget = 5;
        assert_eq!(
            read_text(file.path(), "a.yaml", &mut budget).expect("fits"),
            "a: 1\n"
        );
        assert_eq!(budget, 0);
        assert_eq!(
            read_text(file.path(), "a.yaml", &mut budget)
                .expect_err("over")
                .to_string(),
            "a.yaml: is more than 256 MiB, the most vaultplate reads in one run; split the \
             application or remove what is not a manifest"
        );
    }

    #[test]
    fn missing_path() {
        let problem =
            load("/nonexistent/x.yaml", &mut std::io::empty(), None).expect_err("missing");
        assert_eq!(
            problem.to_string(),
            "/nonexistent/x.yaml: cannot read: No such file or directory (os error 2)"
        );
    }
}
