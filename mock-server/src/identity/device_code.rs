//! The device authorization grant: `POST /{tenant}/oauth2/v2.0/devicecode`
//! hands out a device code and a user code; the user enters the user code on
//! the verification page (`/devicelogin`), signs in and consents; meanwhile
//! the device polls the token endpoint with
//! `grant_type=urn:ietf:params:oauth:grant-type:device_code` and gets
//! `authorization_pending` until then. The control API can approve a user code
//! as a given user, for headless tests.

use serde_json::{json, Value};
use time::OffsetDateTime;
use uuid::Uuid;

use super::api_scopes::Wanted;
use super::authorize::{
    consent_step, error_page, identify, load_client, page, BrowserRequest, Consent, Form, Identified, PageResponse,
    Prompt, MESSAGE,
};
use super::client_auth::authenticate_client;
use super::session;
use super::token::{TokenError, TokenRequest};
use crate::directory::signin::{DeviceCode, DeviceState};
use crate::directory::Directory;
use crate::html::{self, Slot};
use crate::keys::SigningKey;
use crate::tenant::{Tenant, Tenants};

pub(crate) const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Entra's device codes live 15 minutes and ask for a 5-second interval.
pub(crate) const LIFETIME_SECS: i64 = 900;
pub(crate) const INTERVAL_SECS: i64 = 5;

const DEVICE: &str = include_str!("templates/device.html");

/// The path of the verification page on the mock's own host (Entra's is
/// `https://microsoft.com/devicelogin`).
pub(crate) const VERIFICATION_PATH: &str = "/devicelogin";

/// User codes: nine letters and digits, without look-alikes, as Entra's are
/// nine characters.
fn new_user_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    crate::ids::secure_bytes::<9>().iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect()
}

/// `POST /{tenant}/oauth2/v2.0/devicecode`.
pub(crate) fn device_authorization(
    req: &TokenRequest<'_>,
    dir: &mut Directory,
    now: OffsetDateTime,
) -> Result<Value, TokenError> {
    let app = load_client(dir, req.field("client_id"))?;
    let scope = req.field("scope").ok_or_else(|| TokenError::missing("scope"))?;
    Wanted::parse(dir, scope, req.authority)?;
    let device_code = format!("DAQAB{}", session::new_cookie_value());
    let user_code = new_user_code();
    let verification_uri = format!("{}{VERIFICATION_PATH}", req.authority);
    let record = DeviceCode {
        client: app.app_id,
        scope: scope.to_owned(),
        user_code: user_code.clone(),
        expires: now + time::Duration::seconds(LIFETIME_SECS),
        interval: INTERVAL_SECS,
        last_poll: None,
        state: DeviceState::Pending,
    };
    dir.signin.insert_device_code(session::hash(&device_code), record, now);
    Ok(json!({
        "user_code": user_code,
        "device_code": device_code,
        "verification_uri": verification_uri,
        "expires_in": LIFETIME_SECS,
        "interval": INTERVAL_SECS,
        "message": format!("To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} to authenticate."),
    }))
}

/// The polling errors. AADSTS70016 (pending) and AADSTS70019 (expired) are
/// Entra's documented codes; the codes for declined, slow-down and an unknown
/// device code are not documented (a guess: neighbouring codes of that family).
fn pending() -> TokenError {
    TokenError::new(
        400,
        "authorization_pending",
        70016,
        "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
    )
}

fn slow_down() -> TokenError {
    TokenError::new(
        400,
        "slow_down",
        70017,
        "OAuth 2.0 device flow error. Polling too fast: wait the interval between requests.",
    )
}

fn declined() -> TokenError {
    TokenError::new(400, "authorization_declined", 70020, "The end user declined the authorization request.")
}

fn expired() -> TokenError {
    TokenError::new(400, "expired_token", 70019, "Verification code expired.")
}

fn bad_code() -> TokenError {
    TokenError::new(
        400,
        "bad_verification_code",
        70018,
        "The device_code sent to the token endpoint wasn't recognized.",
    )
}

/// `grant_type=urn:ietf:params:oauth:grant-type:device_code`.
pub(crate) fn device_code_grant(
    req: &TokenRequest<'_>,
    tenant: &Tenant,
    dir: &mut Directory,
    key: &SigningKey,
    now: OffsetDateTime,
) -> Result<Value, TokenError> {
    let client = authenticate_client(req, tenant, dir, now, false)?;
    let code = req.field("device_code").ok_or_else(|| TokenError::missing("device_code"))?;
    let hash = session::hash(code);
    let record = dir.signin.device_codes.get_mut(&hash).ok_or_else(bad_code)?;
    if record.client != client.app_id {
        return Err(bad_code());
    }
    if now >= record.expires {
        return Err(expired());
    }
    let t = now.unix_timestamp();
    let too_soon = record.last_poll.is_some_and(|last| t - last < record.interval);
    record.last_poll = Some(t);
    let (user, scope) = match record.state.clone() {
        DeviceState::Pending if too_soon => return Err(slow_down()),
        DeviceState::Pending => return Err(pending()),
        DeviceState::Declined => return Err(declined()),
        DeviceState::Redeemed => return Err(bad_code()),
        DeviceState::Approved { user, .. } => (user, record.scope.clone()),
    };
    record.state = DeviceState::Redeemed;
    super::authorize::issue_delegated(req, tenant, dir, key, now, &client, user, &scope, None)
}

/// Why a user code cannot be approved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ApproveError {
    UnknownCode,
    Expired,
    UnknownUser,
}

/// Find the tenant and device-code key for a user code.
fn find_user_code(tenants: &Tenants, user_code: &str) -> Option<(std::sync::Arc<Tenant>, String)> {
    let wanted = user_code.trim().to_ascii_uppercase();
    tenants.all().into_iter().find_map(|t| {
        let key = t.read().signin.user_codes.get(&wanted).cloned()?;
        Some((t, key))
    })
}

/// Approve (or decline) a pending user code as `user`: the control API's
/// shortcut past the verification page, and the page's last step.
pub(crate) fn decide(
    dir: &mut Directory,
    key: &str,
    user: Option<Uuid>,
    now: OffsetDateTime,
) -> Result<(), ApproveError> {
    if let Some(u) = user {
        if !dir.users.contains_key(&u) {
            return Err(ApproveError::UnknownUser);
        }
    }
    let record = dir.signin.device_codes.get_mut(key).ok_or(ApproveError::UnknownCode)?;
    if now >= record.expires {
        return Err(ApproveError::Expired);
    }
    if record.state != DeviceState::Pending {
        return Err(ApproveError::UnknownCode);
    }
    record.state = match user {
        Some(user) => DeviceState::Approved { user, auth_time: now.unix_timestamp() },
        None => DeviceState::Declined,
    };
    Ok(())
}

/// The control API's approval: by user code, as the user with this UPN or id.
pub(crate) fn approve_as(tenant: &Tenant, user_code: &str, user: &str) -> Result<Uuid, String> {
    let now = tenant.clock.now();
    let mut dir = tenant.write();
    let wanted = user_code.trim().to_ascii_uppercase();
    let key = dir
        .signin
        .user_codes
        .get(&wanted)
        .cloned()
        .ok_or_else(|| format!("no pending device code has user code '{user_code}' in this tenant"))?;
    let user_id = dir.find_user(user).ok_or_else(|| format!("no user '{user}' in this tenant"))?;
    decide(&mut dir, &key, Some(user_id), now).map_err(|e| match e {
        ApproveError::Expired => format!("user code '{user_code}' has expired"),
        ApproveError::UnknownUser => format!("no user '{user}' in this tenant"),
        ApproveError::UnknownCode => format!("user code '{user_code}' is no longer pending"),
    })?;
    Ok(user_id)
}

fn code_page(action: &str, error: Option<&str>) -> PageResponse {
    let error = html::paragraph("error", error);
    let body = html::render(DEVICE, &[("action", Slot::Text(action)), ("error", Slot::Markup(&error))]);
    PageResponse::html(200, page("graphbox", "Enter code", &body))
}

fn message_page(heading: &str, message: &str) -> PageResponse {
    let body = html::render(MESSAGE, &[("heading", Slot::Text(heading)), ("message", Slot::Text(message))]);
    PageResponse::html(200, page("graphbox", heading, &body))
}

/// `GET|POST /devicelogin`: enter the code, sign in, consent, done.
pub(crate) fn verification_page(req: &BrowserRequest<'_>, tenants: &Tenants) -> PageResponse {
    let action = format!("{}{VERIFICATION_PATH}", req.authority);
    let Some(otc) = req.param("otc").filter(|c| !c.trim().is_empty()) else {
        return code_page(&action, None);
    };
    let Some((tenant, key)) = find_user_code(tenants, otc) else {
        return code_page(&action, Some("That code didn't work. Check the code and try again. (AADSTS70018)"));
    };
    let now = tenant.clock.now();
    let mut dir = tenant.write();
    let Some(record) = dir.signin.device_codes.get(&key).cloned() else {
        return code_page(&action, Some("That code didn't work. Check the code and try again."));
    };
    if now >= record.expires || record.state != DeviceState::Pending {
        return code_page(
            &action,
            Some("That code has expired or was already used. Get a new code from your device. (AADSTS70019)"),
        );
    }
    let mut app = match load_client(&dir, Some(&record.client.to_string())) {
        Ok(a) => a,
        Err(e) => return error_page(&e, req, now),
    };
    if req.param("graphbox_step") == Some("decline") {
        let _ = decide(&mut dir, &key, None, now);
        return message_page(
            "Sign-in canceled",
            "You declined to sign in to the application on your device. You can close this window.",
        );
    }
    let carried = vec![("otc".to_owned(), record.user_code.clone())];
    let app_name = app.name.clone();
    let form = Form { action: &action, carried: &carried, app_name: &app_name };
    let (user, cookie, set_cookie) = match identify(req, &tenant, &mut dir, &form, Prompt::Default, now) {
        Identified::User { user, cookie, set_cookie, .. } => (user, cookie, set_cookie),
        Identified::Show(page) => return page,
        Identified::Refuse(e) => return error_page(&e, req, now),
    };
    let request = match Wanted::parse(&dir, &record.scope, req.authority) {
        Ok(r) => r,
        Err(e) => return error_page(&e, req, now),
    };
    let with_cookie = |mut p: PageResponse| {
        if p.set_cookie.is_none() {
            p.set_cookie = set_cookie.clone();
        }
        p
    };
    match consent_step(req, &mut dir, &form, &mut app, user, &cookie, &request, Prompt::Default, now) {
        Consent::Granted => {}
        Consent::Show(page) => return with_cookie(page),
        Consent::Refuse(e) if e.code == 65004 => {
            let _ = decide(&mut dir, &key, None, now);
            return with_cookie(message_page(
                "Sign-in canceled",
                "You declined to sign in to the application on your device. You can close this window.",
            ));
        }
        Consent::Refuse(e) => return with_cookie(error_page(&e, req, now)),
    }
    if let Err(e) = decide(&mut dir, &key, Some(user), now) {
        let _ = e;
        return with_cookie(code_page(
            &action,
            Some("That code has expired or was already used. Get a new code from your device."),
        ));
    }
    with_cookie(message_page(
        &app.name,
        &format!("You have signed in to the {} application on your device. You may now close this window.", app.name),
    ))
}
