//! The rustls client configuration for Vault: one crypto provider (ring) for the whole binary.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::VaultError;
use crate::config::VaultSettings;

/// Makes ring the process's default crypto provider, unless one is installed already.
///
/// reqwest (built with `rustls-no-provider`) takes the default provider whenever a client is
/// built, even one that only ever speaks plain HTTP, and panics if there is none.
pub(super) fn install_default_provider() {
    let _already_installed =
        CryptoProvider::install_default(rustls::crypto::ring::default_provider());
}

/// Builds the TLS configuration from `VAULT_CACERT` / `VAULT_SKIP_VERIFY`.
///
/// With `VAULT_CACERT` only those CAs are trusted (as the Vault CLI does); otherwise the
/// system's.
pub(super) fn client_config(settings: &VaultSettings) -> Result<ClientConfig, VaultError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // Anything else in the process that asks for the default provider gets the same one.
    install_default_provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| VaultError::TlsSetup(e.to_string()))?;
    if settings.skip_verify {
        let verifier = AcceptAnyCertificate(provider.signature_verification_algorithms);
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth());
    }
    let mut roots = RootCertStore::empty();
    match &settings.ca_cert {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    VaultError::TlsSetup(format!("VAULT_CACERT {}: {e}", path.display()))
                })?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(VaultError::TlsSetup(format!(
                    "VAULT_CACERT {}: no usable CA certificate in the file",
                    path.display()
                )));
            }
        }
        None => {
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        }
    }
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// `VAULT_SKIP_VERIFY=true`: accepts any certificate but still checks handshake signatures.
#[derive(Debug)]
struct AcceptAnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}
