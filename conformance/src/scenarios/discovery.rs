//! The identity platform's discovery documents (graph-wire.md §1.2–§1.4).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use reqwest::Method;
use serde_json::Value;

use crate::context::Ctx;
use crate::scenario;
use crate::scenario::{ensure, eq, Failure, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "discovery::openid_configuration_names_the_tenants_endpoints",
        "graph-wire.md §1.2: GET /{tenant}/v2.0/.well-known/openid-configuration → 200 with token_endpoint, jwks_uri and issuer …/{tid}/v2.0, id_token_signing_alg_values_supported [\"RS256\"]",
        [],
        openid_configuration
    ),
    scenario!(
        "discovery::openid_configuration_by_domain_carries_the_tenant_guid",
        "graph-wire.md §1.2: requested with a domain name, every URL still carries the tenant GUID",
        [],
        by_domain
    ),
    scenario!(
        "discovery::common_issuer_has_the_tenantid_placeholder",
        "graph-wire.md §1.2: for common/organizations the issuer contains the literal placeholder {tenantid} and jwks_uri is …/common/discovery/v2.0/keys",
        [],
        common
    ),
    scenario!(
        "discovery::jwks_keys_are_rsa_signing_keys_with_matching_kid_and_x5t",
        "graph-wire.md §1.3: {\"keys\":[{\"kty\":\"RSA\",\"use\":\"sig\",\"kid\":…,\"x5t\":…,\"n\":…,\"e\":\"AQAB\",\"x5c\":[…]}]}; kid and x5t carry the same value, the base64url SHA-1 thumbprint (of the x5c certificate)",
        [],
        jwks
    ),
    scenario!(
        "discovery::instance_discovery_points_at_the_tenant_document",
        "graph-wire.md §1.4: GET /common/discovery/instance?api-version=1.1&authorization_endpoint=… → 200 with tenant_discovery_endpoint and api-version 1.1",
        [],
        instance
    ),
];

async fn get(cx: &Ctx, path: &str) -> Result<Value, Failure> {
    let r = cx.send(cx.identity_request(Method::GET, path)).await?;
    ensure(r.status == 200, format!("GET {path}: expected 200, got {} {}", r.status, r.text))?;
    Ok(r.json)
}

async fn tenant_id(cx: &Ctx) -> Result<String, Failure> {
    let org = cx.graph().organization().list().send().await?;
    org.value
        .first()
        .and_then(|o| o.id.as_ref())
        .map(|id| id.to_string())
        .ok_or_else(|| Failure::new("no organization"))
}

async fn openid_configuration(cx: Ctx) -> Result<(), Failure> {
    let tid = tenant_id(&cx).await?;
    let doc = get(&cx, &format!("/{tid}/v2.0/.well-known/openid-configuration")).await?;
    for key in ["token_endpoint", "jwks_uri", "issuer", "authorization_endpoint"] {
        ensure(
            doc[key].as_str().is_some_and(|v| v.contains(&tid)),
            format!("{key}: expected a URL naming the tenant {tid}, got {}", doc[key]),
        )?;
    }
    ensure(doc["issuer"].as_str().is_some_and(|i| i.ends_with("/v2.0")), format!("issuer: got {}", doc["issuer"]))?;
    eq(
        "id_token_signing_alg_values_supported",
        doc["id_token_signing_alg_values_supported"].clone(),
        serde_json::json!(["RS256"]),
    )
}

async fn by_domain(cx: Ctx) -> Result<(), Failure> {
    let tid = tenant_id(&cx).await?;
    let domain = cx.domain().await?;
    let doc = get(&cx, &format!("/{domain}/v2.0/.well-known/openid-configuration")).await?;
    ensure(
        doc["token_endpoint"].as_str().is_some_and(|v| v.contains(&tid) && !v.contains(&domain)),
        format!("token_endpoint: expected the tenant GUID {tid}, got {}", doc["token_endpoint"]),
    )
}

async fn common(cx: Ctx) -> Result<(), Failure> {
    let doc = get(&cx, "/common/v2.0/.well-known/openid-configuration").await?;
    ensure(
        doc["issuer"].as_str().is_some_and(|i| i.contains("{tenantid}")),
        format!("issuer: expected the {{tenantid}} placeholder, got {}", doc["issuer"]),
    )?;
    ensure(
        doc["jwks_uri"].as_str().is_some_and(|j| j.ends_with("/common/discovery/v2.0/keys")),
        format!("jwks_uri: expected …/common/discovery/v2.0/keys, got {}", doc["jwks_uri"]),
    )
}

async fn jwks(cx: Ctx) -> Result<(), Failure> {
    let tid = tenant_id(&cx).await?;
    let doc = get(&cx, &format!("/{tid}/discovery/v2.0/keys")).await?;
    let keys = doc["keys"].as_array().ok_or_else(|| Failure::new(format!("keys: expected an array, got {doc}")))?;
    ensure(!keys.is_empty(), "keys: expected at least one")?;
    for k in keys {
        eq("kty", k["kty"].as_str(), Some("RSA"))?;
        eq("use", k["use"].as_str(), Some("sig"))?;
        eq("e", k["e"].as_str(), Some("AQAB"))?;
        eq("kid = x5t", k["kid"].as_str(), k["x5t"].as_str())?;
        let leaf = k["x5c"].as_array().and_then(|c| c.first()).and_then(Value::as_str);
        let leaf = leaf.ok_or_else(|| Failure::new(format!("x5c: expected a chain, got {}", k["x5c"])))?;
        // x5c is standard base64 (RFC 7517 §4.7), x5t base64url of its SHA-1.
        let der = STANDARD.decode(leaf).map_err(|e| Failure::new(format!("x5c[0]: not standard base64: {e}")))?;
        let thumbprint = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der));
        eq("x5t = base64url SHA-1 of x5c[0]", k["x5t"].as_str(), Some(thumbprint.as_str()))?;
    }
    Ok(())
}

async fn instance(cx: Ctx) -> Result<(), Failure> {
    let tid = tenant_id(&cx).await?;
    let authority = format!("https://login.microsoftonline.com/{tid}/oauth2/v2.0/authorize");
    let doc = get(
        &cx,
        &format!(
            "/common/discovery/instance?api-version=1.1&authorization_endpoint={}",
            super::support::enc(&authority)
        ),
    )
    .await?;
    eq("api-version", doc["api-version"].as_str(), Some("1.1"))?;
    ensure(
        doc["tenant_discovery_endpoint"]
            .as_str()
            .is_some_and(|e| e.ends_with("/v2.0/.well-known/openid-configuration")),
        format!("tenant_discovery_endpoint: got {}", doc["tenant_discovery_endpoint"]),
    )
}
