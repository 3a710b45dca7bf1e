//! `StandIn`: a loopback HTTP/1.1 server that answers JSON requests with a function of the
//! test's, and keeps every request it got. The base of the stand-ins for services OpenBao
//! calls (the Kubernetes TokenReview API) or that OpenBao lacks (Vault's GitHub login).
//!
//! Std only, one thread per connection, one request per connection (`Connection: close`).
//! Bounded like [`super::FaultServer`]: 127.0.0.1 only, at most [`MAX_REQUEST`] bytes read,
//! stopped when dropped or after [`LIFETIME`].

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

const LIFETIME: Duration = Duration::from_secs(300);
const POLL: Duration = Duration::from_millis(20);
const MAX_REQUEST: usize = 1 << 20;

/// One request as the handler sees it.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) method: String,
    /// The request target, e.g. `/v1/secret/data/app?version=2`.
    pub(crate) path: String,
    /// Header names in lower case.
    pub(crate) headers: Vec<(String, String)>,
    /// The body as JSON (`null` when empty or not JSON).
    pub(crate) body: Value,
}

impl Request {
    /// The first header `name` (any case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

type Handler = dyn Fn(&Request) -> (u16, Value) + Send + Sync;

/// A running stand-in; it stops when dropped.
pub(crate) struct StandIn {
    addr: String,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

struct Shared {
    handler: Box<Handler>,
    requests: Mutex<Vec<Request>>,
    stop: AtomicBool,
    deadline: Instant,
}

impl Shared {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst) || Instant::now() > self.deadline
    }
}

impl StandIn {
    /// Answers each request with `handler`'s status and JSON body.
    pub(crate) fn start(
        handler: impl Fn(&Request) -> (u16, Value) + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap_or_else(|error| panic!("StandIn: binding 127.0.0.1:0: {error}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|error| panic!("StandIn: its address: {error}"));
        listener
            .set_nonblocking(true)
            .unwrap_or_else(|error| panic!("StandIn: a non-blocking listener: {error}"));
        let shared = Arc::new(Shared {
            handler: Box::new(handler),
            requests: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            deadline: Instant::now() + LIFETIME,
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || accept(&listener, &shared))
        };
        StandIn {
            addr: format!("http://{addr}"),
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// Every request so far, in the order they were read.
    pub(crate) fn requests(&self) -> Vec<Request> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Drop for StandIn {
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
    let Some(request) = read_request(&mut stream, shared) else {
        return;
    };
    shared
        .requests
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(request.clone());
    let (status, body) = (shared.handler)(&request);
    let body = body.to_string();
    let answer = format!(
        "HTTP/1.1 {status} Stand-In\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    drop(stream.write_all(answer.as_bytes()));
    drop(stream.flush());
}

/// Reads one request (head and `Content-Length` body); `None` if the client goes away, sends
/// too much, or the server stops first.
fn read_request(stream: &mut TcpStream, shared: &Shared) -> Option<Request> {
    let mut bytes = Vec::new();
    let mut chunk = [0_u8; 8192];
    loop {
        if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&bytes[..end]).into_owned();
            let mut lines = head.split("\r\n");
            let mut first = lines.next().unwrap_or_default().split(' ');
            let method = first.next().unwrap_or_default().to_owned();
            let path = first.next().unwrap_or_default().to_owned();
            let headers: Vec<(String, String)> = lines
                .filter_map(|line| line.split_once(':'))
                .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
                .collect();
            let length = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.parse::<usize>().ok())
                .unwrap_or(0);
            if bytes.len() >= end + 4 + length {
                let body = &bytes[end + 4..end + 4 + length];
                return Some(Request {
                    method,
                    path,
                    headers,
                    body: serde_json::from_slice(body).unwrap_or(Value::Null),
                });
            }
        }
        if bytes.len() > MAX_REQUEST || shared.stopping() {
            return None;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}
