//! The browser side of sign-in: the SSO cookie and the anti-forgery value
//! bound to it. The cookie holds a random value; the tenant keeps only its
//! hash (`directory::signin`), so a saved state file holds no live session.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;

/// Entra's own session cookie name, so tools that look for it find it.
pub(crate) const COOKIE: &str = "ESTSAUTH";

/// How long a browser session lasts without a new sign-in. Entra's default
/// session is bounded by its 24-hour "keep me signed in"-less window
/// (a guess: the real default varies by tenant policy).
pub(crate) const SESSION_LIFETIME: time::Duration = time::Duration::hours(24);

/// A fresh cookie value from the OS generator.
pub(crate) fn new_cookie_value() -> String {
    B64.encode(crate::ids::secure_bytes::<32>())
}

/// What the tenant stores for a secret handed to a browser or client.
pub(crate) fn hash(secret: &str) -> String {
    B64.encode(ring::digest::digest(&ring::digest::SHA256, secret.as_bytes()).as_ref())
}

/// The anti-forgery value of a form shown to the holder of `cookie`: only
/// someone who can read the cookie can compute it, and a cross-site page
/// cannot (nor, with `SameSite=Lax`, can it send the cookie on a POST).
pub(crate) fn form_token(cookie: &str) -> String {
    hash(&format!("graphbox-consent-form:{cookie}"))
}

/// Whether a submitted anti-forgery value is the one for `cookie`.
pub(crate) fn form_token_ok(cookie: &str, sent: &str) -> bool {
    crate::ids::constant_time_eq(form_token(cookie).as_bytes(), sent.as_bytes())
}

/// Our cookie's value in a `Cookie` request header.
pub(crate) fn cookie_from_header(header: Option<&str>) -> Option<&str> {
    header?.split(';').map(str::trim).find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name.trim() == COOKIE && !value.is_empty()).then_some(value.trim())
    })
}

/// `Set-Cookie` for a session: `HttpOnly`, `SameSite=Lax`, `Secure` over TLS.
pub(crate) fn set_cookie(value: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax{secure}")
}

/// `Set-Cookie` that ends the session in the browser.
pub(crate) fn clear_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_lax_and_secure_over_tls() {
        assert_eq!(set_cookie("v", true), "ESTSAUTH=v; Path=/; HttpOnly; SameSite=Lax; Secure");
        assert_eq!(set_cookie("v", false), "ESTSAUTH=v; Path=/; HttpOnly; SameSite=Lax");
    }

    #[test]
    fn our_cookie_is_found_among_others() {
        assert_eq!(cookie_from_header(Some("a=1; ESTSAUTH=xyz; b=2")), Some("xyz"));
        assert_eq!(cookie_from_header(Some("ESTSAUTHX=1")), None);
        assert_eq!(cookie_from_header(None), None);
    }

    #[test]
    fn a_form_token_is_bound_to_its_session() {
        let t = form_token("one");
        assert!(form_token_ok("one", &t));
        assert!(!form_token_ok("two", &t));
    }
}
