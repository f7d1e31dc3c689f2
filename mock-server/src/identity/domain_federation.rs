//! Sign-in for users of a federated domain: the authorize page does not ask
//! for their password but sends the browser to the domain's
//! `passiveSignInUri`, as a WS-Federation sign-in request (`wa=wsignin1.0`) or
//! a SAML 2.0 AuthnRequest (HTTP-Redirect binding), per the configuration's
//! `preferredAuthenticationProtocol`. Entra names itself to the IdP as
//! `urn:federation:MicrosoftOnline`, and the IdP posts its answer back to
//! Entra's `login.srf`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use time::OffsetDateTime;

use super::authorize::{error_page, BrowserRequest, PageBody, PageResponse};
use super::token::TokenError;
use crate::directory::federation::{Federation, Protocol};
use crate::tenant::Tenants;

/// The realm (WS-Fed `wtrealm`, SAML `Issuer`) Entra uses towards every IdP.
pub(crate) const MICROSOFT_ONLINE_REALM: &str = "urn:federation:MicrosoftOnline";

fn encode(v: &str) -> String {
    const SET: &percent_encoding::AsciiSet =
        &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    percent_encoding::utf8_percent_encode(v, SET).to_string()
}

/// Where IdPs post their answers: this server's `login.srf`, under the
/// name (one of the server's own) the sign-in was started on.
pub(crate) fn login_srf(authority: &str) -> String {
    format!("{authority}/login.srf")
}

/// The authorize request's own parameters as one opaque context value, which
/// the IdP hands back unchanged (`wctx` / `RelayState`).
pub(crate) fn context_value(params: &[(String, String)]) -> String {
    params.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

/// Raw DEFLATE (RFC 1951) with stored blocks only: what the SAML
/// HTTP-Redirect binding asks for, and readable by any inflater.
fn deflate_stored(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 5 * (data.len() / 65535 + 1));
    let mut chunks = data.chunks(65535).peekable();
    if chunks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none()));
        let len = u16::try_from(chunk.len()).expect("chunks of at most 65535 bytes");
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

/// `POST /login.srf`: where the IdP posts its answer. The context it hands
/// back (`wctx` / `RelayState`) is the sign-in page that sent the user there
/// (authorize, admin consent or the device code page) and its request; that
/// page runs again with the answer in place of a password.
pub(crate) fn idp_return(req: &BrowserRequest<'_>, tenants: &Tenants) -> PageResponse {
    let now = crate::clock::system_now();
    let context = req.param("wctx").or_else(|| req.param("RelayState"));
    let mut params = context.map(context_pairs).unwrap_or_default();
    let back = params.iter().position(|(k, _)| k == "graphbox_return").map(|at| params.remove(at).1);
    let back = back.unwrap_or_default();
    let segments: Vec<&str> = back.trim_start_matches('/').split('/').collect();
    let (tenant, page): (&str, fn(&BrowserRequest<'_>, &Tenants) -> PageResponse) = match segments[..] {
        [tenant, "oauth2", "v2.0", "authorize"] => (tenant, super::authorize::authorize),
        [tenant, "v2.0", "adminconsent"] => (tenant, super::admin_consent::admin_consent),
        ["devicelogin"] => ("common", super::device_code::verification_page),
        _ => {
            let e = TokenError::new(
                400,
                "invalid_request",
                90100,
                "The IdP's answer carries no wctx or RelayState naming the sign-in it answers; start the sign-in again from the application.",
            );
            return error_page(&e, req, now);
        }
    };
    params.push(("graphbox_step".into(), "federated".into()));
    for field in ["wresult", "SAMLResponse"] {
        if let Some(v) = req.param(field) {
            params.push((field.into(), v.into()));
        }
    }
    let inner = BrowserRequest {
        tenant,
        params,
        cookie: req.cookie,
        authority: req.authority,
        secure: req.secure,
        request_id: req.request_id,
        correlation_id: req.correlation_id.clone(),
    };
    page(&inner, tenants)
}

/// The pairs of a context value written by [`context_value`].
fn context_pairs(context: &str) -> Vec<(String, String)> {
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    context
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// The `302` to the IdP for `login`, carrying `params` as context.
pub(crate) fn redirect_to_idp(
    fed: &Federation,
    authority: &str,
    login: &str,
    params: &[(String, String)],
    request_id: &str,
    now: OffsetDateTime,
) -> PageResponse {
    let passive = fed.get_str("passiveSignInUri").unwrap_or_default();
    let sep = if passive.contains('?') { '&' } else { '?' };
    let context = context_value(params);
    let location = match fed.protocol() {
        Protocol::WsFed => format!(
            "{passive}{sep}wa=wsignin1.0&wtrealm={}&wctx={}&username={}",
            encode(MICROSOFT_ONLINE_REALM),
            encode(&context),
            encode(login)
        ),
        Protocol::Saml => {
            let request = format!(
                concat!(
                    r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="{id}" Version="2.0" "#,
                    r#"IssueInstant="{instant}" Destination="{dest}" AssertionConsumerServiceURL="{acs}">"#,
                    r#"<Issuer xmlns="urn:oasis:names:tc:SAML:2.0:assertion">{issuer}</Issuer>"#,
                    r#"<samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"/>"#,
                    r#"</samlp:AuthnRequest>"#
                ),
                id = xml_attr(request_id),
                instant = crate::clock::format_datetime(now),
                dest = xml_attr(passive),
                acs = xml_attr(&login_srf(authority)),
                issuer = MICROSOFT_ONLINE_REALM,
            );
            let saml = STANDARD.encode(deflate_stored(request.as_bytes()));
            format!("{passive}{sep}SAMLRequest={}&RelayState={}", encode(&saml), encode(&context))
        }
    };
    PageResponse { status: 302, body: PageBody::Redirect(location), set_cookie: None }
}

fn xml_attr(v: &str) -> String {
    v.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

/// What user realm discovery (`/common/userrealm/{user}`, version 1.0 shape)
/// adds for a federated domain: the account type and where a rich client
/// runs WS-Trust (`activeSignInUri`, `metadataExchangeUri`).
pub(crate) fn user_realm(
    dir: &crate::directory::Directory,
    domain: &str,
) -> Option<serde_json::Map<String, serde_json::Value>> {
    let fed = dir.federation(domain)?;
    let text = |n: &str| fed.get_str(n).map_or(serde_json::Value::Null, |s| serde_json::Value::String(s.into()));
    let mut out = serde_json::Map::new();
    out.insert("account_type".into(), "Federated".into());
    out.insert("federation_protocol".into(), "WSTrust".into());
    out.insert("federation_metadata_url".into(), text("metadataExchangeUri"));
    out.insert("federation_active_auth_url".into(), text("activeSignInUri"));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inflate stored blocks back (the inverse the IdP runs).
    fn inflate_stored(mut data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let last = data[0] & 1 == 1;
            assert_eq!(data[0] >> 1, 0, "stored block");
            let len = usize::from(u16::from_le_bytes([data[1], data[2]]));
            let nlen = u16::from_le_bytes([data[3], data[4]]);
            assert_eq!(!nlen as usize, len);
            out.extend_from_slice(&data[5..5 + len]);
            data = &data[5 + len..];
            if last {
                return out;
            }
        }
    }

    #[test]
    fn deflate_stored_round_trips_across_block_boundaries() {
        for n in [0usize, 1, 65535, 65536, 200_000] {
            let data: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
            assert_eq!(inflate_stored(&deflate_stored(&data)), data, "{n} bytes");
        }
    }
}
