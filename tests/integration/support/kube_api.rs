//! `KubeApi`: a loopback stand-in for the one Kubernetes API call `--secret-name` makes, since
//! no API server can run on these machines. It answers
//! `GET /api/v1/namespaces/{namespace}/secrets/{name}` with a Secret it holds (200), a `Status`
//! 403 for a namespace it forbids, or a `Status` 404; a request without the kubeconfig's bearer
//! token gets a 401. It records every request line, so tests can check what was asked.
//!
//! Std only, plain HTTP, one thread per connection, one request per connection (every answer
//! says `Connection: close`). Bounded like [`super::FaultServer`]: 127.0.0.1 only, at most
//! [`MAX_HEAD`] bytes of a request head, stops when dropped or after [`LIFETIME`].

use std::collections::{BTreeMap, BTreeSet};
use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

/// Longest a server runs, dropped or not: longer than any one test.
const LIFETIME: Duration = Duration::from_secs(300);
/// How often waiting threads look at the stop flag.
const POLL: Duration = Duration::from_millis(20);
/// Most bytes read of one request head.
const MAX_HEAD: usize = 64 * 1024;
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
    addr: String,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

/// A Secret's `data`: keys and raw values (base64-encoded when served).
type Data = Vec<(String, Vec<u8>)>;

#[derive(Debug, Default)]
struct State {
    /// (namespace, name) to the Secret's `data`.
    secrets: BTreeMap<(String, String), Data>,
    forbidden: BTreeSet<String>,
    requests: Vec<String>,
}

#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    stop: AtomicBool,
    deadline: Instant,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst) || Instant::now() > self.deadline
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl KubeApi {
    pub(crate) fn start() -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|error| panic!("KubeApi: binding 127.0.0.1:0: {error}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|error| panic!("KubeApi: its address: {error}"));
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|error| panic!("KubeApi: a non-blocking listener: {error}"));
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            stop: AtomicBool::new(false),
            deadline: Instant::now() + LIFETIME,
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || accept(&listener, &shared))
        };
        KubeApi {
            addr: format!("http://{addr}"),
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`, as error messages name it.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
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
        self.shared
            .state()
            .secrets
            .insert((namespace.to_owned(), name.to_owned()), data);
    }

    /// Answers 403 for every Secret in `namespace`.
    pub(crate) fn forbid(&self, namespace: &str) {
        self.shared.state().forbidden.insert(namespace.to_owned());
    }

    /// Request lines so far (`GET /api/v1/...`), in order.
    pub(crate) fn requests(&self) -> Vec<String> {
        self.shared.state().requests.clone()
    }

    /// A kubeconfig for this server with a bearer-token user.
    pub(crate) fn kubeconfig(&self) -> String {
        kubeconfig_for(&self.addr)
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

impl Drop for KubeApi {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            drop(acceptor.join());
        }
    }
}

fn accept(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut connections = Vec::new();
    while !shared.stopping() {
        match listener.accept() {
            Ok((stream, _)) => {
                let shared = Arc::clone(shared);
                connections.push(std::thread::spawn(move || serve(stream, &shared)));
            }
            Err(_) => std::thread::sleep(POLL),
        }
    }
    for connection in connections {
        drop(connection.join());
    }
}

fn serve(mut stream: TcpStream, shared: &Shared) {
    if stream.set_nonblocking(false).is_err() || stream.set_read_timeout(Some(POLL)).is_err() {
        return;
    }
    let Some(head) = read_head(&mut stream, shared) else {
        return;
    };
    let request_line = head.lines().next().unwrap_or_default().to_owned();
    let target = request_line
        .split(' ')
        .take(2)
        .collect::<Vec<_>>()
        .join(" ");
    let authorized = head.lines().skip(1).any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("authorization")
                && value.trim() == format!("Bearer {KUBE_TOKEN}")
        })
    });
    let (code, body) = {
        let mut state = shared.state();
        state.requests.push(target.clone());
        answer(&state, &target, authorized)
    };
    let reason = match code {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        _ => "Not Found",
    };
    let body = body.to_string();
    let response = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    drop(stream.write_all(response.as_bytes()));
    drop(stream.flush());
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

/// A request's head (GETs have no body); `None` if the client goes away, sends too much, or
/// the server stops first.
fn read_head(stream: &mut TcpStream, shared: &Shared) -> Option<String> {
    let mut head = Vec::new();
    let mut chunk = [0_u8; 4096];
    loop {
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            return Some(String::from_utf8_lossy(&head[..end]).into_owned());
        }
        if head.len() > MAX_HEAD || shared.stopping() {
            return None;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}
