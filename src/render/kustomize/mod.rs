//! `kustomize build`, or `kubectl kustomize` where no standalone kustomize is installed, with
//! the Application's kustomize parameters applied to a private copy of the repository.

pub(crate) mod copy;
pub mod edit;
mod envsubst;
pub mod params;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::engine::problem::Problem;
use crate::render::app_params::AppParams;
use crate::render::child::{self, Sandbox};
use crate::render::discover::KUSTOMIZATION_FILES;
use crate::render::helm_shim;
use crate::render::paths;

/// Largest kustomization file that is edited.
const MAX_KUSTOMIZATION_BYTES: u64 = 4 << 20;

/// Builds the kustomization in `dir` (inside the repository at `root`).
pub(super) fn build(
    dir: &Path,
    root: &Path,
    params: &AppParams,
    sandbox: &Sandbox,
) -> Result<String, Vec<Problem>> {
    let edited = if params.kustomize.edits() {
        Some(prepare(dir, root, params, sandbox)?)
    } else {
        None
    };
    let dir = edited.as_deref().unwrap_or(dir);
    let (program, mut args, label): (&str, Vec<OsString>, &str) =
        if child::locate("kustomize").is_some() {
            (
                "kustomize",
                vec!["build".into(), ".".into()],
                "kustomize build",
            )
        } else {
            (
                "kubectl",
                vec!["kustomize".into(), ".".into()],
                "kubectl kustomize",
            )
        };
    if params.kustomize_enable_helm {
        // kustomize hands helm what a kustomization's helmCharts say, some of it where helm
        // reads flags: it runs helm through the check of `helm_shim`.
        let shim = helm_shim::link(sandbox).map_err(|e| {
            vec![Problem::general(format!(
                "cannot prepare helm for kustomize's --enable-helm: {e}"
            ))]
        })?;
        args.extend(["--enable-helm".into(), "--helm-command".into(), shim.into()]);
    }
    child::run(program, &args, dir, sandbox, label).map_err(|e| vec![Problem::general(e)])
}

/// Checks the parameters' paths, copies the repository into the sandbox and edits the copy's
/// kustomization; returns the application's folder in the copy.
fn prepare(
    dir: &Path,
    root: &Path,
    params: &AppParams,
    sandbox: &Sandbox,
) -> Result<PathBuf, Vec<Problem>> {
    let kustomize = &params.kustomize;
    let app = dir.canonicalize().map_err(|e| {
        vec![Problem::at(
            dir.display().to_string(),
            format!("cannot read: {e}"),
        )]
    })?;
    let mut problems = Vec::new();
    let mut components = Vec::new();
    for given in &kustomize.components {
        match component(&app, root, given, kustomize.ignore_missing_components) {
            Ok(Some(path)) => components.push(path),
            Ok(None) => {}
            Err(m) => problems.push(Problem::general(format!(
                "Application parameter components: {m}"
            ))),
        }
    }
    for patch in &kustomize.patches {
        if let Some(path) = patch.get("path").and_then(serde_json::Value::as_str) {
            let checked = paths::resolve_inside(&app, root, path, "patch file").and_then(|real| {
                if real.is_file() {
                    Ok(())
                } else {
                    Err(format!("patch file {path:?} is not a file"))
                }
            });
            if let Err(m) = checked {
                problems.push(Problem::general(format!(
                    "Application parameter patches: {m}"
                )));
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let copy_root = sandbox.path().join("repository");
    copy::copy_repository(root, &copy_root, "the kustomize parameters")
        .map_err(|m| vec![Problem::general(m)])?;
    let copy_app = copy_root.join(app.strip_prefix(root).unwrap_or(Path::new("")));
    let Some(name) = KUSTOMIZATION_FILES
        .iter()
        .find(|n| copy_app.join(n).is_file())
    else {
        return Err(vec![Problem::general(
            "the kustomize parameters need a kustomization file in the application's folder",
        )]);
    };
    let file = copy_app.join(name);
    let at = |m: String| vec![Problem::at(*name, m)];
    let size = std::fs::metadata(&file)
        .map_err(|e| at(e.to_string()))?
        .len();
    if size > MAX_KUSTOMIZATION_BYTES {
        return Err(at(format!(
            "is larger than {} MiB",
            MAX_KUSTOMIZATION_BYTES >> 20
        )));
    }
    let text = std::fs::read_to_string(&file).map_err(|e| at(e.to_string()))?;
    let edited = edit::edit(&text, kustomize, &components)
        .map_err(|m| at(format!("{m}; cannot apply the kustomize parameters")))?;
    // The copy may be a link to the user's file: replace the link, never write through it.
    std::fs::remove_file(&file).map_err(|e| at(e.to_string()))?;
    std::fs::write(&file, edited).map_err(|e| at(e.to_string()))?;
    Ok(copy_app)
}

/// A component folder given by the Application, as written for the kustomization; `None` when
/// it is missing and missing components are ignored. It must stay inside the repository,
/// found or not.
fn component(
    app: &Path,
    root: &Path,
    given: &str,
    ignore_missing: bool,
) -> Result<Option<String>, String> {
    if given.is_empty() || given.starts_with('-') || given.chars().any(char::is_control) {
        return Err(format!("{given:?} is not a folder path"));
    }
    if Path::new(given).is_absolute() {
        return Err(format!(
            "component {given:?}: absolute paths are not allowed"
        ));
    }
    if !lexically_inside(&app.join(given), root) {
        return Err(format!("component {given:?} is outside the repository"));
    }
    if ignore_missing && std::fs::symlink_metadata(app.join(given)).is_err() {
        return Ok(None);
    }
    let real = paths::resolve_inside(app, root, given, "component")?;
    if !real.is_dir() {
        return Err(format!("component {given:?} is not a folder"));
    }
    Ok(Some(given.to_owned()))
}

/// Whether `path` stays under `root` with its `..` resolved by name (no file system access).
fn lexically_inside(path: &Path, root: &Path) -> bool {
    use std::path::Component;
    let mut parts: Vec<Component<'_>> = Vec::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return false;
                }
            }
            Component::CurDir => {}
            other => parts.push(other),
        }
    }
    parts.iter().collect::<PathBuf>().starts_with(root)
}
