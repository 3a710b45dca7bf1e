//! A small Vault HTTP client: raw logical paths (`GET /v1/<path>` as AVP writes them), logins,
//! bounded retries with backoff, and Vault's own error text in every failure.
//!
//! vaultrs's KV API wants a (mount, path) split that an AVP path such as `team/kv/data/app` does
//! not give, and it has no retries; every call here is one request, so a client of our own on
//! reqwest is smaller than adapting it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::{Method, RequestBuilder, Response, StatusCode, Url};
use serde_json::{Map, Value};
use tracing::debug;

use super::RedirectHost;
use super::auth::{self, Auth, LoginRequest, SignIn};
use super::redirect::{self, Verdict};
use super::settings::VaultSettings;
use super::{MAX_ANSWER_BYTES, VaultError};
use crate::placeholder::secret_ref::KvVersion;
use crate::sensitive::Sensitive;

/// What a login obtained besides the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Login {
    /// How long the token lives, when Vault says (`None` for `VAULT_TOKEN` and root tokens).
    pub lease: Option<Duration>,
}

/// What a read of one secret returned.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretRead {
    /// Its keys and values; `None` when Vault has nothing at the path.
    pub data: Option<Map<String, Value>>,
    /// The KV v2 version read (`data.metadata.version`); `None` for KV v1 or no data.
    pub version: Option<u64>,
}

/// A Vault connection: address, namespace, TLS, and the token once logged in.
#[derive(Debug, Clone)]
pub struct VaultClient {
    http: reqwest::Client,
    /// Where requests go: `VAULT_ADDR`, or its `VAULT_TLS_SERVER_NAME` form.
    base: String,
    /// The `Host` header when `base` is not `VAULT_ADDR`.
    host: Option<String>,
    /// `VAULT_ADDR`, as errors name it.
    addr: String,
    namespace: Option<String>,
    token: Option<Sensitive>,
    max_retries: u32,
    /// `VAULTPLATE_REDIRECT_HOSTS`.
    redirect_hosts: Vec<RedirectHost>,
}

impl VaultClient {
    /// Checks the address and builds the HTTP client. No request is sent.
    pub fn new(settings: &VaultSettings) -> Result<Self, VaultError> {
        let addr = settings.addr.as_ref().ok_or(VaultError::AddressMissing)?;
        let url = addr.url().clone();
        let addr = addr.as_str().to_owned();
        super::tls::install_default_provider();
        let mut builder = reqwest::Client::builder()
            // Redirects are judged in `send`: reqwest's own policy would carry the token along.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(5)))
            .no_proxy()
            .user_agent(concat!("vaultplate/", env!("CARGO_PKG_VERSION")));
        let route = super::tls::route(&url, settings.tls_server_name.as_deref());
        // A listed redirect host is reached over https: it is checked like VAULT_ADDR would be.
        let tls = if url.scheme() == "https" || !settings.redirect_hosts.is_empty() {
            super::tls::client_config(settings)?
        } else {
            super::tls::plain_http_config()?
        };
        builder = builder.tls_backend_preconfigured(tls);
        if let Some(route) = &route {
            builder = builder.dns_resolver(route.resolver.clone());
        }
        let http = builder
            .build()
            .map_err(|e| VaultError::TlsSetup(error_chain(e)))?;
        let (base, host) = match route {
            Some(route) => (route.base, Some(route.host)),
            None => (addr.clone(), None),
        };
        Ok(VaultClient {
            http,
            base,
            host,
            addr,
            namespace: settings.namespace.clone(),
            token: None,
            max_retries: settings.max_retries,
            redirect_hosts: settings.redirect_hosts.clone(),
        })
    }

    /// Obtains a token with the configured method (for `token`, checks that one is set) and
    /// uses it for every later request; the request is [`auth::login_request`]'s.
    pub async fn login(&mut self, auth: &Auth) -> Result<Login, VaultError> {
        let request = match auth::login_request(auth)? {
            SignIn::Request(request) => request,
            SignIn::Token(token) => {
                self.token = Some(token);
                return Ok(Login { lease: None });
            }
        };
        let LoginRequest { mount, path, body } = &request;
        debug!(method = auth.method(), mount = %mount, "logging in to Vault");
        let response = self
            .send(|| self.request(Method::POST, path).json(&body))
            .await?;
        let status = response.status();
        let answer = self.answer(response).await?;
        let token = answer.pointer("/auth/client_token").and_then(Value::as_str);
        match token {
            Some(token) if status.is_success() => {
                self.token = Some(Sensitive::new(token));
                let lease = answer
                    .pointer("/auth/lease_duration")
                    .and_then(Value::as_u64);
                Ok(Login {
                    lease: lease.filter(|s| *s > 0).map(Duration::from_secs),
                })
            }
            _ => Err(VaultError::LoginRefused {
                method: auth.method(),
                mount: mount.clone(),
                addr: self.addr.clone(),
                status: status.as_u16(),
                errors: vault_errors(&answer),
            }),
        }
    }

    /// Reads the secret at the raw logical `path`. Its data is `None` when Vault has nothing
    /// there (404, or a deleted KV v2 version).
    pub async fn read(
        &self,
        path: &str,
        version: Option<u64>,
        kv: KvVersion,
    ) -> Result<SecretRead, VaultError> {
        debug!(path, ?version, ?kv, "reading secret");
        let response = self
            .send(|| match version {
                Some(v) => self.request(Method::GET, &format!("{path}?version={v}")),
                None => self.request(Method::GET, path),
            })
            .await?;
        let status = response.status();
        let mut answer = self.answer(response).await?;
        let version = version_in(&answer, kv);
        match secret_in(status, &mut answer, kv) {
            Ok(data) => Ok(SecretRead {
                version: data.as_ref().and(version),
                data,
            }),
            Err(Unexpected::Refused { status, errors }) => Err(VaultError::ReadRefused {
                addr: self.addr.clone(),
                status,
                errors,
            }),
            Err(Unexpected::V2PathWithoutData { warning }) => {
                Err(VaultError::KvV2PathWithoutData {
                    addr: self.addr.clone(),
                    path: path.to_owned(),
                    corrected: self.with_data(path).await,
                    warning,
                })
            }
            Err(Unexpected::V2ReadAsV1) => Err(VaultError::KvV2ReadAsV1 {
                addr: self.addr.clone(),
                path: path.to_owned(),
            }),
            Err(Unexpected::Shape(reason)) => Err(VaultError::AnswerMalformed {
                addr: self.addr.clone(),
                reason,
            }),
        }
    }

    /// The newest version of the KV v2 secret at the metadata path `path`
    /// (`<mount>/metadata/<path>`: versions and no value), `Ok(None)` when there is none (404).
    pub async fn current_version(&self, path: &str) -> Result<Option<u64>, VaultError> {
        debug!(path, "reading secret metadata");
        let response = self.send(|| self.request(Method::GET, path)).await?;
        let status = response.status();
        let answer = self.answer(response).await?;
        let errors = vault_errors(&answer);
        if status == StatusCode::NOT_FOUND && errors.is_empty() {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(VaultError::ReadRefused {
                addr: self.addr.clone(),
                status: status.as_u16(),
                errors,
            });
        }
        match answer
            .pointer("/data/current_version")
            .and_then(Value::as_u64)
        {
            Some(version) => Ok(Some(version)),
            None => Err(VaultError::AnswerMalformed {
                addr: self.addr.clone(),
                reason: format!("no data.current_version in the metadata of {path}"),
            }),
        }
    }

    /// `path` with `data/` after its KV v2 mount. The mount is Vault's answer to
    /// `sys/internal/ui/mounts/<path>` (what `vault kv get` asks too; any token that may
    /// use the mount gets it); without an answer, the path's first segment is taken for it.
    async fn with_data(&self, path: &str) -> String {
        let path = path.trim_start_matches('/');
        let asked = self
            .send(|| self.request(Method::GET, &format!("sys/internal/ui/mounts/{path}")))
            .await;
        let mount = match asked {
            Ok(response) if response.status().is_success() => {
                self.answer(response).await.ok().and_then(|a| {
                    a.pointer("/data/path")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
            }
            _ => None,
        };
        let mount = mount
            .filter(|m| path.starts_with(m.as_str()))
            .unwrap_or_else(|| match path.split_once('/') {
                Some((first, _)) => format!("{first}/"),
                None => format!("{path}/"),
            });
        let rest = path.get(mount.len()..).unwrap_or_default();
        format!("{mount}data/{rest}")
    }

    /// Whether the token in use can look itself up (`auth/token/lookup-self`): `Ok` with its
    /// policies when it can, `Ok(None)` when Vault refuses (403), an error when Vault cannot be
    /// asked. The answer holds the token itself: only the policy names are kept.
    pub async fn token_policies(&self) -> Result<Option<Vec<String>>, VaultError> {
        let response = self
            .send(|| self.request(Method::GET, "auth/token/lookup-self"))
            .await?;
        let status = response.status();
        let answer = self.answer(response).await?;
        if status == StatusCode::FORBIDDEN {
            return Ok(None);
        }
        let policies = answer
            .pointer("/data/policies")
            .and_then(Value::as_array)
            .filter(|_| status.is_success())
            .ok_or_else(|| VaultError::ReadRefused {
                addr: self.addr.clone(),
                status: status.as_u16(),
                errors: vault_errors(&answer),
            })?;
        Ok(Some(
            policies
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ))
    }

    /// Whether Vault answers at all (`sys/health`, no token needed): its state, or what is
    /// wrong (transport and TLS errors as every request reports them).
    pub(crate) async fn health(&self) -> Result<String, VaultError> {
        let response = self
            .send(|| self.request(Method::GET, "sys/health"))
            .await?;
        let status = response.status().as_u16();
        let answer = self.answer(response).await.unwrap_or(Value::Null);
        super::probe::health_status(status, &answer).map_err(|reason| VaultError::ReadRefused {
            addr: self.addr.clone(),
            status,
            errors: vec![reason],
        })
    }

    /// `VAULT_ADDR`, as errors name it.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// The token in use, once logged in (for the token cache).
    pub fn token(&self) -> Option<&Sensitive> {
        self.token.as_ref()
    }

    /// Uses `token` (e.g. from the token cache) instead of logging in.
    pub fn use_token(&mut self, token: Sensitive) {
        self.token = Some(token);
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let url = format!("{}/v1/{}", self.base, path.trim_start_matches('/'));
        let mut request = self
            .http
            .request(method, url)
            .header("X-Vault-Request", "true");
        if let Some(host) = &self.host {
            request = request.header(reqwest::header::HOST, host);
        }
        if let Some(ns) = &self.namespace {
            request = request.header("X-Vault-Namespace", ns);
        }
        if let Some(token) = &self.token {
            request = request.header("X-Vault-Token", token.expose());
        }
        request
    }

    /// Sends a request (see [`Self::send_to`]) and follows a redirect only as [`redirect`]
    /// allows: within the origin it went to, or to a listed host over https, once.
    async fn send(&self, build: impl Fn() -> RequestBuilder) -> Result<Response, VaultError> {
        let response = self.send_to(&build, None).await?;
        let Some(to) = redirect_target(&response) else {
            return Ok(response);
        };
        let from = response.url().clone();
        let cross_origin = match redirect::judge(&from, &to, &self.redirect_hosts) {
            Verdict::SameOrigin => false,
            Verdict::Listed => true,
            Verdict::Elsewhere => {
                return Err(VaultError::RedirectRefused {
                    addr: self.addr.clone(),
                    to: redirect::origin_of(&to),
                    listing: redirect::listing_of(&to),
                });
            }
            Verdict::ListedButPlain => {
                return Err(VaultError::RedirectNotHttps {
                    addr: self.addr.clone(),
                    to: redirect::origin_of(&to),
                });
            }
        };
        debug!(to = %redirect::origin_of(&to), "following Vault's redirect");
        let response = self.send_to(&build, Some((&to, cross_origin))).await?;
        if let Some(again) = redirect_target(&response) {
            return Err(VaultError::RedirectRepeated {
                addr: self.addr.clone(),
                first: redirect::origin_of(&to),
                second: redirect::origin_of(&again),
            });
        }
        Ok(response)
    }

    /// Sends a request, to `target` instead of where `build` addresses it when given (with
    /// whether that is another origin, which must not get `VAULT_TLS_SERVER_NAME`'s `Host`),
    /// retrying connection errors, timeouts, 429 and 5xx with backoff (but not TLS failures,
    /// which the next attempt would only repeat).
    async fn send_to(
        &self,
        build: &impl Fn() -> RequestBuilder,
        target: Option<(&Url, bool)>,
    ) -> Result<Response, VaultError> {
        let unreachable = |e: reqwest::Error| {
            if is_plain_http_answer(&e) {
                return VaultError::TlsNotSpoken {
                    addr: self.addr.clone(),
                };
            }
            VaultError::Unreachable {
                addr: self.addr.clone(),
                reason: error_chain(e),
            }
        };
        let mut attempt = 0;
        loop {
            let mut request = build().build().map_err(unreachable)?;
            if let Some((url, cross_origin)) = target {
                url.clone_into(request.url_mut());
                if cross_origin {
                    request.headers_mut().remove(reqwest::header::HOST);
                }
            }
            let outcome = self.http.execute(request).await;
            let retryable = match &outcome {
                Ok(r) => {
                    r.status() == StatusCode::TOO_MANY_REQUESTS || r.status().is_server_error()
                }
                Err(e) => {
                    (e.is_connect() || e.is_timeout() || e.is_request()) && !is_tls_failure(e)
                }
            };
            if !retryable || attempt >= self.max_retries {
                return outcome.map_err(unreachable);
            }
            let delay = backoff(attempt);
            debug!(attempt, ?delay, "retrying Vault request");
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// The JSON body of an answer (`null` when the body is empty or not JSON), read up to
    /// [`MAX_ANSWER_BYTES`].
    async fn answer(&self, mut response: Response) -> Result<Value, VaultError> {
        let too_large = || VaultError::AnswerTooLarge {
            addr: self.addr.clone(),
            cap: MAX_ANSWER_BYTES,
        };
        let declared = response.content_length().unwrap_or(0);
        if usize::try_from(declared).map_or(true, |n| n > MAX_ANSWER_BYTES) {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| VaultError::Unreachable {
                addr: self.addr.clone(),
                reason: error_chain(e),
            })?
        {
            if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        // What Go's TLS server (Vault's, OpenBao's) answers a plain HTTP request with.
        if bytes.starts_with(b"Client sent an HTTP request to an HTTPS server") {
            return Err(VaultError::TlsRequired {
                addr: self.addr.clone(),
            });
        }
        Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
}

/// Where a redirect answer points (`Location`, resolved against the request's URL); `None`
/// for any other answer.
fn redirect_target(response: &Response) -> Option<Url> {
    let redirects = matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308);
    if !redirects {
        return None;
    }
    let location = response.headers().get(reqwest::header::LOCATION)?;
    response.url().join(location.to_str().ok()?).ok()
}

/// What is wrong with a read's answer, before the address and path are added.
#[derive(Debug, PartialEq)]
enum Unexpected {
    /// An error status other than a plain 404.
    Refused { status: u16, errors: Vec<String> },
    /// A 404 with Vault's warning that a KV v2 path was read without `data/`.
    V2PathWithoutData { warning: String },
    /// A KV v1 read whose answer is a KV v2 secret (`data` and `metadata`).
    V2ReadAsV1,
    /// Anything else that is not a secret.
    Shape(String),
}

/// The start of the warning Vault and OpenBao give for a KV v2 path read without `data/`.
const V2_WITHOUT_DATA: &str = "Invalid path for a versioned K/V secrets engine";

/// The secret in Vault's answer to a read. A missing secret (or a deleted KV v2 version) is a
/// 404 without errors; a 404 that says why (`no handler for route`: no such mount;
/// `namespace not found`; the warning about a KV v2 path without `data/`) is a read that went
/// astray, not a missing secret, and must not let `remove-missing` drop fields quietly. So is
/// a KV v2 secret read as KV v1: its `data` and `metadata` are no keys of the user's.
fn secret_in(
    status: StatusCode,
    answer: &mut Value,
    kv: KvVersion,
) -> Result<Option<Map<String, Value>>, Unexpected> {
    let errors = vault_errors(answer);
    let warning = answer
        .get("warnings")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|w| w.starts_with(V2_WITHOUT_DATA));
    if let Some(warning) = warning {
        return Err(Unexpected::V2PathWithoutData {
            warning: warning.to_owned(),
        });
    }
    if status == StatusCode::NOT_FOUND && errors.is_empty() {
        return Ok(None);
    }
    if !status.is_success() {
        return Err(Unexpected::Refused {
            status: status.as_u16(),
            errors,
        });
    }
    let pointer = match kv {
        KvVersion::V1 => "/data",
        KvVersion::V2 => "/data/data",
    };
    // The secret is taken out of the answer, not copied: a run keeps thousands of them.
    match answer.pointer_mut(pointer) {
        Some(Value::Object(map)) if kv == KvVersion::V1 && is_kv2_secret(map) => {
            Err(Unexpected::V2ReadAsV1)
        }
        Some(Value::Object(map)) => Ok(Some(std::mem::take(map))),
        Some(Value::Null) => Ok(None),
        _ => Err(Unexpected::Shape(format!(
            "no {pointer} object in the answer (is this a KV {} path?)",
            if kv == KvVersion::V2 { "v2" } else { "v1" }
        ))),
    }
}

/// The version a KV v2 answer says it holds (`data.metadata.version`); `None` for KV v1.
fn version_in(answer: &Value, kv: KvVersion) -> Option<u64> {
    match kv {
        KvVersion::V1 => None,
        KvVersion::V2 => answer
            .pointer("/data/metadata/version")
            .and_then(Value::as_u64),
    }
}

/// Whether a KV v1 answer's `data` is in fact a KV v2 secret: exactly `data` and a
/// `metadata` object with the version fields KV v2 always writes.
fn is_kv2_secret(map: &Map<String, Value>) -> bool {
    let metadata = map.get("metadata").and_then(Value::as_object);
    map.len() == 2
        && map.contains_key("data")
        && metadata.is_some_and(|m| m.contains_key("version") && m.contains_key("created_time"))
}

/// Vault's `errors` array.
fn vault_errors(answer: &Value) -> Vec<String> {
    let Some(errors) = answer.get("errors").and_then(Value::as_array) else {
        return Vec::new();
    };
    errors
        .iter()
        .filter_map(Value::as_str)
        .flat_map(error_lines)
        .collect()
}

/// One message per line of text: Vault and OpenBao wrap errors as
/// `"1 error occurred:\n\t* permission denied\n\n"`; messages must stay one line each.
fn error_lines(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let is_header = |l: &str| l.ends_with("error occurred:") || l.ends_with("errors occurred:");
    let items: Vec<String> = lines
        .iter()
        .filter(|l| !is_header(l))
        .map(|l| l.trim_start_matches("* ").to_owned())
        .collect();
    if items.is_empty() {
        vec![text.trim().to_owned()]
    } else {
        items
    }
}

/// Whether TLS refused the connection: an untrusted or mismatched certificate, or a peer that
/// does not speak TLS. reqwest counts these as connect errors; unlike a refused connection or
/// a timeout they are not passing, so retrying them only delays the error (the Vault CLI does
/// not retry an untrusted certificate either).
fn is_tls_failure(error: &(dyn std::error::Error + 'static)) -> bool {
    tls_error(error).is_some()
}

/// Whether the TLS handshake got something that is not TLS at all: a plain HTTP server's
/// answer to the client's hello.
fn is_plain_http_answer(error: &(dyn std::error::Error + 'static)) -> bool {
    matches!(
        tls_error(error),
        Some(rustls::Error::InvalidMessage(
            rustls::InvalidMessage::InvalidContentType
        ))
    )
}

/// The rustls error somewhere in `error`'s chain.
fn tls_error<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e rustls::Error> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        // reqwest's chain holds rustls's error inside io::Errors (nested, in fact), and an
        // io::Error's `source()` skips the error it wraps: look inside instead.
        current = match e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => Some(inner),
            None => e.source(),
        };
    }
    None
}

/// 200 ms, 400 ms, 800 ms, ... (capped at 5 s), plus up to 50% jitter.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(200)
        .saturating_mul(1 << attempt.min(5))
        .min(Duration::from_secs(5));
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    base + base.mul_f64(f64::from(nanos % 1000) / 2000.0)
}

/// An error and its sources on one line, without the request URL (the message that quotes
/// this names the Vault address and the secret's path already).
fn error_chain(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = String::new();
    let mut current: Option<&dyn std::error::Error> = Some(&error);
    while let Some(e) = current {
        let part = e.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
        current = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use serde_json::json;

    fn settings(addr: &str) -> VaultSettings {
        VaultSettings {
            addr: Some(super::super::settings::VaultAddr::parse(addr).expect("a test address")),
            namespace: None,
            ca_cert: None,
            ca_path: None,
            skip_verify: false,
            tls_server_name: None,
            client_cert: None,
            timeout: Duration::from_secs(5),
            max_retries: 0,
            redirect_hosts: Vec::new(),
            auth: Auth::Token {
                token: Some(super::super::credential::Credential::Value(Sensitive::new(
                    "t",
                ))),
            },
        }
    }

    /// In this test process only `VaultClient::new` installs a crypto provider: whichever test
    /// builds a client first panics if `new` relies on someone else having done it.
    #[test]
    fn a_plain_http_client_needs_no_provider_installed_beforehand() {
        assert!(VaultClient::new(&settings("http://127.0.0.1:1")).is_ok());
    }

    #[tokio::test]
    async fn an_unreachable_vault_is_explained_without_the_request_url() {
        let client = VaultClient::new(&settings("http://127.0.0.1:1")).expect("a client");

        let error = client
            .read("secret/data/app", Some(3), KvVersion::V2)
            .await
            .expect_err("nothing listens on port 1");

        let VaultError::Unreachable { addr, reason } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(addr, "http://127.0.0.1:1");
        assert!(
            reason.starts_with("error sending request: client error (Connect): "),
            "{reason}"
        );
        assert!(!reason.contains("secret/data/app"), "{reason}");
    }

    /// What a TLS server of the test's saw of one request.
    #[derive(Debug)]
    struct Seen {
        sni: Option<String>,
        host: Option<String>,
        client_certificates: usize,
    }

    /// One HTTPS request to a server whose certificate holds only `vault.internal` and that
    /// demands a client certificate: `VAULT_TLS_SERVER_NAME` goes out as SNI and is what the
    /// certificate is checked against, the `Host` header stays `VAULT_ADDR`'s (as the Vault CLI
    /// sends it), and the client certificate goes with a plain read, not only a cert login.
    #[tokio::test]
    async fn the_server_name_is_sent_as_sni_and_the_client_certificate_with_every_request() {
        use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        use std::io::{Read, Write};

        let ca = {
            let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            CertifiedIssuer::self_signed(params, KeyPair::generate().expect("a key")).expect("a CA")
        };
        let issue = |name: &str| {
            let key = KeyPair::generate().expect("a key");
            let params = CertificateParams::new(vec![name.to_owned()]).expect("params");
            let cert = params.signed_by(&key, &ca).expect("a certificate");
            (cert.pem(), key.serialize_pem())
        };
        let (server_cert, server_key) = issue("vault.internal");
        let (client_cert, client_key) = issue("vaultplate");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = |name: &str, pem: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, pem).expect("writing a PEM file");
            path
        };

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca.der().clone()).expect("the CA as a root");
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .build()
        .expect("a client verifier");
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![CertificateDer::from_pem_slice(server_cert.as_bytes()).expect("a cert")],
                PrivateKeyDer::from_pem_slice(server_key.as_bytes()).expect("a key"),
            )
            .expect("a server configuration");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        let serving = std::thread::spawn(move || {
            let (socket, _) = listener.accept().expect("a connection");
            let connection = rustls::ServerConnection::new(Arc::new(server)).expect("TLS");
            let mut tls = rustls::StreamOwned::new(connection, socket);
            let mut head = Vec::new();
            let mut byte = [0_u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                tls.read_exact(&mut byte).expect("the request");
                head.push(byte[0]);
            }
            let body = r#"{"data":{"data":{"a":"1"}}}"#;
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            tls.write_all(answer.as_bytes()).expect("the answer");
            tls.flush().expect("the answer");
            let head = String::from_utf8_lossy(&head).into_owned();
            Seen {
                sni: tls.conn.server_name().map(str::to_owned),
                host: head
                    .lines()
                    .find_map(|l| l.strip_prefix("host: ").map(str::to_owned)),
                client_certificates: tls.conn.peer_certificates().map_or(0, <[_]>::len),
            }
        });

        let mut settings = settings(&format!("https://127.0.0.1:{port}"));
        settings.ca_cert = Some(file("ca.pem", &ca.pem()));
        settings.tls_server_name = Some("vault.internal".to_owned());
        settings.client_cert = Some(super::super::settings::ClientCert {
            cert: file("client.pem", &client_cert),
            key: file("client-key.pem", &client_key),
        });
        let client = VaultClient::new(&settings).expect("a client");
        let secret = client.read("secret/data/app", None, KvVersion::V2).await;

        let seen = serving.join().expect("the server thread");
        assert_eq!(
            secret.expect("a read").data.map(Value::Object),
            Some(json!({"a": "1"}))
        );
        assert_eq!(seen.sni.as_deref(), Some("vault.internal"));
        assert_eq!(seen.host, Some(format!("127.0.0.1:{port}")));
        assert_eq!(seen.client_certificates, 1);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for (attempt, low) in [(0, 200), (1, 400), (2, 800), (9, 5000)] {
            let d = backoff(attempt).as_millis();
            assert!(
                (low..=low * 3 / 2).contains(&d),
                "attempt {attempt}: {d} ms"
            );
        }
    }

    #[test]
    fn tls_failures_are_told_from_passing_connection_errors() {
        use std::io::{Error, ErrorKind};

        /// An error that wraps another, as hyper and reqwest do.
        #[derive(Debug)]
        struct Wrapper(Error);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("client error (Connect)")
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let untrusted = || {
            Error::new(
                ErrorKind::InvalidData,
                rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
            )
        };
        let not_tls = || {
            Error::new(
                ErrorKind::InvalidData,
                rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType),
            )
        };
        assert!(is_tls_failure(&untrusted()));
        // What reqwest 0.13 actually reports for an untrusted certificate.
        assert!(is_tls_failure(&Wrapper(Error::other(untrusted()))));
        assert!(is_tls_failure(&Wrapper(not_tls())));
        assert!(is_tls_failure(&rustls::Error::NoCertificatesPresented));
        for passing in [
            ErrorKind::ConnectionRefused,
            ErrorKind::ConnectionReset,
            ErrorKind::TimedOut,
        ] {
            assert!(
                !is_tls_failure(&Wrapper(Error::from(passing))),
                "{passing:?}"
            );
        }
        assert!(!is_tls_failure(&Wrapper(Error::other("closed early"))));
    }

    #[test]
    fn read_answers() {
        let read = |status: u16, mut answer: Value, kv| {
            let status = StatusCode::from_u16(status).expect("a status");
            secret_in(status, &mut answer, kv).map(|secret| secret.map(Value::Object))
        };
        let refused = |status, errors: &[&str]| Unexpected::Refused {
            status,
            errors: errors.iter().map(|e| (*e).to_owned()).collect(),
        };
        let secret = json!({"a": "1"});
        let deleted = json!({"data": {"data": null, "metadata": {"version": 2}}});
        let v2 = json!({"data": {"data": secret, "metadata": {"version": 1, "created_time": "t"}}});
        let warning = "Invalid path for a versioned K/V secrets engine. See the API docs for the \
                       appropriate API endpoints to use. If using the OpenBao CLI, use 'bao kv get' \
                       for this operation.";
        type Case = (u16, Value, KvVersion, Result<Option<Value>, Unexpected>);
        let cases: Vec<Case> = vec![
            (200, v2.clone(), KvVersion::V2, Ok(Some(secret.clone()))),
            (
                200,
                json!({"data": secret}),
                KvVersion::V1,
                Ok(Some(secret.clone())),
            ),
            (404, json!({"errors": []}), KvVersion::V2, Ok(None)),
            (404, Value::Null, KvVersion::V1, Ok(None)),
            (404, deleted.clone(), KvVersion::V2, Ok(None)),
            (200, deleted, KvVersion::V2, Ok(None)),
            (
                404,
                json!({"errors": ["namespace not found"]}),
                KvVersion::V2,
                Err(refused(404, &["namespace not found"])),
            ),
            (
                404,
                json!({"errors": ["no handler for route \"kv/data/a\". route entry not found."]}),
                KvVersion::V2,
                Err(refused(
                    404,
                    &["no handler for route \"kv/data/a\". route entry not found."],
                )),
            ),
            (
                403,
                json!({"errors": ["permission denied"]}),
                KvVersion::V2,
                Err(refused(403, &["permission denied"])),
            ),
            (503, Value::Null, KvVersion::V2, Err(refused(503, &[]))),
            (
                200,
                json!({"data": secret}),
                KvVersion::V2,
                Err(Unexpected::Shape(
                    "no /data/data object in the answer (is this a KV v2 path?)".into(),
                )),
            ),
            (
                404,
                json!({"data": null, "warnings": [warning]}),
                KvVersion::V2,
                Err(Unexpected::V2PathWithoutData {
                    warning: warning.into(),
                }),
            ),
            (200, v2, KvVersion::V1, Err(Unexpected::V2ReadAsV1)),
            // A KV v1 secret that happens to have keys `data` and `metadata` is one.
            (
                200,
                json!({"data": {"data": "x", "metadata": "y"}}),
                KvVersion::V1,
                Ok(Some(json!({"data": "x", "metadata": "y"}))),
            ),
        ];
        for (status, answer, kv, want) in cases {
            assert_eq!(read(status, answer.clone(), kv), want, "{status} {answer}");
        }
    }

    #[test]
    fn wrapped_errors_become_one_line_each() {
        let answer = json!({"errors": ["1 error occurred:\n\t* permission denied\n\n"]});
        assert_eq!(vault_errors(&answer), ["permission denied"]);
        let answer = json!({"errors": ["2 errors occurred:\n\t* a\n\t* b\n\n", "plain"]});
        assert_eq!(vault_errors(&answer), ["a", "b", "plain"]);
    }

    #[test]
    fn vault_error_texts() {
        let answer = json!({"errors": ["permission denied", "1 error occurred"]});
        assert_eq!(
            vault_errors(&answer),
            ["permission denied", "1 error occurred"]
        );
        assert!(vault_errors(&Value::Null).is_empty());
    }
}
