//! The families that are not plain Graph routes: `$batch`, the token endpoint,
//! OIDC discovery and JWKS, the control API and MSOnline's SOAP service.

use base64::Engine as _;
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use proptest::prelude::*;
use serde_json::{json, Value};

use super::families::{fixtures, run_routes, GRAPH_CASES};
use super::gen::{self, junk, junk_text, route, Encoding};
use super::{clip, Request, Tally, Target, SERVER_ERROR, UNHEALTHY_AFTER, WRONG_ENVELOPE};

// ---------------------------------------------------------------- $batch

/// Urls that name `$batch` itself, spelled the ways a client might.
const NESTED: &[&str] =
    &["/$batch", "$batch", "/%24batch", "/%24BATCH", "/$BATCH", "/$batch?x=1", "/%24batch/", "/users/../$batch"];

fn inner_request() -> BoxedStrategy<Value> {
    let url = prop_oneof![
        6 => prop::sample::select(vec![
            "/users", "/users?$top=1", "/groups", "/organization", "/applications", "/me", "users", "/users/delta",
            "/directoryRoles", "/subscribedSkus", "/users/nobody@nowhere.example", "https://graph.microsoft.com/v1.0/users",
        ])
        .prop_map(|u| json!(u)),
        2 => prop::sample::select(NESTED.to_vec()).prop_map(|u| json!(u)),
        1 => junk_text().prop_map(|u| json!(u)),
        1 => junk().prop_map(|j| serde_json::from_str(&j.text()).unwrap_or(Value::Null)),
    ];
    let method = prop_oneof![
        6 => prop::sample::select(vec!["GET", "POST", "PATCH", "DELETE", "PUT", "get", "FOO", ""]).prop_map(|m| json!(m)),
        1 => any::<i64>().prop_map(|n| json!(n)),
    ];
    let id = prop_oneof![6 => (0u32..25).prop_map(|i| json!(i.to_string())), 1 => junk_text().prop_map(|s| json!(s)), 1 => Just(json!(7))];
    let headers = prop_oneof![
        3 => Just(Value::Null),
        3 => Just(json!({"Content-Type": "application/json"})),
        1 => Just(json!({"Content-Type": 5, "ConsistencyLevel": ["eventual"]})),
        1 => Just(json!("not an object")),
    ];
    let body = prop_oneof![
        4 => Just(Value::Null),
        2 => Just(json!({"displayName": "Batch Group", "mailEnabled": false, "mailNickname": "batchgroup", "securityEnabled": true})),
        1 => junk().prop_map(|j| serde_json::from_str(&j.text()).unwrap_or(Value::Null)),
    ];
    let depends =
        prop_oneof![4 => Just(Value::Null), 1 => Just(json!(["0"])), 1 => Just(json!(["99"])), 1 => Just(json!("0"))];
    (id, method, url, headers, body, depends)
        .prop_map(|(id, method, url, headers, body, depends)| {
            let mut r = serde_json::Map::new();
            r.insert("id".into(), id);
            r.insert("method".into(), method);
            r.insert("url".into(), url);
            for (k, v) in [("headers", headers), ("body", body), ("dependsOn", depends)] {
                if !v.is_null() {
                    r.insert(k.into(), v);
                }
            }
            Value::Object(r)
        })
        .boxed()
}

/// Whether a batch item's url names `$batch`, read as Graph reads a url: once
/// percent-decoded.
fn names_batch(url: &str) -> bool {
    let decoded = percent_decode_str(url).decode_utf8_lossy();
    decoded.split(['?', '/']).any(|s| s.eq_ignore_ascii_case("$batch"))
}

#[tokio::test]
async fn graph_batch_answers_malformed_input_with_graphs_envelope() {
    let t = Target::start().await;
    let mut runner = gen::runner("batch");
    let strategy = (
        prop::collection::vec(inner_request(), 0..24),
        prop_oneof![8 => Just(None), 1 => junk().prop_map(Some)],
        gen::auth(),
        gen::content_type(),
    );
    let mut tally = Tally::new("$batch");
    for _ in 0..gen::cases(GRAPH_CASES) {
        let (requests, whole, auth, ct) = gen::sample(&mut runner, &strategy);
        let body = match &whole {
            Some(j) => j.text(),
            None => json!({"requests": requests}).to_string(),
        };
        let mut req = Request::new("POST", "/v1.0/$batch");
        if let Some(h) = auth.header(&t.token, &t.aad_token) {
            req = req.header("authorization", h);
        }
        req = match ct {
            gen::ContentType::Json => req.header("content-type", "application/json"),
            gen::ContentType::Missing => req,
            gen::ContentType::Value(v) => req.header("content-type", v),
            gen::ContentType::Junk(j) => req.header("content-type", j.replace(['\r', '\n'], "")),
        };
        req.body = body.into_bytes();
        let nested = whole.is_none() && requests.iter().any(|r| r["url"].as_str().is_some_and(names_batch));
        let refuse = if !auth.is_valid() {
            Some("a Graph request without a valid bearer token")
        } else if nested {
            Some("a batch with a nested $batch request")
        } else {
            None
        };
        if let Some(raw) = t.judge(&mut tally, &req, refuse).await {
            // Each item's answer follows the rules of a request of its own.
            let responses = raw.json().and_then(|v| v["responses"].as_array().cloned()).unwrap_or_default();
            for item in responses {
                let status = item["status"].as_u64().unwrap_or(0);
                let example = || format!("{} → item {} {}", req.describe(), status, clip(&item["body"].to_string()));
                if status >= 500 && status != 501 {
                    tally.record(SERVER_ERROR, example);
                } else if status >= 400
                    && !(item["body"]["error"]["code"].is_string() && item["body"]["error"]["message"].is_string())
                {
                    tally.record(WRONG_ENVELOPE, example);
                }
            }
        }
        if let Err(e) = t.healthy(&t.token).await {
            tally.record(UNHEALTHY_AFTER, || format!("{} → {e}", req.describe()));
        }
    }
    t.check_bystander(&mut tally).await;
    tally.finish();
}

// ---------------------------------------------------------------- token endpoint

/// A compact JWS-looking string: junk header and payload, junk signature.
fn junk_jwt() -> BoxedStrategy<String> {
    let header = prop_oneof![
        Just(json!({"alg": "none"})),
        Just(json!({"alg": "RS256", "typ": "JWT", "x5t": "AAAA"})),
        Just(json!({"alg": "RS256", "x5t#S256": 5})),
        Just(json!({"alg": "HS256", "kid": "../../x"})),
        Just(json!([])),
    ];
    let payload = prop_oneof![
        Just(
            json!({"aud": "https://login.microsoftonline.com/x/oauth2/v2.0/token", "iss": "x", "sub": "x", "exp": 1e300, "nbf": -1, "jti": "j"})
        ),
        Just(json!({"exp": "tomorrow"})),
        junk().prop_map(|j| serde_json::from_str(&j.text()).unwrap_or(Value::Null)),
    ];
    (header, payload, "[A-Za-z0-9_-]{0,64}", 0usize..4)
        .prop_map(|(h, p, sig, dots)| {
            let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
            let mut s = format!("{}.{}.{sig}", b64(&h), b64(&p));
            if dots == 0 {
                s = s.replace('.', "");
            } else if dots == 3 {
                s.push_str(".extra");
            }
            s
        })
        .boxed()
}

#[derive(Debug, Clone)]
enum FormValue {
    Real,
    Junk(String),
    Huge(usize),
    Jwt(String),
}

#[derive(Debug, Clone)]
enum Tenant {
    Id,
    Domain,
    Named(&'static str),
    Junk(String, Encoding),
}

#[tokio::test]
async fn token_endpoint_answers_malformed_input_with_the_identity_platforms_envelope() {
    let t = Target::start().await;
    let mut runner = gen::runner("token");
    let key = prop::sample::select(vec![
        "grant_type",
        "client_id",
        "client_secret",
        "scope",
        "client_assertion",
        "client_assertion_type",
        "username",
        "password",
        "refresh_token",
        "code",
        "redirect_uri",
        "assertion",
        "requested_token_use",
        "claims",
        "grant_type ",
    ]);
    let value = prop_oneof![
        5 => Just(FormValue::Real),
        2 => junk_text().prop_map(FormValue::Junk),
        1 => (1000usize..200_000).prop_map(FormValue::Huge),
        1 => junk_jwt().prop_map(FormValue::Jwt),
    ];
    let tenant = prop_oneof![
        4 => Just(Tenant::Id),
        1 => Just(Tenant::Domain),
        1 => prop::sample::select(vec!["common", "organizations", "consumers", "COMMON", "00000000-0000-0000-0000-000000000000"]).prop_map(Tenant::Named),
        1 => (junk_text(), prop_oneof![Just(Encoding::Raw), Just(Encoding::Percent), Just(Encoding::Latin1)]).prop_map(|(s, e)| Tenant::Junk(s, e)),
    ];
    let grant = prop::sample::select(vec![
        "client_credentials",
        "password",
        "refresh_token",
        "authorization_code",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "device_code",
        "",
        "CLIENT_CREDENTIALS",
    ]);
    let scope = prop::sample::select(vec![
        "https://graph.microsoft.com/.default",
        "https://graph.windows.net/.default",
        "User.Read offline_access",
        "openid",
        "",
        ".default",
        "https://graph.microsoft.com/.default https://graph.windows.net/.default",
    ]);
    let strategy = (
        (tenant, prop::collection::vec((key, value), 0..8), grant, scope),
        (
            gen::method(),
            gen::content_type(),
            prop_oneof![6 => Just(None), 1 => junk_text().prop_map(Some)],
            any::<bool>(),
            gen::host(),
        ),
    );
    let mut tally = Tally::new("token endpoint");
    for _ in 0..gen::cases(300) {
        let ((tenant, pairs, grant, scope), (method, ct, basic, raw_form, host)) = gen::sample(&mut runner, &strategy);
        let tenant_segment = match &tenant {
            Tenant::Id => t.mock.tenant_id().to_string().into_bytes(),
            Tenant::Domain => t.mock.tenant_domain().as_bytes().to_vec(),
            Tenant::Named(n) => n.as_bytes().to_vec(),
            Tenant::Junk(s, e) => gen::encode(s, *e),
        };
        let mut form = Vec::new();
        for (k, v) in &pairs {
            let real = match *k {
                "grant_type" => grant.to_owned(),
                "client_id" => t.mock.client_id().to_string(),
                "client_secret" => t.mock.client_secret().to_owned(),
                "scope" => scope.to_owned(),
                "username" => t.mock.admin_username().to_owned(),
                "password" => t.mock.admin_password().to_owned(),
                "client_assertion_type" => "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
                _ => t.token.clone(),
            };
            let v = match v {
                FormValue::Real => real,
                FormValue::Junk(s) | FormValue::Jwt(s) => s.clone(),
                FormValue::Huge(n) => "x".repeat(*n),
            };
            let enc = |s: &str| {
                if raw_form {
                    s.replace(['\r', '\n'], "")
                } else {
                    utf8_percent_encode(s, NON_ALPHANUMERIC).to_string()
                }
            };
            form.push(format!("{}={}", enc(k), enc(&v)));
        }
        let own = match method {
            gen::Method::Own => "POST",
            gen::Method::Other(m) => m,
        };
        let mut req = Request::new(own, [b"/".to_vec(), tenant_segment, b"/oauth2/v2.0/token".to_vec()].concat());
        req.host = host;
        req = match ct {
            gen::ContentType::Json => req.header("content-type", "application/x-www-form-urlencoded"),
            gen::ContentType::Missing => req,
            gen::ContentType::Value(v) => req.header("content-type", v),
            gen::ContentType::Junk(j) => req.header("content-type", j.replace(['\r', '\n'], "")),
        };
        if let Some(b) = basic {
            req = req.header("authorization", format!("Basic {}", b.replace(['\r', '\n'], "")));
        }
        req.body = form.join("&").into_bytes();
        t.judge(&mut tally, &req, None).await;
        if let Err(e) = t.healthy(&t.token).await {
            tally.record(UNHEALTHY_AFTER, || format!("{} → {e}", req.describe()));
        }
    }
    t.check_bystander(&mut tally).await;
    tally.finish();
}

// ---------------------------------------------------------------- OIDC discovery and JWKS

#[tokio::test]
async fn oidc_discovery_and_jwks_answer_malformed_input_with_the_identity_platforms_envelope() {
    let routes = vec![
        route("GET", "/{tid}/v2.0/.well-known/openid-configuration", None),
        route("GET", "/{initial_domain}/v2.0/.well-known/openid-configuration", None),
        route("GET", "/{tid}/discovery/v2.0/keys", None),
        route("GET", "/common/v2.0/.well-known/openid-configuration", None),
        route("GET", "/organizations/discovery/v2.0/keys", None),
        route("GET", "/common/discovery/instance?api-version=1.1&authorization_endpoint=https://login.microsoftonline.com/{tid}/oauth2/v2.0/authorize", None),
        route("GET", "/common/userrealm/{upn}?api-version=1.0", None),
        route("GET", "/{tid}/.well-known/openid-configuration", None),
    ];
    run_routes("oidc discovery", routes, 200).await;
}

// ---------------------------------------------------------------- control API

#[tokio::test]
async fn control_api_answers_malformed_input_with_its_own_envelope() {
    let t = Target::start().await;
    let fx = fixtures(&t).await;
    let tid = t.mock.tenant_id();
    let state = t.state_of(tid).await;
    let routes = vec![
        route("GET", "/_graphbox", None),
        route("GET", "/_graphbox/tenants", None),
        route("POST", "/_graphbox/tenants", None),
        route("GET", "/_graphbox/tenants/{tid}", None),
        route("POST", "/_graphbox/tenants/{tid}/clock/advance", Some(json!({"seconds": 60}))),
        route("GET", "/_graphbox/tenants/{tid}/clock", None),
        route("GET", "/_graphbox/tenants/{tid}/state", None),
        route("PUT", "/_graphbox/tenants/{tid}/state", Some(state)),
        route("GET", "/_graphbox/tenants/{tid}/requests", None),
        route("GET", "/_graphbox/tenants/{tid}/faults", None),
        route(
            "PUT",
            "/_graphbox/tenants/{tid}/faults",
            Some(
                json!({"rules": [{"path": "/v1.0/nothing-here", "status": 429, "method": "GET", "retryAfterSeconds": 2, "times": 1}]}),
            ),
        ),
        route(
            "POST",
            "/_graphbox/tenants/{tid}/dirsync/cycle",
            Some(
                json!({"users": [{"onPremisesImmutableId": "abc", "userPrincipalName": "synced@{initial_domain}", "displayName": "S"}]}),
            ),
        ),
        route("GET", "/_graphbox/tenants/{tid}/dirsync", None),
        route(
            "PUT",
            "/_graphbox/tenants/{tid}/dirsync/settings",
            Some(
                json!({"pendingDisabledSeconds": 60, "pendingEnabledSeconds": 5, "strictPending": false, "appOnlySyncUpdate": true}),
            ),
        ),
        route("PATCH", "/v1.0/organization/{tid}", Some(json!({"onPremisesSyncEnabled": true}))),
        route("PATCH", "/v1.0/organization/{tid}", Some(json!({"onPremisesSyncEnabled": false}))),
        route("POST", "/_graphbox/state/save", None),
    ];
    let mut runner = gen::runner("control");
    let strategy = gen::recipe(routes.len());
    let mut tally = Tally::new("control API");
    let mut broke_at = Vec::new();
    for n in 0..gen::cases(300) {
        let recipe = gen::sample(&mut runner, &strategy);
        let (req, refuse) = gen::render(&recipe, &routes, &fx, &t.token, &t.aad_token, &t.addr.to_string());
        t.judge(&mut tally, &req, refuse.as_deref()).await;
        let health = match t.send(&Request::new("GET", format!("/_graphbox/tenants/{tid}/clock"))).await {
            super::Outcome::Answered(r) if r.status == 200 => t.healthy(&t.token).await,
            other => Err(format!("GET …/clock: {other:?}")),
        };
        if let Err(e) = health {
            tally.record(UNHEALTHY_AFTER, || format!("{} → {e}", req.describe()));
            broke_at.push(n);
            // Start the tenant over so later cases test something.
            let r = t.must(&Request::new("POST", format!("/_graphbox/tenants/{tid}/reset"))).await;
            assert_eq!(r.status, 200, "reset after a broken case: {}", r.text());
        }
    }
    if !broke_at.is_empty() {
        eprintln!("  control API: the tenant was broken after cases {broke_at:?} and reset each time");
    }
    t.check_bystander(&mut tally).await;
    tally.finish();
}

// ---------------------------------------------------------------- MSOnline SOAP

/// A SOAP 1.2 envelope as MSOnline's PowerShell module sends it.
pub(crate) fn soap_envelope(action: &str, token: Option<&str>, members: &str) -> String {
    let identity = token
        .map(|t| {
            format!(
                r#"<UserIdentityHeader xmlns="http://provisioning.microsoftonline.com/"><BearerToken xmlns="http://schemas.datacontract.org/2004/07/Microsoft.Online.Administration.WebService">Bearer {t}</BearerToken></UserIdentityHeader>"#
            )
        })
        .unwrap_or_default();
    format!(
        r#"<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://www.w3.org/2005/08/addressing"><env:Header><wsa:Action env:mustUnderstand="1">http://provisioning.microsoftonline.com/IProvisioningWebService/{action}</wsa:Action><wsa:MessageID>urn:uuid:0d6c1f3a-5b7e-4c21-9a0e-3f4d2b1c7e90</wsa:MessageID>{identity}</env:Header><env:Body><{action} xmlns="http://provisioning.microsoftonline.com/"><request xmlns:ws="http://schemas.datacontract.org/2004/07/Microsoft.Online.Administration.WebService" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><ws:BecVersion>Version16</ws:BecVersion>{members}</request></{action}></env:Body></env:Envelope>"#
    )
}

#[derive(Debug, Clone)]
enum XmlMut {
    Keep,
    Truncate(u16),
    Insert(u16, &'static str),
    BadUtf8(u16),
    /// Wrap the members in this many nested elements (bounded: the deep case
    /// is finding 1's test, which takes the process down today).
    Deep(usize),
    /// Put this many attributes on the request element.
    Attributes(usize),
    Whole(Vec<u8>),
}

#[tokio::test]
async fn msonline_soap_answers_malformed_input_with_soap_faults() {
    let t = Target::start().await;
    let mut runner = gen::runner("msol");
    let action = prop_oneof![
        4 => prop::sample::select(vec!["GetCompanyInformation", "SetCompanyDirSyncEnabled"]).prop_map(str::to_owned),
        1 => "[A-Za-z]{0,20}",
    ];
    let token = prop_oneof![5 => Just(0u8), 1 => Just(1u8), 1 => Just(2u8), 1 => Just(3u8), 1 => Just(4u8)];
    let member_value = prop_oneof![
        3 => Just(String::new()),
        1 => junk_text().prop_map(|s| format!("<ws:TenantId>{}</ws:TenantId>", xml_escape(&s))),
        1 => junk_text().prop_map(|s| format!("<ws:EnableDirSync>{}</ws:EnableDirSync>", xml_escape(&s))),
        1 => prop::sample::select(vec!["<ws:EnableDirSync>true</ws:EnableDirSync>", "<ws:EnableDirSync>false</ws:EnableDirSync>", "<ws:TenantId xsi:nil=\"true\"/>"]).prop_map(str::to_owned),
    ];
    let xml_mut = prop_oneof![
        4 => Just(XmlMut::Keep),
        1 => (0u16..1000).prop_map(XmlMut::Truncate),
        2 => (0u16..1000, prop::sample::select(vec![
            "<", ">", "&", "&unknown;", "&#0;", "&#xFFFFFFFF;", "<!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;\">]>",
            "]]>", "<![CDATA[", "<?xml version=\"1.0\" encoding=\"UTF-16\"?>", "<x:y/>", "</env:Body>", "<a xmlns:=\"\"/>",
            "<a b=\"1\" b=\"2\"/>", "\u{0}", "<!--", "<?pi ?>",
        ])).prop_map(|(at, s)| XmlMut::Insert(at, s)),
        1 => (0u16..1000).prop_map(XmlMut::BadUtf8),
        1 => (1usize..300).prop_map(XmlMut::Deep),
        1 => (1usize..300).prop_map(XmlMut::Attributes),
        1 => prop::collection::vec(any::<u8>(), 0..200).prop_map(XmlMut::Whole),
    ];
    let strategy = (action, token, member_value, xml_mut, gen::method(), gen::content_type());
    let mut tally = Tally::new("MSOnline SOAP");
    for _ in 0..gen::cases(300) {
        let (action, token, members, m, method, ct) = gen::sample(&mut runner, &strategy);
        let bad = gen::tamper(&t.aad_token, 7);
        let token = match token {
            0 => Some(t.aad_token.as_str()),
            1 => None,
            2 => Some(t.token.as_str()),
            3 => Some(bad.as_str()),
            _ => Some("junk"),
        };
        let members = match &m {
            XmlMut::Deep(n) => format!("{}{members}{}", "<ws:x>".repeat(*n), "</ws:x>".repeat(*n)),
            _ => members,
        };
        let mut body = soap_envelope(&action, token, &members).into_bytes();
        let at = |per_mille: u16, len: usize| len * usize::from(per_mille) / 1000;
        match &m {
            XmlMut::Truncate(p) => body.truncate(at(*p, body.len())),
            XmlMut::Insert(p, s) => {
                let i = at(*p, body.len());
                body.splice(i..i, s.bytes());
            }
            XmlMut::BadUtf8(p) => {
                let i = at(*p, body.len());
                body.splice(i..i, [0xff, 0xfe]);
            }
            XmlMut::Attributes(n) => {
                let attrs: String = (0..*n).map(|i| format!(" a{i}=\"{i}\"")).collect();
                let text = String::from_utf8(body).expect("the envelope is UTF-8").replacen(
                    "<request ",
                    &format!("<request{attrs} "),
                    1,
                );
                body = text.into_bytes();
            }
            XmlMut::Whole(bytes) => body = bytes.clone(),
            XmlMut::Keep | XmlMut::Deep(_) => {}
        }
        let own = match method {
            gen::Method::Own => "POST",
            gen::Method::Other(m) => m,
        };
        let mut req = Request::new(own, "/provisioningwebservice.svc");
        req = match ct {
            gen::ContentType::Json => req.header("content-type", "application/soap+xml; charset=utf-8"),
            gen::ContentType::Missing => req,
            gen::ContentType::Value(v) => req.header("content-type", v),
            gen::ContentType::Junk(j) => req.header("content-type", j.replace(['\r', '\n'], "")),
        };
        req.body = body;
        t.judge(&mut tally, &req, None).await;
        if let Err(e) = t.healthy(&t.token).await {
            tally.record(UNHEALTHY_AFTER, || format!("{} → {e}", req.describe()));
        }
    }
    // A well-formed call still works after all that.
    let mut good = Request::new("POST", "/provisioningwebservice.svc")
        .header("content-type", "application/soap+xml; charset=utf-8");
    good.body = soap_envelope("GetCompanyInformation", Some(&t.aad_token), "").into_bytes();
    let r = t.must(&good).await;
    if r.status != 200 {
        tally
            .record(UNHEALTHY_AFTER, || format!("GetCompanyInformation afterwards → {} {}", r.status, clip(&r.text())));
    }
    t.check_bystander(&mut tally).await;
    tally.finish();
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
