//! What kind of application a directory holds, and whether it holds anything for vaultplate.

use std::fmt;
use std::path::Path;

/// How an application directory is turned into manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceType {
    /// A kustomization: `kustomize build`.
    Kustomize,
    /// A Helm chart: `helm template`.
    Helm,
    /// Plain manifests, read as they are.
    Plain,
}

impl fmt::Display for SourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceType::Kustomize => "kustomize",
            SourceType::Helm => "helm",
            SourceType::Plain => "plain",
        })
    }
}

/// File names that make a directory a kustomization, as kustomize itself accepts them.
pub const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Detects the source type: a kustomization first, then a Helm chart, else plain manifests.
pub fn detect(dir: &Path) -> SourceType {
    if KUSTOMIZATION_FILES.iter().any(|f| dir.join(f).is_file()) {
        SourceType::Kustomize
    } else if dir.join("Chart.yaml").is_file() {
        SourceType::Helm
    } else {
        SourceType::Plain
    }
}

/// Whether any YAML or JSON file under `dir` (hidden folders skipped, values files included)
/// mentions an inline placeholder or an `avp.kubernetes.io/` annotation. A text search: Helm
/// templates are not YAML before rendering.
pub fn wants_vaultplate(dir: &Path) -> bool {
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if !name.starts_with('.') {
                    pending.push(path);
                }
            } else if [".yaml", ".yml", ".json"]
                .iter()
                .any(|ext| name.ends_with(ext))
                && std::fs::read_to_string(&path).is_ok_and(|text| {
                    text.contains("<path:") || text.contains(crate::manifest::ANNOTATION_PREFIX)
                })
            {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        dir
    }

    #[test]
    fn detection_prefers_kustomize_then_helm() {
        let cases: &[(&[(&str, &str)], SourceType)] = &[
            (
                &[("kustomization.yaml", ""), ("Chart.yaml", "")],
                SourceType::Kustomize,
            ),
            (&[("Kustomization", "")], SourceType::Kustomize),
            (&[("Chart.yaml", ""), ("a.yaml", "")], SourceType::Helm),
            (&[("a.yaml", "")], SourceType::Plain),
        ];
        for (files, want) in cases {
            assert_eq!(detect(dir(files).path()), *want, "{files:?}");
        }
    }

    #[test]
    fn discovery_looks_for_placeholders_and_annotations() {
        let cases: &[(&[(&str, &str)], bool)] = &[
            (&[("values.yaml", "password: <path:secret/data/a#b>")], true),
            (
                &[(
                    "templates/s.yaml",
                    "annotations: {avp.kubernetes.io/path: x}",
                )],
                true,
            ),
            (&[("a.yaml", "kind: ConfigMap\ndata: {a: <b>}")], false),
            (&[(".git/x.yaml", "<path:a#b>")], false),
            (&[("notes.txt", "<path:a#b>")], false),
        ];
        for (files, want) in cases {
            assert_eq!(wants_vaultplate(dir(files).path()), *want, "{files:?}");
        }
    }
}
