//! `KubeApi`: a loopback stand-in for the Kubernetes API calls vaultplate makes, since no API
//! server can run on these machines. It answers
//! `GET /api/v1/namespaces/{namespace}/secrets/{name}` (`--secret-name`) with a Secret it holds
//! (200), a `Status` 403 for a namespace it forbids, or a `Status` 404, and
//! `PATCH /apis/argoproj.io/v1alpha1/namespaces/{namespace}/applications/{name}` (`watch`)
//! for the Applications it holds, recording each patch; a request without the kubeconfig's
//! bearer token gets a 401. It records every request line, so tests can check what was asked.
//!
//! Plain HTTP, bounded like every [`http::Server`]: 127.0.0.1 only, at most
//! [`http::MAX_REQUEST`] bytes of a request read, stopped when dropped or after its lifetime.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::http::{self, Reply, Request};

/// The bearer token of the user in [`KubeApi::kubeconfig`].
pub(crate) const KUBE_TOKEN: &str = "kube-api-test-token";
/// Who the 403 answers say is asking, as a real API server would name a sidecar.
const SERVICE_ACCOUNT: &str = "system:serviceaccount:argocd:argocd-repo-server";

/// A running stand-in; it stops when dropped.
///
/// ```ignore
/// let api = KubeApi::start();
/// api.put_secret("argocd", "avp", &[("VAULT_ADDR", "http://127.0.0.1:8200")]);
/// Case::new().file("kubeconfig", &api.kubeconfig()).env("KUBECONFIG", "kubeconfig") /* ... */;
/// assert_eq!(api.requests(), ["GET /api/v1/namespaces/argocd/secrets/avp"]);
/// ```
pub(crate) struct KubeApi {
    server: http::Server,
    state: Arc<Mutex<State>>,
}

/// A Secret's `data`: keys and raw values (base64-encoded when served).
type Data = Vec<(String, Vec<u8>)>;

#[derive(Debug, Default)]
struct State {
    /// (namespace, name) to the Secret's `data`.
    secrets: BTreeMap<(String, String), Data>,
    forbidden: BTreeSet<String>,
    requests: Vec<String>,
    /// (namespace, name) of the Applications it serves.
    applications: BTreeSet<(String, String)>,
    /// Every patch of an Application: request line, content type and body.
    patches: Vec<(String, String, Value)>,
}

/// The state, even after a panic while it was held.
fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl KubeApi {
    pub(crate) fn start() -> Self {
        let state = Arc::new(Mutex::new(State::default()));
        let server = {
            let state = Arc::clone(&state);
            http::Server::start("KubeApi", move |request| serve(&state, request))
        };
        KubeApi { server, state }
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`, as error messages name it.
    pub(crate) fn addr(&self) -> &str {
        self.server.addr()
    }

    /// Holds a Secret with these `data` entries (served base64-encoded, as the API does).
    pub(crate) fn put_secret(&self, namespace: &str, name: &str, data: &[(&str, &str)]) {
        let data = data
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
            .collect();
        self.put_secret_bytes(namespace, name, data);
    }

    /// Like [`KubeApi::put_secret`], with values that need not be text.
    pub(crate) fn put_secret_bytes(&self, namespace: &str, name: &str, data: Data) {
        lock(&self.state)
            .secrets
            .insert((namespace.to_owned(), name.to_owned()), data);
    }

    /// Answers 403 for every Secret in `namespace`.
    pub(crate) fn forbid(&self, namespace: &str) {
        lock(&self.state).forbidden.insert(namespace.to_owned());
    }

    /// Serves the Argo CD Application `namespace/name` (`applications.argoproj.io`), which
    /// takes merge patches.
    pub(crate) fn put_application(&self, namespace: &str, name: &str) {
        lock(&self.state)
            .applications
            .insert((namespace.to_owned(), name.to_owned()));
    }

    /// Patches of Applications so far: (`PATCH /apis/...`, content type, body).
    pub(crate) fn patches(&self) -> Vec<(String, String, Value)> {
        lock(&self.state).patches.clone()
    }

    /// Request lines so far (`GET /api/v1/...`), in order.
    pub(crate) fn requests(&self) -> Vec<String> {
        lock(&self.state).requests.clone()
    }

    /// A kubeconfig for this server with a bearer-token user.
    pub(crate) fn kubeconfig(&self) -> String {
        kubeconfig_for(self.server.addr())
    }
}

/// A kubeconfig whose one context points at `server` with a bearer-token user.
pub(crate) fn kubeconfig_for(server: &str) -> String {
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: stand-in
  cluster:
    server: {server}
users:
- name: sidecar
  user:
    token: {KUBE_TOKEN}
contexts:
- name: stand-in
  context:
    cluster: stand-in
    user: sidecar
current-context: stand-in
"
    )
}

/// Records the request line and answers it.
fn serve(state: &Mutex<State>, request: &Request) -> Reply {
    let target = format!("{} {}", request.method, request.target);
    let authorized = request.header("authorization") == Some(&format!("Bearer {KUBE_TOKEN}"));
    let mut state = lock(state);
    state.requests.push(target.clone());
    if authorized && let Some(reply) = application(&mut state, request, &target) {
        return reply;
    }
    let (code, body) = answer(&state, &target, authorized);
    Reply::Json(code, body)
}

/// A merge patch of an Application: 200 with the object, 403 in a forbidden namespace, 404
/// for one it does not serve; `None` for any other request.
fn application(state: &mut State, request: &Request, target: &str) -> Option<Reply> {
    let path = target.strip_prefix("PATCH /")?.split('?').next()?;
    let segments: Vec<&str> = path.split('/').collect();
    let [
        "apis",
        "argoproj.io",
        "v1alpha1",
        "namespaces",
        namespace,
        "applications",
        name,
    ] = segments.as_slice()
    else {
        return None;
    };
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    let kind = request
        .header("content-type")
        .unwrap_or_default()
        .to_owned();
    if state.forbidden.contains(*namespace) {
        let message = format!(
            "applications.argoproj.io \"{name}\" is forbidden: User \"{SERVICE_ACCOUNT}\" cannot \
             patch resource \"applications\" in API group \"argoproj.io\" in the namespace \"{namespace}\""
        );
        return Some(Reply::Json(403, status(403, "Forbidden", &message)));
    }
    let key = ((*namespace).to_owned(), (*name).to_owned());
    if !state.applications.contains(&key) {
        let message = format!("applications.argoproj.io \"{name}\" not found");
        return Some(Reply::Json(404, status(404, "NotFound", &message)));
    }
    state.patches.push((target.to_owned(), kind, body.clone()));
    let object = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "resourceVersion": "2",
            "annotations": body["metadata"]["annotations"].clone(),
        },
        "spec": {},
    });
    Some(Reply::Json(200, object))
}

/// What the API server would answer to `target` (`METHOD /path?query`).
fn answer(state: &State, target: &str, authorized: bool) -> (u16, Value) {
    if !authorized {
        return (401, status(401, "Unauthorized", "Unauthorized"));
    }
    let segments: Vec<&str> = target
        .strip_prefix("GET /")
        .and_then(|rest| rest.split('?').next())
        .map(|path| path.split('/').collect())
        .unwrap_or_default();
    let ["api", "v1", "namespaces", namespace, "secrets", name] = segments.as_slice() else {
        return (
            404,
            status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            ),
        );
    };
    if state.forbidden.contains(*namespace) {
        let message = format!(
            "secrets \"{name}\" is forbidden: User \"{SERVICE_ACCOUNT}\" cannot get resource \
             \"secrets\" in API group \"\" in the namespace \"{namespace}\""
        );
        return (403, status(403, "Forbidden", &message));
    }
    match state
        .secrets
        .get(&((*namespace).to_owned(), (*name).to_owned()))
    {
        Some(data) => {
            let data: serde_json::Map<String, Value> = data
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(BASE64.encode(v))))
                .collect();
            let secret = json!({
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": name, "namespace": namespace, "resourceVersion": "1"},
                "type": "Opaque",
                "data": data,
            });
            (200, secret)
        }
        None => (
            404,
            status(404, "NotFound", &format!("secrets \"{name}\" not found")),
        ),
    }
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    })
}
