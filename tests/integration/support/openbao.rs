//! Real OpenBao dev servers, one of each kind per test process (plain HTTP, and TLS with a
//! CA of its own), with helpers to seed them and to count, from their audit logs, the requests
//! a test made.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use reqwest::{Certificate, Method};
use serde_json::{Value, json};

use super::{tool, unique};

/// The dev server's root token; [`super::Case::vault`] hands it to the binary.
pub(crate) const ROOT_TOKEN: &str = "root";

/// Name of the file audit device, as `sys/audit-hash/<name>` needs it.
const AUDIT_DEVICE: &str = "file";
const START_ATTEMPTS: usize = 5;
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs the server and ties its life to this process. Its stdin is a pipe from the test
/// process, which the kernel closes however that process ends (return, panic, abort, kill);
/// the watcher then stops the server and, once it is gone (at most 10 s, then `kill -9`),
/// removes its directory: a server still answering a request as it stops would write its
/// audit log again, and the file audit device recreates a missing directory. `wait` makes
/// this shell exit when the server does, so a server that cannot start is seen at once.
pub(crate) const LIFELINE: &str = r#"
dir=$1; shift
exec 3<&0 </dev/null
"$@" 3<&- >"$dir/server.log" 2>&1 &
server=$!
{
  read -r _line <&3
  kill "$server" 2>/dev/null
  tries=0
  while kill -0 "$server" 2>/dev/null && [ "$tries" -lt 100 ]; do
    sleep 0.1; tries=$((tries + 1))
  done
  kill -0 "$server" 2>/dev/null && kill -9 "$server" 2>/dev/null
  rm -rf "$dir"
} &
wait "$server"
"#;

/// A running OpenBao dev server (in memory, unsealed, root token `root`) with:
/// KV v2 at `secret/`, KV v1 at `kv1/`, `approle` at `auth/approle`, `userpass` at
/// `auth/userpass`, and a file audit device whose log [`OpenBao::reads`] counts.
pub(crate) struct OpenBao {
    addr: String,
    audit_log: PathBuf,
    /// `vault-ca.pem` of a TLS server, which signed its certificate.
    ca_cert: Option<PathBuf>,
    /// Trusts only `ca_cert` on a TLS server.
    http: Client,
    /// Write end of the server's lifeline; never closed before this process ends.
    _lifeline: ChildStdin,
}

impl OpenBao {
    /// The plain-HTTP server of this test process, started and set up by the first caller.
    pub(crate) fn shared() -> &'static OpenBao {
        static SHARED: OnceLock<Result<OpenBao, String>> = OnceLock::new();
        match SHARED.get_or_init(|| OpenBao::start(Transport::Http)) {
            Ok(server) => server,
            Err(why) => panic!("{why}"),
        }
    }

    /// The TLS server of this test process (`-dev-tls`), started and set up like
    /// [`OpenBao::shared`] by the first caller. Its certificate (for `127.0.0.1` and
    /// `localhost`) is signed by a CA made at start-up, in [`OpenBao::ca_cert`]; nothing else
    /// trusts it. A separate server: its secrets are not those of [`OpenBao::shared`].
    pub(crate) fn shared_tls() -> &'static OpenBao {
        static SHARED_TLS: OnceLock<Result<OpenBao, String>> = OnceLock::new();
        match SHARED_TLS.get_or_init(|| OpenBao::start(Transport::Tls)) {
            Ok(server) => server,
            Err(why) => panic!("{why}"),
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:41234` (`https://` for [`OpenBao::shared_tls`]), as
    /// `VAULT_ADDR` takes it.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// The PEM file of the CA that signed the TLS server's certificate, as `VAULT_CACERT`
    /// takes it. Panics on the plain-HTTP server, which has none.
    pub(crate) fn ca_cert(&self) -> &Path {
        self.ca_cert
            .as_deref()
            .unwrap_or_else(|| panic!("OpenBao at {} serves plain HTTP: no CA", self.addr))
    }

    /// Writes a new version of a KV v2 secret at `<mount>/data/<path>`; returns its version.
    pub(crate) fn put_kv2(&self, mount: &str, path: &str, data: Value) -> u64 {
        let response = self.post(&format!("{mount}/data/{path}"), &json!({ "data": data }));
        response["data"]["version"]
            .as_u64()
            .unwrap_or_else(|| panic!("KV v2 write to {mount}/{path} gave no version: {response}"))
    }

    /// Writes a KV v1 secret at `<mount>/<path>`.
    pub(crate) fn put_kv1(&self, mount: &str, path: &str, data: Value) {
        self.post(&format!("{mount}/{path}"), &data);
    }

    /// Creates or replaces the ACL policy `name`.
    pub(crate) fn policy(&self, name: &str, hcl: &str) {
        self.post(
            &format!("sys/policies/acl/{name}"),
            &json!({ "policy": hcl }),
        );
    }

    /// Creates the AppRole `role` (at `auth/approle`) whose tokens get `policies`; returns
    /// `(role_id, secret_id)` for a login.
    pub(crate) fn approle(&self, role: &str, policies: &[&str]) -> (String, String) {
        let base = format!("auth/approle/role/{role}");
        self.post(&base, &json!({ "token_policies": policies }));
        let role_id = self.get(&format!("{base}/role-id"))["data"]["role_id"].clone();
        let secret_id =
            self.post(&format!("{base}/secret-id"), &json!({}))["data"]["secret_id"].clone();
        match (role_id, secret_id) {
            (Value::String(role_id), Value::String(secret_id)) => (role_id, secret_id),
            other => panic!("AppRole {role}: no role_id/secret_id in {other:?}"),
        }
    }

    /// Creates the userpass user `user` (at `auth/userpass`) whose tokens get `policies`.
    pub(crate) fn userpass(&self, user: &str, password: &str, policies: &[&str]) {
        self.post(
            &format!("auth/userpass/users/{user}"),
            &json!({ "password": password, "token_policies": policies }),
        );
    }

    /// Read requests (`GET /v1/<path>`) so far whose path is `path_prefix` or lies below it
    /// (whole segments: `secret/data/a` does not cover `secret/data/ab`). Includes reads made
    /// through [`OpenBao::get`]. Paths are as in the URL without `/v1/` and query string, e.g.
    /// `secret/data/<unique>` for KV v2. Counts every request, also denied ones.
    pub(crate) fn reads(&self, path_prefix: &str) -> usize {
        let prefix = path_prefix.trim_start_matches("/v1/").trim_matches('/');
        self.count_requests(|request| {
            request["operation"] == "read"
                && request["path"]
                    .as_str()
                    .is_some_and(|path| is_under(path, prefix))
        })
    }

    /// [`OpenBao::reads`] made with the root token only: what a run with [`Case::vault`] read,
    /// apart from what other identities' runs read at the same time (vaultplate looks up a
    /// login's own token, `auth/token/lookup-self`, to explain a denied read).
    ///
    /// [`Case::vault`]: crate::support::Case::vault
    pub(crate) fn root_reads(&self, path_prefix: &str) -> usize {
        let prefix = path_prefix.trim_start_matches("/v1/").trim_matches('/');
        let log = std::fs::read_to_string(&self.audit_log)
            .unwrap_or_else(|error| panic!("reading {}: {error}", self.audit_log.display()));
        log.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|entry| {
                entry["type"] == "request"
                    && entry["auth"]["display_name"] == "root"
                    && entry["request"]["operation"] == "read"
                    && entry["request"]["path"]
                        .as_str()
                        .is_some_and(|path| is_under(path, prefix))
            })
            .count()
    }

    /// Read requests so far under `path_prefix` (as [`OpenBao::reads`]) made with a token of the
    /// AppRole named `role` (the audit log keeps a token's metadata, `role_name`, in clear).
    pub(crate) fn reads_by_approle(&self, path_prefix: &str, role: &str) -> usize {
        let prefix = path_prefix.trim_start_matches("/v1/").trim_matches('/');
        self.count_entries(|entry| {
            entry["request"]["operation"] == "read"
                && entry["request"]["path"]
                    .as_str()
                    .is_some_and(|path| is_under(path, prefix))
                && entry["auth"]["metadata"]["role_name"] == role
        })
    }

    /// Login requests so far to `auth/approle/login` with this `role_id`, failed ones included.
    pub(crate) fn approle_logins(&self, role_id: &str) -> usize {
        // The audit log holds only an HMAC of the role_id; the server computes it for us.
        let hashed = self.post(
            &format!("sys/audit-hash/{AUDIT_DEVICE}"),
            &json!({ "input": role_id }),
        );
        let hashed = hashed["data"]["hash"].clone();
        assert!(hashed.is_string(), "sys/audit-hash gave no hash: {hashed}");
        self.count_requests(|request| {
            request["path"] == "auth/approle/login" && request["data"]["role_id"] == hashed
        })
    }

    /// Login requests so far to `auth/userpass/login/<user>`, failed ones included.
    pub(crate) fn userpass_logins(&self, user: &str) -> usize {
        let path = format!("auth/userpass/login/{user}");
        self.count_requests(|request| request["path"] == path.as_str())
    }

    /// Login requests so far to any `auth/<auth_mount>/login...` path. Exact per test only on
    /// a mount of the test's own, see [`OpenBao::enable_auth`].
    pub(crate) fn logins(&self, auth_mount: &str) -> usize {
        let login = format!("auth/{}/login", auth_mount.trim_matches('/'));
        self.count_requests(|request| {
            request["path"]
                .as_str()
                .is_some_and(|path| is_under(path, &login))
        })
    }

    /// Enables the auth method `kind` (`approle`, `userpass`, `kubernetes`, ...) at a new
    /// unique mount and returns that mount's name (the part after `auth/`).
    pub(crate) fn enable_auth(&self, kind: &str) -> String {
        let mount = unique(kind);
        self.post(&format!("sys/auth/{mount}"), &json!({ "type": kind }));
        mount
    }

    /// `GET /v1/<path>` as root; panics unless it succeeds. Returns the JSON body.
    pub(crate) fn get(&self, path: &str) -> Value {
        self.expect_ok(Method::GET, path, None)
    }

    /// `POST /v1/<path>` as root with a JSON body; panics unless it succeeds. Returns the JSON
    /// body (`null` for 204 No Content).
    pub(crate) fn post(&self, path: &str, body: &Value) -> Value {
        self.expect_ok(Method::POST, path, Some(body))
    }

    /// Creates the namespace `name` (below the root namespace).
    pub(crate) fn create_namespace(&self, name: &str) {
        self.post(&format!("sys/namespaces/{name}"), &json!({}));
    }

    /// [`OpenBao::post`] inside `namespace` (sent as `X-Vault-Namespace`): `sys/mounts/...`
    /// mounts an engine there, `<mount>/data/<path>` writes a KV v2 secret there.
    pub(crate) fn post_in(&self, namespace: &str, path: &str, body: &Value) -> Value {
        let (status, json) = self.call(
            Some(ROOT_TOKEN),
            Some(namespace),
            Method::POST,
            path,
            Some(body),
        );
        assert!(
            (200..300).contains(&status),
            "OpenBao: POST /v1/{path} in namespace {namespace} gave {status}: {json}"
        );
        json
    }

    /// Any API call, with `token` or none; returns the status code and the JSON body, whatever
    /// the status. For tests of what a token may or may not do.
    pub(crate) fn request(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        self.call(token, None, method, path, body)
    }

    fn call(
        &self,
        token: Option<&str>,
        namespace: Option<&str>,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let url = format!("{}/v1/{}", self.addr, path.trim_start_matches('/'));
        let mut request = self.http.request(method.clone(), &url);
        if let Some(token) = token {
            request = request.header("X-Vault-Token", token);
        }
        if let Some(namespace) = namespace {
            request = request.header("X-Vault-Namespace", namespace);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .unwrap_or_else(|error| panic!("{method} {url}: {}", error_chain(&error)));
        let status = response.status().as_u16();
        let text = response
            .text()
            .unwrap_or_else(|error| panic!("{method} {url}: reading the body: {error}"));
        let json = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, json)
    }

    fn expect_ok(&self, method: Method, path: &str, body: Option<&Value>) -> Value {
        let (status, json) = self.request(Some(ROOT_TOKEN), method.clone(), path, body);
        assert!(
            (200..300).contains(&status),
            "OpenBao: {method} /v1/{path} gave {status}: {json}"
        );
        json
    }

    /// Request entries of the audit log (not responses) for which `keep` holds. The file
    /// device writes each entry before the server handles the request, so every request that
    /// has been answered is already in the file.
    fn count_requests(&self, keep: impl Fn(&Value) -> bool) -> usize {
        self.count_entries(|entry| keep(&entry["request"]))
    }

    /// Request entries of the audit log (`auth`, `request`) that `keep` keeps.
    fn count_entries(&self, keep: impl Fn(&Value) -> bool) -> usize {
        let log = std::fs::read_to_string(&self.audit_log)
            .unwrap_or_else(|error| panic!("reading {}: {error}", self.audit_log.display()));
        log.lines()
            // A line being written by a concurrent request may be cut short: it is not ours.
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|entry| entry["type"] == "request" && keep(entry))
            .count()
    }

    fn start(transport: Transport) -> Result<OpenBao, String> {
        let started = Instant::now();
        let bao = tool("bao");
        // The rustls crypto provider must be chosen before any client is built, even for
        // plain HTTP. Another part of the process may have installed one already: fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            match Launch::new(&bao, transport).and_then(Launch::until_ready) {
                Ok(server) => {
                    server.set_up();
                    report_startup(transport, started.elapsed());
                    return Ok(server);
                }
                // Another process may take the free port between our probe and the server's
                // bind; a fresh port fixes that. Any other failure would only repeat.
                Err(failure) if failure.contains("address already in use") => {
                    failures.push(failure)
                }
                Err(failure) => return Err(failure),
            }
        }
        Err(format!(
            "OpenBao did not start in {START_ATTEMPTS} attempts:\n{}",
            failures.join("\n")
        ))
    }

    /// What every test may rely on besides the dev defaults (KV v2 at `secret/`).
    fn set_up(&self) {
        self.post(
            "sys/mounts/kv1",
            &json!({ "type": "kv", "options": { "version": "1" } }),
        );
        self.post("sys/auth/approle", &json!({ "type": "approle" }));
        self.post("sys/auth/userpass", &json!({ "type": "userpass" }));
    }
}

/// How a server is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Http,
    /// `-dev-tls`: a CA and a certificate made at start-up, written to `<dir>/tls`.
    Tls,
}

/// One attempt at starting the server on a fresh port.
struct Launch {
    addr: String,
    dir: PathBuf,
    /// Where a TLS server writes `vault-ca.pem`.
    tls_dir: Option<PathBuf>,
    wrapper: Child,
}

impl Launch {
    fn new(bao: &Path, transport: Transport) -> Result<Launch, String> {
        // Removed by the lifeline once the server is stopped.
        let dir = tempfile::Builder::new()
            .prefix("vaultplate-openbao-")
            .tempdir()
            .map_err(|error| format!("creating the OpenBao directory: {error}"))?
            .keep();
        let audit_log = dir.join("audit.log");
        let config = format!(
            "audit \"file\" \"{AUDIT_DEVICE}\" {{\n  options {{\n    file_path = {}\n  }}\n}}\n",
            Value::String(audit_log.display().to_string()),
        );
        std::fs::write(dir.join("audit.hcl"), config)
            .map_err(|error| format!("writing audit.hcl: {error}"))?;
        let tls_dir = match transport {
            Transport::Http => None,
            Transport::Tls => {
                let tls_dir = dir.join("tls");
                std::fs::create_dir(&tls_dir)
                    .map_err(|error| format!("creating {}: {error}", tls_dir.display()))?;
                Some(tls_dir)
            }
        };
        let port = free_port_pair()?;
        let mut server = Command::new("sh");
        server
            .args(["-c", LIFELINE, "openbao-lifeline"])
            .arg(&dir)
            .arg(bao)
            .args(["server", "-dev", "-dev-no-store-token"])
            .arg(format!("-dev-root-token-id={ROOT_TOKEN}"))
            .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
            .arg(format!("-config={}", dir.join("audit.hcl").display()));
        if let Some(tls_dir) = &tls_dir {
            server
                .arg("-dev-tls")
                .arg(format!("-dev-tls-cert-dir={}", tls_dir.display()));
        }
        let wrapper = server
            // Nothing from the developer's environment (BAO_*, VAULT_*, proxies) reaches it.
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("starting sh for OpenBao: {error}"))?;
        let scheme = match transport {
            Transport::Http => "http",
            Transport::Tls => "https",
        };
        Ok(Launch {
            addr: format!("{scheme}://127.0.0.1:{port}"),
            dir,
            tls_dir,
            wrapper,
        })
    }

    fn until_ready(mut self) -> Result<OpenBao, String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        let health = format!("{}/v1/sys/health", self.addr);
        let ca_cert = self.tls_dir.as_ref().map(|dir| dir.join("vault-ca.pem"));
        // A TLS server writes its CA while starting: a client that trusts it comes later.
        let mut http = match &ca_cert {
            None => Some(http_client(None)?),
            Some(_) => None,
        };
        loop {
            if http.is_none()
                && let Some(ca) = ca_cert.as_deref().and_then(read_ca)
            {
                http = Some(http_client(Some(ca))?);
            }
            if let Some(client) = &http
                && client
                    .get(&health)
                    .send()
                    .is_ok_and(|response| response.status().is_success())
            {
                let lifeline = self.wrapper.stdin.take().expect("the lifeline is piped");
                return Ok(OpenBao {
                    addr: self.addr,
                    audit_log: self.dir.join("audit.log"),
                    ca_cert,
                    http: client.clone(),
                    _lifeline: lifeline,
                });
            }
            let exited = self
                .wrapper
                .try_wait()
                .map_err(|error| format!("waiting for sh: {error}"))?;
            if exited.is_some() || Instant::now() > deadline {
                let what = match exited {
                    Some(status) => format!("exited ({status})"),
                    None => format!("was not ready within {READY_TIMEOUT:?}"),
                };
                let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
                // Dropping `self` closes the lifeline: the server (if alive) and its directory go.
                return Err(format!("OpenBao at {} {what}; its log:\n{log}", self.addr));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The harness's client: no proxy, and on a TLS server trusting its CA alone.
fn http_client(ca: Option<Certificate>) -> Result<Client, String> {
    let mut builder = Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30));
    if let Some(ca) = ca {
        builder = builder.tls_certs_only([ca]);
    }
    builder
        .build()
        .map_err(|error| format!("building the HTTP client: {}", error_chain(&error)))
}

/// The CA certificate in `path`, once the server has written all of it.
fn read_ca(path: &Path) -> Option<Certificate> {
    let pem = std::fs::read(path).ok()?;
    let complete = pem
        .windows(b"-----END CERTIFICATE-----".len())
        .any(|window| window == b"-----END CERTIFICATE-----");
    complete.then(|| Certificate::from_pem(&pem).ok()).flatten()
}

/// A port free on 127.0.0.1 whose successor is free too: the dev server's cluster listener
/// takes the API port + 1.
fn free_port_pair() -> Result<u16, String> {
    for _ in 0..20 {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(|error| format!("binding 127.0.0.1:0: {error}"))?;
        let port = listener
            .local_addr()
            .map_err(|error| error.to_string())?
            .port();
        if port < u16::MAX && TcpListener::bind((Ipv4Addr::LOCALHOST, port + 1)).is_ok() {
            return Ok(port);
        }
    }
    Err("found no two adjacent free ports on 127.0.0.1".to_owned())
}

/// With `VAULTPLATE_TEST_TIMINGS` set, says on stderr how long the server took to be usable.
#[allow(clippy::print_stderr, reason = "a report asked for by the developer")]
fn report_startup(transport: Transport, took: Duration) {
    if std::env::var_os("VAULTPLATE_TEST_TIMINGS").is_some() {
        eprintln!("OpenBao ({transport:?}) started and set up in {took:?}");
    }
}

/// `path` equals `prefix` or lies below it, segment-wise.
fn is_under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
