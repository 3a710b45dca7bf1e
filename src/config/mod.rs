//! Resolves the raw settings into a typed, validated [`Config`]: reads the config file and the
//! Kubernetes Secret, applies the precedence of [`crate::config::settings`], and checks every value
//! before anything else happens.

pub mod glob;
pub(crate) mod kube_secret;
pub mod policy;
pub mod settings;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use regex::Regex;
use serde_json::Value;

use crate::config::kube_secret::KubeSecretName;
use crate::config::policy::{Decision, Policy, PolicyError, PolicyRefusal, Profile, ProfileSource};
use crate::config::settings::names::*;
use crate::config::settings::{Layers, Name, Origin, RawValue, SecretLayer};
use crate::placeholder::secret_ref::KvVersion;
use crate::secrets::vault::RedirectHost;
use crate::secrets::vault::auth::Auth;
use crate::secrets::vault::credential::Credential;
use crate::secrets::vault::settings::{ClientCert, VaultAddr, VaultSettings};
use crate::sensitive::Sensitive;

/// `VAULTPLATE_TIMEOUT`'s default (the table says `80s` too).
const DEFAULT_DEADLINE: Duration = Duration::from_secs(80);

/// Why the configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A setting has a value it cannot take. The value is never shown for credentials.
    #[error("setting {name} from {origin}: {reason}")]
    SettingInvalid {
        /// The setting.
        name: Name,
        /// Where the value came from.
        origin: Origin,
        /// What is wrong.
        reason: String,
    },
    /// A setting needed by the chosen options is not set.
    #[error("setting {name} is required {because}")]
    SettingMissing {
        /// The setting.
        name: Name,
        /// Why it is needed, e.g. "for AVP_AUTH_TYPE=approle".
        because: String,
    },
    /// Two settings that exclude each other are both set.
    #[error("settings {first} and {second} are both set; set only one of them")]
    SettingsConflict {
        /// The setting that comes first in the table.
        first: Name,
        /// The other.
        second: Name,
    },
    /// The config file cannot be read or parsed.
    #[error("config file {}: {reason}", path.display())]
    FileUnreadable {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The policy file (`VAULTPLATE_POLICY`) is missing, unreadable or wrong.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// The policy refuses this render (no rule for the project, a profile it may not use).
    #[error(transparent)]
    PolicyRefused(#[from] PolicyRefusal),
    /// The login settings of the profile chosen for this render are wrong.
    #[error("policy: {who}: {reason}")]
    ProfileInvalid {
        /// Project, rule and profile.
        who: String,
        /// What is wrong (never a credential).
        reason: String,
    },
    /// The Kubernetes Secret of `--secret-name` cannot be read.
    #[error("Kubernetes Secret {secret}: {cause}")]
    SecretUnreadable {
        /// The Secret.
        secret: KubeSecretName,
        /// What went wrong.
        cause: kube_secret::ReadError,
    },
}

/// The resolved configuration of a run.
#[derive(Debug, Clone)]
pub struct Config {
    /// How to reach and log in to Vault.
    pub vault: VaultSettings,
    /// Default KV version of secret paths.
    pub kv_version: KvVersion,
    /// `AVP_PATH_VALIDATION`.
    pub path_validation: Option<Regex>,
    /// Most reads in flight at once.
    pub concurrency: usize,
    /// `VAULTPLATE_TIMEOUT`: the whole run ends with an error after this long.
    pub deadline: Duration,
    /// Where remote chart dependencies come from and are kept.
    pub charts: ChartSettings,
    /// `VAULTPLATE_REDACT_KEY`: the key of `--redact`'s masks.
    pub redact_key: Option<Sensitive>,
    /// `VAULTPLATE_RECORDS_DIR`: where usage records go (`None`: no records).
    pub records_dir: Option<PathBuf>,
    /// `VAULTPLATE_RECORDS_KEY`: the key of the records' HMAC of KV v1 secrets.
    pub records_key: Option<Sensitive>,
    /// Things the operator should know (ignored Application overrides, unknown keys); no values.
    pub warnings: Vec<String>,
    /// What the operator's policy decided for this render (`None` without a policy file): its
    /// profile's login is [`VaultSettings::auth`] already.
    pub policy: Option<Decision>,
}

impl Config {
    /// Reads the config file and the Kubernetes Secret (each if named), once, and resolves
    /// every setting from `env`, the file and the Secret.
    ///
    /// The Secret is read within [`kube_secret::READ_TIMEOUT`], or within `VAULTPLATE_TIMEOUT`
    /// if the environment or the file make that shorter (they outrank the Secret, so the
    /// deadline they set is the run's).
    pub fn resolve(
        env: BTreeMap<String, String>,
        file: Option<&Path>,
        secret: Option<&KubeSecretName>,
    ) -> Result<Self, ConfigError> {
        Self::resolve_with_policy(env, file, secret, true).map(|(config, _)| config)
    }

    /// [`Config::resolve`], returning the policy file as read too (`doctor`). With `decide`
    /// false the policy is read and checked but no rule is chosen: the login is then the
    /// sidecar's own, which no render under a policy uses.
    pub(crate) fn resolve_with_policy(
        env: BTreeMap<String, String>,
        file: Option<&Path>,
        secret: Option<&KubeSecretName>,
        decide: bool,
    ) -> Result<(Self, Option<Policy>), ConfigError> {
        let file = match file {
            Some(path) => read_config_file(path)?,
            None => BTreeMap::new(),
        };
        let mut layers = Layers {
            env,
            file,
            secret: None,
        };
        if let Some(secret) = secret {
            let deadline = parse_with(VAULTPLATE_TIMEOUT, &layers, parse_duration)?
                .unwrap_or(DEFAULT_DEADLINE);
            let started = Instant::now();
            let entries = kube_secret::read(secret, kube_secret::READ_TIMEOUT.min(deadline))
                .map_err(|cause| ConfigError::SecretUnreadable {
                    secret: secret.clone(),
                    cause,
                })?;
            tracing::debug!(
                secret = %secret,
                keys = ?entries.keys().collect::<Vec<_>>(),
                elapsed = ?started.elapsed(),
                "read the Kubernetes Secret"
            );
            layers.secret = Some(SecretLayer {
                source: secret.clone(),
                entries,
            });
        }
        let mut config = Self::from_layers(&layers)?;
        let mut read_policy = None;
        if let Some(raw) = layers.get(VAULTPLATE_POLICY) {
            let policy = read_policy.insert(Policy::read(Path::new(&raw.text))?);
            check_profiles(policy)?;
            if !decide {
                return Ok((config, read_policy));
            }
            let decision = policy.decide(&layers.env)?;
            config.vault.auth = profile_auth(&decision, config.deadline)?;
            tracing::debug!(
                "policy {}: {}, logging in with {}",
                policy.path.display(),
                decision.who(),
                config.vault.auth.identity()
            );
            config.policy = Some(decision);
        }
        Ok((config, read_policy))
    }

    /// Resolves every setting from already loaded layers. No I/O.
    pub fn from_layers(layers: &Layers) -> Result<Self, ConfigError> {
        let mut warnings: Vec<String> = layers
            .refused_application_overrides()
            .into_iter()
            .map(|k| format!("ignoring {k}: an Argo CD Application may not change this setting"))
            .collect();
        warnings.extend(
            layers
                .unknown_file_keys()
                .into_iter()
                .map(|k| format!("ignoring unknown setting {k} in the config file")),
        );
        if let Some(secret) = &layers.secret {
            warnings.extend(layers.unknown_secret_keys().into_iter().map(|k| {
                format!(
                    "ignoring unknown setting {k} in the Kubernetes Secret {}",
                    secret.source
                )
            }));
        }

        let get = |name: Name| layers.get(name);
        if let Some(kind) = get(AVP_TYPE).filter(|v| v.text != "vault") {
            return Err(invalid(AVP_TYPE, &kind, "only `vault` is supported"));
        }
        let auth = resolve_auth(layers)?;
        let vault = VaultSettings {
            addr: parse_with(VAULT_ADDR, layers, VaultAddr::parse)?,
            namespace: get(VAULT_NAMESPACE).map(|v| v.text),
            ca_cert: get(VAULT_CACERT).map(|v| PathBuf::from(v.text)),
            ca_path: get(VAULT_CAPATH).map(|v| PathBuf::from(v.text)),
            skip_verify: parse_with(VAULT_SKIP_VERIFY, layers, parse_bool)?.unwrap_or(false),
            tls_server_name: parse_with(VAULT_TLS_SERVER_NAME, layers, parse_server_name)?,
            client_cert: resolve_client_cert(layers)?,
            timeout: parse_with(VAULT_CLIENT_TIMEOUT, layers, parse_duration)?
                .unwrap_or(Duration::from_secs(15)),
            max_retries: parse_with(VAULT_MAX_RETRIES, layers, |t| {
                t.parse::<u32>()
                    .ok()
                    .filter(|n| *n <= 10)
                    .ok_or("must be a whole number from 0 to 10")
            })?
            .unwrap_or(2),
            redirect_hosts: resolve_redirect_hosts(layers)?,
            auth,
        };
        let kv_version = parse_with(AVP_KV_VERSION, layers, |t| {
            KvVersion::parse(t).ok_or("must be 1 or 2")
        })?
        .unwrap_or(KvVersion::V2);
        let path_validation = match get(AVP_PATH_VALIDATION) {
            Some(raw) => Some(Regex::new(&raw.text).map_err(|e| {
                invalid(
                    AVP_PATH_VALIDATION,
                    &raw,
                    &format!("not a valid regular expression: {e}"),
                )
            })?),
            None => None,
        };
        let concurrency = parse_with(VAULTPLATE_CONCURRENCY, layers, |t| {
            t.parse::<usize>()
                .ok()
                .filter(|n| (1..=256).contains(n))
                .ok_or("must be a whole number from 1 to 256")
        })?
        .unwrap_or(16);
        let deadline =
            parse_with(VAULTPLATE_TIMEOUT, layers, parse_duration)?.unwrap_or(DEFAULT_DEADLINE);
        let charts = ChartSettings {
            credentials: get(VAULTPLATE_CHART_CREDENTIALS).map(|v| PathBuf::from(v.text)),
            cache: resolve_chart_cache(layers)?,
        };
        warnings.sort();
        Ok(Config {
            charts,
            deadline,
            vault,
            kv_version,
            path_validation,
            concurrency,
            redact_key: get(VAULTPLATE_REDACT_KEY).map(|v| Sensitive::new(v.text)),
            records_dir: get(VAULTPLATE_RECORDS_DIR).map(|v| PathBuf::from(v.text)),
            records_key: get(VAULTPLATE_RECORDS_KEY).map(|v| Sensitive::new(v.text)),
            warnings,
            policy: None,
        })
    }
}

/// Checks the login of every profile written in the policy file, so that a mistake in any
/// team's profile fails every run, naming its line (a Kubernetes Secret is read only when used).
fn check_profiles(policy: &Policy) -> Result<(), ConfigError> {
    for profile in policy.profiles.values() {
        if let ProfileSource::Settings(settings) = &profile.source {
            let layers = Layers {
                file: settings.clone(),
                ..Layers::default()
            };
            profile_login(&profile.name, &layers).map_err(|e| PolicyError {
                path: policy.path.clone(),
                line: Some(profile.line),
                message: format!("profile {:?}: {e}", profile.name),
            })?;
        }
    }
    Ok(())
}

/// The login a profile's own settings make; errors name the profile as the settings' origin.
fn profile_login(name: &str, layers: &Layers) -> Result<Auth, ConfigError> {
    resolve_auth(layers).map_err(|e| match e {
        ConfigError::SettingInvalid {
            name: setting,
            origin: Origin::ConfigFile,
            reason,
        } => ConfigError::SettingInvalid {
            name: setting,
            origin: Origin::Profile(name.to_owned()),
            reason,
        },
        other => other,
    })
}

/// The login of the profile `decision` chose: its own settings only (the sidecar's are not
/// merged in), from the policy file or read now from its Kubernetes Secret.
fn profile_auth(decision: &Decision, deadline: Duration) -> Result<Auth, ConfigError> {
    let Profile { name, source, .. } = &decision.profile;
    let fail = |reason: String| ConfigError::ProfileInvalid {
        who: decision.who(),
        reason,
    };
    let layers = match source {
        ProfileSource::Settings(settings) => Layers {
            file: settings.clone(),
            ..Layers::default()
        },
        ProfileSource::Secret(secret) => {
            let entries = kube_secret::read(secret, kube_secret::READ_TIMEOUT.min(deadline))
                .map_err(|cause| fail(format!("Kubernetes Secret {secret}: {cause}")))?;
            for key in entries.keys() {
                policy::check_login_setting(key)
                    .map_err(|why| fail(format!("Kubernetes Secret {secret}: {why}")))?;
            }
            policy::check_login_settings(&entries)
                .map_err(|why| fail(format!("Kubernetes Secret {secret}: {why}")))?;
            Layers {
                secret: Some(SecretLayer {
                    source: secret.clone(),
                    entries,
                }),
                ..Layers::default()
            }
        }
    };
    profile_login(name, &layers).map_err(|e| fail(e.to_string()))
}

/// Where remote Helm chart dependencies come from and are kept (`VAULTPLATE_CHART_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartSettings {
    /// `VAULTPLATE_CHART_CREDENTIALS`: the operator's repository credentials file.
    pub credentials: Option<PathBuf>,
    /// The shared cache folder; `None` when the cache is off (or no folder can be named).
    pub cache: Option<PathBuf>,
}

/// `VAULTPLATE_CHART_CACHE`: `off`, an absolute folder, or (unset) the XDG cache folder.
fn resolve_chart_cache(layers: &Layers) -> Result<Option<PathBuf>, ConfigError> {
    if let Some(raw) = layers.get(VAULTPLATE_CHART_CACHE) {
        return match raw.text.as_str() {
            "off" | "false" => Ok(None),
            text if Path::new(text).is_absolute() => Ok(Some(PathBuf::from(text))),
            _ => Err(invalid(
                VAULTPLATE_CHART_CACHE,
                &raw,
                "must be an absolute folder, or `off`",
            )),
        };
    }
    let absolute = |name: &str| {
        layers
            .env
            .get(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let base = absolute("XDG_CACHE_HOME").or_else(|| absolute("HOME").map(|h| h.join(".cache")));
    Ok(base.map(|b| b.join("vaultplate").join("charts")))
}

fn resolve_auth(layers: &Layers) -> Result<Auth, ConfigError> {
    let text = |name| layers.get(name).map(|v| v.text);
    let secret = |name| text(name).map(Sensitive::new);
    let file = |name| {
        text(name).map(|path| Credential::File {
            setting: name.as_str(),
            path: PathBuf::from(path),
            optional: false,
        })
    };
    // The first of `names` that is set, else `default`.
    let mount = |names: &[Name], default: &str| {
        names
            .iter()
            .filter_map(|name| text(*name))
            .map(|m| {
                m.trim_matches('/')
                    .trim_start_matches("auth/")
                    .trim_matches('/')
                    .to_owned()
            })
            .find(|m| !m.is_empty())
            .unwrap_or_else(|| default.to_owned())
    };
    let Some(method) = layers.get(AVP_AUTH_TYPE) else {
        unreachable!("AVP_AUTH_TYPE has a default")
    };
    match method.text.as_str() {
        "token" => Ok(Auth::Token {
            token: secret(VAULT_TOKEN)
                .map(Credential::Value)
                .or_else(|| token_file(layers)),
        }),
        "approle" => Ok(Auth::AppRole {
            mount: mount(&[AVP_MOUNT_PATH], "approle"),
            role_id: text(AVP_ROLE_ID),
            secret_id: one_of(
                (AVP_SECRET_ID, secret(AVP_SECRET_ID).map(Credential::Value)),
                (AVP_SECRET_ID_FILE, file(AVP_SECRET_ID_FILE)),
            )?,
        }),
        "userpass" => Ok(Auth::UserPass {
            mount: mount(&[AVP_MOUNT_PATH], "userpass"),
            username: text(AVP_USERNAME),
            password: secret(AVP_PASSWORD),
        }),
        "k8s" => Ok(Auth::Kubernetes {
            mount: mount(&[AVP_K8S_MOUNT_PATH, AVP_MOUNT_PATH], "kubernetes"),
            role: text(AVP_K8S_ROLE),
            jwt: file(AVP_K8S_TOKEN_PATH).unwrap_or_else(|| unreachable!("it has a default")),
        }),
        "github" => Ok(Auth::GitHub {
            mount: mount(&[AVP_MOUNT_PATH], "github"),
            token: secret(AVP_GITHUB_TOKEN),
        }),
        "cert" => Ok(Auth::Cert {
            mount: mount(&[AVP_MOUNT_PATH], "cert"),
            role: text(AVP_CERT_ROLE),
            client_cert: text(VAULT_CLIENT_CERT).map(PathBuf::from),
        }),
        "jwt" => Ok(Auth::Jwt {
            mount: mount(&[AVP_MOUNT_PATH], "jwt"),
            role: text(AVP_JWT_ROLE),
            jwt: file(AVP_JWT_TOKEN_PATH),
        }),
        _ => Err(invalid(
            AVP_AUTH_TYPE,
            &method,
            "must be one of token, approle, userpass, k8s, github, cert, jwt",
        )),
    }
}

/// `VAULT_TOKEN_FILE`; its default `~/.vault-token` is optional (and absent without `HOME`).
fn token_file(layers: &Layers) -> Option<Credential> {
    let raw = layers.get(VAULT_TOKEN_FILE)?;
    let (path, optional) = match raw.origin {
        Origin::Default => {
            let home = layers.env.get("HOME").filter(|h| !h.is_empty())?;
            let name = raw.text.strip_prefix("~/").unwrap_or(&raw.text);
            (Path::new(home).join(name), true)
        }
        _ => (PathBuf::from(raw.text), false),
    };
    Some(Credential::File {
        setting: VAULT_TOKEN_FILE.as_str(),
        path,
        optional,
    })
}

/// The credential of whichever of two exclusive settings is set; both set is an error.
fn one_of(
    first: (Name, Option<Credential>),
    second: (Name, Option<Credential>),
) -> Result<Option<Credential>, ConfigError> {
    match (first, second) {
        ((first, Some(_)), (second, Some(_))) => {
            Err(ConfigError::SettingsConflict { first, second })
        }
        ((_, a), (_, b)) => Ok(a.or(b)),
    }
}

/// `VAULT_CLIENT_CERT` and `VAULT_CLIENT_KEY` go together.
fn resolve_client_cert(layers: &Layers) -> Result<Option<ClientCert>, ConfigError> {
    let path = |name| layers.get(name).map(|v| PathBuf::from(v.text));
    match (path(VAULT_CLIENT_CERT), path(VAULT_CLIENT_KEY)) {
        (Some(cert), Some(key)) => Ok(Some(ClientCert { cert, key })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(ConfigError::SettingMissing {
            name: VAULT_CLIENT_KEY,
            because: "with VAULT_CLIENT_CERT".into(),
        }),
        (None, Some(_)) => Err(ConfigError::SettingMissing {
            name: VAULT_CLIENT_CERT,
            because: "with VAULT_CLIENT_KEY".into(),
        }),
    }
}

/// `VAULTPLATE_REDIRECT_HOSTS`, every entry checked.
fn resolve_redirect_hosts(layers: &Layers) -> Result<Vec<RedirectHost>, ConfigError> {
    let Some(raw) = layers.get(VAULTPLATE_REDIRECT_HOSTS) else {
        return Ok(Vec::new());
    };
    RedirectHost::parse_list(&raw.text).map_err(|entry| ConfigError::SettingInvalid {
        name: VAULTPLATE_REDIRECT_HOSTS,
        origin: raw.origin.clone(),
        reason: format!(
            "{entry:?} is not a host or host:port (a comma-separated list such as \
             vault-1.internal:8200,vault-2.internal:8200)"
        ),
    })
}

/// A name Vault's certificate can hold: a DNS name or an IP address.
fn parse_server_name(text: &str) -> Result<String, &'static str> {
    rustls::pki_types::ServerName::try_from(text)
        .map(|_| text.to_owned())
        .map_err(|_| "is not a DNS name or IP address")
}

fn parse_with<T, Reason: AsRef<str>>(
    name: Name,
    layers: &Layers,
    parse: impl Fn(&str) -> Result<T, Reason>,
) -> Result<Option<T>, ConfigError> {
    layers
        .get(name)
        .map(|raw| parse(raw.text.trim()).map_err(|reason| invalid(name, &raw, reason.as_ref())))
        .transpose()
}

fn invalid(name: Name, raw: &RawValue, reason: &str) -> ConfigError {
    let sensitive = name.spec().sensitive;
    let reason = if sensitive {
        reason.to_owned()
    } else {
        format!("{:?} {reason}", raw.text)
    };
    ConfigError::SettingInvalid {
        name,
        origin: raw.origin.clone(),
        reason,
    }
}

/// Parses a boolean the way Go's `strconv.ParseBool` (and so the Vault SDK) does.
pub(crate) fn parse_bool(text: &str) -> Result<bool, &'static str> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err("must be true or false"),
    }
}

/// Parses `30`, `30s`, `500ms` or `2m`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, &'static str> {
    const WHY: &str = "must be a duration such as 30, 30s, 500ms or 2m";
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| WHY)?;
    let d = match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n.saturating_mul(60)),
        _ => return Err(WHY),
    };
    if d.is_zero() { Err(WHY) } else { Ok(d) }
}

/// Reads a config file: a YAML or JSON mapping of setting names to values, or `KEY=value` lines.
fn read_config_file(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let fail = |reason: String| ConfigError::FileUnreadable {
        path: path.to_owned(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    if looks_like_key_value_lines(&text) {
        return parse_key_value_lines(&text).map_err(fail);
    }
    let value = crate::yaml::value::parse_value(&text).map_err(|e| fail(e.to_string()))?;
    let Value::Object(map) = value else {
        return Err(fail(
            "expected a mapping of setting names to values, or KEY=value lines".into(),
        ));
    };
    let mut settings = BTreeMap::new();
    for (key, value) in map {
        let text = match value {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            Value::Array(_) | Value::Object(_) => {
                return Err(fail(format!("{key} must be a single value")));
            }
        };
        settings.insert(key, text);
    }
    Ok(settings)
}

fn looks_like_key_value_lines(text: &str) -> bool {
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'));
    first.is_some_and(|line| {
        line.split_once('=').is_some_and(|(key, _)| {
            !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    })
}

fn parse_key_value_lines(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut settings = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("line {}: expected KEY=value", n + 1));
        };
        let value = value.trim();
        let unquoted = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
            .unwrap_or(value);
        settings.insert(key.trim().to_owned(), unquoted.to_owned());
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_layers(&Layers {
            env,
            ..Layers::default()
        })
    }

    fn error(env: &[(&str, &str)]) -> String {
        config(env).expect_err("should be refused").to_string()
    }

    #[test]
    fn defaults() {
        let c = config(&[]).expect("defaults resolve");
        assert_eq!(c.kv_version, KvVersion::V2);
        assert_eq!(c.vault.auth, Auth::Token { token: None });
        assert_eq!(c.vault.timeout, Duration::from_secs(15));
        assert_eq!(
            (c.vault.max_retries, c.concurrency, c.vault.skip_verify),
            (2, 16, false)
        );
    }

    #[test]
    fn auth_mounts_accept_the_auth_prefix() {
        for mount in ["team-approle", "auth/team-approle", "/auth/team-approle/"] {
            let c =
                config(&[("AVP_AUTH_TYPE", "approle"), ("AVP_MOUNT_PATH", mount)]).expect("valid");
            assert!(
                matches!(c.vault.auth, Auth::AppRole { ref mount, .. } if mount == "team-approle")
            );
        }
    }

    #[test]
    fn invalid_values_are_named() {
        let cases: &[(&[(&str, &str)], &str)] = &[
            (
                &[("AVP_TYPE", "awssecretsmanager")],
                r#"setting AVP_TYPE from the environment: "awssecretsmanager" only `vault` is supported"#,
            ),
            (
                &[("AVP_AUTH_TYPE", "oidc")],
                r#"setting AVP_AUTH_TYPE from the environment: "oidc" must be one of token, approle, userpass, k8s, github, cert, jwt"#,
            ),
            (
                &[
                    ("AVP_AUTH_TYPE", "approle"),
                    ("AVP_SECRET_ID", "s"),
                    ("AVP_SECRET_ID_FILE", "f"),
                ],
                "settings AVP_SECRET_ID and AVP_SECRET_ID_FILE are both set; set only one of them",
            ),
            (
                &[("VAULT_CLIENT_CERT", "c.pem")],
                "setting VAULT_CLIENT_KEY is required with VAULT_CLIENT_CERT",
            ),
            (
                &[("VAULT_CLIENT_KEY", "k.pem")],
                "setting VAULT_CLIENT_CERT is required with VAULT_CLIENT_KEY",
            ),
            (
                &[("VAULT_TLS_SERVER_NAME", "vault example")],
                r#"setting VAULT_TLS_SERVER_NAME from the environment: "vault example" is not a DNS name or IP address"#,
            ),
            (
                &[("AVP_KV_VERSION", "3")],
                r#"setting AVP_KV_VERSION from the environment: "3" must be 1 or 2"#,
            ),
            (
                &[("ARGOCD_ENV_AVP_KV_VERSION", "x")],
                r#"setting AVP_KV_VERSION from the Application (ARGOCD_ENV_): "x" must be 1 or 2"#,
            ),
            (
                &[("VAULT_SKIP_VERIFY", "maybe")],
                r#"setting VAULT_SKIP_VERIFY from the environment: "maybe" must be true or false"#,
            ),
            (
                &[("VAULT_CLIENT_TIMEOUT", "0")],
                r#"setting VAULT_CLIENT_TIMEOUT from the environment: "0" must be a duration such as 30, 30s, 500ms or 2m"#,
            ),
            (
                &[("VAULT_MAX_RETRIES", "99")],
                r#"setting VAULT_MAX_RETRIES from the environment: "99" must be a whole number from 0 to 10"#,
            ),
            (
                &[("VAULTPLATE_CONCURRENCY", "0")],
                r#"setting VAULTPLATE_CONCURRENCY from the environment: "0" must be a whole number from 1 to 256"#,
            ),
        ];
        for (env, want) in cases {
            assert_eq!(error(env), *want);
        }
        assert!(error(&[("AVP_PATH_VALIDATION", "(")]).starts_with(
            r#"setting AVP_PATH_VALIDATION from the environment: "(" not a valid regular expression"#
        ));
    }

    #[test]
    fn auth_methods_mounts_and_roles() {
        const SA_TOKEN: &str = "/var/run/secrets/kubernetes.io/serviceaccount/token";
        let github = format!(
            "github:github:{}",
            crate::secrets::vault::auth::fingerprint(&Sensitive::new("ghp_x"))
        );
        let cases: &[(&[(&str, &str)], &str)] = &[
            (&[], "token"),
            (
                &[("AVP_AUTH_TYPE", "approle"), ("AVP_ROLE_ID", "r")],
                "approle:approle:r",
            ),
            (
                &[("AVP_AUTH_TYPE", "userpass"), ("AVP_USERNAME", "u")],
                "userpass:userpass:u",
            ),
            (
                &[("AVP_AUTH_TYPE", "k8s")],
                &format!("k8s:kubernetes::{SA_TOKEN}"),
            ),
            (
                &[("AVP_AUTH_TYPE", "k8s"), ("AVP_K8S_ROLE", "app")],
                &format!("k8s:kubernetes:app:{SA_TOKEN}"),
            ),
            (
                &[("AVP_AUTH_TYPE", "k8s"), ("AVP_MOUNT_PATH", "auth/k8s-a")],
                &format!("k8s:k8s-a::{SA_TOKEN}"),
            ),
            (
                &[
                    ("AVP_AUTH_TYPE", "k8s"),
                    ("AVP_MOUNT_PATH", "a"),
                    ("AVP_K8S_MOUNT_PATH", "auth/b/"),
                ],
                &format!("k8s:b::{SA_TOKEN}"),
            ),
            (
                &[("AVP_AUTH_TYPE", "k8s"), ("AVP_K8S_TOKEN_PATH", "/run/sa")],
                "k8s:kubernetes::/run/sa",
            ),
            (&[("AVP_AUTH_TYPE", "github")], "github:github:"),
            (
                &[("AVP_AUTH_TYPE", "github"), ("AVP_GITHUB_TOKEN", "ghp_x")],
                &github,
            ),
            (
                &[("AVP_AUTH_TYPE", "github"), ("AVP_MOUNT_PATH", "gh")],
                "github:gh:",
            ),
            (&[("AVP_AUTH_TYPE", "cert")], "cert:cert::"),
            (
                &[
                    ("AVP_AUTH_TYPE", "cert"),
                    ("AVP_CERT_ROLE", "web"),
                    ("VAULT_CLIENT_CERT", "c.pem"),
                    ("VAULT_CLIENT_KEY", "k.pem"),
                ],
                "cert:cert:web:c.pem",
            ),
            (&[("AVP_AUTH_TYPE", "jwt")], "jwt:jwt::"),
            (
                &[
                    ("AVP_AUTH_TYPE", "jwt"),
                    ("AVP_JWT_ROLE", "ci"),
                    ("AVP_JWT_TOKEN_PATH", "/run/jwt"),
                    ("AVP_MOUNT_PATH", "gitlab"),
                ],
                "jwt:gitlab:ci:/run/jwt",
            ),
        ];
        for (env, identity) in cases {
            let auth = config(env).expect("valid").vault.auth;
            assert_eq!(auth.identity(), *identity, "{env:?}");
        }
    }

    #[test]
    fn where_credentials_come_from() {
        let file = |path: &str, optional| {
            Some(Credential::File {
                setting: "VAULT_TOKEN_FILE",
                path: PathBuf::from(path),
                optional,
            })
        };
        let token = |env: &[(&str, &str)]| match config(env).expect("valid").vault.auth {
            Auth::Token { token } => token,
            other => panic!("{other:?}"),
        };
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<Credential>);
        let cases: &[Case<'_>] = &[
            (&[], None),
            (&[("HOME", "")], None),
            (
                &[("HOME", "/home/argocd")],
                file("/home/argocd/.vault-token", true),
            ),
            (
                &[
                    ("HOME", "/home/argocd"),
                    ("VAULT_TOKEN_FILE", "/run/vault/token"),
                ],
                file("/run/vault/token", false),
            ),
            (
                &[
                    ("VAULT_TOKEN", "s.x"),
                    ("VAULT_TOKEN_FILE", "/run/vault/token"),
                ],
                Some(Credential::Value(Sensitive::new("s.x"))),
            ),
        ];
        for (env, want) in cases {
            assert_eq!(token(env), *want, "{env:?}");
        }

        let secret_id = |env: &[(&str, &str)]| match config(env).expect("valid").vault.auth {
            Auth::AppRole { secret_id, .. } => secret_id,
            other => panic!("{other:?}"),
        };
        let approle = ("AVP_AUTH_TYPE", "approle");
        assert_eq!(
            secret_id(&[approle, ("AVP_SECRET_ID_FILE", "/run/secret-id")]),
            Some(Credential::File {
                setting: "AVP_SECRET_ID_FILE",
                path: PathBuf::from("/run/secret-id"),
                optional: false
            })
        );
        assert_eq!(
            secret_id(&[approle, ("AVP_SECRET_ID", "s")]),
            Some(Credential::Value(Sensitive::new("s")))
        );
    }

    #[test]
    fn tls_settings() {
        let c = config(&[
            ("VAULT_CAPATH", "/etc/vault/ca"),
            ("VAULT_TLS_SERVER_NAME", "vault.example"),
            ("VAULT_CLIENT_CERT", "c.pem"),
            ("VAULT_CLIENT_KEY", "k.pem"),
        ])
        .expect("valid");
        assert_eq!(c.vault.ca_path, Some(PathBuf::from("/etc/vault/ca")));
        assert_eq!(c.vault.tls_server_name.as_deref(), Some("vault.example"));
        assert_eq!(
            c.vault.client_cert,
            Some(ClientCert {
                cert: "c.pem".into(),
                key: "k.pem".into()
            })
        );
        let ip = config(&[("VAULT_TLS_SERVER_NAME", "127.0.0.1")]).expect("valid");
        assert_eq!(ip.vault.tls_server_name.as_deref(), Some("127.0.0.1"));
    }

    #[test]
    fn credentials_stay_out_of_debug_output_and_identities() {
        let credentials = [
            "s.vault-token",
            "approle-secret",
            "ghp_github",
            "userpass-pw",
        ];
        let envs: &[&[(&str, &str)]] = &[
            &[("VAULT_TOKEN", credentials[0])],
            &[
                ("AVP_AUTH_TYPE", "approle"),
                ("AVP_SECRET_ID", credentials[1]),
            ],
            &[
                ("AVP_AUTH_TYPE", "github"),
                ("AVP_GITHUB_TOKEN", credentials[2]),
            ],
            &[
                ("AVP_AUTH_TYPE", "userpass"),
                ("AVP_PASSWORD", credentials[3]),
            ],
        ];
        for env in envs {
            let c = config(env).expect("valid");
            let shown = format!("{c:?} {}", c.vault.auth.identity());
            for credential in credentials {
                assert!(!shown.contains(credential), "{shown}");
            }
        }
    }

    #[test]
    fn durations() {
        let cases = [
            ("30", 30_000),
            ("30s", 30_000),
            ("500ms", 500),
            ("2m", 120_000),
        ];
        for (text, ms) in cases {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
        for bad in ["", "s", "1h", "-1", "1.5s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn application_overrides_are_reported_without_values() {
        let c = config(&[
            ("ARGOCD_ENV_VAULT_ADDR", "http://evil.example"),
            ("VAULT_ADDR", "http://vault"),
        ])
        .expect("valid");
        assert_eq!(
            c.vault.addr.as_ref().map(VaultAddr::as_str),
            Some("http://vault")
        );
        assert_eq!(
            c.warnings,
            ["ignoring ARGOCD_ENV_VAULT_ADDR: an Argo CD Application may not change this setting"]
        );
    }

    #[test]
    fn values_from_the_secret_are_checked_and_named() {
        let secret = KubeSecretName::parse("team:avp").expect("valid");
        let entries = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let layers = |pairs: &[(&str, &str)]| Layers {
            secret: Some(SecretLayer {
                source: secret.clone(),
                entries: entries(pairs),
            }),
            ..Layers::default()
        };
        let error = Config::from_layers(&layers(&[("AVP_KV_VERSION", "3")]))
            .expect_err("refused")
            .to_string();
        assert_eq!(
            error,
            r#"setting AVP_KV_VERSION from the Kubernetes Secret team/avp: "3" must be 1 or 2"#
        );
        let c = Config::from_layers(&layers(&[
            ("VAULT_ADDR", "http://vault/"),
            ("VAULT_TOKEN", "t"),
            ("vault_addr", "x"),
            ("AVP_ROLEID", "x"),
        ]))
        .expect("valid");
        assert_eq!(
            c.vault.addr.as_ref().map(VaultAddr::as_str),
            Some("http://vault")
        );
        assert_eq!(
            c.warnings,
            [
                "ignoring unknown setting AVP_ROLEID in the Kubernetes Secret team/avp",
                "ignoring unknown setting vault_addr in the Kubernetes Secret team/avp",
            ]
        );
    }

    #[test]
    fn key_value_lines() {
        let text = "# comment\nVAULT_ADDR=http://v:8200\n\nAVP_AUTH_TYPE = 'approle'\nAVP_ROLE_ID=\"a=b\"\n";
        assert!(looks_like_key_value_lines(text));
        let parsed = parse_key_value_lines(text).expect("valid");
        assert_eq!(parsed["VAULT_ADDR"], "http://v:8200");
        assert_eq!(parsed["AVP_AUTH_TYPE"], "approle");
        assert_eq!(parsed["AVP_ROLE_ID"], "a=b");
        assert_eq!(
            parse_key_value_lines("A=1\nnonsense\n"),
            Err("line 2: expected KEY=value".into())
        );
        assert!(!looks_like_key_value_lines("VAULT_ADDR: http://x=y\n"));
    }
}
