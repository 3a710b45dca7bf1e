//! Finds the `*.tera` files of an application directory and reads them, confined to it: a
//! symlink that resolves outside the directory is refused, hidden folders are skipped, reads
//! are bounded like every other input.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::engine::problem::Problem;
use crate::engine::source::{self, FILE_CAP};

/// The suffix that marks a template.
pub(crate) const SUFFIX: &str = ".tera";

/// Most templates in one application directory.
const MAX_TEMPLATES: usize = 1000;

/// Most bytes of all templates of a directory together.
const MAX_TEMPLATE_BYTES: u64 = 4 * FILE_CAP;

/// One template as read.
#[derive(Debug, Clone)]
pub(crate) struct TemplateFile {
    /// Its path relative to the directory, with `/` separators: the name `include` uses.
    pub name: String,
    /// Its text.
    pub text: String,
}

impl TemplateFile {
    /// The file it renders to (relative to the directory), or `None` for a partial: a file
    /// whose name starts with `_` is only for `include`/`import`.
    pub(crate) fn output(&self) -> Option<String> {
        let base = self.name.rsplit('/').next().unwrap_or(&self.name);
        if base.starts_with('_') {
            return None;
        }
        self.name
            .strip_suffix(SUFFIX)
            .filter(|o| !o.is_empty() && !o.ends_with('/'))
            .map(str::to_owned)
    }
}

/// Whether `dir` holds a `*.tera` file anywhere below it (hidden folders skipped). Reads
/// directory entries only; a render without templates pays only this walk.
pub(crate) fn any_template(dir: &Path) -> bool {
    let mut found = Vec::new();
    let _ = walk(dir, dir, &mut HashSet::new(), &mut found, false, 1);
    !found.is_empty()
}

/// Reads every `*.tera` file below `dir` (canonical), sorted by name. `shown` names the
/// directory in messages.
pub(crate) fn read_all(dir: &Path, shown: &str) -> Result<Vec<TemplateFile>, Problem> {
    let mut paths = Vec::new();
    walk(
        dir,
        dir,
        &mut HashSet::new(),
        &mut paths,
        true,
        MAX_TEMPLATES + 1,
    )
    .map_err(|p| super::within(p, shown))?;
    if paths.len() > MAX_TEMPLATES {
        return Err(Problem::at(
            shown,
            format!("holds more than {MAX_TEMPLATES} *.tera templates"),
        ));
    }
    paths.sort();
    let mut budget = MAX_TEMPLATE_BYTES;
    paths
        .into_iter()
        .map(|path| {
            let name = relative(&path, dir);
            let text = source::read_text(&path, &format!("{shown}/{name}"), &mut budget)?;
            Ok(TemplateFile { name, text })
        })
        .collect()
}

/// `path` relative to `dir`, `/`-separated.
fn relative(path: &Path, dir: &Path) -> String {
    path.strip_prefix(dir)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Collects the `*.tera` files below `at` into `found`, at most `limit`; with `strict`, a
/// symlink leading outside `dir` (or nowhere) is an error.
fn walk(
    dir: &Path,
    at: &Path,
    visited: &mut HashSet<(u64, u64)>,
    found: &mut Vec<PathBuf>,
    strict: bool,
    limit: usize,
) -> Result<(), Problem> {
    let place = || relative(at, dir);
    let unreadable = |e: std::io::Error| Problem::at(place(), format!("cannot read: {e}"));
    let metadata = std::fs::metadata(at).map_err(unreadable)?;
    if !visited.insert((metadata.dev(), metadata.ino())) {
        return Ok(());
    }
    let mut entries = std::fs::read_dir(at)
        .map_err(unreadable)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(unreadable)?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        if found.len() >= limit {
            return Ok(());
        }
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let kind = entry.file_type().map_err(unreadable)?;
        let is_template = name.ends_with(SUFFIX);
        if kind.is_symlink() && (is_template || std::fs::metadata(&path).is_ok_and(|m| m.is_dir()))
        {
            if strict {
                inside(&path, dir)?;
            } else if !path.canonicalize().is_ok_and(|p| p.starts_with(dir)) {
                // Counted, so that the strict walk reports it.
                found.push(path);
                continue;
            }
        }
        if std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
            walk(dir, &path, visited, found, strict, limit)?;
        } else if is_template {
            found.push(path);
        }
    }
    Ok(())
}

/// Refuses a symlink that resolves outside `dir` or nowhere.
fn inside(link: &Path, dir: &Path) -> Result<(), Problem> {
    let shown = relative(link, dir);
    match link.canonicalize() {
        Ok(real) if real.starts_with(dir) => Ok(()),
        Ok(real) => Err(Problem::at(
            shown,
            format!(
                "is a symlink to {} outside the application directory; templates and what they \
                 include must be inside it",
                real.display()
            ),
        )),
        Err(e) => Err(Problem::at(
            shown,
            format!("is a symlink that leads nowhere: {e}"),
        )),
    }
}
