//! A stand-in for Vault's GitHub login endpoint, in front of a real OpenBao.
//!
//! OpenBao 2.7 has no GitHub auth method (`bao plugin list auth`: approle, cert, jwt,
//! kubernetes, oidc, userpass), and no registry ships Vault's. So the one call vaultplate makes
//! for `AVP_AUTH_TYPE=github`, `POST /v1/auth/<mount>/login {"token": ...}` (Vault's API docs),
//! is answered here: for the accepted GitHub token with a real OpenBao token (made with root,
//! holding `policy`), in the shape of Vault's login answer; for any other with 400 and
//! Vault's error text. Every other request is passed to OpenBao, so the reads are real.

use reqwest::Method;
use serde_json::{Value, json};

use super::openbao::OpenBao;
use super::standin::StandIn;

/// Vault's GitHub login at `auth/<mount>` accepting `github_token`, in front of `bao`.
pub(crate) fn github_login(
    bao: &'static OpenBao,
    mount: &str,
    github_token: &str,
    policy: &str,
) -> StandIn {
    let login = format!("/v1/auth/{mount}/login");
    let github_token = github_token.to_owned();
    let policy = policy.to_owned();
    StandIn::start(move |request| {
        if request.method == "POST" && request.path == login {
            if request.header("x-vault-token").is_some() {
                return (400, json!({"errors": ["a login carries no token"]}));
            }
            if request.body["token"] != github_token.as_str() {
                return (
                    400,
                    json!({"errors": ["GET /user: 401 Bad credentials []"]}),
                );
            }
            let created = bao.post(
                "auth/token/create",
                &json!({
                    "policies": [policy],
                    "ttl": "10m",
                    "meta": {"org": "example-org", "username": "octocat"},
                }),
            );
            return (200, json!({"auth": created["auth"], "data": null}));
        }
        // Everything else goes to OpenBao with the caller's token.
        let method = Method::from_bytes(request.method.as_bytes()).unwrap_or(Method::GET);
        let token = request.header("x-vault-token");
        let path = request.path.trim_start_matches("/v1/");
        let body = (!request.body.is_null()).then_some(&request.body);
        let (status, answer): (u16, Value) = bao.request(token, method, path, body);
        (status, answer)
    })
}
