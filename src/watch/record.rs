//! Usage records: what one Application's last successful render read, written by `render`
//! into `VAULTPLATE_RECORDS_DIR` and read by `watch`. A record names the Application as Argo CD
//! passed it, and for every secret its path, KV version, whether a version was pinned and the
//! version read (KV v2), or a keyed HMAC of its data (KV v1). Never a value.
//!
//! Beside a record, `watch` keeps a marker (`<stem>.refreshed.json`) of the change it refreshed
//! the Application for, so that a change is refreshed once, also across `--once` runs; a new
//! record (the re-render) makes the marker stale.

use std::collections::{BTreeMap, HashMap};
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::kube_secret::{is_dns_label, is_dns_subdomain};
use crate::engine::redact::{hex, hmac_sha256};
use crate::placeholder::secret_ref::{KvVersion, SecretRef};
use crate::secrets::SecretAnswer;
use crate::sensitive::Sensitive;

/// The format of records this build writes and reads.
const FORMAT: u32 = 1;
/// Largest record or marker file read; a record of thousands of paths is far smaller.
const MAX_FILE: u64 = 4 << 20;
/// What marker files end with (records end with `.json` too, but not with this).
const MARKER_SUFFIX: &str = ".refreshed.json";

/// An Application as Argo CD names it to a plugin (`ARGOCD_APP_NAME`): `NAME` for one in Argo
/// CD's own namespace, `NAMESPACE_NAME` for one in another namespace (Argo CD's "instance
/// name", what the controller sends the repo-server), or `NAMESPACE/NAME` (its "qualified
/// name", as the CLI and UI write it). Kubernetes names hold neither `_` nor `/`, so the first
/// one splits them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct AppId {
    /// The Application's namespace when it is not Argo CD's own.
    pub namespace: Option<String>,
    /// The Application's name.
    pub name: String,
}

impl AppId {
    /// Parses `ARGOCD_APP_NAME`; `Err` says why it names no Application.
    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let (namespace, name) = match text.find(['_', '/']) {
            Some(at) => (Some(&text[..at]), &text[at + 1..]),
            None => (None, text),
        };
        if let Some(namespace) = namespace.filter(|n| !is_dns_label(n)) {
            return Err(format!(
                "{namespace:?} is not a namespace name (lowercase letters, digits and '-')"
            ));
        }
        if !is_dns_subdomain(name) || name.is_empty() {
            return Err(format!(
                "{name:?} is not an Application name (lowercase letters, digits, '-' and '.')"
            ));
        }
        Ok(AppId {
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
        })
    }

    /// The file name of its record without `.json`: `NAME` or `NAMESPACE_NAME` (neither holds
    /// `/`, and no name starts with `.`, so every record is a plain file of the folder).
    pub(crate) fn stem(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("{namespace}_{}", self.name),
            None => self.name.clone(),
        }
    }
}

impl std::fmt::Display for AppId {
    /// `NAMESPACE/NAME`, or `NAME` in Argo CD's namespace.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(namespace) => write!(f, "{namespace}/{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// One Application's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Record {
    /// [`FORMAT`].
    pub format: u32,
    /// `ARGOCD_APP_NAME` as Argo CD passed it.
    pub application: String,
    /// When the render ended, in milliseconds since the epoch; also what a marker names.
    pub rendered_at_ms: u64,
    /// Every secret the render read, by path.
    pub secrets: Vec<Used>,
}

/// One secret a render read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Used {
    /// The raw logical path read (`secret/data/app`).
    pub path: String,
    /// 1 or 2.
    pub kv: u8,
    /// A version was pinned (`#VERSION`, `avp.kubernetes.io/secret-version`): never refreshed.
    pub pinned: bool,
    /// KV v2: the version read (the pinned one, or the newest at the time); `None` when
    /// nothing was there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// KV v1: whether something was there.
    #[serde(default)]
    pub present: bool,
    /// KV v1: HMAC-SHA256 of the data, keyed with `VAULTPLATE_RECORDS_KEY` (hex); `None`
    /// without a key (then a change cannot be seen) or when nothing was there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hmac: Option<String>,
}

impl Used {
    /// The KV version.
    pub(crate) fn kv(&self) -> KvVersion {
        if self.kv == 1 {
            KvVersion::V1
        } else {
            KvVersion::V2
        }
    }

    /// Whether `watch` can tell this secret changed: not pinned, and for KV v1 an HMAC to
    /// compare (or nothing there at render time).
    pub(crate) fn watchable(&self) -> bool {
        !self.pinned && (self.kv() == KvVersion::V2 || self.hmac.is_some() || !self.present)
    }
}

/// HMAC of a KV v1 secret's data (its JSON text as Vault answered it), keyed with `key`.
pub(crate) fn data_hmac(key: &Sensitive, data: &Map<String, Value>) -> String {
    let text = serde_json::to_string(data).unwrap_or_default();
    hex(&hmac_sha256(key.expose().as_bytes(), text.as_bytes()))
}

/// The record of a render that read `answers` (`version_read` says which KV v2 version each
/// answer was); secrets whose read failed are left out (the render did not use them).
pub(crate) fn record_of(
    application: &str,
    answers: &HashMap<SecretRef, SecretAnswer>,
    version_read: impl Fn(&SecretRef) -> Option<u64>,
    key: Option<&Sensitive>,
) -> Record {
    let mut secrets: Vec<Used> = answers
        .iter()
        .filter_map(|(secret, answer)| {
            let data = answer.as_ref().ok()?;
            Some(match secret.kv {
                KvVersion::V2 => Used {
                    path: secret.path.clone(),
                    kv: 2,
                    pinned: secret.version.is_some(),
                    version: secret.version.or_else(|| version_read(secret)),
                    present: data.is_some(),
                    hmac: None,
                },
                KvVersion::V1 => Used {
                    path: secret.path.clone(),
                    kv: 1,
                    pinned: false,
                    version: None,
                    present: data.is_some(),
                    hmac: key.zip(data.as_ref()).map(|(k, d)| data_hmac(k, d)),
                },
            })
        })
        .collect();
    secrets.sort_by(|a, b| (&a.path, a.version).cmp(&(&b.path, b.version)));
    Record {
        format: FORMAT,
        application: application.to_owned(),
        rendered_at_ms: now_ms(),
        secrets,
    }
}

/// Milliseconds since the epoch.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Writes `value` as JSON to `dir/name`, atomically (a private temporary file of the folder,
/// renamed over the old one) and readable by its owner only.
fn write_json(dir: &Path, name: &str, value: &impl Serialize) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut file = tempfile::Builder::new()
        .prefix(".vaultplate-")
        .tempfile_in(dir)?;
    file.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    serde_json::to_writer(&mut file, value)?;
    file.write_all(b"\n")?;
    file.as_file().sync_all()?;
    file.persist(dir.join(name)).map_err(|e| e.error)?;
    Ok(())
}

/// Writes `record` as the record of `app` in `dir`, replacing the previous one.
pub(crate) fn write(dir: &Path, app: &AppId, record: &Record) -> std::io::Result<()> {
    write_json(dir, &format!("{}.json", app.stem()), record)
}

/// A record found in the folder, with the marker of its last refresh.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// The Application.
    pub app: AppId,
    /// The record.
    pub record: Record,
    /// What the last refresh was for, when it concerns this record.
    pub marker: Option<Marker>,
}

/// What `watch` refreshed an Application for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Marker {
    /// The record's `rendered_at_ms` at the time.
    pub rendered_at_ms: u64,
    /// The state seen of each changed path (`v5`, `v-` for nothing, `h<hex>`).
    pub seen: BTreeMap<String, String>,
}

/// Reads every record of `dir`. Files that are not records (or not readable ones) are reported
/// in the second list, by file name and reason; stale markers (their record replaced or gone)
/// are removed.
pub(crate) fn read_all(dir: &Path) -> std::io::Result<(Vec<Found>, Vec<String>)> {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    let mut markers = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !name.ends_with(".json") {
            continue;
        }
        if let Some(stem) = name.strip_suffix(MARKER_SUFFIX) {
            markers.push(stem.to_owned());
            continue;
        }
        let stem = name.trim_end_matches(".json");
        let path = entry.path();
        let parsed = read_small(&path).and_then(|text| {
            let record: Record = serde_json::from_str(&text).map_err(|e| e.to_string())?;
            if record.format != FORMAT {
                return Err(format!("record format {} is not {FORMAT}", record.format));
            }
            let app = AppId::parse(&record.application)?;
            if app.stem() != stem {
                return Err(format!("names Application {app}, not {stem}"));
            }
            Ok((app, record))
        });
        match parsed {
            Ok((app, record)) => found.push(Found {
                app,
                record,
                marker: None,
            }),
            Err(why) => problems.push(format!("{name}: {why}")),
        }
    }
    found.sort_by(|a, b| a.app.cmp(&b.app));
    for stem in markers {
        let path = dir.join(format!("{stem}{MARKER_SUFFIX}"));
        let marker = read_small(&path)
            .and_then(|t| serde_json::from_str::<Marker>(&t).map_err(|e| e.to_string()));
        let owner = found.iter_mut().find(|f| f.app.stem() == stem);
        match (owner, marker) {
            (Some(owner), Ok(marker)) if marker.rendered_at_ms == owner.record.rendered_at_ms => {
                owner.marker = Some(marker);
            }
            // The re-render replaced the record (or it is gone): the refresh is done.
            _ => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    Ok((found, problems))
}

/// Keeps `marker` beside the record of `app`.
pub(crate) fn mark(dir: &Path, app: &AppId, marker: &Marker) -> std::io::Result<()> {
    write_json(dir, &format!("{}{MARKER_SUFFIX}", app.stem()), marker)
}

/// Removes the record of `app` and its marker (the Application no longer exists).
pub(crate) fn remove(dir: &Path, app: &AppId) {
    let _ = std::fs::remove_file(dir.join(format!("{}.json", app.stem())));
    let _ = std::fs::remove_file(dir.join(format!("{}{MARKER_SUFFIX}", app.stem())));
}

/// A regular file's text, at most [`MAX_FILE`] bytes; symlinks and other kinds are refused.
fn read_small(path: &Path) -> Result<String, String> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    if !meta.file_type().is_file() {
        return Err("not a regular file".to_owned());
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE + 1).read_to_string(&mut text))
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > MAX_FILE {
        return Err(format!("larger than {MAX_FILE} bytes"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn application_names_in_both_forms() {
        let plain = AppId::parse("shop").expect("plain");
        assert_eq!(
            (plain.namespace.as_deref(), plain.stem()),
            (None, "shop".into())
        );
        for text in ["team-a_shop", "team-a/shop"] {
            let app = AppId::parse(text).expect(text);
            assert_eq!(app.namespace.as_deref(), Some("team-a"));
            assert_eq!(app.name, "shop");
            assert_eq!(app.stem(), "team-a_shop");
            assert_eq!(app.to_string(), "team-a/shop");
        }
        for bad in [
            "", "../x", "a/../b", "A", "a_b_c", "ns/", "/x", ".hidden", "a/b/c",
        ] {
            assert!(AppId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
