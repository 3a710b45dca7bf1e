//! `FaultServer`: a loopback HTTP/1.1 server that misbehaves on purpose (never answers,
//! answers an error status, or fails a few times before passing requests on to a real
//! OpenBao) and counts the requests it gets. Not an imitation of Vault: anything Vault-like
//! comes from the real server behind it.
//!
//! Std only, one thread per connection, one request per connection (every answer says
//! `Connection: close`). Bounded: it listens on 127.0.0.1 only, forwards only to 127.0.0.1,
//! reads at most [`MAX_REQUEST`] bytes of a request, and stops when dropped or after
//! [`LIFETIME`], whichever comes first.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Longest a server runs, dropped or not: longer than any one test.
const LIFETIME: Duration = Duration::from_secs(300);
/// How often waiting threads look at the stop flag.
const POLL: Duration = Duration::from_millis(20);
/// Most bytes read of one request (head and body), and of one forwarded answer.
const MAX_REQUEST: usize = 1 << 20;
/// Longest wait for the upstream server's answer.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);

/// What the server does with each request.
#[derive(Debug, Clone)]
enum Mode {
    /// Reads the request, then never answers (until the server stops).
    Hang,
    /// Answers every request with `code` and the JSON `body`.
    Status { code: u16, body: String },
    /// Answers the first `failures` requests with `code`, then forwards each request to
    /// `upstream` and relays its answer.
    FailThenProxy {
        failures: usize,
        code: u16,
        upstream: SocketAddr,
    },
    /// Closes the connection of the first `drops` requests without any answer, then forwards.
    DropThenProxy { drops: usize, upstream: SocketAddr },
    /// Forwards every request after waiting `delay`.
    DelayedProxy {
        delay: Duration,
        upstream: SocketAddr,
    },
}

/// A running fault server; it stops when dropped.
///
/// ```ignore
/// let outage = FaultServer::status(503, json!({"errors": ["maintenance"]}));
/// Case::new().env("VAULT_ADDR", outage.addr()) /* ... */;
/// assert_eq!(outage.requests(), 3);
/// ```
pub(crate) struct FaultServer {
    addr: String,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

/// What the acceptor and the connection threads share with the handle.
#[derive(Debug)]
struct Shared {
    mode: Mode,
    requests: AtomicUsize,
    stop: AtomicBool,
    deadline: Instant,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst) || Instant::now() > self.deadline
    }
}

impl FaultServer {
    /// Accepts connections and reads each request, but never answers: a client waits until
    /// its own timeout.
    pub(crate) fn hang() -> Self {
        Self::start(Mode::Hang)
    }

    /// Answers every request with status `code` and `body` as JSON.
    pub(crate) fn status(code: u16, body: Value) -> Self {
        Self::start(Mode::Status {
            code,
            body: body.to_string(),
        })
    }

    /// Answers the first `failures` requests with status `code` (and a Vault-style `errors`
    /// body), then forwards every request to `upstream` (an `http://127.0.0.1:PORT` address
    /// such as [`super::OpenBao::addr`] of the plain server) and relays the answer.
    pub(crate) fn fail_then_proxy(failures: usize, code: u16, upstream: &str) -> Self {
        Self::start(Mode::FailThenProxy {
            failures,
            code,
            upstream: loopback(upstream),
        })
    }

    /// Reads the first `drops` requests and closes their connections without a word (a
    /// crashed or restarting server, a load balancer cutting connections), then forwards.
    pub(crate) fn drop_then_proxy(drops: usize, upstream: &str) -> Self {
        Self::start(Mode::DropThenProxy {
            drops,
            upstream: loopback(upstream),
        })
    }

    /// Forwards every request to `upstream` after `delay` (a slow network or a busy Vault).
    pub(crate) fn delayed_proxy(delay: Duration, upstream: &str) -> Self {
        Self::start(Mode::DelayedProxy {
            delay,
            upstream: loopback(upstream),
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`, as `VAULT_ADDR` takes it.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// Requests received so far (each counted once its head and body are read, before any
    /// answer), forwarded or not.
    pub(crate) fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }

    fn start(mode: Mode) -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|error| panic!("FaultServer: binding 127.0.0.1:0: {error}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|error| panic!("FaultServer: its address: {error}"));
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|error| panic!("FaultServer: a non-blocking listener: {error}"));
        let shared = Arc::new(Shared {
            mode,
            requests: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            deadline: Instant::now() + LIFETIME,
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || accept(&listener, &shared))
        };
        FaultServer {
            addr: format!("http://{addr}"),
            shared,
            acceptor: Some(acceptor),
        }
    }
}

impl Drop for FaultServer {
    /// Stops accepting, ends every connection (hanging ones too) and waits for the threads.
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            // A panic in a connection thread is reported by that thread already.
            drop(acceptor.join());
        }
    }
}

/// Forwards a request and returns the upstream's answer, or a 502 saying why not.
fn relay(request: &[u8], upstream: SocketAddr) -> Vec<u8> {
    forward(request, upstream).unwrap_or_else(|error| {
        response(
            502,
            &serde_json::json!({ "errors": [format!("FaultServer: forwarding: {error}")] })
                .to_string(),
        )
    })
}

/// The socket address of an `http://127.0.0.1:PORT` upstream; anything else is refused.
fn loopback(upstream: &str) -> SocketAddr {
    upstream
        .strip_prefix("http://")
        .map(|rest| rest.trim_end_matches('/'))
        .and_then(|host_port| host_port.parse::<SocketAddr>().ok())
        .filter(|addr| addr.ip().is_loopback())
        .unwrap_or_else(|| {
            panic!("FaultServer forwards only to http://127.0.0.1:PORT, not {upstream:?}")
        })
}

/// Accepts connections until the server stops, then waits for their threads.
fn accept(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut connections = Vec::new();
    while !shared.stopping() {
        match listener.accept() {
            Ok((stream, _)) => {
                let shared = Arc::clone(shared);
                connections.push(std::thread::spawn(move || serve(stream, &shared)));
            }
            // Nothing to accept yet, or a connection that went away before it was accepted.
            Err(_) => std::thread::sleep(POLL),
        }
    }
    for connection in connections {
        drop(connection.join());
    }
}

/// Handles the one request of a connection; any I/O failure just ends it.
fn serve(mut stream: TcpStream, shared: &Shared) {
    if stream.set_nonblocking(false).is_err() || stream.set_read_timeout(Some(POLL)).is_err() {
        return;
    }
    let Some(request) = read_request(&mut stream, shared) else {
        return;
    };
    let served = shared.requests.fetch_add(1, Ordering::SeqCst);
    let answer = match &shared.mode {
        Mode::Hang => {
            while !shared.stopping() {
                std::thread::sleep(POLL);
            }
            return;
        }
        Mode::Status { code, body } => response(*code, body),
        Mode::FailThenProxy { failures, code, .. } if served < *failures => response(
            *code,
            &serde_json::json!({ "errors": [format!("injected failure {}", served + 1)] })
                .to_string(),
        ),
        Mode::DropThenProxy { drops, .. } if served < *drops => return,
        Mode::DelayedProxy { delay, upstream } => {
            std::thread::sleep(*delay);
            relay(&request, *upstream)
        }
        Mode::FailThenProxy { upstream, .. } | Mode::DropThenProxy { upstream, .. } => {
            relay(&request, *upstream)
        }
    };
    drop(stream.write_all(&answer));
    drop(stream.flush());
}

/// A request's head and its `Content-Length` body; `None` if the client goes away, sends
/// too much, or the server stops first.
fn read_request(stream: &mut TcpStream, shared: &Shared) -> Option<Vec<u8>> {
    let mut request = Vec::new();
    let mut chunk = [0_u8; 8192];
    let mut expected = None;
    loop {
        if expected.is_none()
            && let Some(end) = find(&request, b"\r\n\r\n")
        {
            let head = String::from_utf8_lossy(&request[..end]);
            expected = Some(end + 4 + content_length(&head));
        }
        match expected {
            Some(total) if request.len() >= total => {
                request.truncate(total);
                return Some(request);
            }
            _ if request.len() > MAX_REQUEST || shared.stopping() => return None,
            _ => {}
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => request.extend_from_slice(&chunk[..n]),
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

/// Sends `request` to `upstream` with `Connection: close` and returns its whole answer, with
/// `Connection: close` too (the upstream server closes after answering; so do we).
fn forward(request: &[u8], upstream: SocketAddr) -> std::io::Result<Vec<u8>> {
    let head_end = find(request, b"\r\n\r\n").unwrap_or(request.len());
    let mut sent = close_connection(&request[..head_end]);
    sent.extend_from_slice(&request[(head_end + 4).min(request.len())..]);
    let mut stream = TcpStream::connect_timeout(&upstream, UPSTREAM_TIMEOUT)?;
    stream.set_read_timeout(Some(UPSTREAM_TIMEOUT))?;
    stream.set_write_timeout(Some(UPSTREAM_TIMEOUT))?;
    stream.write_all(&sent)?;
    let mut answer = Vec::new();
    stream
        .take(u64::try_from(MAX_REQUEST).unwrap_or(u64::MAX))
        .read_to_end(&mut answer)?;
    let Some(answer_head_end) = find(&answer, b"\r\n\r\n") else {
        return Err(std::io::Error::other(
            "the upstream answer has no complete head",
        ));
    };
    let mut relayed = close_connection(&answer[..answer_head_end]);
    relayed.extend_from_slice(&answer[answer_head_end + 4..]);
    Ok(relayed)
}

/// A message head (without its blank line) with any `Connection` header replaced by
/// `Connection: close`, followed by the blank line.
fn close_connection(head: &[u8]) -> Vec<u8> {
    let head = String::from_utf8_lossy(head);
    let mut out = String::with_capacity(head.len() + 24);
    for line in head.split("\r\n") {
        let is_connection = line
            .split_once(':')
            .is_some_and(|(name, _)| name.trim().eq_ignore_ascii_case("connection"));
        if !is_connection {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    out.into_bytes()
}

fn response(code: u16, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {code} Injected Fault\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The `Content-Length` of a request head (0 without one).
fn content_length(head: &str) -> usize {
    head.split("\r\n")
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
