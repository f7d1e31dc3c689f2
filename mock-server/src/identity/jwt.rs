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

#[cfg(test)]
mod tests {
    //! A token reaches `verify` before anything about its sender is known, in
    //! a header (bounded by hyper) or in an MSOnline SOAP body (up to the 4 MiB
    //! body limit). Each step is linear: `split` is consumed lazily and stops
    //! at the fourth part, base64 and SHA-256 are single passes, and serde_json
    //! refuses JSON nested deeper than 128 before it can exhaust a stack.
    use super::*;

    fn key() -> std::sync::Arc<crate::keys::KeyMaterial> {
        crate::keys::KeyMaterial::ephemeral().expect("ephemeral key material")
    }

    fn verify_value(token: &str) -> Result<serde_json::Value, JwsError> {
        verify(&key().signing, token)
    }

    #[test]
    fn a_signed_token_verifies_and_a_changed_signature_does_not() {
        let material = key();
        let token = sign(&material.signing, &serde_json::json!({"sub": "x"}));
        assert_eq!(verify_value(&token).map(|c| c["sub"].clone()), Ok(serde_json::json!("x")));
        let (signed, _) = token.rsplit_once('.').expect("three parts");
        assert_eq!(verify_value(&format!("{signed}.{}", B64.encode([0u8; 256]))), Err(JwsError::BadSignature));
    }

    #[test]
    fn four_mebibytes_of_dots_or_base64_are_malformed() {
        assert_eq!(verify_value(&".".repeat(4 << 20)), Err(JwsError::Malformed));
        let giant = format!("{}.e30.AAAA", "A".repeat(4 << 20));
        assert_eq!(verify_value(&giant), Err(JwsError::Malformed));
        let not_base64 = format!("eyJhbGciOiJSUzI1NiJ9.{}!.AAAA", "A".repeat(4 << 20));
        assert_eq!(verify_value(&not_base64), Err(JwsError::Malformed));
    }

    #[test]
    fn a_header_or_payload_nested_a_hundred_thousand_deep_is_malformed_not_an_overflow() {
        let material = key();
        std::thread::Builder::new()
            // A tokio worker's stack: serde_json stops at depth 128 within it.
            .stack_size(2 * 1024 * 1024)
            .spawn(move || {
                let deep = B64.encode(format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)));
                let header = B64.encode(br#"{"alg":"RS256"}"#);
                assert_eq!(
                    verify::<serde_json::Value>(&material.signing, &format!("{deep}.e30.AAAA")),
                    Err(JwsError::Malformed)
                );
                // The payload is read only after the signature checks out, so sign it.
                let signed = format!("{header}.{deep}");
                let token = format!("{signed}.{}", B64.encode(material.signing.sign(signed.as_bytes())));
                assert_eq!(verify::<serde_json::Value>(&material.signing, &token), Err(JwsError::Malformed));
            })
            .expect("spawn")
            .join()
            .expect("no stack overflow");
    }
}
