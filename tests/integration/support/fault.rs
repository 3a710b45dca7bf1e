//! `FaultServer`: a loopback HTTP/1.1 server that misbehaves on purpose (never answers,
//! answers an error status, redirects elsewhere, sends a body without end, or fails a few
//! times before passing requests on to a real OpenBao) and counts the requests it gets. Not an imitation of Vault: anything Vault-like
//! comes from the real server behind it.
//!
//! Bounded like every [`http::Server`] (127.0.0.1 only, at most [`http::MAX_REQUEST`] bytes
//! of a request read, stopped when dropped or after its lifetime), and it forwards only to
//! 127.0.0.1, reading at most as much of an answer.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::{Value, json};

use super::http::{self, Reply, Request};

/// Longest wait for the upstream server's answer.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(30);

/// What the server does with each request.
#[derive(Debug, Clone)]
enum Mode {
    /// Reads the request, then never answers (until the server stops).
    Hang,
    /// Answers every request with `code` and the JSON `body`.
    Status { code: u16, body: Value },
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
    /// Answers every request with `code` and `Location: <to><request target>`.
    Redirect { code: u16, to: String },
    /// Answers 200 with a body of `size` bytes and no `Content-Length` (it ends when the
    /// connection closes).
    Huge { size: usize },
}

/// A running fault server; it stops when dropped.
///
/// ```ignore
/// let outage = FaultServer::status(503, json!({"errors": ["maintenance"]}));
/// Case::new().env("VAULT_ADDR", outage.addr()) /* ... */;
/// assert_eq!(outage.requests(), 3);
/// ```
pub(crate) struct FaultServer {
    server: http::Server,
}

impl FaultServer {
    /// Accepts connections and reads each request, but never answers: a client waits until
    /// its own timeout.
    pub(crate) fn hang() -> Self {
        Self::start(Mode::Hang)
    }

    /// Answers every request with status `code` and `body` as JSON.
    pub(crate) fn status(code: u16, body: Value) -> Self {
        Self::start(Mode::Status { code, body })
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

    /// Redirects every request with status `code` to the same target at `to` (a base URL such
    /// as `https://127.0.0.1:8200`), as a Vault standby without request forwarding does.
    pub(crate) fn redirect(code: u16, to: &str) -> Self {
        Self::start(Mode::Redirect {
            code,
            to: to.trim_end_matches('/').to_owned(),
        })
    }

    /// Answers every request with 200 and `size` bytes of JSON-looking text, delimited by the
    /// end of the connection rather than a length: a body a client has to cap itself.
    pub(crate) fn huge(size: usize) -> Self {
        Self::start(Mode::Huge { size })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`, as `VAULT_ADDR` takes it.
    pub(crate) fn addr(&self) -> &str {
        self.server.addr()
    }

    /// Requests received so far (each counted once its head and body are read, before any
    /// answer), forwarded or not.
    pub(crate) fn requests(&self) -> usize {
        self.server.requests()
    }

    fn start(mode: Mode) -> Self {
        FaultServer {
            server: http::Server::start("FaultServer", move |request| reply(&mode, request)),
        }
    }
}

/// What `mode` does with `request` (by its `number` for the modes that count).
fn reply(mode: &Mode, request: &Request) -> Reply {
    let served = request.number;
    match mode {
        Mode::Hang => Reply::Hang,
        Mode::Status { code, body } => Reply::Json(*code, body.clone()),
        Mode::Redirect { code, to } => Reply::Raw(
            format!(
                "HTTP/1.1 {code} Redirect\r\nLocation: {to}{}\r\nContent-Length: 0\r\n\
                 Connection: close\r\n\r\n",
                request.target
            )
            .into_bytes(),
        ),
        Mode::Huge { size } => {
            let mut answer =
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
                    .to_vec();
            answer.extend_from_slice(b"{\"data\":\"");
            answer.resize(answer.len() + size, b'x');
            Reply::Raw(answer)
        }
        Mode::FailThenProxy { failures, code, .. } if served < *failures => Reply::Json(
            *code,
            json!({ "errors": [format!("injected failure {}", served + 1)] }),
        ),
        Mode::DropThenProxy { drops, .. } if served < *drops => Reply::Close,
        Mode::DelayedProxy { delay, upstream } => {
            std::thread::sleep(*delay);
            relay(request, *upstream)
        }
        Mode::FailThenProxy { upstream, .. } | Mode::DropThenProxy { upstream, .. } => {
            relay(request, *upstream)
        }
    }
}

/// Forwards a request and relays the upstream's answer, or answers 502 saying why not.
fn relay(request: &Request, upstream: SocketAddr) -> Reply {
    forward(request, upstream).map_or_else(
        |error| {
            Reply::Json(
                502,
                json!({ "errors": [format!("FaultServer: forwarding: {error}")] }),
            )
        },
        Reply::Raw,
    )
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

/// Sends `request` to `upstream` with `Connection: close` and returns its whole answer, with
/// `Connection: close` too (the upstream server closes after answering; so do we).
fn forward(request: &Request, upstream: SocketAddr) -> std::io::Result<Vec<u8>> {
    let mut sent = close_connection(&request.head);
    sent.extend_from_slice(&request.body);
    let mut stream = TcpStream::connect_timeout(&upstream, UPSTREAM_TIMEOUT)?;
    stream.set_read_timeout(Some(UPSTREAM_TIMEOUT))?;
    stream.set_write_timeout(Some(UPSTREAM_TIMEOUT))?;
    stream.write_all(&sent)?;
    let mut answer = Vec::new();
    stream
        .take(u64::try_from(http::MAX_REQUEST).unwrap_or(u64::MAX))
        .read_to_end(&mut answer)?;
    let Some((head, body)) = http::split_head(&answer) else {
        return Err(std::io::Error::other(
            "the upstream answer has no complete head",
        ));
    };
    let mut relayed = close_connection(&String::from_utf8_lossy(head));
    relayed.extend_from_slice(body);
    Ok(relayed)
}

/// A message head (without its blank line) with any `Connection` header replaced by
/// `Connection: close`, followed by the blank line.
fn close_connection(head: &str) -> Vec<u8> {
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
