//! `/oidc/userinfo` (Graph hosts it in Entra; the mock serves it on its one
//! host) and `/{tenant}/oauth2/v2.0/logout`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use serde_json::{json, Value};
use uuid::Uuid;

use super::authorize::{browser_tenant, load_client, page, BrowserRequest, PageResponse, MESSAGE};
use super::session;
use super::Principal;
use crate::directory::users::USER;
use crate::directory::Directory;
use crate::html::{self, Slot};
use crate::tenant::Tenants;

/// The pairwise `sub` of `user` for `app`: the same value the id_token and
/// access token carry (identity/delegated.rs computes it the same way).
pub(crate) fn pairwise_sub(user: Uuid, app: Uuid) -> String {
    B64.encode(&ring::digest::digest(&ring::digest::SHA256, format!("{user}:{app}").as_bytes()).as_ref()[..20])
}

/// The claims userinfo gives for a delegated token's user; `None` for an
/// app-only token or a user that no longer exists.
pub(crate) fn userinfo(principal: &Principal, dir: &Directory) -> Option<Value> {
    if principal.app_only {
        return None;
    }
    let user = dir.users.get(&principal.object_id)?;
    let s = |n: &str| user.get_str(&USER, n).map(str::to_owned);
    let mut body = json!({
        "sub": pairwise_sub(principal.object_id, principal.app_id),
        "name": s("displayName"),
        "family_name": s("surname"),
        "given_name": s("givenName"),
        "picture": "https://graph.microsoft.com/v1.0/me/photo/$value",
    });
    if let Some(mail) = s("mail") {
        body["email"] = Value::String(mail);
    }
    Some(body)
}

/// `GET|POST /{tenant}/oauth2/v2.0/logout`: ends the browser session and goes
/// back to `post_logout_redirect_uri` when it is one of the client's
/// registered redirect URIs; otherwise says the user is signed out.
pub(crate) fn logout(req: &BrowserRequest<'_>, tenants: &Tenants) -> PageResponse {
    let tenant = browser_tenant(tenants, req.tenant, req.param("client_id")).ok();
    let mut back = None;
    if let Some(tenant) = &tenant {
        let mut dir = tenant.write();
        if let Some(cookie) = req.cookie {
            dir.signin.sessions.remove(&session::hash(cookie));
        }
        if let (Some(uri), Ok(app)) = (req.param("post_logout_redirect_uri"), load_client(&dir, req.param("client_id")))
        {
            if app.redirects.iter().any(|(_, r)| r == uri) {
                back = Some(uri.to_owned());
            }
        }
    }
    let cleared = Some(session::clear_cookie(req.secure));
    if let Some(uri) = back {
        let mut location = uri;
        if let Some(state) = req.param("state") {
            let sep = if location.contains('?') { '&' } else { '?' };
            location = format!(
                "{location}{sep}state={}",
                percent_encoding::utf8_percent_encode(state, percent_encoding::NON_ALPHANUMERIC)
            );
        }
        return PageResponse { status: 302, body: super::authorize::PageBody::Redirect(location), set_cookie: cleared };
    }
    let body = html::render(
        MESSAGE,
        &[
            ("heading", Slot::Text("You signed out of your account")),
            ("message", Slot::Text("It's a good idea to close all browser windows.")),
        ],
    );
    let mut out = PageResponse::html(200, page(req.tenant, "Sign out", &body));
    out.set_cookie = cleared;
    out
}
