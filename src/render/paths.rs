//! Keeps files named by an Application inside the repository.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use crate::engine::problem::Problem;

/// The repository root: Argo CD unpacks the repository and runs the plugin in
/// `<root>/<ARGOCD_APP_SOURCE_PATH>`; elsewhere the application directory itself.
pub(super) fn repository_root(app_dir: &Path, env: &BTreeMap<String, String>) -> PathBuf {
    let app = app_dir
        .canonicalize()
        .unwrap_or_else(|_| app_dir.to_path_buf());
    let source_path = env
        .get("ARGOCD_APP_SOURCE_PATH")
        .map(|p| p.trim_matches('/'))
        .filter(|p| !p.is_empty() && *p != ".");
    if let Some(source_path) = source_path {
        let depth = Path::new(source_path)
            .components()
            .filter(|c| matches!(c, Component::Normal(_)))
            .count();
        if app.ends_with(source_path)
            && let Some(root) = app.ancestors().nth(depth)
        {
            return root.to_path_buf();
        }
    }
    app
}

/// Resolves a file path given by the Application (a values file, a `file-parameters` file;
/// `what` names it in messages): relative to the application directory, and inside the
/// repository after following symlinks.
pub(super) fn inside_repository(
    what: &str,
    app_dir: &Path,
    root: &Path,
    given: &str,
) -> Result<PathBuf, String> {
    let real = resolve_inside(app_dir, root, given, what)?;
    if !real.is_file() {
        return Err(format!("{what} {given:?} is not a file"));
    }
    Ok(real)
}

/// Resolves `given` (a `what`, e.g. `values file` or `component`, named in messages) relative
/// to the application directory and follows symlinks: the result is inside `root`, or an
/// error says why not. An absolute path is refused, and so is one that does not exist.
pub(super) fn resolve_inside(
    app_dir: &Path,
    root: &Path,
    given: &str,
    what: &str,
) -> Result<PathBuf, String> {
    let path = Path::new(given);
    if path.is_absolute() {
        return Err(format!("{what} {given:?}: absolute paths are not allowed"));
    }
    let real = app_dir
        .join(path)
        .canonicalize()
        .map_err(|e| format!("{what} {given:?}: {e}"))?;
    if !real.starts_with(root) {
        return Err(format!("{what} {given:?} is outside the repository"));
    }
    Ok(real)
}

/// Whether `given` (relative to the application directory) names nothing, at a place inside
/// the repository even when read without following symlinks: `ignore-missing-value-files` may
/// skip such a file. A path that leaves the repository is never "missing", so that skipping
/// cannot tell what exists outside it.
pub(super) fn missing_inside(app_dir: &Path, root: &Path, given: &str) -> bool {
    let path = Path::new(given);
    if path.is_absolute() {
        return false;
    }
    let app = app_dir
        .canonicalize()
        .unwrap_or_else(|_| app_dir.to_path_buf());
    let mut lexical = app.clone();
    for part in path.components() {
        match part {
            Component::ParentDir if !lexical.pop() => return false,
            Component::Normal(name) => lexical.push(name),
            _ => {}
        }
    }
    lexical.starts_with(root)
        && matches!(
            std::fs::symlink_metadata(app.join(path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound
        )
}

/// Checks the whole repository before helm or kustomize read any of it: they follow symlinks
/// (a chart's `values.yaml`, a file read by `.Files.Get`, a kustomize resource, a `file://`
/// dependency anywhere in the repository), so every symlink must resolve inside `root`, and
/// nothing may be a device, FIFO or socket, which they would read without end or wait on.
///
/// Checking is cheaper than giving them a copy: it reads directory entries only (no file
/// contents), each directory once; Argo CD runs the same check on every repository it renders.
/// Git's own `.git` folder is skipped.
pub(super) fn check_tree(root: &Path) -> Result<(), Problem> {
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let unreadable =
            |e: std::io::Error| Problem::at(shown(&dir, root), format!("cannot read: {e}"));
        for entry in std::fs::read_dir(&dir).map_err(unreadable)? {
            let entry = entry.map_err(unreadable)?;
            let path = entry.path();
            let kind = entry.file_type().map_err(unreadable)?;
            if kind.is_symlink() {
                crate::engine::source::outside_check(&path, root)?;
                // A link inside the repository leads to what this walk reaches anyway.
                let target = std::fs::metadata(&path);
                if target.is_ok_and(|m| !m.is_file() && !m.is_dir()) {
                    return Err(not_regular(&path, root));
                }
            } else if kind.is_dir() {
                if entry.file_name() != ".git" {
                    pending.push(path);
                }
            } else if !kind.is_file() {
                return Err(not_regular(&path, root));
            }
        }
    }
    Ok(())
}

/// `path` relative to `root`, for messages.
fn shown(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn not_regular(path: &Path, root: &Path) -> Problem {
    Problem::at(
        shown(path, root),
        "is not a regular file (a device, FIFO or socket, perhaps behind a symlink); helm and \
         kustomize may read only regular files: remove it from the repository",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_is_found_from_the_source_path() {
        let repo = tempfile::tempdir().expect("temp dir");
        let app = repo.path().join("apps/shop");
        std::fs::create_dir_all(&app).expect("mkdir");
        let real_repo = repo.path().canonicalize().expect("canonical");
        let env = |p: &str| BTreeMap::from([("ARGOCD_APP_SOURCE_PATH".to_owned(), p.to_owned())]);
        assert_eq!(repository_root(&app, &env("apps/shop")), real_repo);
        assert_eq!(repository_root(&app, &env("/apps/shop/")), real_repo);
        assert_eq!(
            repository_root(&app, &env("elsewhere")),
            real_repo.join("apps/shop")
        );
        assert_eq!(
            repository_root(&app, &BTreeMap::new()),
            real_repo.join("apps/shop")
        );
    }

    #[test]
    fn values_files_stay_inside_the_repository() {
        let outside = tempfile::tempdir().expect("temp dir");
        std::fs::write(outside.path().join("secret.yaml"), "a: 1").expect("write");
        let repo = tempfile::tempdir().expect("temp dir");
        let root = repo.path().canonicalize().expect("canonical");
        let app = root.join("apps/shop");
        std::fs::create_dir_all(&app).expect("mkdir");
        std::fs::write(app.join("values.yaml"), "a: 1").expect("write");
        std::fs::write(root.join("common.yaml"), "a: 1").expect("write");
        std::os::unix::fs::symlink(outside.path().join("secret.yaml"), app.join("link.yaml"))
            .expect("symlink");
        let inside_repository = |app: &Path, root: &Path, given: &str| {
            super::inside_repository("values file", app, root, given)
        };
        assert!(inside_repository(&app, &root, "values.yaml").is_ok());
        assert!(inside_repository(&app, &root, "../../common.yaml").is_ok());
        let refused = [
            (
                "/etc/passwd",
                "values file \"/etc/passwd\": absolute paths are not allowed",
            ),
            (
                "../../../x.yaml",
                "values file \"../../../x.yaml\": No such file or directory (os error 2)",
            ),
            (
                "link.yaml",
                "values file \"link.yaml\" is outside the repository",
            ),
            (".", "values file \".\" is not a file"),
        ];
        for (given, want) in refused {
            assert_eq!(
                inside_repository(&app, &root, given),
                Err(want.to_owned()),
                "{given}"
            );
        }
        let escape = format!(
            "../../../{}/secret.yaml",
            outside
                .path()
                .file_name()
                .and_then(|n| n.to_str())
                .expect("name")
        );
        assert!(
            inside_repository(&app, &root, &escape)
                .expect_err("refused")
                .ends_with("is outside the repository")
        );
    }

    #[test]
    fn only_files_missing_inside_the_repository_are_missing() {
        let repo = tempfile::tempdir().expect("temp dir");
        let root = repo.path().canonicalize().expect("canonical");
        let app = root.join("apps/shop");
        std::fs::create_dir_all(&app).expect("mkdir");
        std::fs::write(app.join("values.yaml"), "a: 1").expect("write");
        std::os::unix::fs::symlink("/nonexistent/x.yaml", app.join("dangling.yaml"))
            .expect("symlink");
        assert!(missing_inside(&app, &root, "absent.yaml"));
        assert!(missing_inside(&app, &root, "../../absent.yaml"));
        for present_or_outside in [
            "values.yaml",
            "dangling.yaml",
            "../../../absent.yaml",
            "/absent.yaml",
        ] {
            assert!(
                !missing_inside(&app, &root, present_or_outside),
                "{present_or_outside}"
            );
        }
    }
}
