//! The table of settings vaultplate reads, and how one raw value is found for each.
//!
//! Precedence, highest first (pinned by the `precedence` test below):
//! 1. `ARGOCD_ENV_<NAME>`, only for settings marked `application: true` (an Argo CD Application
//!    sets these, so they must never reach the Vault address, auth or access rules);
//! 2. `<NAME>` in the process (sidecar) environment;
//! 3. the config file given with `--config-path`;
//! 4. the Kubernetes Secret given with `--secret-name`;
//! 5. the setting's default.
//!
//! Every value is trimmed, whichever layer it comes from, and a blank one counts as unset.
//!
//! No setting has a command-line flag of its own: flags only choose the config file and the
//! Secret.

use std::collections::BTreeMap;
use std::fmt;

use crate::config::kube_secret::KubeSecretName;

/// Prefix Argo CD puts on the environment variables an Application sets.
pub const ARGOCD_ENV_PREFIX: &str = "ARGOCD_ENV_";

/// One setting: its name and documentation, the single source of the README table.
#[derive(Debug)]
pub struct SettingSpec {
    /// Environment variable / config-file key.
    pub name: &'static str,
    /// Default value, if any.
    pub default: Option<&'static str>,
    /// Whether an Argo CD Application may set it through `ARGOCD_ENV_<NAME>`.
    pub application: bool,
    /// Whether the value is a credential (never logged, never echoed).
    pub sensitive: bool,
    /// One line for the docs.
    pub doc: &'static str,
}

/// Declares every setting once: its row of [`SETTINGS`] and its typed name (a constant in
/// [`names`], so that a misspelt setting is a compile error, not a panic).
macro_rules! settings {
    ($($name:ident, $default:expr, app: $app:literal, sensitive: $sens:literal, $doc:literal;)*) => {
        mod specs {
            use super::SettingSpec;
            $(
                pub(super) const $name: SettingSpec = SettingSpec {
                    name: stringify!($name),
                    default: $default,
                    application: $app,
                    sensitive: $sens,
                    doc: $doc,
                };
            )*
        }

        /// The name of every setting, as a constant: `layers.get(VAULT_ADDR)`.
        pub mod names {
            use super::Name;
            $(
                #[doc = concat!("`", stringify!($name), "`.")]
                pub const $name: Name = Name(&super::specs::$name);
            )*
        }

        /// Every setting vaultplate understands.
        pub const SETTINGS: &[SettingSpec] = &[$(specs::$name),*];

        /// The names of [`SETTINGS`], in the same order (tests look names up by text).
        #[cfg(test)]
        pub(crate) const NAMES: &[Name] = &[$(names::$name),*];
    };
}

/// A setting of the table, by name; made only by the `settings!` macro, so every one exists.
#[derive(Debug, Clone, Copy)]
pub struct Name(&'static SettingSpec);

impl Name {
    /// The environment variable / config-file key.
    pub fn as_str(self) -> &'static str {
        self.0.name
    }

    /// Its row of the table.
    pub fn spec(self) -> &'static SettingSpec {
        self.0
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for Name {}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

settings! {
    AVP_TYPE, Some("vault"), app: false, sensitive: false,
        "Secret backend; only `vault` (Vault or OpenBao) is supported.";
    AVP_AUTH_TYPE, Some("token"), app: false, sensitive: false,
        "Vault login method: `token`, `approle`, `userpass`, `k8s`, `github`, `cert` or `jwt` (see [Logging in](#logging-in)).";
    AVP_MOUNT_PATH, None, app: false, sensitive: false,
        "Mount of the auth method, with or without `auth/` (default: the method's name; `kubernetes` for `k8s`).";
    AVP_ROLE_ID, None, app: false, sensitive: false, "AppRole role-id.";
    AVP_SECRET_ID, None, app: false, sensitive: true, "AppRole secret-id.";
    AVP_USERNAME, None, app: false, sensitive: false, "Userpass user name.";
    AVP_PASSWORD, None, app: false, sensitive: true, "Userpass password.";
    AVP_KV_VERSION, Some("2"), app: true, sensitive: false,
        "KV engine version of secret paths, `1` or `2` (the `kv-version` annotation overrides it per manifest).";
    AVP_PATH_VALIDATION, None, app: false, sensitive: false,
        "Regular expression every secret path must match.";
    VAULT_ADDR, None, app: false, sensitive: false,
        "Vault address, e.g. `https://vault.example:8200`.";
    VAULT_TOKEN, None, app: false, sensitive: true, "Token for `AVP_AUTH_TYPE=token`.";
    VAULT_NAMESPACE, None, app: false, sensitive: false, "Vault Enterprise / OpenBao namespace.";
    VAULT_CACERT, None, app: false, sensitive: false,
        "PEM file of CA certificates to trust for Vault's TLS certificate.";
    VAULT_SKIP_VERIFY, Some("false"), app: false, sensitive: false,
        "Skip TLS certificate verification (testing only).";
    VAULT_CLIENT_TIMEOUT, Some("15s"), app: false, sensitive: false,
        "Timeout of one Vault request (`30`, `30s`, `500ms`, `1m`).";
    VAULT_MAX_RETRIES, Some("2"), app: false, sensitive: false,
        "Retries of a Vault request after a connection error, 429 or 5xx.";
    VAULTPLATE_CONCURRENCY, Some("16"), app: false, sensitive: false,
        "Most Vault reads in flight at once.";
    VAULTPLATE_TIMEOUT, Some("80s"), app: false, sensitive: false,
        "Deadline of the whole run; below Argo CD's 90 s exec timeout so the error is ours.";
    VAULT_TOKEN_FILE, Some("~/.vault-token"), app: false, sensitive: false,
        "File holding the token for `AVP_AUTH_TYPE=token` when `VAULT_TOKEN` is not set, read on every run; the default file may be missing.";
    AVP_SECRET_ID_FILE, None, app: false, sensitive: false,
        "File holding the AppRole secret-id, read on every run; instead of `AVP_SECRET_ID`.";
    AVP_K8S_ROLE, None, app: false, sensitive: false, "Kubernetes auth role.";
    AVP_K8S_MOUNT_PATH, None, app: false, sensitive: false,
        "Mount of the Kubernetes auth method, with or without `auth/` (default: `AVP_MOUNT_PATH`, else `kubernetes`).";
    AVP_K8S_TOKEN_PATH, Some("/var/run/secrets/kubernetes.io/serviceaccount/token"), app: false, sensitive: false,
        "Service-account token file for `AVP_AUTH_TYPE=k8s`, read on every run.";
    AVP_GITHUB_TOKEN, None, app: false, sensitive: true,
        "GitHub personal access token for `AVP_AUTH_TYPE=github`.";
    AVP_CERT_ROLE, None, app: false, sensitive: false,
        "Certificate role for `AVP_AUTH_TYPE=cert` (default: any role the certificate matches).";
    AVP_JWT_ROLE, None, app: false, sensitive: false,
        "Role for `AVP_AUTH_TYPE=jwt` (default: the mount's `default_role`).";
    AVP_JWT_TOKEN_PATH, None, app: false, sensitive: false,
        "File holding the JWT for `AVP_AUTH_TYPE=jwt`, read on every run.";
    VAULT_CAPATH, None, app: false, sensitive: false,
        "Directory of PEM files of CA certificates to trust for Vault's TLS certificate (with `VAULT_CACERT`'s, if both are set).";
    VAULT_TLS_SERVER_NAME, None, app: false, sensitive: false,
        "Name sent as SNI and checked against Vault's certificate instead of `VAULT_ADDR`'s host.";
    VAULT_CLIENT_CERT, None, app: false, sensitive: false,
        "PEM file of a TLS client certificate (and its chain) presented to Vault on every connection; logs in with `AVP_AUTH_TYPE=cert`.";
    VAULT_CLIENT_KEY, None, app: false, sensitive: false,
        "PEM file of the private key of `VAULT_CLIENT_CERT`.";
    VAULTPLATE_REDIRECT_HOSTS, None, app: false, sensitive: false,
        "Comma-separated `host[:port]` list (port 443 when left out) that Vault may redirect a request to, over https only, one redirect at most (e.g. a standby's active node); redirects to any other host are refused (see [Redirects](#redirects)).";
    VAULTPLATE_CHART_CREDENTIALS, None, app: false, sensitive: false,
        "File (YAML or JSON) mapping Helm chart repository URLs to their credentials, read when a chart's remote dependencies are fetched (see [Remote chart dependencies](#remote-chart-dependencies)).";
    VAULTPLATE_CHART_CACHE, None, app: false, sensitive: false,
        "Folder of the chart dependency cache shared by every render (default `$XDG_CACHE_HOME/vaultplate/charts`, else `$HOME/.cache/vaultplate/charts`), or `off`.";
    VAULTPLATE_REDACT_KEY, None, app: false, sensitive: true,
        "Key of the masks `--redact` prints instead of values (default: a random key per run, whose masks show only which fields are filled; see [Redacted renders](#redacted-renders)).";
    VAULTPLATE_POLICY, None, app: false, sensitive: false,
        "The operator's policy file (YAML), read and checked on every run: which Vault identity (profile) each Argo CD project logs in with, which paths it may read, whether its values may go only into Secrets (see [Teams](#teams)).";
    VAULTPLATE_RECORDS_DIR, None, app: false, sensitive: false,
        "Folder where `render` writes a usage record per Application (paths and versions read, never a value) and `vaultplate watch` reads them (see [Rotation](#rotation-vaultplate-watch)); unset: no records.";
    VAULTPLATE_RECORDS_KEY, None, app: false, sensitive: true,
        "Key of the HMAC that usage records keep of KV v1 secrets, so that `watch` sees them change (the same in both containers; without it KV v1 changes go unnoticed).";
}

/// Looks up a setting's spec by name.
pub fn spec(name: &str) -> Option<&'static SettingSpec> {
    SETTINGS.iter().find(|s| s.name == name)
}

/// Where a value came from (named in error messages instead of the value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `ARGOCD_ENV_<NAME>` (set by the Argo CD Application).
    Application,
    /// The process environment.
    Environment,
    /// The config file.
    ConfigFile,
    /// The Kubernetes Secret of `--secret-name`.
    KubernetesSecret(KubeSecretName),
    /// A profile of the policy file (`VAULTPLATE_POLICY`), by name.
    Profile(String),
    /// The built-in default.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Application => "the Application (ARGOCD_ENV_)",
            Origin::Environment => "the environment",
            Origin::ConfigFile => "the config file",
            Origin::KubernetesSecret(secret) => {
                return write!(f, "the Kubernetes Secret {secret}");
            }
            Origin::Profile(name) => return write!(f, "profile {name:?} of the policy file"),
            Origin::Default => "the default",
        })
    }
}

/// A raw value with its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawValue {
    /// The text as given.
    pub text: String,
    /// Where it came from.
    pub origin: Origin,
}

/// The raw inputs of every setting: the environment, the config file's entries and the
/// Kubernetes Secret's. No I/O.
#[derive(Debug, Default, Clone)]
pub struct Layers {
    /// The process environment.
    pub env: BTreeMap<String, String>,
    /// Entries of the config file (empty without one).
    pub file: BTreeMap<String, String>,
    /// The Kubernetes Secret's entries (`None` without `--secret-name`).
    pub secret: Option<SecretLayer>,
}

/// The entries of the Kubernetes Secret, and which Secret they came from.
#[derive(Debug, Clone)]
pub struct SecretLayer {
    /// The Secret.
    pub source: KubeSecretName,
    /// Its `data`, decoded.
    pub entries: BTreeMap<String, String>,
}

impl Layers {
    /// The value of setting `name` by the precedence in the module docs, with leading and
    /// trailing whitespace trimmed (as AVP does: a Secret created from a file ends its values
    /// with a newline); values that are empty once trimmed are ignored.
    pub fn get(&self, name: Name) -> Option<RawValue> {
        let spec = name.spec();
        let name = spec.name;
        let found = |map: &BTreeMap<String, String>, key: &str| {
            map.get(key)
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let app_key = format!("{ARGOCD_ENV_PREFIX}{name}");
        let from_secret = |secret: &SecretLayer| {
            found(&secret.entries, name)
                .map(|text| (text, Origin::KubernetesSecret(secret.source.clone())))
        };
        let candidates = [
            spec.application
                .then(|| found(&self.env, &app_key))
                .flatten()
                .map(|text| (text, Origin::Application)),
            found(&self.env, name).map(|text| (text, Origin::Environment)),
            found(&self.file, name).map(|text| (text, Origin::ConfigFile)),
            self.secret.as_ref().and_then(from_secret),
            spec.default.map(|text| (text.to_owned(), Origin::Default)),
        ];
        candidates
            .into_iter()
            .flatten()
            .next()
            .map(|(text, origin)| RawValue { text, origin })
    }

    /// `ARGOCD_ENV_<NAME>` variables that name a setting an Application may not change.
    pub fn refused_application_overrides(&self) -> Vec<String> {
        self.env
            .keys()
            .filter_map(|k| k.strip_prefix(ARGOCD_ENV_PREFIX).map(|name| (k, name)))
            .filter(|(_, name)| spec(name).is_some_and(|s| !s.application))
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Config-file keys that are not settings.
    pub fn unknown_file_keys(&self) -> Vec<String> {
        unknown_keys(&self.file)
    }

    /// Keys of the Kubernetes Secret that are not settings.
    pub fn unknown_secret_keys(&self) -> Vec<String> {
        self.secret
            .as_ref()
            .map(|secret| unknown_keys(&secret.entries))
            .unwrap_or_default()
    }
}

fn unknown_keys(entries: &BTreeMap<String, String>) -> Vec<String> {
    entries
        .keys()
        .filter(|k| spec(k).is_none())
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn layers(env: &[(&str, &str)], file: &[(&str, &str)]) -> Layers {
        Layers {
            env: map(env),
            file: map(file),
            secret: None,
        }
    }

    fn with_secret(mut layers: Layers, entries: &[(&str, &str)]) -> Layers {
        layers.secret = Some(SecretLayer {
            source: avp_secret(),
            entries: map(entries),
        });
        layers
    }

    fn avp_secret() -> KubeSecretName {
        KubeSecretName::parse("team:avp").expect("valid")
    }

    fn origin(l: &Layers, name: &str) -> Option<(String, Origin)> {
        let name = NAMES
            .iter()
            .find(|n| n.as_str() == name)
            .expect("a setting");
        l.get(*name).map(|v| (v.text, v.origin))
    }

    #[test]
    fn precedence() {
        use Origin::*;
        let all = with_secret(
            layers(
                &[
                    ("ARGOCD_ENV_AVP_KV_VERSION", "1"),
                    ("ARGOCD_ENV_AVP_ROLE_ID", "application-role"),
                    ("AVP_KV_VERSION", "2"),
                    ("VAULT_ADDR", "http://env"),
                ],
                &[
                    ("AVP_KV_VERSION", "3"),
                    ("VAULT_ADDR", "http://file"),
                    ("VAULT_NAMESPACE", "ns"),
                    ("AVP_MOUNT_PATH", "file-mount"),
                ],
            ),
            &[
                ("AVP_KV_VERSION", "4"),
                ("VAULT_ADDR", "http://secret"),
                ("VAULT_NAMESPACE", "secret-ns"),
                ("AVP_ROLE_ID", "secret-role"),
                ("AVP_AUTH_TYPE", "approle"),
                ("VAULT_CACERT", ""),
            ],
        );
        let secret = KubernetesSecret(avp_secret());
        let cases: &[(&str, Option<(&str, Origin)>)] = &[
            ("AVP_KV_VERSION", Some(("1", Application))),
            ("VAULT_ADDR", Some(("http://env", Environment))),
            ("VAULT_NAMESPACE", Some(("ns", ConfigFile))),
            ("AVP_MOUNT_PATH", Some(("file-mount", ConfigFile))),
            ("AVP_ROLE_ID", Some(("secret-role", secret.clone()))),
            ("AVP_AUTH_TYPE", Some(("approle", secret))),
            ("AVP_TYPE", Some(("vault", Default))),
            ("VAULT_CACERT", None),
            ("VAULT_TOKEN", None),
        ];
        for (name, want) in cases {
            let want = want.clone().map(|(t, o)| (t.to_owned(), o));
            assert_eq!(origin(&all, name), want, "{name}");
        }
    }

    #[test]
    fn an_application_cannot_set_vault_access() {
        let l = layers(
            &[
                ("ARGOCD_ENV_VAULT_ADDR", "http://evil"),
                ("ARGOCD_ENV_AVP_ROLE_ID", "x"),
                ("ARGOCD_ENV_RELEASE", "r"),
            ],
            &[],
        );
        assert_eq!(l.get(names::VAULT_ADDR), None);
        assert_eq!(
            l.refused_application_overrides(),
            ["ARGOCD_ENV_AVP_ROLE_ID", "ARGOCD_ENV_VAULT_ADDR"]
        );
    }

    #[test]
    fn empty_values_fall_through() {
        let l = layers(&[("AVP_KV_VERSION", "")], &[("AVP_KV_VERSION", "1")]);
        assert_eq!(
            origin(&l, "AVP_KV_VERSION"),
            Some(("1".into(), Origin::ConfigFile))
        );
        let l = with_secret(
            layers(&[("AVP_KV_VERSION", "")], &[("AVP_KV_VERSION", "")]),
            &[("AVP_KV_VERSION", "1")],
        );
        assert_eq!(
            origin(&l, "AVP_KV_VERSION"),
            Some(("1".into(), Origin::KubernetesSecret(avp_secret())))
        );
    }

    /// A Kubernetes Secret created from files (`kubectl create secret --from-file`) holds each
    /// value with the file's final newline; AVP's settings work with it, and so do ours.
    #[test]
    fn values_are_trimmed_in_every_layer_and_blank_ones_fall_through() {
        let l = with_secret(
            layers(
                &[("AVP_TYPE", "vault\n"), ("AVP_KV_VERSION", " \n")],
                &[
                    ("VAULT_ADDR", "  http://file\t"),
                    ("AVP_KV_VERSION", "1\r\n"),
                ],
            ),
            &[("AVP_AUTH_TYPE", "approle\n"), ("VAULT_TOKEN", "s.token\n")],
        );
        let secret = Origin::KubernetesSecret(avp_secret());
        let cases: &[(&str, (&str, Origin))] = &[
            ("AVP_TYPE", ("vault", Origin::Environment)),
            ("AVP_KV_VERSION", ("1", Origin::ConfigFile)),
            ("VAULT_ADDR", ("http://file", Origin::ConfigFile)),
            ("AVP_AUTH_TYPE", ("approle", secret.clone())),
            ("VAULT_TOKEN", ("s.token", secret)),
        ];
        for (name, (text, from)) in cases {
            assert_eq!(
                origin(&l, name),
                Some(((*text).to_owned(), from.clone())),
                "{name}"
            );
        }
    }

    #[test]
    fn the_secret_is_named_as_an_origin() {
        assert_eq!(
            Origin::KubernetesSecret(avp_secret()).to_string(),
            "the Kubernetes Secret team/avp"
        );
    }

    #[test]
    fn unknown_keys_of_the_file_and_the_secret() {
        let l = with_secret(
            layers(
                &[("HOME", "/h")],
                &[("VAULT_ADDR", "x"), ("VAULT_ADRR", "y")],
            ),
            &[
                ("AVP_ROLE_ID", "r"),
                ("ARGOCD_ENV_AVP_KV_VERSION", "1"),
                ("role", "r"),
            ],
        );
        assert_eq!(l.unknown_file_keys(), ["VAULT_ADRR"]);
        assert_eq!(
            l.unknown_secret_keys(),
            ["ARGOCD_ENV_AVP_KV_VERSION", "role"]
        );
        assert!(layers(&[], &[]).unknown_secret_keys().is_empty());
    }

    #[test]
    fn every_setting_is_documented_once() {
        for (i, s) in SETTINGS.iter().enumerate() {
            assert!(!s.doc.is_empty(), "{}", s.name);
            assert!(
                SETTINGS[i + 1..].iter().all(|o| o.name != s.name),
                "{} twice",
                s.name
            );
        }
    }
}
