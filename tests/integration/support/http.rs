//! `Server`: the loopback HTTP/1.1 server the test's own servers ([`super::FaultServer`],
//! [`super::StandIn`], [`super::KubeApi`]) are made of. It reads each request, asks their
//! handler for a [`Reply`], and sends it; what to answer is all they add.
//!
//! Std only, one thread per connection, one request per connection (every answer says
//! `Connection: close`). Bounded: it listens on 127.0.0.1 only, reads at most [`MAX_REQUEST`]
//! bytes of a request, and stops when dropped or after [`LIFETIME`], whichever comes first.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

/// Longest a server runs, dropped or not: longer than any one test.
const LIFETIME: Duration = Duration::from_secs(300);
/// How often waiting threads look at the stop flag.
const POLL: Duration = Duration::from_millis(20);
/// Most bytes read of one request (head and body).
pub(crate) const MAX_REQUEST: usize = 1 << 20;

/// One request, read whole, as a handler sees it.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    /// How many requests the server had read before this one: 0 for the first.
    pub(crate) number: usize,
    pub(crate) method: String,
    /// The request target, e.g. `/v1/secret/data/app?version=2`.
    pub(crate) target: String,
    /// Header names in lower case, values trimmed.
    pub(crate) headers: Vec<(String, String)>,
    /// The head as received (request line and header lines, without the blank line that ends
    /// it), for passing the request on.
    pub(crate) head: String,
    /// The `Content-Length` body (empty without one).
    pub(crate) body: Vec<u8>,
}

impl Request {
    /// The first header `name` (any case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// The first of `headers` (names in lower case) named `name` (any case).
pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// What the server does with a request once it is read.
#[derive(Debug)]
pub(crate) enum Reply {
    /// Answers with this status and JSON body.
    Json(u16, Value),
    /// Sends these bytes: a whole response, e.g. one relayed from another server.
    Raw(Vec<u8>),
    /// Never answers: holds the connection until the server stops, then closes it.
    Hang,
    /// Closes the connection without a word.
    Close,
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;

/// A running server; it stops when dropped.
pub(crate) struct Server {
    addr: String,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

/// What the acceptor and the connection threads share with the handle.
struct Shared {
    handler: Box<Handler>,
    requests: AtomicUsize,
    stop: AtomicBool,
    deadline: Instant,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst) || Instant::now() > self.deadline
    }
}

impl Server {
    /// Listens on a free 127.0.0.1 port and answers each request with `handler`, called on
    /// the request's own thread. `name` is whose server it is, for panic messages.
    pub(crate) fn start(
        name: &str,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|error| panic!("{name}: binding 127.0.0.1:0: {error}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|error| panic!("{name}: its address: {error}"));
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|error| panic!("{name}: a non-blocking listener: {error}"));
        let shared = Arc::new(Shared {
            handler: Box::new(handler),
            requests: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            deadline: Instant::now() + LIFETIME,
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || accept(&listener, &shared))
        };
        Server {
            addr: format!("http://{addr}"),
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// Requests read so far (each counted once its head and body are read, before the
    /// handler sees it), whatever the reply.
    pub(crate) fn requests(&self) -> usize {
        self.shared.requests.load(Ordering::SeqCst)
    }
}

impl Drop for Server {
    /// Stops accepting, ends every connection (hanging ones too) and waits for the threads.
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            // A panic in a connection thread is reported by that thread already.
            drop(acceptor.join());
        }
    }
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
    let Some((head, body)) = read_request(&mut stream, shared) else {
        return;
    };
    let number = shared.requests.fetch_add(1, Ordering::SeqCst);
    let answer = match (shared.handler)(&parse(number, head, body)) {
        Reply::Json(status, body) => response(status, &body),
        Reply::Raw(bytes) => bytes,
        Reply::Hang => {
            while !shared.stopping() {
                std::thread::sleep(POLL);
            }
            return;
        }
        Reply::Close => return,
    };
    drop(stream.write_all(&answer));
    drop(stream.flush());
}

/// A request's head (without its blank line) and its `Content-Length` body; `None` if the
/// client goes away, sends too much, or the server stops first.
fn read_request(stream: &mut TcpStream, shared: &Shared) -> Option<(String, Vec<u8>)> {
    let mut bytes = Vec::new();
    let mut chunk = [0_u8; 8192];
    loop {
        if let Some((head, rest)) = split_head(&bytes) {
            let head = String::from_utf8_lossy(head);
            let length = content_length(&head);
            if rest.len() >= length {
                return Some((head.into_owned(), rest[..length].to_vec()));
            }
        }
        if bytes.len() > MAX_REQUEST || shared.stopping() {
            return None;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(error) if error.kind() == ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

fn parse(number: usize, head: String, body: Vec<u8>) -> Request {
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_owned();
    let target = first.next().unwrap_or_default().to_owned();
    let headers = header_lines(lines)
        .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
        .collect();
    Request {
        number,
        method,
        target,
        headers,
        head,
        body,
    }
}

/// A message's head (without the blank line that ends it) and what follows; `None` until the
/// blank line has arrived.
pub(crate) fn split_head(message: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = message
        .windows(4)
        .position(|window| window == b"\r\n\r\n")?;
    Some((&message[..end], &message[end + 4..]))
}

/// The `Content-Length` of a head (0 without one).
fn content_length(head: &str) -> usize {
    header_lines(head.split("\r\n").skip(1))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0)
}

/// Header lines as trimmed (name, value) pairs; lines without a colon are left out.
fn header_lines<'a>(
    lines: impl Iterator<Item = &'a str>,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim(), value.trim()))
}

/// A whole response: `status` with `body` as JSON, closing the connection.
fn response(status: u16, body: &Value) -> Vec<u8> {
    let body = body.to_string();
    format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        reason(status),
        body.len()
    )
    .into_bytes()
}

/// The reason phrase of the statuses the tests use (clients read only the code).
fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    }
}
