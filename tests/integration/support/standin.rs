//! `StandIn`: a loopback HTTP/1.1 server that answers JSON requests with a function of the
//! test's, and keeps every request it got. The base of the stand-ins for services OpenBao
//! calls (the Kubernetes TokenReview API) or that OpenBao lacks (Vault's GitHub login).
//!
//! Bounded like every [`http::Server`]: 127.0.0.1 only, at most [`http::MAX_REQUEST`] bytes
//! read, stopped when dropped or after its lifetime.

use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value;

use super::http::{self, Reply};

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
        http::header(&self.headers, name)
    }
}

impl From<&http::Request> for Request {
    fn from(request: &http::Request) -> Self {
        Request {
            method: request.method.clone(),
            path: request.target.clone(),
            headers: request.headers.clone(),
            body: serde_json::from_slice(&request.body).unwrap_or(Value::Null),
        }
    }
}

/// A running stand-in; it stops when dropped.
pub(crate) struct StandIn {
    server: http::Server,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl StandIn {
    /// Answers each request with `handler`'s status and JSON body.
    pub(crate) fn start(
        handler: impl Fn(&Request) -> (u16, Value) + Send + Sync + 'static,
    ) -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let server = {
            let requests = Arc::clone(&requests);
            http::Server::start("StandIn", move |request| {
                let request = Request::from(request);
                lock(&requests).push(request.clone());
                let (status, body) = handler(&request);
                Reply::Json(status, body)
            })
        };
        StandIn { server, requests }
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub(crate) fn addr(&self) -> &str {
        self.server.addr()
    }

    /// Every request so far, in the order they were read.
    pub(crate) fn requests(&self) -> Vec<Request> {
        lock(&self.requests).clone()
    }
}

fn lock(requests: &Mutex<Vec<Request>>) -> std::sync::MutexGuard<'_, Vec<Request>> {
    requests.lock().unwrap_or_else(PoisonError::into_inner)
}
