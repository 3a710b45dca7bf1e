//! Gives a chart whose `charts/` folder is missing the dependencies its `Chart.yaml` names,
//! without writing into the application directory: the chart is copied into the render's
//! private folder and its `charts/` filled there.
//!
//! - `file://` dependencies are copied from inside the repository;
//! - `https://`, `http://` and `oci://` ones come from the shared [`ChartCache`], or are
//!   fetched into it by `helm dependency update` of a one-dependency chart in the private
//!   folder, with the operator's credentials for that repository alone
//!   ([`RepoCredentials`]);
//! - `Chart.lock`, when present, pins every version, and must list the same dependencies.

use std::path::{Path, PathBuf};

use regex::Regex;
use serde_json::Value;

use crate::config::ChartSettings;
use crate::engine::problem::Problem;
use crate::render::charts::cache::ChartCache;
use crate::render::charts::repos::{self, RepoCredentials, RepoKind};
use crate::render::child::{self, Sandbox};
use crate::secrets::mask::Masker;

/// Most files and folders copied for one chart (with its `file://` dependencies).
const MAX_ENTRIES: usize = 20_000;
/// Most bytes copied for one chart.
const MAX_BYTES: u64 = 256 << 20;
/// Deepest folder nesting copied.
const MAX_DEPTH: usize = 32;

/// One entry of `dependencies:`.
#[derive(Debug)]
struct Dependency {
    name: String,
    version: String,
    repository: String,
}

/// Where helm should render the chart in `dir` from: `None` for `dir` itself (no dependency
/// to fetch), else the private copy with its `charts/` filled.
pub(in crate::render) fn prepare(
    dir: &Path,
    root: &Path,
    sandbox: &Sandbox,
    settings: &ChartSettings,
) -> Result<Option<PathBuf>, Vec<Problem>> {
    let dependencies = read_dependencies(&dir.join("Chart.yaml"), "dependencies")?;
    let has_charts =
        std::fs::read_dir(dir.join("charts")).is_ok_and(|mut entries| entries.next().is_some());
    if dependencies.is_empty() || has_charts {
        return Ok(None);
    }
    let lock = dir.join("Chart.lock");
    let dependencies = if lock.is_file() {
        pinned(dependencies, read_dependencies(&lock, "dependencies")?)?
    } else {
        dependencies
    };
    let copy = sandbox.path().join("chart");
    let mut budget = Budget::default();
    copy_tree(dir, &copy, root, 0, &mut budget).map_err(|p| vec![p])?;
    let charts = copy.join("charts");
    std::fs::create_dir_all(&charts).map_err(|e| vec![io_problem("charts/", &e)])?;
    let mut fetcher = Fetcher {
        sandbox,
        settings,
        credentials: None,
        cache: None,
        runs: 0,
    };
    for dep in &dependencies {
        let place = format!("Chart.yaml: dependency {}", dep.name);
        let repo = dep.repository.as_str();
        if let Some(rel) = repo.strip_prefix("file://") {
            let from = local_chart(dir, root, rel).map_err(|m| vec![Problem::at(&place, m)])?;
            copy_tree(&from, &charts.join(&dep.name), root, 0, &mut budget).map_err(|p| vec![p])?;
        } else if RepoKind::of(repo).is_some() {
            let archive = fetcher
                .archive(dep)
                .map_err(|m| vec![Problem::at(&place, m)])?;
            let name = archive.file_name().map_or_else(
                || format!("{}.tgz", dep.name),
                |n| n.to_string_lossy().into(),
            );
            std::fs::copy(&archive, charts.join(name)).map_err(|e| vec![io_problem(&place, &e)])?;
        } else if !repo.is_empty() {
            return Err(vec![Problem::at(
                place,
                format!(
                    "repository {repo:?} is not supported: name it by its https://, http:// \
                     or oci:// URL (repository names such as @stable are not known here), \
                     or file:// for a chart in the repository"
                ),
            )]);
        }
    }
    Ok(Some(copy))
}

/// Fetches remote dependencies, through the cache when there is one.
struct Fetcher<'a> {
    sandbox: &'a Sandbox,
    settings: &'a ChartSettings,
    /// Read on first use.
    credentials: Option<RepoCredentials>,
    /// Opened on first use.
    cache: Option<ChartCache>,
    runs: usize,
}

impl Fetcher<'_> {
    /// The archive of `dep`: the cache's, or a new download (then kept in the cache).
    fn archive(&mut self, dep: &Dependency) -> Result<PathBuf, String> {
        repos::authority(&dep.repository)?;
        if self.cache.is_none()
            && let Some(dir) = &self.settings.cache
        {
            self.cache = Some(ChartCache::open(dir).map_err(|e| {
                format!(
                    "cannot open the chart cache {} (VAULTPLATE_CHART_CACHE): {e}",
                    dir.display()
                )
            })?);
        }
        let cache_error = |e: std::io::Error| format!("chart cache: {e}");
        let exact = exact_version(&dep.version);
        if let (Some(cache), true) = (&self.cache, exact) {
            let entry = cache
                .lock(
                    &dep.repository,
                    &dep.name,
                    dep.version.trim_start_matches('v'),
                )
                .map_err(cache_error)?;
            if let Some(found) = entry.get() {
                tracing::debug!(chart = %dep.name, version = %dep.version, "chart cache hit");
                return Ok(found.to_path_buf());
            }
            let fetched = self.fetch(dep)?;
            return entry
                .put(&fetched)
                .map(Path::to_path_buf)
                .map_err(cache_error);
        }
        let fetched = self.fetch(dep)?;
        let Some(cache) = &self.cache else {
            return Ok(fetched);
        };
        // A range: keep what it resolved to, for renders that pin that version.
        let file = fetched
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        let resolved = file
            .as_deref()
            .and_then(|f| f.strip_prefix(&format!("{}-", dep.name)))
            .and_then(|f| f.strip_suffix(".tgz"))
            .filter(|v| exact_version(v));
        if let Some(version) = resolved {
            let entry = cache
                .lock(&dep.repository, &dep.name, version)
                .map_err(cache_error)?;
            entry.put(&fetched).map_err(cache_error)?;
        }
        Ok(fetched)
    }

    /// Downloads `dep` with `helm dependency update` of a chart that depends on it alone, in a
    /// folder of the sandbox; returns the archive.
    fn fetch(&mut self, dep: &Dependency) -> Result<PathBuf, String> {
        if self.credentials.is_none() {
            self.credentials = Some(match &self.settings.credentials {
                Some(path) => RepoCredentials::read(path)
                    .map_err(|e| format!("VAULTPLATE_CHART_CREDENTIALS: {e}"))?,
                None => RepoCredentials::default(),
            });
        }
        let entry = self
            .credentials
            .as_ref()
            .and_then(|c| c.for_url(&dep.repository));
        self.runs += 1;
        let dir = self.sandbox.path().join(format!("fetch-{}", self.runs));
        let chart = serde_json::json!({
            "apiVersion": "v2",
            "name": "vaultplate-fetch",
            "version": "0.0.0",
            "dependencies": [{
                "name": dep.name,
                "version": dep.version,
                "repository": dep.repository,
            }],
        });
        let io = |e: std::io::Error| format!("cannot prepare the download: {e}");
        std::fs::create_dir_all(&dir).map_err(io)?;
        std::fs::write(dir.join("Chart.yaml"), chart.to_string()).map_err(io)?;
        let config_home = self.sandbox.path().join("helm/config");
        let written = match entry {
            Some(entry) => entry
                .write_helm_config(&dep.repository, &config_home)
                .map_err(io)?,
            None => None,
        };
        let mut args = vec!["dependency".into(), "update".into(), ".".into()];
        if entry.is_some_and(|e| e.plain_http) {
            args.push("--plain-http".into());
        }
        let result = child::run("helm", &args, &dir, self.sandbox, "helm dependency update");
        if let Some(path) = written {
            let _ = std::fs::remove_file(path);
        }
        result.map_err(|e| {
            let mut masker = Masker::default();
            if let Some(entry) = entry {
                entry.mask_into(&mut masker);
            }
            format!(
                "cannot fetch {} {} from {}: {}",
                dep.name,
                dep.version,
                dep.repository,
                masker.mask(&e.to_string())
            )
        })?;
        let archives: Vec<PathBuf> = std::fs::read_dir(dir.join("charts"))
            .map_err(io)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "tgz"))
            .collect();
        match archives.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(format!(
                "helm dependency update left {} archives instead of one",
                archives.len()
            )),
        }
    }
}

/// Whether `version` names one version (`1.2.3`, `v1.2.3-rc.1`), not a range.
fn exact_version(version: &str) -> bool {
    static EXACT: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$").expect("valid")
    });
    EXACT.is_match(version)
}

/// Reads the `key` list of dependencies of the YAML file `path`.
fn read_dependencies(path: &Path, key: &str) -> Result<Vec<Dependency>, Vec<Problem>> {
    let shown = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![Problem::at(&shown, format!("cannot read: {e}"))])?;
    let value = crate::yaml::value::parse_value(&text)
        .map_err(|e| vec![Problem::at(&shown, format!("invalid YAML at {e}"))])?;
    let Some(list) = value.get(key).and_then(Value::as_array) else {
        return Ok(Vec::new());
    };
    list.iter()
        .enumerate()
        .map(|(n, dep)| {
            let field = |name: &str| match dep.get(name) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(Value::String(s)) => Ok(s.clone()),
                Some(Value::Number(n)) => Ok(n.to_string()),
                Some(_) => Err(vec![Problem::at(
                    &shown,
                    format!("{key}[{n}].{name} must be a string"),
                )]),
            };
            Ok(Dependency {
                name: field("name")?,
                version: field("version")?,
                repository: field("repository")?,
            })
        })
        .collect()
}

/// `wanted` with the versions `Chart.lock` pins; an error when the lock lists other
/// dependencies.
fn pinned(
    wanted: Vec<Dependency>,
    locked: Vec<Dependency>,
) -> Result<Vec<Dependency>, Vec<Problem>> {
    let same = |a: &str, b: &str| a.trim_end_matches('/') == b.trim_end_matches('/');
    let out_of_sync = || {
        vec![Problem::at(
            "Chart.lock",
            "does not list the dependencies of Chart.yaml: run `helm dependency update` and \
             commit the new Chart.lock, or remove it",
        )]
    };
    if wanted.len() != locked.len() {
        return Err(out_of_sync());
    }
    wanted
        .into_iter()
        .map(|dep| {
            let lock = locked
                .iter()
                .find(|l| l.name == dep.name && same(&l.repository, &dep.repository))
                .ok_or_else(out_of_sync)?;
            Ok(Dependency {
                version: lock.version.clone(),
                ..dep
            })
        })
        .collect()
}

/// The folder of a `file://` dependency, which must be inside the repository.
fn local_chart(dir: &Path, root: &Path, rel: &str) -> Result<PathBuf, String> {
    let real = dir
        .join(rel)
        .canonicalize()
        .map_err(|e| format!("file://{rel}: {e}"))?;
    if !real.starts_with(root) || !real.is_dir() {
        return Err(format!(
            "file://{rel} must be a chart folder inside the repository"
        ));
    }
    Ok(real)
}

/// What a copy may still take.
#[derive(Default)]
struct Budget {
    entries: usize,
    bytes: u64,
}

/// Copies the folder `from` to `to`, following symlinks (the repository was checked: they
/// resolve inside it), leaving out `.git`, within [`MAX_ENTRIES`], [`MAX_BYTES`] and
/// [`MAX_DEPTH`].
fn copy_tree(
    from: &Path,
    to: &Path,
    root: &Path,
    depth: usize,
    budget: &mut Budget,
) -> Result<(), Problem> {
    let shown = from
        .strip_prefix(root)
        .unwrap_or(from)
        .display()
        .to_string();
    if depth > MAX_DEPTH {
        return Err(Problem::at(
            shown,
            format!("is nested more than {MAX_DEPTH} folders deep (a symlink loop?)"),
        ));
    }
    std::fs::create_dir_all(to).map_err(|e| io_problem(&shown, &e))?;
    for entry in std::fs::read_dir(from).map_err(|e| io_problem(&shown, &e))? {
        let entry = entry.map_err(|e| io_problem(&shown, &e))?;
        if entry.file_name() == ".git" {
            continue;
        }
        budget.entries += 1;
        if budget.entries > MAX_ENTRIES {
            return Err(Problem::at(
                shown,
                format!("the chart holds more than {MAX_ENTRIES} files and folders"),
            ));
        }
        let path = entry.path();
        let meta = std::fs::metadata(&path).map_err(|e| io_problem(&shown, &e))?;
        let target = to.join(entry.file_name());
        if meta.is_dir() {
            copy_tree(&path, &target, root, depth + 1, budget)?;
        } else if meta.is_file() {
            budget.bytes += meta.len();
            if budget.bytes > MAX_BYTES {
                return Err(Problem::at(
                    shown,
                    format!("the chart is larger than {} MiB", MAX_BYTES >> 20),
                ));
            }
            std::fs::copy(&path, &target).map_err(|e| io_problem(&shown, &e))?;
        }
    }
    Ok(())
}

fn io_problem(place: &str, e: &std::io::Error) -> Problem {
    Problem::at(place, format!("cannot copy the chart: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_versions_and_ranges() {
        for v in ["1.2.3", "v1.2.3", "1.2.3-rc.1", "1.2.3+build"] {
            assert!(exact_version(v), "{v}");
        }
        for v in [
            "^1.2.3",
            "~1.2",
            "1.x",
            ">=1.0.0",
            "*",
            "",
            "1.2.3 || 2.0.0",
        ] {
            assert!(!exact_version(v), "{v}");
        }
    }
}
