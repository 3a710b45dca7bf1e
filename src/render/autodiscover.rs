//! `vaultplate discover`: whether an application holds anything for vaultplate, for the
//! opt-in auto-discovery of plugin.yaml (the chart's `plugin.autoDiscovery`).
//!
//! It looks where `render` would find placeholders: the application's YAML and JSON files, the
//! kustomize `resources`, `components` and `helmCharts` they lead to inside the repository, and
//! the Application's parameters (inline values, `set` values, values files, `file-parameters`
//! files). Placeholders in YAML comments do not count. The search is bounded (folders, depth,
//! bytes), follows nothing that leaves the repository and no remote URL, and never fails: what
//! cannot be read is left for `render` to report.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::app_params::AppParams;
use super::discover::KUSTOMIZATION_FILES;
use super::paths;
use crate::engine::manifest::ANNOTATION_PREFIX;
use crate::engine::source::{self, RUN_CAP};

/// Folders (the application's and those its kustomizations lead to) searched at most.
const MAX_FOLDERS: usize = 256;
/// How many kustomizations deep `resources` and `components` are followed.
const MAX_DEPTH: usize = 16;
/// What a placeholder starts with.
const PLACEHOLDER: &str = "<path:";

/// Whether the application in `dir`, with the Application settings in `env`, holds a
/// placeholder or an `avp.kubernetes.io/` annotation.
pub(crate) fn wants_vaultplate(dir: &Path, env: &BTreeMap<String, String>) -> bool {
    let root = paths::repository_root(dir, env);
    let Ok(app) = dir.canonicalize() else {
        return false;
    };
    let mut search = Search {
        root,
        budget: RUN_CAP,
        folders: HashSet::new(),
    };
    // Parameters render would refuse: claim the application, so that render names the error.
    let Ok(params) = AppParams::from_env(env) else {
        return true;
    };
    search.parameters(&app, &params) || search.folder(&app, 0)
}

struct Search {
    root: PathBuf,
    /// Bytes left to read.
    budget: u64,
    /// Folders searched so far (canonical paths).
    folders: HashSet<PathBuf>,
}

impl Search {
    /// The Application's own values: inline, `set`, values files and `file-parameters` files.
    fn parameters(&mut self, app: &Path, params: &AppParams) -> bool {
        params.values.as_deref().is_some_and(yaml_mentions)
            || params.set.iter().any(|(_, v)| v.contains(PLACEHOLDER))
            || params
                .values_files
                .iter()
                .any(|f| self.file(app, f, yaml_mentions))
            || params
                .file_parameters
                .iter()
                .any(|(_, f)| self.file(app, f, |text| text.contains(PLACEHOLDER)))
    }

    /// The file `given` (relative to `dir`, inside the repository) read and tested by `test`.
    fn file(&mut self, dir: &Path, given: &str, test: fn(&str) -> bool) -> bool {
        paths::inside_repository("file", dir, &self.root, given)
            .ok()
            .and_then(|path| source::read_text(&path, given, &mut self.budget).ok())
            .is_some_and(|text| test(&text))
    }

    /// The manifest files of `dir` (a folder inside the repository) and, when it is a
    /// kustomization, what it leads to.
    fn folder(&mut self, dir: &Path, depth: usize) -> bool {
        if depth > MAX_DEPTH
            || self.folders.len() >= MAX_FOLDERS
            || !dir.starts_with(&self.root)
            || !self.folders.insert(dir.to_path_buf())
        {
            return false;
        }
        let Ok(files) = source::manifest_files(dir, Some(&self.root)) else {
            return false;
        };
        let mentioned = files.iter().any(|path| {
            source::read_text(path, "", &mut self.budget).is_ok_and(|text| yaml_mentions(&text))
        });
        mentioned || self.kustomization(dir, depth)
    }

    /// Follows the kustomization in `dir`, if any: local `resources`, `components` (and the
    /// older `bases`), and the values and local charts of `helmCharts`.
    fn kustomization(&mut self, dir: &Path, depth: usize) -> bool {
        let Some(file) = KUSTOMIZATION_FILES
            .iter()
            .map(|name| dir.join(name))
            .find(|path| path.is_file())
        else {
            return false;
        };
        let Some(kustomization) = source::read_text(&file, "", &mut self.budget)
            .ok()
            .and_then(|text| crate::yaml::value::parse_value(&text).ok())
        else {
            return false;
        };
        let listed = ["resources", "components", "bases"]
            .iter()
            .filter_map(|field| kustomization.get(field).and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_str);
        for entry in listed {
            if let Some(path) = self.local(dir, entry) {
                let found = if path.is_dir() {
                    self.folder(&path, depth + 1)
                } else {
                    source::read_text(&path, "", &mut self.budget)
                        .is_ok_and(|text| yaml_mentions(&text))
                };
                if found {
                    return true;
                }
            }
        }
        self.helm_charts(dir, &kustomization, depth)
    }

    /// The `helmCharts` of a kustomization: inline values, values files, and each chart's
    /// folder under `helmGlobals.chartHome` (default `charts`) when it is in the repository.
    fn helm_charts(&mut self, dir: &Path, kustomization: &Value, depth: usize) -> bool {
        let Some(charts) = kustomization.get("helmCharts").and_then(Value::as_array) else {
            return false;
        };
        let chart_home = kustomization
            .pointer("/helmGlobals/chartHome")
            .and_then(Value::as_str)
            .unwrap_or("charts");
        for chart in charts {
            if chart.get("valuesInline").is_some_and(json_mentions) {
                return true;
            }
            let values_files = chart
                .get("valuesFile")
                .into_iter()
                .chain(
                    chart
                        .get("additionalValuesFiles")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten(),
                )
                .filter_map(Value::as_str);
            for given in values_files {
                if let Some(path) = self.local(dir, given)
                    && source::read_text(&path, "", &mut self.budget)
                        .is_ok_and(|text| yaml_mentions(&text))
                {
                    return true;
                }
            }
            let name = chart.get("name").and_then(Value::as_str).unwrap_or("");
            if !name.is_empty()
                && let Some(folder) = self.local(dir, &format!("{chart_home}/{name}"))
                && folder.is_dir()
                && self.folder(&folder, depth + 1)
            {
                return true;
            }
        }
        false
    }

    /// `entry` of a kustomization in `dir` as a path inside the repository; `None` for a remote
    /// URL, an absolute path, or anything missing or outside.
    fn local(&self, dir: &Path, entry: &str) -> Option<PathBuf> {
        if is_remote(entry) || Path::new(entry).is_absolute() {
            return None;
        }
        dir.join(entry)
            .canonicalize()
            .ok()
            .filter(|path| path.starts_with(&self.root))
    }
}

/// A kustomize entry that names something to download rather than a path.
fn is_remote(entry: &str) -> bool {
    entry.contains("://")
        || entry.contains('?')
        || entry.contains("//")
        || [
            "git@",
            "git::",
            "github.com/",
            "gitlab.com/",
            "bitbucket.org/",
        ]
        .iter()
        .any(|prefix| entry.starts_with(prefix))
}

/// Whether the YAML (or JSON, or Helm template) `text` holds a placeholder or an annotation
/// outside comments. Text that does not parse as YAML (a Helm template) is searched line by
/// line without its comments.
fn yaml_mentions(text: &str) -> bool {
    if !text.contains(PLACEHOLDER) && !text.contains(ANNOTATION_PREFIX) {
        return false;
    }
    match crate::yaml::parse_stream(text) {
        Ok(documents) => documents
            .iter()
            .filter_map(|d| d.root.as_ref())
            .any(|root| json_mentions(&crate::yaml::value::to_json(root))),
        Err(_) => text
            .lines()
            .map(without_comment)
            .any(|line| line.contains(PLACEHOLDER) || line.contains(ANNOTATION_PREFIX)),
    }
}

/// Whether any key or string in `value` holds a placeholder, or a key an annotation.
fn json_mentions(value: &Value) -> bool {
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Value::String(s) if s.contains(PLACEHOLDER) => return true,
            Value::Array(items) => pending.extend(items),
            Value::Object(map) => {
                if map
                    .keys()
                    .any(|k| k.contains(PLACEHOLDER) || k.contains(ANNOTATION_PREFIX))
                {
                    return true;
                }
                pending.extend(map.values());
            }
            _ => {}
        }
    }
    false
}

/// `line` without a YAML comment: from a `#` at its start or after a space or tab, outside
/// quotes (a placeholder's own `#` follows no space).
fn without_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    let mut quote = None;
    let mut at = 0;
    while at < bytes.len() {
        let c = bytes[at];
        let previous = if at == 0 { b' ' } else { bytes[at - 1] };
        match quote {
            Some(b'"') if c == b'\\' => at += 1,
            // `''` inside single quotes is a quote, not the end.
            Some(b'\'') if c == b'\'' && bytes.get(at + 1) == Some(&b'\'') => at += 1,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'#' && matches!(previous, b' ' | b'\t') => return &line[..at],
            None if matches!(c, b'"' | b'\'')
                && matches!(previous, b' ' | b'\t' | b'[' | b'{' | b',') =>
            {
                quote = Some(c);
            }
            None => {}
        }
        at += 1;
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::test_files::tree as dir;

    #[test]
    fn placeholders_and_annotations_count_but_not_in_comments() {
        let cases: &[(&[(&str, &str)], bool)] = &[
            (&[("values.yaml", "password: <path:secret/data/a#b>")], true),
            (
                &[(
                    "templates/s.yaml",
                    "annotations: {avp.kubernetes.io/path: x}",
                )],
                true,
            ),
            (
                &[("templates/s.yaml", "a: {{ .Values.x }} # <path:a#b>\nb: c")],
                false,
            ),
            (
                &[(
                    "templates/s.yaml",
                    "a: {{ .Values.x }}\nb: \"#x <path:a#b>\"",
                )],
                true,
            ),
            (
                &[("a.yaml", "# password: <path:a#b>\nkind: ConfigMap")],
                false,
            ),
            (&[("a.yaml", "data:\n  s: |\n    # <path:a#b>\n")], true),
            (&[("a.yaml", "kind: ConfigMap\ndata: {a: <b>}")], false),
            (&[(".git/x.yaml", "<path:a#b>")], false),
            (&[("notes.txt", "<path:a#b>")], false),
        ];
        for (files, want) in cases {
            let d = dir(files);
            assert_eq!(
                wants_vaultplate(d.path(), &BTreeMap::new()),
                *want,
                "{files:?}"
            );
        }
    }

    #[test]
    fn comments_end_at_a_spaced_hash_outside_quotes() {
        let table = [
            ("a: b # c", "a: b "),
            ("# all", ""),
            ("a: <path:x#y>", "a: <path:x#y>"),
            ("a: \"b # c\" # d", "a: \"b # c\" "),
            ("a: 'it''s # x' # y", "a: 'it''s # x' "),
            ("a: it's # x", "a: it's "),
        ];
        for (line, want) in table {
            assert_eq!(without_comment(line), want, "{line}");
        }
    }

    #[test]
    fn remote_entries_are_not_paths() {
        for remote in [
            "https://github.com/org/repo//base?ref=v1",
            "github.com/org/repo/base",
            "git@github.com:org/repo.git",
            "git::https://example.com/repo",
            "ssh://git@example.com/repo",
        ] {
            assert!(is_remote(remote), "{remote}");
        }
        for local in ["../base", "deployment.yaml", "components/x"] {
            assert!(!is_remote(local), "{local}");
        }
    }
}
