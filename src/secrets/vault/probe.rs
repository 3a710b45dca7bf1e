//! `vaultplate doctor`'s questions to Vault, each answered apart: is the address reachable,
//! does the login work, may the identity read a path. Answers name the address, the method,
//! the mount and the policies; never a token, a credential or a value.

use serde_json::Value;

use super::auth::Auth;
use super::client::{SecretRead, VaultClient};
use super::settings::VaultSettings;
use crate::placeholder::secret_ref::SecretRef;

/// The outcome of one question: what was found, or what is wrong.
pub(crate) type Answer = Result<String, String>;

/// What [`probe`] found, one answer per question; `None` where an earlier answer made the
/// question moot.
#[derive(Debug)]
pub(crate) struct Probe {
    /// Whether `VAULT_ADDR` answers over HTTP(S) (`sys/health`).
    pub reachable: Answer,
    /// Whether the login with the configured method succeeds.
    pub login: Option<Answer>,
    /// Whether the identity may read the path asked about.
    pub read: Option<Answer>,
}

/// Asks Vault, without the token cache: the point is whether a fresh login works.
pub(crate) fn probe(vault: &VaultSettings, path: Option<&SecretRef>) -> Probe {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return Probe {
                reachable: Err(format!("cannot start the runtime: {e}")),
                login: None,
                read: None,
            };
        }
    };
    runtime.block_on(async {
        let mut client = match VaultClient::new(vault) {
            Ok(client) => client,
            Err(e) => {
                return Probe {
                    reachable: Err(e.to_string()),
                    login: None,
                    read: None,
                };
            }
        };
        let reachable = client.health().await.map_err(|e| e.to_string());
        if reachable.is_err() {
            return Probe {
                reachable,
                login: None,
                read: None,
            };
        }
        let who = who(&vault.auth);
        let login = match client.login(&vault.auth).await {
            Err(e) => Err(e.to_string()),
            // A login's token is Vault's answer; a configured token is only known good once
            // it can look itself up.
            Ok(_) if !matches!(vault.auth, Auth::Token { .. }) => Ok(who),
            Ok(_) => match client.token_policies().await {
                Ok(Some(policies)) => Ok(format!("{who}, policies: {}", policies.join(", "))),
                Ok(None) => Err(format!(
                    "Vault at {} refused the token (auth/token/lookup-self answered 403): it is \
                     invalid, expired or revoked",
                    client.addr()
                )),
                Err(e) => Err(e.to_string()),
            },
        };
        let read = match (&login, path) {
            (Ok(_), Some(secret)) => Some(
                match client.read(&secret.path, secret.version, secret.kv).await {
                    Ok(SecretRead {
                        data: Some(map), ..
                    }) => Ok(format!("{} holds {} keys", secret.path, map.len())),
                    Ok(SecretRead { data: None, .. }) => {
                        Err(format!("no secret at {}", secret.path))
                    }
                    Err(e) => Err(e.to_string()),
                },
            ),
            _ => None,
        };
        Probe {
            reachable,
            login: Some(login),
            read,
        }
    })
}

/// The method, mount and role or user of a login: never its credential (nor a fingerprint).
fn who(auth: &Auth) -> String {
    let identity = auth.identity();
    let parts: Vec<&str> = identity.split(':').collect();
    match parts.as_slice() {
        [method] => format!("{method} login"),
        ["github", mount, ..] => format!("github login at auth/{mount}"),
        [method, mount, role, ..] if !role.is_empty() => {
            format!("{method} login at auth/{mount} as {role}")
        }
        [method, mount, ..] => format!("{method} login at auth/{mount}"),
        [] => String::new(),
    }
}

/// What `sys/health` says of a server that answered: sealed and uninitialised servers answer
/// with their own status codes.
pub(crate) fn health_status(status: u16, answer: &Value) -> Result<String, String> {
    let version = answer
        .get("version")
        .and_then(Value::as_str)
        .map(|v| format!(", version {v}"))
        .unwrap_or_default();
    match status {
        200 => Ok(format!("active{version}")),
        429 | 473 => Ok(format!("standby{version}")),
        501 => Err("Vault is not initialised".to_owned()),
        503 => Err("Vault is sealed".to_owned()),
        other => Err(format!("sys/health answered {other}")),
    }
}
