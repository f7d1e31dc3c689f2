//! Compact JWS (RS256) in and out. Hand-written because the mock needs exactly
//! one algorithm and full control over which claim failed validation.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::keys::SigningKey;

/// Sign `claims` into a compact JWT with the given header members beyond `alg`.
pub(crate) fn sign<C: Serialize>(key: &SigningKey, claims: &C) -> String {
    let header = serde_json::json!({
        "typ": "JWT",
        "alg": "RS256",
        "x5t": key.kid,
        "kid": key.kid,
    });
    let mut out = String::with_capacity(1024);
    B64.encode_string(serde_json::to_vec(&header).expect("a JSON value serializes"), &mut out);
    out.push('.');
    B64.encode_string(serde_json::to_vec(claims).expect("claims serialize to JSON"), &mut out);
    let signature = key.sign(out.as_bytes());
    out.push('.');
    B64.encode_string(signature, &mut out);
    out
}

/// Why a compact token was not accepted, before any claim was looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JwsError {
    /// Not three base64url parts with JSON inside.
    Malformed,
    /// The header names another algorithm or key.
    UnsupportedHeader,
    /// The signature does not verify with our key.
    BadSignature,
}

/// Split, check the header and signature, and decode the claims.
pub(crate) fn verify<C: DeserializeOwned>(key: &SigningKey, token: &str) -> Result<C, JwsError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwsError::Malformed);
    };
    let header: serde_json::Value =
        serde_json::from_slice(&B64.decode(h).map_err(|_| JwsError::Malformed)?).map_err(|_| JwsError::Malformed)?;
    let payload = B64.decode(p).map_err(|_| JwsError::Malformed)?;
    let signature = B64.decode(s).map_err(|_| JwsError::Malformed)?;
    if header.get("alg").and_then(|a| a.as_str()) != Some("RS256") {
        return Err(JwsError::UnsupportedHeader);
    }
    if let Some(kid) = header.get("kid").and_then(|k| k.as_str()) {
        if kid != key.kid {
            return Err(JwsError::BadSignature);
        }
    }
    let signed_len = h.len() + 1 + p.len();
    if !key.verify(&token.as_bytes()[..signed_len], &signature) {
        return Err(JwsError::BadSignature);
    }
    serde_json::from_slice(&payload).map_err(|_| JwsError::Malformed)
}
