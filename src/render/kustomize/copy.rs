//! A private copy of the repository, where the kustomization can be edited: Argo CD edits its
//! own copy, but the plugin's copy is the user's as far as vaultplate is concerned, and a
//! local checkout certainly is. The copy mirrors the repository (without `.git`); a symlink
//! becomes a link to the same place inside the copy.

use std::path::{Path, PathBuf};

/// Most bytes of file contents copied.
const MAX_COPY_BYTES: u64 = 1 << 30;

/// Copies the repository at `root` (already checked by `paths::check_tree`) to `to`; `purpose`
/// ends the messages' "cannot copy ... for" (`the kustomize parameters`, `the templates`).
pub(crate) fn copy_repository(root: &Path, to: &Path, purpose: &str) -> Result<(), String> {
    let fail = |path: &Path, e: std::io::Error| {
        let shown = path
            .strip_prefix(root)
            .unwrap_or(path)
            .display()
            .to_string();
        format!("cannot copy {shown} for {purpose}: {e}")
    };
    std::fs::create_dir(to).map_err(|e| fail(root, e))?;
    let mut budget = MAX_COPY_BYTES;
    let mut pending: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let target_dir = to.join(dir.strip_prefix(root).unwrap_or(Path::new("")));
        for entry in std::fs::read_dir(&dir).map_err(|e| fail(&dir, e))? {
            let entry = entry.map_err(|e| fail(&dir, e))?;
            let path = entry.path();
            let target = target_dir.join(entry.file_name());
            let kind = entry.file_type().map_err(|e| fail(&path, e))?;
            if kind.is_symlink() {
                // A link that leads nowhere is left out: kustomize finds nothing there either.
                if let Ok(real) = path.canonicalize()
                    && let Ok(inside) = real.strip_prefix(root)
                {
                    std::os::unix::fs::symlink(to.join(inside), &target)
                        .map_err(|e| fail(&path, e))?;
                }
            } else if kind.is_dir() {
                if entry.file_name() != ".git" {
                    std::fs::create_dir(&target).map_err(|e| fail(&path, e))?;
                    pending.push(path);
                }
            } else if kind.is_file() {
                let size = entry.metadata().map_err(|e| fail(&path, e))?.len();
                budget = budget.checked_sub(size).ok_or_else(|| {
                    format!(
                        "the repository is larger than {} MiB: too large to copy for \
                         {purpose}",
                        MAX_COPY_BYTES >> 20
                    )
                })?;
                std::fs::copy(&path, &target).map_err(|e| fail(&path, e))?;
            }
        }
    }
    Ok(())
}
