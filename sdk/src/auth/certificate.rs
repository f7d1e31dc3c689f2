//! Certificate credentials: a `client_assertion` JWT signed RS256 with the application's
//! private key, identified by the certificate's SHA-1 thumbprint (`x5t`), as MSAL sends it.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivatePkcs8KeyDer};

use crate::error::{AuthError, BuildError};
use crate::runtime::{random_uuid, RandomSource};

/// Assertions are valid for 10 minutes (the identity platform accepts 5–10).
const ASSERTION_LIFETIME: Duration = Duration::from_secs(10 * 60);

/// Client credentials with a certificate: the private key signs a short-lived assertion.
#[derive(Clone)]
pub struct ClientCertificateCredential {
    pub(crate) client_id: String,
    key: Arc<RsaKeyPair>,
    thumbprint: String,
    certificate_der: Vec<u8>,
}

impl fmt::Debug for ClientCertificateCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificateCredential")
            .field("client_id", &self.client_id)
            .field("x5t", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

impl ClientCertificateCredential {
    /// The application's client id, its certificate (PEM) and the RSA private key (PKCS#8 PEM,
    /// `-----BEGIN PRIVATE KEY-----`).
    ///
    /// # Errors
    ///
    /// [`BuildError`] if either PEM does not parse or the key is not an RSA key.
    pub fn from_pem(
        client_id: impl ToString,
        certificate_pem: &[u8],
        private_key_pem: &[u8],
    ) -> Result<Self, BuildError> {
        let cert = CertificateDer::from_pem_slice(certificate_pem)
            .map_err(|e| BuildError::with_source("certificate PEM could not be parsed", e.to_string()))?;
        let key = PrivatePkcs8KeyDer::from_pem_slice(private_key_pem)
            .map_err(|e| BuildError::with_source("private key PEM (PKCS#8) could not be parsed", e.to_string()))?;
        let key = RsaKeyPair::from_pkcs8(key.secret_pkcs8_der())
            .map_err(|e| BuildError::with_source("private key is not a usable RSA key", e.to_string()))?;
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert.as_ref());
        Ok(Self {
            client_id: client_id.to_string(),
            key: Arc::new(key),
            thumbprint: URL_SAFE_NO_PAD.encode(sha1.as_ref()),
            certificate_der: cert.as_ref().to_vec(),
        })
    }

    /// The certificate's `x5t`: base64url SHA-1 of its DER, as registered in `keyCredentials`.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The certificate as base64 DER, the `key` of a `keyCredential` for `addKey`/PATCH.
    pub fn certificate_base64(&self) -> String {
        STANDARD.encode(&self.certificate_der)
    }

    pub(crate) fn assertion(
        &self,
        audience: &str,
        now: SystemTime,
        random: &dyn RandomSource,
    ) -> Result<String, AuthError> {
        let now_s =
            now.duration_since(UNIX_EPOCH).map_err(|e| AuthError::with_source("clock is before 1970", e))?.as_secs();
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": self.thumbprint});
        let claims = serde_json::json!({
            "aud": audience,
            "iss": self.client_id,
            "sub": self.client_id,
            "jti": random_uuid(random).to_string(),
            "nbf": now_s,
            "iat": now_s,
            "exp": now_s + ASSERTION_LIFETIME.as_secs(),
        });
        let signing_input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut signature = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), signing_input.as_bytes(), &mut signature)
            .map_err(|_| AuthError::custom("client assertion could not be signed"))?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}
