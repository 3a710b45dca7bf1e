//! Logging in to Vault, one place per method: the methods and their settings ([`Auth`]), who
//! logs in ([`Auth::identity`], which tells cached tokens apart), the login request each one
//! sends ([`login_request`], built without sending, so it is testable on its own), and the
//! credential that binds a cached token to the run that holds it ([`cache_credential`]).
//!
//! A new method is a variant here with an arm in each function, its settings in the table
//! (`config::settings`) and their reading in `config`'s `resolve_auth`.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::credential::{Credential, CredentialError};
use crate::sensitive::Sensitive;

/// How vaultplate logs in to Vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// A ready token: `VAULT_TOKEN`, else the file `VAULT_TOKEN_FILE` (by default
    /// `~/.vault-token`, where a Vault Agent or `vault login` may have left one).
    Token {
        /// The token or its file; `None` without either (and without `HOME`).
        token: Option<Credential>,
    },
    /// AppRole login at `auth/<mount>`.
    AppRole {
        /// Mount name without `auth/`.
        mount: String,
        /// `AVP_ROLE_ID`.
        role_id: Option<String>,
        /// `AVP_SECRET_ID`, or the file `AVP_SECRET_ID_FILE`.
        secret_id: Option<Credential>,
    },
    /// Userpass login at `auth/<mount>`.
    UserPass {
        /// Mount name without `auth/`.
        mount: String,
        /// `AVP_USERNAME`.
        username: Option<String>,
        /// `AVP_PASSWORD`.
        password: Option<Sensitive>,
    },
    /// Kubernetes login at `auth/<mount>` with the pod's service-account token.
    Kubernetes {
        /// `AVP_K8S_MOUNT_PATH`, else `AVP_MOUNT_PATH`, without `auth/`.
        mount: String,
        /// `AVP_K8S_ROLE`.
        role: Option<String>,
        /// The file `AVP_K8S_TOKEN_PATH`.
        jwt: Credential,
    },
    /// GitHub login at `auth/<mount>` with a personal access token.
    GitHub {
        /// Mount name without `auth/`.
        mount: String,
        /// `AVP_GITHUB_TOKEN`.
        token: Option<Sensitive>,
    },
    /// TLS client-certificate login at `auth/<mount>` (the certificate is part of the TLS
    /// settings, [`super::settings::VaultSettings::client_cert`]).
    Cert {
        /// Mount name without `auth/`.
        mount: String,
        /// `AVP_CERT_ROLE`: the certificate role to log in with; any matching one without it.
        role: Option<String>,
        /// `VAULT_CLIENT_CERT`, the certificate that logs in.
        client_cert: Option<PathBuf>,
    },
    /// JWT login at `auth/<mount>` (Vault's JWT/OIDC method) with a JWT from a file.
    Jwt {
        /// Mount name without `auth/`.
        mount: String,
        /// `AVP_JWT_ROLE`; the mount's `default_role` without it.
        role: Option<String>,
        /// The file `AVP_JWT_TOKEN_PATH`.
        jwt: Option<Credential>,
    },
}

/// Every `AVP_AUTH_TYPE` vaultplate can log in with (the chart's values schema is pinned to
/// this list by a test).
pub const AUTH_METHODS: &[&str] = &[
    "token", "approle", "userpass", "k8s", "github", "cert", "jwt",
];

impl Auth {
    /// Who logs in, for telling cached tokens apart: method, mount and role or user, and where
    /// the credential comes from when that decides who it is (a token file's path, a GitHub
    /// token's fingerprint). Never a credential.
    pub fn identity(&self) -> String {
        let or_empty = |text: &Option<String>| text.clone().unwrap_or_default();
        let file = |jwt: Option<&Credential>| {
            jwt.and_then(Credential::path)
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        };
        match self {
            Auth::Token { .. } => "token".to_owned(),
            Auth::AppRole { mount, role_id, .. } => {
                format!("approle:{mount}:{}", or_empty(role_id))
            }
            Auth::UserPass {
                mount, username, ..
            } => format!("userpass:{mount}:{}", or_empty(username)),
            Auth::Kubernetes { mount, role, jwt } => {
                format!("k8s:{mount}:{}:{}", or_empty(role), file(Some(jwt)))
            }
            Auth::GitHub { mount, token } => {
                format!(
                    "github:{mount}:{}",
                    token.as_ref().map(fingerprint).unwrap_or_default()
                )
            }
            Auth::Cert {
                mount,
                role,
                client_cert,
            } => {
                let cert = client_cert.as_ref().map(|p| p.display().to_string());
                format!("cert:{mount}:{}:{}", or_empty(role), or_empty(&cert))
            }
            Auth::Jwt { mount, role, jwt } => {
                format!("jwt:{mount}:{}:{}", or_empty(role), file(jwt.as_ref()))
            }
        }
    }

    /// The `AVP_AUTH_TYPE` name of the method.
    pub fn method(&self) -> &'static str {
        match self {
            Auth::Token { .. } => "token",
            Auth::AppRole { .. } => "approle",
            Auth::UserPass { .. } => "userpass",
            Auth::Kubernetes { .. } => "k8s",
            Auth::GitHub { .. } => "github",
            Auth::Cert { .. } => "cert",
            Auth::Jwt { .. } => "jwt",
        }
    }
}

/// The first 16 hex digits of the SHA-256 of a credential: tells two GitHub tokens apart,
/// and tells nothing about either.
pub(crate) fn fingerprint(credential: &Sensitive) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(credential.expose().as_bytes());
    let mut hex = format!("{digest:x}");
    hex.truncate(16);
    hex
}

/// A login's request, built from the settings alone. It holds credentials: it is never logged
/// and has no `Debug`.
pub struct LoginRequest {
    /// The auth mount, without `auth/`.
    pub mount: String,
    /// The logical path to `POST` to: `auth/<mount>/login[/<user>]`.
    pub path: String,
    /// The JSON body.
    pub body: Value,
}

/// What a login needs that the settings do not give.
#[derive(Debug, thiserror::Error)]
pub enum LoginSettingError {
    /// A setting the method requires is not set.
    #[error("setting {name} is required for AVP_AUTH_TYPE={method}")]
    Missing {
        /// The setting.
        name: &'static str,
        /// `AVP_AUTH_TYPE`.
        method: &'static str,
    },
    /// A credential file cannot be used.
    #[error(transparent)]
    Credential(#[from] CredentialError),
}

/// How a method signs in: with a token it already has, or by sending a request.
pub enum SignIn {
    /// `token`: the token to use.
    Token(Sensitive),
    /// Every other method: the request that obtains one.
    Request(LoginRequest),
}

/// How `auth` signs in. Credential files are read here, on every run: a rotated file is picked
/// up by the next run.
pub fn login_request(auth: &Auth) -> Result<SignIn, LoginSettingError> {
    let missing = |name: &'static str| LoginSettingError::Missing {
        name,
        method: auth.method(),
    };
    // A required credential: the setting is set, and its file (if any) holds one.
    let load = |credential: Option<&Credential>, name| -> Result<Sensitive, LoginSettingError> {
        credential
            .map(Credential::load)
            .transpose()?
            .flatten()
            .ok_or_else(|| missing(name))
    };
    let login = |mount: &String, body: Value| LoginRequest {
        mount: mount.clone(),
        path: format!("auth/{mount}/login"),
        body,
    };
    Ok(SignIn::Request(match auth {
        Auth::Token { token } => return Ok(SignIn::Token(load(token.as_ref(), "VAULT_TOKEN")?)),
        Auth::AppRole {
            mount,
            role_id,
            secret_id,
        } => {
            let role_id = role_id.as_ref().ok_or_else(|| missing("AVP_ROLE_ID"))?;
            let secret_id = load(secret_id.as_ref(), "AVP_SECRET_ID")?;
            login(
                mount,
                json!({ "role_id": role_id, "secret_id": secret_id.expose() }),
            )
        }
        Auth::UserPass {
            mount,
            username,
            password,
        } => {
            let username = username.as_ref().ok_or_else(|| missing("AVP_USERNAME"))?;
            let password = password.as_ref().ok_or_else(|| missing("AVP_PASSWORD"))?;
            LoginRequest {
                mount: mount.clone(),
                path: format!("auth/{mount}/login/{username}"),
                body: json!({ "password": password.expose() }),
            }
        }
        Auth::Kubernetes { mount, role, jwt } => {
            let role = role.as_ref().ok_or_else(|| missing("AVP_K8S_ROLE"))?;
            let jwt = load(Some(jwt), "AVP_K8S_TOKEN_PATH")?;
            login(mount, json!({ "role": role, "jwt": jwt.expose() }))
        }
        Auth::GitHub { mount, token } => {
            let token = token.as_ref().ok_or_else(|| missing("AVP_GITHUB_TOKEN"))?;
            login(mount, json!({ "token": token.expose() }))
        }
        Auth::Cert {
            mount,
            role,
            client_cert,
        } => {
            // The certificate itself is presented by TLS (see `tls::client_config`).
            client_cert
                .as_ref()
                .ok_or_else(|| missing("VAULT_CLIENT_CERT"))?;
            let body = match role {
                Some(role) => json!({ "name": role }),
                None => json!({}),
            };
            login(mount, body)
        }
        Auth::Jwt { mount, role, jwt } => {
            let jwt = load(jwt.as_ref(), "AVP_JWT_TOKEN_PATH")?;
            let mut body = json!({ "jwt": jwt.expose() });
            if let Some(role) = role {
                body["role"] = json!(role);
            }
            login(mount, body)
        }
    }))
}

/// The credential a method proves itself with, which binds its cached token: an entry is
/// used only by a run holding the credential that obtained it, so that knowing a role or user
/// name is not enough to get its token. `None` when nothing is cached: the method is `token`
/// (a ready `VAULT_TOKEN`, nothing to save) or `cert` (no secret to bind to), or a credential
/// is missing or unreadable (the login will say why).
pub fn cache_credential(auth: &Auth) -> Option<Sensitive> {
    let loaded = |credential: &Credential| credential.load().ok().flatten();
    match auth {
        Auth::Token { .. } | Auth::Cert { .. } => None,
        Auth::AppRole { secret_id, .. } => loaded(secret_id.as_ref()?),
        Auth::UserPass { password, .. } => password.clone(),
        Auth::Kubernetes { jwt, .. } => loaded(jwt),
        Auth::GitHub { token, .. } => token.clone(),
        Auth::Jwt { jwt, .. } => loaded(jwt.as_ref()?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Option<Credential> {
        Some(Credential::Value(Sensitive::new(text)))
    }

    /// Path and body of the request each method sends, built without a server.
    #[test]
    fn each_method_builds_its_request() {
        let mount = |m: &str| m.to_owned();
        let cases = [
            (
                Auth::AppRole {
                    mount: mount("approle"),
                    role_id: Some("r".into()),
                    secret_id: value("s"),
                },
                "auth/approle/login",
                json!({"role_id": "r", "secret_id": "s"}),
            ),
            (
                Auth::UserPass {
                    mount: mount("up"),
                    username: Some("u".into()),
                    password: Some(Sensitive::new("p")),
                },
                "auth/up/login/u",
                json!({"password": "p"}),
            ),
            (
                Auth::Kubernetes {
                    mount: mount("kubernetes"),
                    role: Some("r".into()),
                    jwt: Credential::Value(Sensitive::new("j")),
                },
                "auth/kubernetes/login",
                json!({"role": "r", "jwt": "j"}),
            ),
            (
                Auth::GitHub {
                    mount: mount("github"),
                    token: Some(Sensitive::new("g")),
                },
                "auth/github/login",
                json!({"token": "g"}),
            ),
            (
                Auth::Cert {
                    mount: mount("cert"),
                    role: None,
                    client_cert: Some(PathBuf::from("c.pem")),
                },
                "auth/cert/login",
                json!({}),
            ),
            (
                Auth::Jwt {
                    mount: mount("jwt"),
                    role: Some("r".into()),
                    jwt: value("j"),
                },
                "auth/jwt/login",
                json!({"jwt": "j", "role": "r"}),
            ),
        ];
        for (auth, path, body) in cases {
            let Ok(SignIn::Request(request)) = login_request(&auth) else {
                panic!("{} builds a request", auth.method())
            };
            assert_eq!((request.path.as_str(), &request.body), (path, &body));
        }
        let token = Auth::Token { token: value("t") };
        assert!(matches!(login_request(&token), Ok(SignIn::Token(t)) if t.expose() == "t"));
    }

    #[test]
    fn a_missing_setting_is_named_with_the_method() {
        let cases = [
            (
                Auth::Token { token: None },
                "setting VAULT_TOKEN is required for AVP_AUTH_TYPE=token",
            ),
            (
                Auth::AppRole {
                    mount: "approle".into(),
                    role_id: None,
                    secret_id: value("s"),
                },
                "setting AVP_ROLE_ID is required for AVP_AUTH_TYPE=approle",
            ),
            (
                Auth::Jwt {
                    mount: "jwt".into(),
                    role: None,
                    jwt: None,
                },
                "setting AVP_JWT_TOKEN_PATH is required for AVP_AUTH_TYPE=jwt",
            ),
        ];
        for (auth, message) in cases {
            let Err(error) = login_request(&auth) else {
                panic!("{} without its setting", auth.method())
            };
            assert_eq!(error.to_string(), message);
        }
    }

    #[test]
    fn only_methods_with_a_secret_bind_cached_tokens() {
        assert!(cache_credential(&Auth::Token { token: value("t") }).is_none());
        let cert = Auth::Cert {
            mount: "cert".into(),
            role: None,
            client_cert: Some(PathBuf::from("c.pem")),
        };
        assert!(cache_credential(&cert).is_none());
        let approle = Auth::AppRole {
            mount: "approle".into(),
            role_id: Some("r".into()),
            secret_id: value("s"),
        };
        assert_eq!(
            cache_credential(&approle).map(|s| s.expose().to_owned()),
            Some("s".into())
        );
    }
}
