//! The identity platform's token endpoint: success shape, token claims, and each AADSTS error
//! (graph-wire.md §1.1, §1.5).

use graphbox_sdk::auth::{ClientSecretCredential, UsernamePasswordCredential};
use graphbox_sdk::models::PasswordCredential;
use graphbox_sdk::RetryPolicy;
use reqwest::Method;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::support::{self, NO_SUCH_ID};
use crate::context::{claims, Ctx};
use crate::scenario;
use crate::scenario::{auth_error, ensure, eq, Failure, Need, Scenario};

pub(crate) const SCENARIOS: &[Scenario] = &[
    scenario!(
        "token::client_credentials_answer_is_bearer_with_numeric_lifetimes",
        "graph-wire.md §1.1: success is 200 with exactly token_type Bearer, expires_in and ext_expires_in as JSON numbers, access_token — no refresh_token, id_token or scope; Cache-Control no-store",
        [],
        client_credentials_answer
    ),
    scenario!(
        "token::app_only_graph_token_is_v1_shaped",
        "graph-wire.md §1.5 / §9.2: app-only Graph tokens are v1 (iss https://sts.windows.net/{tid}/, ver 1.0, aud https://graph.microsoft.com, appid = client appId, appidacr 1 for a secret, oid = sub, idtyp app, no scp)",
        [],
        app_only_claims
    ),
    scenario!(
        "token::unknown_tenant_is_aadsts90002",
        "graph-wire.md §1.1: unknown tenant → 400 invalid_tenant (older: invalid_request), AADSTS90002",
        [],
        unknown_tenant
    ),
    scenario!(
        "token::unknown_client_is_aadsts700016",
        "graph-wire.md §1.1: unknown client_id in the tenant → 400 unauthorized_client, AADSTS700016",
        [],
        unknown_client
    ),
    scenario!(
        "token::wrong_secret_is_401_aadsts7000215",
        "graph-wire.md §1.1: wrong secret → 401 invalid_client, AADSTS7000215",
        [],
        wrong_secret
    ),
    scenario!(
        "token::error_body_has_the_identity_platform_envelope",
        "graph-wire.md §1.1 / §9.3: AADSTS errors carry error, error_description with a Trace ID / Correlation ID / Timestamp trailer, integer error_codes, timestamp 'yyyy-MM-dd HH:mm:ssZ', trace_id, correlation_id, error_uri",
        [],
        error_envelope
    ),
    scenario!(
        "token::missing_credential_is_aadsts7000216",
        "graph-wire.md §1.1: neither secret nor assertion → 400 invalid_request, AADSTS7000216",
        [],
        missing_credential
    ),
    scenario!(
        "token::scope_without_default_is_aadsts1002012",
        "graph-wire.md §1.1: a client-credentials scope that is not <resource>/.default → 400 invalid_scope, AADSTS1002012",
        [],
        bad_scope
    ),
    scenario!(
        "token::expired_secret_is_aadsts7000222",
        "graph-wire.md §1.1 / §9.10: a secret past its endDateTime → 401 invalid_client, AADSTS7000222 (not 7000215)",
        [Need::Mock],
        expired_secret
    ),
    scenario!(
        "token::expired_access_token_is_401_at_graph",
        "graph-wire.md §2.2: exp in the past → 401 InvalidAuthenticationToken \"Access token has expired or is not yet valid.\"",
        [Need::Mock],
        expired_token
    ),
    scenario!(
        "token::password_grant_gives_a_delegated_token_with_scp",
        "graph-wire.md §1.5: delegated tokens carry space-separated scp and no roles for Graph; idtyp user",
        [Need::AdminUser],
        password_grant
    ),
];

async fn client_credentials_answer(cx: Ctx) -> Result<(), Failure> {
    let TenantSecret(secret) = main_secret(&cx)?;
    let r = cx
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &cx.session().client_id),
            ("client_secret", &secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .await?;
    eq("status", r.status, 200)?;
    eq("token_type", r.json["token_type"].as_str(), Some("Bearer"))?;
    ensure(r.json["expires_in"].is_u64(), format!("expires_in: expected a JSON number, got {}", r.json["expires_in"]))?;
    ensure(
        r.json["ext_expires_in"].is_u64(),
        format!("ext_expires_in: expected a JSON number, got {}", r.json["ext_expires_in"]),
    )?;
    for absent in ["refresh_token", "id_token", "scope"] {
        ensure(
            r.json.get(absent).is_none(),
            format!("{absent}: expected absent for client credentials, got {}", r.json[absent]),
        )?;
    }
    let cache = r.header("cache-control").unwrap_or_default().to_ascii_lowercase();
    ensure(cache.contains("no-store"), format!("Cache-Control: expected no-store, got {cache:?}"))
}

async fn app_only_claims(cx: Ctx) -> Result<(), Failure> {
    let token = cx.token().await?;
    let c = claims(&token)?;
    let tid = c["tid"].as_str().unwrap_or_default().to_owned();
    eq("iss", c["iss"].as_str(), Some(format!("https://sts.windows.net/{tid}/").as_str()))?;
    eq("ver", c["ver"].as_str(), Some("1.0"))?;
    eq("aud", c["aud"].as_str(), Some("https://graph.microsoft.com"))?;
    eq("appid", c["appid"].as_str(), Some(cx.session().client_id.as_str()))?;
    if matches!(cx.session().credential, crate::target::TenantCredential::Secret(_)) {
        eq("appidacr", c["appidacr"].as_str(), Some("1"))?;
    }
    eq("idtyp", c["idtyp"].as_str(), Some("app"))?;
    ensure(
        c["oid"].is_string() && c["oid"] == c["sub"],
        format!("oid and sub: expected equal, got {} and {}", c["oid"], c["sub"]),
    )?;
    ensure(c.get("scp").is_none(), format!("scp: expected absent in an app-only token, got {}", c["scp"]))?;
    for n in ["iat", "nbf", "exp"] {
        ensure(c[n].is_u64(), format!("{n}: expected integer seconds, got {}", c[n]))?;
    }
    // oid is the client's service principal, not the application object (§9.9).
    let sp = cx.graph().service_principals().get_by_app_id(cx.session().client_id.as_str()).send().await?;
    eq("oid", c["oid"].as_str(), sp.id.as_ref().map(|i| i.as_str()))
}

struct TenantSecret(String);

fn main_secret(cx: &Ctx) -> Result<TenantSecret, Failure> {
    match &cx.session().credential {
        crate::target::TenantCredential::Secret(s) => Ok(TenantSecret(s.clone())),
        crate::target::TenantCredential::Certificate { .. } => {
            Err(Failure::skip("the run signs in with a certificate; this scenario sends the secret itself"))
        }
    }
}

fn error_of(r: &crate::context::RawResponse) -> (u16, String, Vec<i64>) {
    let codes =
        r.json["error_codes"].as_array().map(|a| a.iter().filter_map(Value::as_i64).collect()).unwrap_or_default();
    (r.status, r.json["error"].as_str().unwrap_or("<none>").to_owned(), codes)
}

fn expect_aadsts(r: &crate::context::RawResponse, status: u16, errors: &[&str], code: i64) -> Result<(), Failure> {
    let (got_status, got_error, got_codes) = error_of(r);
    ensure(
        got_status == status && errors.contains(&got_error.as_str()) && got_codes.contains(&code),
        format!("expected {status} {} AADSTS{code}, got {got_status} {got_error} {got_codes:?}", errors.join("|")),
    )
}

async fn unknown_tenant(cx: Ctx) -> Result<(), Failure> {
    let path = format!("/{NO_SUCH_ID}/oauth2/v2.0/token");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", cx.session().client_id.as_str()),
        ("client_secret", "irrelevant"),
        ("scope", "https://graph.microsoft.com/.default"),
    ];
    let r = cx.send(cx.identity_request(Method::POST, &path).form(&form)).await?;
    expect_aadsts(&r, 400, &["invalid_tenant", "invalid_request"], 90002)
}

async fn unknown_client(cx: Ctx) -> Result<(), Failure> {
    let r = cx
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", NO_SUCH_ID),
            ("client_secret", "irrelevant"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .await?;
    expect_aadsts(&r, 400, &["unauthorized_client"], 700016)
}

async fn wrong_secret(cx: Ctx) -> Result<(), Failure> {
    let graph = cx
        .builder()
        .credential(ClientSecretCredential::new(&cx.session().client_id, "not-the-secret"))
        .retry_policy(RetryPolicy::none())
        .build()?;
    auth_error(graph.users().list().top(1).send().await, 401, "invalid_client", 7000215)
}

async fn error_envelope(cx: Ctx) -> Result<(), Failure> {
    let r = cx
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &cx.session().client_id),
            ("client_secret", "not-the-secret"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .await?;
    eq("status", r.status, 401)?;
    let description = r.json["error_description"].as_str().unwrap_or_default();
    ensure(
        description.starts_with("AADSTS7000215:"),
        format!("error_description: expected to start with AADSTS7000215:, got {description:?}"),
    )?;
    for trailer in ["\r\nTrace ID: ", "\r\nCorrelation ID: ", "\r\nTimestamp: "] {
        ensure(
            description.contains(trailer),
            format!("error_description: expected the {trailer:?} trailer line, got {description:?}"),
        )?;
    }
    let ts = r.json["timestamp"].as_str().unwrap_or_default();
    let shape = ts.len() == 20 && ts.as_bytes()[10] == b' ' && ts.ends_with('Z') && !ts.contains('.');
    ensure(shape, format!("timestamp: expected 'yyyy-MM-dd HH:mm:ssZ', got {ts:?}"))?;
    let uri = r.json["error_uri"].as_str().unwrap_or_default();
    ensure(uri.contains("error?code=7000215"), format!("error_uri: expected …/error?code=7000215, got {uri:?}"))?;
    let ct = r.header("content-type").unwrap_or_default();
    ensure(ct.starts_with("application/json"), format!("Content-Type: expected application/json, got {ct:?}"))
}

async fn missing_credential(cx: Ctx) -> Result<(), Failure> {
    let r = cx
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &cx.session().client_id),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .await?;
    expect_aadsts(&r, 400, &["invalid_request"], 7000216)
}

async fn bad_scope(cx: Ctx) -> Result<(), Failure> {
    let TenantSecret(secret) = main_secret(&cx)?;
    let graph = cx
        .builder()
        .scope("https://graph.microsoft.com/User.Read.All")
        .credential(ClientSecretCredential::new(&cx.session().client_id, secret))
        .retry_policy(RetryPolicy::none())
        .build()?;
    auth_error(graph.users().list().top(1).send().await, 400, "invalid_scope", 1002012)
}

async fn expired_secret(cx: Ctx) -> Result<(), Failure> {
    let mut app = support::app_with_roles(&cx, &[]).await?;
    // A secret that ends an hour from the tenant's now; then move the clock past it (only the
    // mock's clock moves, which is why this needs the mock).
    let now = cx.control(Method::GET, "clock", None).await?;
    let now = now.json["now"].as_str().and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok());
    let now = now.ok_or_else(|| Failure::new("control API clock: expected {\"now\": <RFC 3339>}"))?;
    let short = PasswordCredential { end_date_time: Some(now + time::Duration::hours(1)), ..Default::default() };
    let added = cx.graph().applications().add_password(app.object_id.as_str(), short).send().await?;
    app.secret = added.secret_text.ok_or_else(|| Failure::new("secretText of addPassword: expected a value"))?;
    support::token_for(&cx, &app).await?;
    cx.advance_clock(2 * 3600).await?;
    let r = cx
        .token_request(&[
            ("grant_type", "client_credentials"),
            ("client_id", &app.app_id),
            ("client_secret", &app.secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .await?;
    expect_aadsts(&r, 401, &["invalid_client"], 7000222)
}

async fn expired_token(cx: Ctx) -> Result<(), Failure> {
    let token = cx.token().await?;
    cx.advance_clock(3 * 3600).await?;
    let r = support::raw(&cx, Method::GET, "/users?$top=1", &token).await?;
    support::expect_error(&r, 401, "InvalidAuthenticationToken", Some("Access token has expired or is not yet valid."))
}

async fn password_grant(cx: Ctx) -> Result<(), Failure> {
    let (user, password) = cx.session().admin.clone().ok_or_else(|| Failure::skip("no admin user"))?;
    let graph = cx
        .builder()
        .credential(UsernamePasswordCredential::new(&cx.session().client_id, user, password))
        .retry_policy(RetryPolicy::none())
        .build()?;
    graph.users().list().top(1).send().await?;
    let token = cx.last().and_then(|e| e.bearer).ok_or_else(|| Failure::new("no bearer token was sent"))?;
    let c = claims(&token)?;
    eq("idtyp", c["idtyp"].as_str(), Some("user"))?;
    ensure(
        c["scp"].as_str().is_some_and(|s| !s.is_empty()),
        format!("scp: expected space-separated scopes, got {}", c["scp"]),
    )?;
    ensure(c.get("roles").is_none(), format!("roles: expected absent in a delegated Graph token, got {}", c["roles"]))
}
