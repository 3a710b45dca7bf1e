//! What kind of application a directory holds.

use std::fmt;
use std::path::Path;

/// How an application directory is turned into manifests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SourceType {
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
pub(crate) const KUSTOMIZATION_FILES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Detects the source type: a kustomization first, then a Helm chart, else plain manifests.
pub(crate) fn detect(dir: &Path) -> SourceType {
    if KUSTOMIZATION_FILES.iter().any(|f| dir.join(f).is_file()) {
        SourceType::Kustomize
    } else if dir.join("Chart.yaml").is_file() {
        SourceType::Helm
    } else {
        SourceType::Plain
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_files::tree as dir;

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
}
