//! `/{tenant}/v2.0/adminconsent`: a Global Administrator grants, tenant-wide,
//! every Microsoft Graph permission an application's `requiredResourceAccess`
//! lists — application permissions as app role assignments to its service
//! principal, delegated ones as an `AllPrincipals` grant — then goes back to
//! the redirect URI with `admin_consent=True` and `tenant`, or with
//! `error=access_denied` when declined.
//!
//! A multi-tenant application of another tenant of the server is consented
//! to the same way: its redirect URIs and required permissions are the home
//! application's, and the consent creates its service principal in this
//! tenant if it has none — Microsoft documents that granting tenant-wide admin
//! consent through the admin consent URL adds a multitenant application to
//! the tenant ("Create an enterprise application from a multitenant
//! application"), and that a service principal is created in a tenant when
//! its users or administrator consent to the application.

use time::OffsetDateTime;

use super::authorize::{
    carried, checked_redirect, error_page, foreign_client, identify, is_global_admin, load_client_from, page_tenant,
    record_consent, redirect_error, send_back, upn_of, BrowserRequest, Form, Identified, PageResponse, Prompt,
    ResponseMode, ReturnTo,
};
use super::session;
use super::token::TokenError;
use crate::tenant::Tenants;

fn not_admin() -> TokenError {
    TokenError::new(
        403,
        "access_denied",
        90094,
        "Granting tenant-wide consent requires an administrator: sign in with a Global Administrator account.",
    )
}

/// `GET|POST /{tenant}/v2.0/adminconsent`.
pub(crate) fn admin_consent(req: &BrowserRequest<'_>, tenants: &Tenants) -> PageResponse {
    let fallback_now = crate::clock::system_now();
    let tenant = match page_tenant(tenants, req) {
        Ok(t) => t,
        Err(e) => return error_page(&e, req, fallback_now),
    };
    let now: OffsetDateTime = tenant.clock.now();
    // A vendor's multi-tenant application consented to in a customer tenant:
    // its redirect URIs and permissions are the home application's, and the
    // consent instantiates it here.
    let foreign = foreign_client(tenants, &tenant, req.param("client_id"));
    let mut dir = tenant.write();
    let mut app = match load_client_from(&dir, req.param("client_id"), foreign) {
        Ok(a) => a,
        Err(e) => return error_page(&e, req, now),
    };
    let to = match checked_redirect(&app, req.param("redirect_uri")) {
        Ok((uri, _)) => ReturnTo { uri, mode: ResponseMode::Query, state: req.param("state").map(str::to_owned) },
        Err(e) => return error_page(&e, req, now),
    };
    let action = format!("{}/{}/v2.0/adminconsent", req.authority, req.tenant);
    let carried = carried(&req.params);
    let app_name = app.name.clone();
    let form = Form { action: &action, carried: &carried, app_name: &app_name };
    let (user, cookie, set_cookie) = match identify(req, &tenant, &mut dir, &form, Prompt::Default, now) {
        Identified::User { user, cookie, set_cookie, .. } => (user, cookie, set_cookie),
        Identified::Show(page) => return page,
        Identified::Refuse(e) => return redirect_error(&to, &e, req, now),
    };
    let with_cookie = |mut p: PageResponse| {
        if p.set_cookie.is_none() {
            p.set_cookie = set_cookie.clone();
        }
        p
    };
    if !is_global_admin(&dir, user) {
        return with_cookie(error_page(&not_admin(), req, now));
    }
    let (roles, scopes) = app.required_graph_permissions(&dir);
    if req.param("graphbox_step") != Some("consent") {
        let mut shown: Vec<String> = roles.iter().map(|r| format!("{r} (application)")).collect();
        shown.extend(scopes.iter().cloned());
        let upn = upn_of(&dir, user);
        let page = form.consent(req.tenant, &upn, &shown, &cookie, false);
        return with_cookie(PageResponse::html(200, page));
    }
    if !session::form_token_ok(&cookie, req.param("form_token").unwrap_or_default()) {
        let e = TokenError::new(
            400,
            "invalid_request",
            90015,
            "The consent request is not valid: the form's anti-forgery value does not belong to this session.",
        );
        return with_cookie(error_page(&e, req, now));
    }
    if req.param("consent") != Some("accept") {
        let mut out = send_back(
            &to,
            vec![
                ("error", "access_denied".to_owned()),
                ("error_subcode", "cancel".to_owned()),
                ("error_description", "AADSTS65004: User declined to consent to access the app.".to_owned()),
            ],
        );
        out.set_cookie = set_cookie;
        return out;
    }
    if let Err(e) = record_consent(&mut dir, &mut app, user, &scopes, true, None) {
        return with_cookie(error_page(&e, req, now));
    }
    let sp = app.sp_id.expect("record_consent creates the service principal");
    let values: Vec<&str> = roles.iter().map(String::as_str).collect();
    if let Err(e) = dir.grant_graph_app_roles(sp, &values, now) {
        return with_cookie(error_page(&TokenError::new(400, "invalid_scope", 70011, e.message), req, now));
    }
    let granted = req.param("scope").unwrap_or("https://graph.microsoft.com/.default").to_owned();
    let mut out = send_back(
        &to,
        vec![("admin_consent", "True".to_owned()), ("tenant", tenant.id.to_string()), ("scope", granted)],
    );
    out.set_cookie = set_cookie;
    out
}
