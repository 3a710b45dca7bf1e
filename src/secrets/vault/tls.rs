//! The rustls client configuration for Vault: one crypto provider (ring) for the whole binary;
//! trusted CAs, the server name to check, and the client certificate.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::VaultError;
use super::settings::{ClientCert, VaultSettings};

/// Makes ring the process's default crypto provider, unless one is installed already.
///
/// reqwest (built with `rustls-no-provider`) takes the default provider whenever a client is
/// built, even one that only ever speaks plain HTTP, and panics if there is none.
pub(super) fn install_default_provider() {
    let _already_installed =
        CryptoProvider::install_default(rustls::crypto::ring::default_provider());
}

/// Builds the TLS configuration from `VAULT_CACERT`, `VAULT_CAPATH`, `VAULT_SKIP_VERIFY`,
/// `VAULT_TLS_SERVER_NAME` and `VAULT_CLIENT_CERT`/`VAULT_CLIENT_KEY`.
///
/// With `VAULT_CACERT` or `VAULT_CAPATH` only those CAs are trusted (as the Vault CLI does);
/// otherwise the system's. The client certificate, when set, is offered on every connection,
/// whatever the login method (as the Vault CLI does).
pub(super) fn client_config(settings: &VaultSettings) -> Result<ClientConfig, VaultError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // Anything else in the process that asks for the default provider gets the same one.
    install_default_provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| VaultError::TlsSetup(e.to_string()))?;
    let builder = if settings.skip_verify {
        let verifier = Verifier::new(&provider, Chain::Any);
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
    } else {
        let roots = Arc::new(trusted_roots(settings)?);
        let verifier = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .map_err(|e| VaultError::TlsSetup(format!("no CA certificate to trust: {e}")))?;
        match &settings.tls_server_name {
            Some(name) => {
                let name = ServerName::try_from(name.clone()).map_err(|e| {
                    VaultError::TlsSetup(format!("VAULT_TLS_SERVER_NAME {name:?}: {e}"))
                })?;
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(Verifier::new(
                        &provider,
                        Chain::As { verifier, name },
                    )))
            }
            None => builder.with_webpki_verifier(verifier),
        }
    };
    match &settings.client_cert {
        None => Ok(builder.with_no_client_auth()),
        Some(client) => {
            let (chain, key) = client_identity(client)?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                let e = match e {
                    rustls::Error::InconsistentKeys(_) => {
                        format!("not the key of VAULT_CLIENT_CERT {}", client.cert.display())
                    }
                    e => e.to_string(),
                };
                VaultError::TlsSetup(format!("VAULT_CLIENT_KEY {}: {e}", client.key.display()))
            })
        }
    }
}

/// The TLS configuration of a client for a plain `http://` address. Such a client speaks TLS only
/// if Vault redirects it to an `https://` address; then, as before, the system's CAs are
/// trusted. They are read on that first handshake, not when the client is built: reading and
/// parsing the system's CA folder took longer than a whole render of a small application.
pub(super) fn plain_http_config() -> Result<ClientConfig, VaultError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    install_default_provider();
    let verifier = Verifier::new(
        &provider,
        Chain::SystemRootsOnFirstUse {
            provider: provider.clone(),
            verifier: OnceLock::new(),
        },
    );
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| VaultError::TlsSetup(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// The CAs of `VAULT_CACERT` and `VAULT_CAPATH`, or the system's when neither is set.
fn trusted_roots(settings: &VaultSettings) -> Result<RootCertStore, VaultError> {
    let mut roots = RootCertStore::empty();
    if settings.ca_cert.is_none() && settings.ca_path.is_none() {
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        return Ok(roots);
    }
    if let Some(path) = &settings.ca_cert {
        let certs = read_certificates(path)
            .map_err(|e| VaultError::TlsSetup(format!("VAULT_CACERT {}: {e}", path.display())))?;
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(VaultError::TlsSetup(format!(
                "VAULT_CACERT {}: no usable CA certificate in the file",
                path.display()
            )));
        }
    }
    if let Some(dir) = &settings.ca_path {
        let fail = |e: String| VaultError::TlsSetup(format!("VAULT_CAPATH {}: {e}", dir.display()));
        let mut added = 0;
        for file in pem_files(dir).map_err(|e| fail(e.to_string()))? {
            let certs = read_certificates(&file).map_err(|e| {
                let name = file.file_name().unwrap_or_default().to_string_lossy();
                fail(format!("{name}: {e}"))
            })?;
            added += roots.add_parsable_certificates(certs).0;
        }
        if added == 0 {
            return Err(fail("no usable CA certificate in the directory".into()));
        }
    }
    Ok(roots)
}

/// The files of `VAULT_CAPATH`, in name order: regular files (or links to them) whose name does
/// not start with a dot. Kubernetes mounts a ConfigMap as links to a hidden `..data` folder,
/// and a `c_rehash` folder holds links too: both read as the certificates they point to.
fn pem_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if !hidden && std::fs::metadata(entry.path()).is_ok_and(|m| m.is_file()) {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

fn read_certificates(
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, rustls::pki_types::pem::Error> {
    CertificateDer::pem_file_iter(path)?.collect()
}

/// The certificate chain and key of `VAULT_CLIENT_CERT` / `VAULT_CLIENT_KEY`. Errors name the
/// file, never its content.
fn client_identity(
    client: &ClientCert,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), VaultError> {
    let chain = read_certificates(&client.cert).map_err(|e| {
        VaultError::TlsSetup(format!("VAULT_CLIENT_CERT {}: {e}", client.cert.display()))
    })?;
    if chain.is_empty() {
        return Err(VaultError::TlsSetup(format!(
            "VAULT_CLIENT_CERT {}: no certificate in the file",
            client.cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(&client.key).map_err(|e| {
        let e = match e {
            rustls::pki_types::pem::Error::NoItemsFound => "no private key in the file".to_owned(),
            e => e.to_string(),
        };
        VaultError::TlsSetup(format!("VAULT_CLIENT_KEY {}: {e}", client.key.display()))
    })?;
    Ok((chain, key))
}

/// How requests reach Vault when `VAULT_TLS_SERVER_NAME` is a DNS name other than the host of
/// `VAULT_ADDR`: they are made to `https://<server name>:<port>`, so that the TLS layer sends
/// it as SNI and checks the certificate against it, while a resolver of our own connects to
/// `VAULT_ADDR`'s host and the `Host` header stays `VAULT_ADDR`'s, as the Vault CLI sends them.
pub(super) struct Route {
    /// The base URL requests are made to.
    pub(super) base: String,
    /// The `Host` header: the authority of `VAULT_ADDR`.
    pub(super) host: String,
    /// Resolves the server name to `VAULT_ADDR`'s host.
    pub(super) resolver: Arc<ResolveAs>,
}

/// The [`Route`] for `addr`, if `server_name` needs one. An IP address needs none: it is never
/// sent as SNI, and [`Verifier`] checks the certificate against it.
pub(super) fn route(addr: &reqwest::Url, server_name: Option<&str>) -> Option<Route> {
    let name = server_name?;
    let host = addr.host_str()?;
    if addr.scheme() != "https" || name.parse::<IpAddr>().is_ok() || host.eq_ignore_ascii_case(name)
    {
        return None;
    }
    let mut url = addr.clone();
    url.set_host(Some(name)).ok()?;
    let authority = match addr.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    Some(Route {
        base: url.as_str().trim_end_matches('/').to_owned(),
        host: authority,
        resolver: Arc::new(ResolveAs {
            name: name.to_ascii_lowercase(),
            host: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
        }),
    })
}

/// Resolves the server name to the addresses of `VAULT_ADDR`'s host (other names as usual).
#[derive(Debug)]
pub(super) struct ResolveAs {
    name: String,
    host: String,
}

impl Resolve for ResolveAs {
    fn resolve(&self, name: Name) -> Resolving {
        let target = if name.as_str().eq_ignore_ascii_case(&self.name) {
            self.host.clone()
        } else {
            name.as_str().to_owned()
        };
        Box::pin(async move {
            if let Ok(ip) = target.parse::<IpAddr>() {
                let addrs: Addrs = Box::new(std::iter::once(SocketAddr::new(ip, 0)));
                return Ok(addrs);
            }
            // The port is the URL's; reqwest sets it.
            let found = tokio::task::spawn_blocking(move || (target.as_str(), 0).to_socket_addrs())
                .await??;
            let addrs: Addrs = Box::new(found.collect::<Vec<_>>().into_iter());
            Ok(addrs)
        })
    }
}

/// How Vault's certificate is checked when it is not the plain WebPKI check: whatever the
/// chain check, handshake signatures are always verified with the provider's algorithms.
#[derive(Debug)]
struct Verifier {
    algorithms: WebPkiSupportedAlgorithms,
    chain: Chain,
}

/// The chain check of a [`Verifier`].
#[derive(Debug)]
enum Chain {
    /// `VAULT_SKIP_VERIFY=true`: any certificate is accepted.
    Any,
    /// `VAULT_TLS_SERVER_NAME`: checked against these CAs under `name`, whatever host the
    /// connection was made to.
    As {
        verifier: Arc<WebPkiServerVerifier>,
        name: ServerName<'static>,
    },
    /// The system's CAs, read on the first handshake (see [`plain_http_config`]).
    SystemRootsOnFirstUse {
        provider: Arc<CryptoProvider>,
        verifier: OnceLock<Result<Arc<WebPkiServerVerifier>, String>>,
    },
}

impl Verifier {
    fn new(provider: &CryptoProvider, chain: Chain) -> Self {
        Verifier {
            algorithms: provider.signature_verification_algorithms,
            chain,
        }
    }
}

/// The system's CAs as a verifier, built once.
fn system_roots(
    provider: &Arc<CryptoProvider>,
    verifier: &OnceLock<Result<Arc<WebPkiServerVerifier>, String>>,
) -> Result<Arc<WebPkiServerVerifier>, rustls::Error> {
    verifier
        .get_or_init(|| {
            let mut roots = RootCertStore::empty();
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()
                .map_err(|e| format!("no CA certificate to trust: {e}"))
        })
        .clone()
        .map_err(rustls::Error::General)
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match &self.chain {
            Chain::Any => Ok(ServerCertVerified::assertion()),
            Chain::As { verifier, name } => {
                verifier.verify_server_cert(end_entity, intermediates, name, ocsp_response, now)
            }
            Chain::SystemRootsOnFirstUse { provider, verifier } => system_roots(
                provider, verifier,
            )?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
