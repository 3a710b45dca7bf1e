//! Finds the `*.tera` files of an application directory and reads them, confined to it: a
//! symlink that resolves outside the directory is refused, hidden folders are skipped, reads
//! are bounded like every other input.

use std::path::Path;

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
/// directory entries only; a render without templates pays only this walk. A symlink leading
/// out of `dir` counts, so that [`read_all`] reports it.
pub(crate) fn any_template(dir: &Path) -> bool {
    source::files_below(dir, &is_template, Some((dir, APP_DIR)), 1).map_or(true, |f| !f.is_empty())
}

/// Reads every `*.tera` file below `dir` (canonical), sorted by name. `shown` names the
/// directory in messages. A symlink leading out of `dir` is refused.
pub(crate) fn read_all(dir: &Path, shown: &str) -> Result<Vec<TemplateFile>, Problem> {
    let mut paths = source::files_below(dir, &is_template, Some((dir, APP_DIR)), MAX_TEMPLATES + 1)
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

/// How messages name the folder templates are confined to.
const APP_DIR: &str = "the application directory";

/// A template's file name: `*.tera`, not hidden.
fn is_template(name: &str) -> bool {
    !name.starts_with('.') && name.ends_with(SUFFIX)
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
