//! The identity platform: the token endpoint, discovery documents, and the
//! validation of bearer tokens on every Graph request.
//!
//! Tokens are RS256 JWTs shaped like real Microsoft Graph access tokens
//! (v1-style claims even from the v2 endpoint, as Graph's tokens have),
//! signed with the server's key and fully validated on the way back in: shape,
//! signature, audience, issuer tenant and lifetime against that tenant's clock.

pub(crate) mod admin_consent;
pub(crate) mod api_scopes;
pub(crate) mod authorize;
pub(crate) mod client_auth;
pub(crate) mod delegated;
pub(crate) mod device_code;
pub(crate) mod discovery;
pub(crate) mod domain_federation;
pub(crate) mod federation;

pub(crate) mod idp_response;
pub(crate) mod jwt;
pub(crate) mod obo;
pub(crate) mod session;
pub(crate) mod token;
pub(crate) mod userinfo;
pub(crate) mod xmldsig;

use std::sync::Arc;

use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ApiError;
use crate::keys::SigningKey;
use crate::tenant::{Tenant, Tenants};

pub(crate) const GRAPH_AUDIENCE: &str = "https://graph.microsoft.com";
pub(crate) const AAD_GRAPH_AUDIENCE: &str = "https://graph.windows.net";

/// The claims of an access token the mock issues.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct AccessClaims {
    pub aud: String,
    pub iss: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub aio: String,
    pub app_displayname: String,
    pub appid: Uuid,
    pub appidacr: String,
    pub idp: String,
    pub idtyp: String,
    pub oid: Uuid,
    pub rh: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    pub sub: String,
    pub tid: Uuid,
    pub uti: String,
    pub ver: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wids: Vec<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_name: Option<String>,
}

/// Who is calling: the result of validating a bearer token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Principal {
    pub tenant_id: Uuid,
    pub app_id: Uuid,
    /// The service principal (app-only) or user (delegated) object id.
    pub object_id: Uuid,
    pub app_only: bool,
    /// Application permissions (`roles`).
    pub roles: Vec<String>,
    /// Delegated permissions (`scp`, split).
    pub scopes: Vec<String>,
    /// Directory role template ids (`wids`).
    pub wids: Vec<Uuid>,
}

#[derive(Debug, Clone)]
struct CachedToken {
    /// The whole token, compared on every hit: the cache key is only its tail.
    token: Arc<str>,
    principal: Arc<Principal>,
    nbf: i64,
    exp: i64,
}

/// Validates bearer tokens. Signature checks cost tens of microseconds, so a
/// verified token's claims are cached; lifetime and tenant are still checked
/// against the tenant's clock on every request. The cache is keyed by the last
/// bytes of the signature (hashing a 1.7 KB token per request showed up in
/// profiles) and a hit must equal the whole token.
#[derive(Debug)]
pub(crate) struct TokenValidator {
    key: Arc<crate::keys::KeyMaterial>,
    verified: DashMap<Box<str>, CachedToken>,
    verified_aad_graph: DashMap<Box<str>, CachedToken>,
    verified_arm: DashMap<Box<str>, CachedToken>,
}

const VERIFIED_CACHE_LIMIT: usize = 50_000;

impl TokenValidator {
    pub(crate) fn new(key: Arc<crate::keys::KeyMaterial>) -> Self {
        TokenValidator {
            key,
            verified: DashMap::new(),
            verified_aad_graph: DashMap::new(),
            verified_arm: DashMap::new(),
        }
    }

    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.key.signing
    }

    /// Check an `Authorization` header for a Graph request and find its tenant.
    pub(crate) fn authenticate(
        &self,
        authorization: Option<&str>,
        tenants: &Tenants,
    ) -> Result<(Arc<Principal>, Arc<Tenant>), ApiError> {
        // Only the Bearer scheme carries a token; Graph reads any other header
        // (a bare token, Basic) as no token at all [inferred from its answer to
        // a missing token].
        let token = match authorization.map(str::trim).and_then(|h| h.split_once(' ')) {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => return Err(ApiError::invalid_token("Access token is empty.")),
        };
        if token.is_empty() {
            return Err(ApiError::invalid_token("Access token is empty."));
        }
        self.validate(token, tenants, Audience::Graph)
    }

    /// Check an `Authorization` header for one of the Azure Resource Manager
    /// reads graphbox answers (`az login`'s): an ARM token, same rules.
    pub(crate) fn authenticate_arm(
        &self,
        token: &str,
        tenants: &Tenants,
    ) -> Result<(Arc<Principal>, Arc<Tenant>), ApiError> {
        self.validate(token, tenants, Audience::Arm)
    }

    /// Check a token for MSOnline's provisioning service, which takes AAD Graph
    /// tokens (`aud` `https://graph.windows.net`) and never Graph's; Graph's own
    /// check above is unchanged. Same signature, issuer and lifetime rules.
    pub(crate) fn authenticate_aad_graph(
        &self,
        token: &str,
        tenants: &Tenants,
    ) -> Result<(Arc<Principal>, Arc<Tenant>), ApiError> {
        self.validate(token, tenants, Audience::AadGraph)
    }

    fn validate(
        &self,
        token: &str,
        tenants: &Tenants,
        audience: Audience,
    ) -> Result<(Arc<Principal>, Arc<Tenant>), ApiError> {
        // One cache per audience, so a token verified for one is never taken as
        // verified for the other.
        let cache = match audience {
            Audience::Graph => &self.verified,
            Audience::AadGraph => &self.verified_aad_graph,
            Audience::Arm => &self.verified_arm,
        };
        let key = token.get(token.len().saturating_sub(32)..).unwrap_or(token);
        let hit = cache.get(key).map(|c| c.value().clone()).filter(|c| &*c.token == token);
        let cached = match hit {
            Some(c) => c,
            None => {
                let fresh = self.verify(token, audience)?;
                if cache.len() >= VERIFIED_CACHE_LIMIT {
                    cache.clear();
                }
                cache.insert(key.into(), fresh.clone());
                fresh
            }
        };
        let tenant = tenants
            .get(cached.principal.tenant_id)
            .ok_or_else(|| ApiError::invalid_token("Access token validation failure. Invalid issuer."))?;
        let now = tenant.clock.now().unix_timestamp();
        if now >= cached.exp || now < cached.nbf {
            return Err(ApiError::invalid_token("Access token has expired or is not yet valid."));
        }
        Ok((cached.principal, tenant))
    }

    fn verify(&self, token: &str, audience: Audience) -> Result<CachedToken, ApiError> {
        let claims: AccessClaims = jwt::verify(self.signing_key(), token).map_err(|e| match e {
            jwt::JwsError::Malformed => {
                ApiError::invalid_token("CompactToken parsing failed with error code: 80049217")
            }
            jwt::JwsError::UnsupportedHeader | jwt::JwsError::BadSignature => {
                ApiError::invalid_token("Access token validation failure. Invalid signature.")
            }
        })?;
        let graph_aud =
            claims.aud == GRAPH_AUDIENCE || claims.aud == crate::directory::catalog::MICROSOFT_GRAPH_APP_ID.to_string();
        let aad_graph_aud = claims.aud == AAD_GRAPH_AUDIENCE || claims.aud == "00000002-0000-0000-c000-000000000000";
        let arm_aud = token::Resource::from_audience(&claims.aud) == Some(token::Resource::Arm);
        let fits = match audience {
            Audience::Graph => graph_aud,
            Audience::AadGraph => aad_graph_aud,
            Audience::Arm => arm_aud,
        };
        if !fits {
            return Err(ApiError::invalid_token("Access token validation failure. Invalid audience."));
        }
        if claims.iss != format!("https://sts.windows.net/{}/", claims.tid) {
            return Err(ApiError::invalid_token("Access token validation failure. Invalid issuer."));
        }
        let principal = Principal {
            tenant_id: claims.tid,
            app_id: claims.appid,
            object_id: claims.oid,
            app_only: claims.idtyp == "app",
            roles: claims.roles,
            scopes: claims
                .scp
                .map(|s| s.split(' ').filter(|p| !p.is_empty()).map(str::to_owned).collect())
                .unwrap_or_default(),
            wids: claims.wids,
        };
        Ok(CachedToken { token: token.into(), principal: Arc::new(principal), nbf: claims.nbf, exp: claims.exp })
    }
}

/// Which service a token is presented to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Audience {
    Graph,
    AadGraph,
    Arm,
}
