//! The operator's Helm repository credentials (`VAULTPLATE_CHART_CREDENTIALS`), and the helm
//! config files that hand one repository's credentials to the one helm run that fetches from
//! it.
//!
//! The file maps repository URLs to credentials (YAML, or JSON):
//!
//! ```yaml
//! https://charts.example.com/stable:   # an HTTP(S) repository: exactly this URL
//!   username: ci
//!   passwordFile: /etc/vaultplate/charts-password
//! oci://registry.example.com/charts:   # an OCI registry: this URL and everything below it
//!   token: ...                          # or username + password
//!   plainHttp: false
//! ```
//!
//! Credentials only ever reach helm through its own config files (`repositories.yaml`, the
//! registry `config.json`), written 0600 in the render's private folder for one dependency,
//! and only when that dependency's repository is the one they are configured for. They never
//! go on a command line, and an Application cannot name them.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use crate::secrets::mask::Masker;
use crate::sensitive::Sensitive;

/// Largest credentials file (or file a credential is read from) vaultplate reads.
const MAX_FILE_BYTES: u64 = 1 << 20;
/// The name helm knows a repository with credentials by, in its `repositories.yaml`.
const REPO_NAME: &str = "vaultplate-credentials";

/// The operator's credentials for chart repositories.
#[derive(Debug, Default)]
pub(crate) struct RepoCredentials {
    entries: Vec<Entry>,
}

/// The credentials of one repository URL.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The URL as configured, without a trailing `/`.
    url: String,
    auth: Auth,
    /// `plainHttp`: talk to this OCI registry without TLS.
    pub(crate) plain_http: bool,
}

#[derive(Debug)]
enum Auth {
    None,
    Basic {
        username: String,
        password: Sensitive,
    },
    Token(Sensitive),
}

/// Which kind of repository a dependency's `repository:` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RepoKind {
    /// `http://` or `https://`: a chart repository with an `index.yaml`.
    Http,
    /// `oci://`: an OCI registry.
    Oci,
}

impl RepoKind {
    /// The kind of `url`, if it is a remote repository URL.
    pub(crate) fn of(url: &str) -> Option<Self> {
        if url.starts_with("http://") || url.starts_with("https://") {
            Some(RepoKind::Http)
        } else if url.starts_with("oci://") {
            Some(RepoKind::Oci)
        } else {
            None
        }
    }
}

/// `url`'s `host[:port]`, or why it has none vaultplate accepts.
pub(crate) fn authority(url: &str) -> Result<&str, String> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() {
        return Err(format!("{url:?} names no host"));
    }
    if authority.contains('@') {
        return Err(format!(
            "{url:?} carries a user name: credentials come from the operator's \
             VAULTPLATE_CHART_CREDENTIALS file only; remove it from the URL"
        ));
    }
    Ok(authority)
}

impl RepoCredentials {
    /// Reads the file `path` (from `VAULTPLATE_CHART_CREDENTIALS`).
    pub(crate) fn read(path: &Path) -> Result<Self, String> {
        let shown = path.display();
        let text = read_small(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        let value = crate::yaml::value::parse_value(&text)
            .map_err(|e| format!("{shown}: invalid YAML at {e}"))?;
        let Value::Object(map) = value else {
            return Err(format!("{shown}: must map repository URLs to credentials"));
        };
        let entries = map
            .iter()
            .map(|(url, fields)| {
                Entry::parse(url, fields).map_err(|e| format!("{shown}: repository {url}: {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(RepoCredentials { entries })
    }

    /// The entry configured for a dependency on `url`: the same URL for an HTTP repository;
    /// for an OCI registry the same URL or one below it (`oci://host/charts` covers
    /// `oci://host/charts/team`).
    pub(crate) fn for_url(&self, url: &str) -> Option<&Entry> {
        let url = url.trim_end_matches('/');
        self.entries.iter().find(|e| match RepoKind::of(&e.url) {
            Some(RepoKind::Oci) => {
                url == e.url
                    || url
                        .strip_prefix(e.url.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            }
            _ => url == e.url,
        })
    }
}

impl Entry {
    fn parse(url: &str, fields: &Value) -> Result<Self, String> {
        let kind = RepoKind::of(url)
            .ok_or("the URL must start with https://, http:// or oci://".to_owned())?;
        authority(url)?;
        let Value::Object(fields) = fields else {
            return Err("must be a mapping of username, password, token, ...".into());
        };
        let text = |name: &str| -> Result<Option<String>, String> {
            match fields.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!("{name} must be a string")),
            }
        };
        let from_file =
            |value: Option<String>, file: Option<String>, name: &str| match (value, file) {
                (Some(_), Some(_)) => Err(format!("set {name} or {name}File, not both")),
                (Some(v), None) => Ok(Some(v)),
                (None, Some(f)) => read_small(Path::new(&f))
                    .map(|t| Some(t.trim().to_owned()))
                    .map_err(|e| format!("{name}File {f}: cannot read: {e}")),
                (None, None) => Ok(None),
            };
        let username = text("username")?;
        let password = from_file(text("password")?, text("passwordFile")?, "password")?;
        let token = from_file(text("token")?, text("tokenFile")?, "token")?;
        let plain_http = match fields.get("plainHttp") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err("plainHttp must be true or false".into()),
        };
        let known = [
            "username",
            "password",
            "passwordFile",
            "token",
            "tokenFile",
            "plainHttp",
        ];
        if let Some(unknown) = fields.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(format!(
                "unknown field {unknown} (known: {})",
                known.join(", ")
            ));
        }
        if plain_http && kind != RepoKind::Oci {
            return Err("plainHttp is for oci:// registries; use an http:// URL instead".into());
        }
        let auth = match (username, password, token) {
            (None, None, None) => Auth::None,
            (Some(username), Some(password), None) => Auth::Basic {
                username,
                password: Sensitive::new(password),
            },
            (None, None, Some(token)) if kind == RepoKind::Oci => {
                Auth::Token(Sensitive::new(token))
            }
            (None, None, Some(_)) => {
                return Err(
                    "helm sends only a user name and password to an HTTP repository: give \
                     username and password (a token goes in password)"
                        .into(),
                );
            }
            _ => return Err("give username and password, or token, not a mix".into()),
        };
        Ok(Entry {
            url: url.trim_end_matches('/').to_owned(),
            auth,
            plain_http,
        })
    }

    /// Adds what must never be shown of this entry to `masker`.
    pub(crate) fn mask_into(&self, masker: &mut Masker) {
        match &self.auth {
            Auth::None => {}
            Auth::Basic { username, password } => {
                masker.add(password.expose());
                masker.add(&format!("{username}:{}", password.expose()));
            }
            Auth::Token(token) => masker.add(token.expose()),
        }
    }

    /// Writes helm's config file holding this entry's credentials for a dependency on
    /// `dep_url` into `config_home` (the sandbox's `HELM_CONFIG_HOME`), 0600, and returns
    /// its path (to remove after the run); `None` when there is nothing to write.
    pub(crate) fn write_helm_config(
        &self,
        dep_url: &str,
        config_home: &Path,
    ) -> std::io::Result<Option<PathBuf>> {
        let (path, content) = match (RepoKind::of(&self.url), &self.auth) {
            (_, Auth::None) => return Ok(None),
            (Some(RepoKind::Oci), auth) => {
                let host = authority(dep_url).map_err(std::io::Error::other)?;
                let entry = match auth {
                    Auth::Basic { username, password } => json!({
                        "auth": BASE64.encode(format!("{username}:{}", password.expose())),
                    }),
                    Auth::Token(token) => json!({ "registrytoken": token.expose() }),
                    Auth::None => unreachable!("handled above"),
                };
                (
                    config_home.join("registry").join("config.json"),
                    json!({ "auths": { host: entry } }),
                )
            }
            (_, Auth::Basic { username, password }) => (
                config_home.join("repositories.yaml"),
                // JSON is YAML: helm reads this as its repositories.yaml.
                json!({
                    "apiVersion": "",
                    "generated": "0001-01-01T00:00:00Z",
                    "repositories": [{
                        "name": REPO_NAME,
                        "url": dep_url.trim_end_matches('/'),
                        "username": username,
                        "password": password.expose(),
                        "pass_credentials_all": false,
                    }],
                }),
            ),
            (_, Auth::Token(_)) => return Ok(None),
        };
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        let _ = fs::remove_file(&path);
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        file.write_all(content.to_string().as_bytes())?;
        Ok(Some(path))
    }
}

/// Reads a small text file, refusing one larger than [`MAX_FILE_BYTES`].
fn read_small(path: &Path) -> std::io::Result<String> {
    let mut text = String::new();
    fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::other("larger than 1 MiB"));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(yaml: &str) -> Result<RepoCredentials, String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("creds.yaml");
        fs::write(&path, yaml).expect("write");
        RepoCredentials::read(&path).map_err(|e| e.replace(&path.display().to_string(), "F"))
    }

    #[test]
    fn credentials_match_their_own_repository_only() {
        let c = creds(
            "https://a.example/charts/: {username: u, password: p}\n\
             oci://reg.example/team: {token: t}\n",
        )
        .expect("valid");
        let url = |u: &str| c.for_url(u).map(|e| e.url.clone());
        assert_eq!(
            url("https://a.example/charts"),
            Some("https://a.example/charts".into())
        );
        assert_eq!(
            url("https://a.example/charts/"),
            Some("https://a.example/charts".into())
        );
        assert_eq!(url("https://a.example/charts/other"), None);
        assert_eq!(url("https://a.example/chartsx"), None);
        assert_eq!(url("http://a.example/charts"), None);
        assert_eq!(url("https://b.example/charts"), None);
        assert_eq!(
            url("oci://reg.example/team/app"),
            Some("oci://reg.example/team".into())
        );
        assert_eq!(url("oci://reg.example/teamx"), None);
        assert_eq!(url("oci://reg.example.evil/team"), None);
    }

    #[test]
    fn bad_files_are_named_with_what_to_change() {
        let table = [
            ("- a", "F: must map repository URLs to credentials"),
            (
                "ftp://x: {}",
                "F: repository ftp://x: the URL must start with https://, http:// or oci://",
            ),
            (
                "https://x: {token: t}",
                "F: repository https://x: helm sends only a user name and password to an HTTP repository: give username and password (a token goes in password)",
            ),
            (
                "https://x: {username: u}",
                "F: repository https://x: give username and password, or token, not a mix",
            ),
            (
                "https://x: {user: u}",
                "F: repository https://x: unknown field user (known: username, password, passwordFile, token, tokenFile, plainHttp)",
            ),
            (
                "https://u@x: {}",
                "F: repository https://u@x: \"https://u@x\" carries a user name: credentials come from the operator's VAULTPLATE_CHART_CREDENTIALS file only; remove it from the URL",
            ),
        ];
        for (yaml, want) in table {
            assert_eq!(creds(yaml).expect_err(yaml), want, "{yaml}");
        }
    }

    #[test]
    fn helm_config_files_are_private_and_hold_one_repository() {
        use std::os::unix::fs::PermissionsExt;
        let c = creds("oci://127.0.0.1:5000: {username: u, password: p4ss}\n").expect("valid");
        let home = tempfile::tempdir().expect("temp dir");
        let dep = "oci://127.0.0.1:5000/charts";
        let path = c
            .for_url(dep)
            .expect("entry")
            .write_helm_config(dep, home.path())
            .expect("written")
            .expect("a file");
        let mode = fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let text = fs::read_to_string(path).expect("read");
        assert_eq!(text, r#"{"auths":{"127.0.0.1:5000":{"auth":"dTpwNHNz"}}}"#);
    }
}
