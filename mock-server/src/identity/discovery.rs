//! OIDC discovery and the signing keys, with the fields MSAL, Azure CLI and
//! browsers read. Every URL is built on the authority the
//! client used, so issuers match scheme, host and port exactly.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::keys::SigningKey;

/// The tenant-independent segments MSAL may address: the document carries the
/// `{tenantid}` placeholder in its issuer.
pub(crate) const MULTI_TENANT_SEGMENTS: &[&str] = &["common", "organizations"];

/// `/{tenant}/v2.0/.well-known/openid-configuration` for a known tenant.
pub(crate) fn openid_configuration(authority: &str, tenant_id: Uuid) -> Value {
    document(authority, &tenant_id.to_string(), &tenant_id.to_string(), Some("WW"))
}

/// The same document for `common` or `organizations`.
pub(crate) fn multi_tenant_configuration(authority: &str, segment: &str) -> Value {
    document(authority, segment, "{tenantid}", None)
}

fn document(authority: &str, segment: &str, issuer_tenant: &str, region: Option<&str>) -> Value {
    let base = format!("{authority}/{segment}");
    json!({
        "token_endpoint": format!("{base}/oauth2/v2.0/token"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": format!("{base}/discovery/v2.0/keys"),
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        // Only what the mock serves: the authorization code flow (no implicit
        // grant, so no id_token or token response types).
        "response_types_supported": ["code"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": format!("{authority}/{issuer_tenant}/v2.0"),
        "request_uri_parameter_supported": false,
        "userinfo_endpoint": format!("{authority}/oidc/userinfo"),
        "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
        "device_authorization_endpoint": format!("{base}/oauth2/v2.0/devicecode"),
        "http_logout_supported": true,
        "frontchannel_logout_supported": true,
        "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
        "claims_supported": ["sub","iss","cloud_instance_name","cloud_instance_host_name","cloud_graph_host_name","msgraph_host","aud","exp","iat","auth_time","acr","nonce","preferred_username","name","tid","ver","at_hash","c_hash","email"],
        "tenant_region_scope": region,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net"
    })
}

/// The JWKS with the one signing key. `x5c` is standard base64 with padding, not
/// base64url (RFC 7517 §4.7), unlike every other member.
pub(crate) fn jwks(key: &SigningKey, issuer: &str) -> Value {
    json!({
        "keys": [{
            "kty": "RSA",
            "use": "sig",
            "kid": key.kid,
            "x5t": key.kid,
            "n": B64.encode(&key.modulus),
            "e": B64.encode(&key.exponent),
            "x5c": [base64::engine::general_purpose::STANDARD.encode(&key.certificate)],
            "issuer": issuer,
        }]
    })
}

/// `/common/discovery/instance`, answering for the mock's own host.
pub(crate) fn instance_discovery(authority: &str, tenant_from_authorize: Option<&str>) -> Value {
    let host = authority.split("://").nth(1).unwrap_or(authority);
    let tenant = tenant_from_authorize.unwrap_or("common");
    json!({
        "tenant_discovery_endpoint": format!("{authority}/{tenant}/v2.0/.well-known/openid-configuration"),
        "api-version": "1.1",
        "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]
    })
}
