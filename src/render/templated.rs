//! The `*.tera` templates of a Helm or kustomize application, rendered into a private copy of
//! the repository before the build (see [`crate::engine::templates`]): the user's files are
//! never modified, and an application without templates is not copied.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::engine::mode::FillMode;
use crate::engine::problem::Problem;
use crate::engine::templates::{self, files};
use crate::render::child::Sandbox;
use crate::render::kustomize::copy;
use crate::secrets::SecretReader;

/// The application directory and repository root to build from: the rendered copy's when
/// `dir` holds templates, `None` to build the user's files as they are.
pub(super) fn prepare(
    dir: &Path,
    root: &Path,
    sandbox: &Sandbox,
    env: &BTreeMap<String, String>,
    config: &Config,
    secrets: &mut dyn SecretReader,
    mode: &FillMode,
) -> Result<Option<(PathBuf, PathBuf)>, Vec<Problem>> {
    if !files::any_template(dir) {
        return Ok(None);
    }
    let shown = dir.display().to_string();
    let app = dir
        .canonicalize()
        .map_err(|e| vec![Problem::at(&shown, format!("cannot read: {e}"))])?;
    let copy_root = sandbox.path().join("templated");
    copy::copy_repository(root, &copy_root, "the templates")
        .map_err(|m| vec![Problem::general(m)])?;
    let copy_root = copy_root.canonicalize().map_err(|e| {
        vec![Problem::general(format!(
            "cannot read the private copy: {e}"
        ))]
    })?;
    let copy_app = copy_root.join(app.strip_prefix(root).unwrap_or(Path::new("")));
    templates::render_in_copy(&copy_app, &shown, env, config, secrets, mode)?;
    Ok(Some((copy_app, copy_root)))
}
