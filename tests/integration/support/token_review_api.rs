//! A stand-in for the one Kubernetes API call OpenBao's kubernetes auth method makes at login:
//! `POST /apis/authentication.k8s.io/v1/tokenreviews`, which says whose token a JWT is.
//!
//! What OpenBao 2.7 needs, found by trying (the test's `kubernetes_auth` sets it up):
//! - mount config `kubernetes_host` may be plain `http://`, but with `disable_local_ca_jwt=true`
//!   (needed outside a pod) it refuses the config without a parsable `kubernetes_ca_cert`,
//!   used or not; no `token_reviewer_jwt` is needed (the login's JWT authorizes the review);
//! - the JWT must be JWS-shaped with a signing `alg` (not `none`); its signature is not checked
//!   (no `pem_keys`), but its claims must name the service account (`kubernetes.io` claims of
//!   a projected token, or the legacy `kubernetes.io/serviceaccount/*` ones), and that name,
//!   namespace and uid must equal what the review answers, else 403 "permission denied";
//! - OpenBao asks the review for the JWT's `aud` audiences and refuses (403) unless the answer's
//!   `status.audiences` holds them.

use serde_json::{Value, json};

use super::pki::{JwtKey, now};
use super::standin::StandIn;

/// The service account a JWT stands for.
pub(crate) struct ServiceAccount {
    pub(crate) namespace: String,
    pub(crate) name: String,
    pub(crate) uid: String,
}

impl ServiceAccount {
    /// A projected service-account token (as the kubelet mounts it), signed by `key`.
    pub(crate) fn token(&self, key: &JwtKey) -> String {
        let now = now();
        key.sign(&json!({
            "iss": "https://kubernetes.default.svc",
            "sub": format!("system:serviceaccount:{}:{}", self.namespace, self.name),
            "aud": ["https://kubernetes.default.svc"],
            "iat": now,
            "exp": now + 600,
            "kubernetes.io": {
                "namespace": self.namespace,
                "serviceaccount": { "name": self.name, "uid": self.uid },
            },
        }))
    }
}

/// A Kubernetes API that authenticates `accepted` (and no other token) as `account`.
pub(crate) fn token_review_api(accepted: String, account: &ServiceAccount) -> StandIn {
    let user = json!({
        "username": format!("system:serviceaccount:{}:{}", account.namespace, account.name),
        "uid": account.uid,
        "groups": ["system:serviceaccounts", format!("system:serviceaccounts:{}", account.namespace)],
    });
    StandIn::start(move |request| {
        if request.method != "POST"
            || !request
                .path
                .starts_with("/apis/authentication.k8s.io/v1/tokenreviews")
        {
            return (
                404,
                json!({"kind": "Status", "status": "Failure", "code": 404}),
            );
        }
        let spec = &request.body["spec"];
        let status = if spec["token"] == accepted.as_str() {
            // As the API server does: the asked audiences (the JWT's `aud`) the token is for.
            let audiences = spec.get("audiences").cloned().unwrap_or(json!([]));
            json!({"authenticated": true, "user": user, "audiences": audiences})
        } else {
            json!({"authenticated": false, "error": "invalid bearer token"})
        };
        let review: Value = json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": spec,
            "status": status,
        });
        (201, review)
    })
}
