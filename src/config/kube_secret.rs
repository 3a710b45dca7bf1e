//! Settings from a Kubernetes Secret (`--secret-name [NAMESPACE:]NAME`): which Secret
//! ([`KubeSecretName`]), and reading its `data` once through the cluster's API ([`read`]).
//!
//! The API is found the way kube finds it: a kubeconfig (`KUBECONFIG`, else `~/.kube/config`)
//! if one can be loaded, else the pod's service account (in-cluster). A sidecar has no
//! kubeconfig, so there it is always the service account.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::config::{InClusterError, KubeConfigOptions, KubeconfigError};

/// Namespace of a `--secret-name` that names none: where Argo CD runs (as in AVP).
pub(crate) const DEFAULT_NAMESPACE: &str = "argocd";

/// Longest a Secret read may take; less when the run's deadline is nearer. The API server
/// answers a single GET in milliseconds; an API that does not answer in this time is down.
pub(crate) const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// A Secret named by `--secret-name`: `NAME` (in [`DEFAULT_NAMESPACE`]) or `NAMESPACE:NAME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeSecretName {
    /// The namespace, a DNS-1123 label.
    pub namespace: String,
    /// The Secret's name, a DNS-1123 subdomain.
    pub name: String,
}

impl KubeSecretName {
    /// Parses `[NAMESPACE:]NAME`. Names are checked as Kubernetes checks them, so a typo is a
    /// usage error here rather than a puzzling 404 (or a request to another path) later.
    ///
    /// # Errors
    /// Why `text` names no Secret, for clap to show with the flag.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("expected [NAMESPACE:]NAME, got an empty value".to_owned());
        }
        let (namespace, name) = match text.split_once(':') {
            None => (DEFAULT_NAMESPACE, text),
            Some((_, rest)) if rest.contains(':') => {
                return Err("expected [NAMESPACE:]NAME, with at most one ':'".to_owned());
            }
            Some(("", _)) => return Err("the namespace before ':' is empty".to_owned()),
            Some((_, "")) => return Err("the name after ':' is empty".to_owned()),
            Some(pair) => pair,
        };
        if !is_dns_label(namespace) {
            return Err(format!(
                "{namespace:?} is not a namespace name (lowercase letters, digits and '-', \
                 at most 63)"
            ));
        }
        if !is_dns_subdomain(name) {
            return Err(format!(
                "{name:?} is not a Secret name (lowercase letters, digits, '-' and '.', \
                 at most 253)"
            ));
        }
        Ok(KubeSecretName {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        })
    }
}

impl fmt::Display for KubeSecretName {
    /// `NAMESPACE/NAME`, as kubectl writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters.
pub(crate) fn is_dns_label(text: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    text.len() <= 63
        && edge(text.chars().next())
        && edge(text.chars().last())
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// DNS-1123 labels joined by `.`, at most 253 characters.
pub(crate) fn is_dns_subdomain(text: &str) -> bool {
    text.len() <= 253
        && text
            .split('.')
            .all(|label| label.len() <= 63 && is_dns_label(label))
}

/// Why the Secret could not be read. Never holds a value of the Secret.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Neither a kubeconfig nor a pod: `--secret-name` on a machine without `~/.kube/config`.
    #[error(
        "no way to reach the Kubernetes API: no usable kubeconfig ({kubeconfig}) and {in_cluster}"
    )]
    NoClusterConfig {
        /// Why no kubeconfig could be loaded.
        kubeconfig: String,
        /// Why the in-cluster configuration could not be loaded.
        in_cluster: String,
    },
    /// The kubeconfig or service-account material cannot make a client (a bad CA, say).
    #[error("cannot set up the Kubernetes client: {0}")]
    ClientSetup(String),
    /// 404: no such Secret (or namespace).
    #[error("not found (404 from the Kubernetes API at {api})")]
    NotFound {
        /// The API server's address.
        api: String,
    },
    /// 403: the identity may not read it; `message` says which identity.
    #[error(
        "forbidden (403 from the Kubernetes API at {api}): the sidecar's service account needs \
         get on secrets in {namespace}; the API said: {message}"
    )]
    Forbidden {
        /// The API server's address.
        api: String,
        /// The Secret's namespace.
        namespace: String,
        /// The API's own explanation (names the user, never a value).
        message: String,
    },
    /// Any other error status (401, 429, 5xx after kube's retries).
    #[error("the Kubernetes API at {api} answered {code}: {message}")]
    Status {
        /// The API server's address.
        api: String,
        /// The HTTP status.
        code: u16,
        /// The API's own explanation.
        message: String,
    },
    /// No connection: refused, no route, TLS failure.
    #[error("cannot reach the Kubernetes API at {api}: {cause}")]
    Unreachable {
        /// The API server's address.
        api: String,
        /// The innermost error.
        cause: String,
    },
    /// The read took longer than it may.
    #[error("no answer from the Kubernetes API at {api} within {after:?}")]
    TimedOut {
        /// The API server's address.
        api: String,
        /// The time allowed.
        after: Duration,
    },
    /// A 200 answer that does not parse as a Secret.
    #[error("the Kubernetes API at {api} answered with something that is not a Secret: {cause}")]
    NotASecret {
        /// The API server's address.
        api: String,
        /// The parser's complaint (positions, never content).
        cause: String,
    },
    /// A setting's value is binary data.
    #[error("the value of {key} is not UTF-8 text")]
    ValueNotText {
        /// The setting.
        key: String,
    },
    /// The async runtime cannot start.
    #[error("cannot start the runtime: {0}")]
    Runtime(String),
}

/// Reads `secret`'s `data`, base64-decoded, as setting names and texts, in at most `timeout`.
///
/// Values of keys that are not settings are never used (only their names are reported), so
/// those may be binary; a setting's value must be UTF-8 text.
///
/// # Errors
/// [`ReadError`], naming the API server and the cause.
pub(crate) fn read(
    secret: &KubeSecretName,
    timeout: Duration,
) -> Result<BTreeMap<String, String>, ReadError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ReadError::Runtime(e.to_string()))?;
    runtime.block_on(async {
        let config = client_config().await?;
        let api = config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_owned();
        match tokio::time::timeout(timeout, get(config, secret, &api, timeout)).await {
            Ok(result) => result,
            Err(_elapsed) => Err(ReadError::TimedOut {
                api,
                after: timeout,
            }),
        }
    })
}

/// kube's usual choice: the kubeconfig if one loads, else the pod's service account.
pub(crate) async fn client_config() -> Result<kube::Config, ReadError> {
    let kubeconfig = match kube::Config::from_kubeconfig(&KubeConfigOptions::default()).await {
        Ok(config) => return Ok(config),
        Err(e) => e,
    };
    kube::Config::incluster().map_err(|in_cluster| ReadError::NoClusterConfig {
        kubeconfig: describe_kubeconfig_error(&kubeconfig),
        in_cluster: match in_cluster {
            InClusterError::ReadEnvironmentVariable(_)
                if std::env::var_os("KUBERNETES_SERVICE_HOST").is_none() =>
            {
                "not in a pod (KUBERNETES_SERVICE_HOST is not set)".to_owned()
            }
            other => format!("the pod's in-cluster configuration is unusable: {other}"),
        },
    })
}

fn describe_kubeconfig_error(error: &KubeconfigError) -> String {
    match error {
        KubeconfigError::ReadConfig(io, path) if io.kind() == std::io::ErrorKind::NotFound => {
            format!("{} does not exist", path.display())
        }
        KubeconfigError::ReadConfig(io, path) => format!("{}: {io}", path.display()),
        KubeconfigError::FindPath => "no home directory to find ~/.kube/config in".to_owned(),
        other => other.to_string(),
    }
}

async fn get(
    mut config: kube::Config,
    secret: &KubeSecretName,
    api: &str,
    timeout: Duration,
) -> Result<BTreeMap<String, String>, ReadError> {
    config.connect_timeout = Some(timeout);
    config.read_timeout = Some(timeout);
    // kube builds a rustls configuration from the process's default crypto provider, even
    // for a plain-HTTP API; make that ring, as for Vault (src/secrets/vault/tls.rs).
    let _already_installed =
        rustls::crypto::CryptoProvider::install_default(rustls::crypto::ring::default_provider());
    let client =
        kube::Client::try_from(config).map_err(|e| ReadError::ClientSetup(innermost(&e)))?;
    let secrets: kube::Api<Secret> = kube::Api::namespaced(client, &secret.namespace);
    let found = secrets
        .get(&secret.name)
        .await
        .map_err(|e| classify(e, secret, api))?;
    decode(found)
}

fn classify(error: kube::Error, secret: &KubeSecretName, api: &str) -> ReadError {
    let api = api.to_owned();
    match error {
        kube::Error::Api(status) if status.code == 404 => ReadError::NotFound { api },
        kube::Error::Api(status) if status.code == 403 => ReadError::Forbidden {
            api,
            namespace: secret.namespace.clone(),
            message: status.message,
        },
        kube::Error::Api(status) => ReadError::Status {
            api,
            code: status.code,
            message: status.message,
        },
        kube::Error::SerdeError(e) => ReadError::NotASecret {
            api,
            cause: e.to_string(),
        },
        other => ReadError::Unreachable {
            api,
            cause: innermost(&other),
        },
    }
}

/// The message of the last error in `error`'s source chain: "Connection refused (os error
/// 111)" rather than "ServiceError: client error (Connect)".
pub(crate) fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut last = error;
    while let Some(source) = last.source() {
        last = source;
    }
    last.to_string()
}

fn decode(secret: Secret) -> Result<BTreeMap<String, String>, ReadError> {
    let mut settings = BTreeMap::new();
    for (key, value) in secret.data.unwrap_or_default() {
        let text = match String::from_utf8(value.0) {
            Ok(text) => text,
            Err(_) if crate::config::settings::spec(&key).is_some() => {
                return Err(ReadError::ValueNotText { key });
            }
            // Not a setting: only its name is ever used, to warn about it.
            Err(_) => String::new(),
        };
        settings.insert(key, text);
    }
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<(String, String), String> {
        KubeSecretName::parse(text).map(|s| (s.namespace, s.name))
    }

    #[test]
    fn secret_names() {
        let cases = [
            ("avp", "argocd", "avp"),
            ("team-a:avp", "team-a", "avp"),
            ("ns:avp.credentials-1", "ns", "avp.credentials-1"),
            ("0:a", "0", "a"),
        ];
        for (text, namespace, name) in cases {
            assert_eq!(
                parsed(text),
                Ok((namespace.to_owned(), name.to_owned())),
                "{text}"
            );
        }
    }

    #[test]
    fn bad_secret_names_say_why() {
        let cases = [
            ("", "expected [NAMESPACE:]NAME, got an empty value"),
            ("a:b:c", "expected [NAMESPACE:]NAME, with at most one ':'"),
            ("::", "expected [NAMESPACE:]NAME, with at most one ':'"),
            (":avp", "the namespace before ':' is empty"),
            ("argocd:", "the name after ':' is empty"),
            (
                "Argo:avp",
                r#""Argo" is not a namespace name (lowercase letters, digits and '-', at most 63)"#,
            ),
            (
                "argo.cd:avp",
                r#""argo.cd" is not a namespace name (lowercase letters, digits and '-', at most 63)"#,
            ),
            (
                "../avp",
                r#""../avp" is not a Secret name (lowercase letters, digits, '-' and '.', at most 253)"#,
            ),
            (
                "argocd:a..b",
                r#""a..b" is not a Secret name (lowercase letters, digits, '-' and '.', at most 253)"#,
            ),
            (
                "-avp",
                r#""-avp" is not a Secret name (lowercase letters, digits, '-' and '.', at most 253)"#,
            ),
            (
                "avp?x=1",
                r#""avp?x=1" is not a Secret name (lowercase letters, digits, '-' and '.', at most 253)"#,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parsed(text), Err(want.to_owned()), "{text:?}");
        }
    }

    #[test]
    fn name_lengths() {
        let label = "a".repeat(63);
        assert!(is_dns_label(&label));
        assert!(!is_dns_label(&format!("{label}a")));
        let long = [label.as_str(); 4].join(".");
        assert_eq!(long.len(), 255);
        assert!(!is_dns_subdomain(&long));
        assert!(is_dns_subdomain(&long[..253]));
    }

    #[test]
    fn display_is_namespace_slash_name() {
        let secret = KubeSecretName::parse("avp").expect("valid");
        assert_eq!(secret.to_string(), "argocd/avp");
    }
}
