//! Keys and certificates made by the test itself: a [`TestCa`] that signs client
//! certificates, and a [`JwtKey`] that signs ES256 JWTs. Nothing is read from disk or the
//! network; every key lives only as long as the test.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde_json::{Value, json};

/// A certificate and its private key, both PEM.
pub(crate) struct Identity {
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
}

/// A certificate authority of the test's own (ECDSA P-256).
pub(crate) struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    /// A new CA whose certificate's common name is `name`.
    pub(crate) fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("a CA key");
        TestCa {
            issuer: CertifiedIssuer::self_signed(params, key).expect("a CA certificate"),
        }
    }

    /// The CA's certificate, PEM.
    pub(crate) fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A TLS client certificate for `common_name`, signed by this CA.
    pub(crate) fn client(&self, common_name: &str) -> Identity {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("client parameters");
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().expect("a client key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("a client certificate");
        Identity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// An ECDSA P-256 key that signs JWTs (ES256), as an OIDC provider or Kubernetes would.
pub(crate) struct JwtKey {
    signer: EcdsaKeyPair,
    public_pem: String,
}

impl JwtKey {
    pub(crate) fn new() -> Self {
        let key = KeyPair::generate().expect("a JWT key");
        let signer = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &key.serialize_der(),
            &SystemRandom::new(),
        )
        .expect("rcgen's P-256 key in ring");
        JwtKey {
            signer,
            public_pem: key.public_key_pem(),
        }
    }

    /// The public key, PEM (`PUBLIC KEY`), as a JWT auth mount's `jwt_validation_pubkeys`
    /// takes it.
    pub(crate) fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// A compact JWS of `claims`, signed with ES256.
    pub(crate) fn sign(&self, claims: &Value) -> String {
        let header = json!({"alg": "ES256", "typ": "JWT"});
        let signed = format!(
            "{}.{}",
            BASE64URL.encode(header.to_string()),
            BASE64URL.encode(claims.to_string())
        );
        let signature = self
            .signer
            .sign(&SystemRandom::new(), signed.as_bytes())
            .expect("signing a JWT");
        format!("{signed}.{}", BASE64URL.encode(signature.as_ref()))
    }
}

/// Seconds since the epoch, for `iat` and `exp` claims.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}
