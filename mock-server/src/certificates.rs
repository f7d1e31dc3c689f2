//! Verifying a JWS signed by one of an application's certificate credentials:
//! used for client assertions at the token endpoint and for the proof of
//! possession that `addKey`/`removeKey` require. RS256 with `x5t` or PS256 with
//! `x5t#S256`.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use base64::Engine;
use serde_json::Value;
use time::OffsetDateTime;

/// Why a certificate-signed token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CertJwsError {
    Malformed,
    UnsupportedAlgorithm(String),
    /// No credential matches; carries the thumbprint the token named (hex).
    KeyNotFound(String),
    NotACertificate,
    BadSignature,
    KeyOutsideValidity,
}

/// Verify `jws` against `key_credentials` (the app's `keyCredentials` values);
/// returns its claims and the credential that signed it.
pub(crate) fn verify(
    jws: &str,
    key_credentials: &[Value],
    now: OffsetDateTime,
) -> Result<(Value, Value), CertJwsError> {
    let mut parts = jws.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(CertJwsError::Malformed);
    };
    let decode = |part: &str| -> Option<Value> { B64.decode(part).ok().and_then(|b| serde_json::from_slice(&b).ok()) };
    let header = decode(h).ok_or(CertJwsError::Malformed)?;
    let claims = decode(p).ok_or(CertJwsError::Malformed)?;
    let signature = B64.decode(s).map_err(|_| CertJwsError::Malformed)?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or_default();
    let verifier: &dyn rustls_pki_types::SignatureVerificationAlgorithm = match alg {
        "RS256" => webpki::ring::RSA_PKCS1_2048_8192_SHA256,
        "PS256" => webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        _ => return Err(CertJwsError::UnsupportedAlgorithm(alg.to_owned())),
    };
    let x5t = header.get("x5t").and_then(Value::as_str).and_then(|t| B64.decode(t).ok());
    let x5t256 = header.get("x5t#S256").and_then(Value::as_str).and_then(|t| B64.decode(t).ok());
    let found = key_credentials.iter().find_map(|kc| {
        let der = kc.get("key").and_then(Value::as_str).and_then(|k| STANDARD.decode(k).ok())?;
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
        let sha256 = ring::digest::digest(&ring::digest::SHA256, &der);
        (x5t.as_deref() == Some(sha1.as_ref()) || x5t256.as_deref() == Some(sha256.as_ref())).then(|| (der, kc.clone()))
    });
    let Some((der, credential)) = found else {
        let thumbprint =
            x5t.as_deref().or(x5t256.as_deref()).unwrap_or_default().iter().map(|b| format!("{b:02X}")).collect();
        return Err(CertJwsError::KeyNotFound(thumbprint));
    };
    let cert_der = rustls_pki_types::CertificateDer::from(der.as_slice());
    let cert = webpki::EndEntityCert::try_from(&cert_der).map_err(|_| CertJwsError::NotACertificate)?;
    cert.verify_signature(verifier, &jws.as_bytes()[..h.len() + 1 + p.len()], &signature)
        .map_err(|_| CertJwsError::BadSignature)?;
    let in_window = |name: &str, cmp: fn(OffsetDateTime, OffsetDateTime) -> bool| {
        credential.get(name).and_then(Value::as_str).and_then(crate::clock::parse_datetime).is_none_or(|t| cmp(t, now))
    };
    if !in_window("startDateTime", |t, now| t <= now) || !in_window("endDateTime", |t, now| now < t) {
        return Err(CertJwsError::KeyOutsideValidity);
    }
    Ok((claims, credential))
}
