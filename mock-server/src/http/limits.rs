//! What one request or connection may cost the server, decided once at intake.
//!
//! Every bound here is a setting (builder and CLI) with a documented default, so
//! a test that needs a tighter or looser server says so; the checks themselves
//! are pure functions of the request head, tested without sockets.

use std::time::Duration;

use http::request::Parts;

/// The server's bounds on requests and connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body; Graph refuses bodies past 4 MiB with 413.
    pub max_body_bytes: usize,
    /// Longest request target (path and query). Graph's front end documents no
    /// figure; 16 KiB is http.sys's default request-line budget (a guess), far
    /// above the longest `$filter` or delta link a client builds.
    pub max_uri_bytes: usize,
    /// Largest sum of header names and values. 64 KiB (a guess): a bearer token
    /// is 1–4 KiB, so only a broken or hostile client comes near it.
    pub max_header_bytes: usize,
    /// How long a connection may wait for a request's line and headers to be
    /// complete, counted from the first byte of that request.
    pub header_timeout: Duration,
    /// How long a connection may sit with no request under way (a keep-alive
    /// connection between requests, or one that never sends a byte).
    pub idle_timeout: Duration,
    /// How long a request's body may take to arrive, from its headers' end.
    pub body_timeout: Duration,
    /// How long a TLS handshake may take.
    pub tls_handshake_timeout: Duration,
    /// Connections served at once; further ones wait in the listen backlog
    /// until one closes.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 4 * 1024 * 1024,
            max_uri_bytes: 16 * 1024,
            max_header_bytes: 64 * 1024,
            header_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(120),
            body_timeout: Duration::from_secs(60),
            tls_handshake_timeout: Duration::from_secs(10),
            max_connections: 1024,
        }
    }
}

/// A request refused before any handler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub status: u16,
    /// Graph's `error.code` for it.
    pub code: &'static str,
    pub message: String,
}

impl Limits {
    /// Check the request head against the size bounds.
    pub(crate) fn check_head(&self, parts: &Parts) -> Result<(), Refusal> {
        let target = parts.uri.path_and_query().map_or(0, |pq| pq.as_str().len());
        if target > self.max_uri_bytes {
            return Err(Refusal {
                status: 414,
                code: "RequestUriTooLong",
                message: format!(
                    "The request URL is {target} bytes long; this server accepts at most {} (path and query). \
                     Move long filters into several requests or a $batch.",
                    self.max_uri_bytes
                ),
            });
        }
        let headers: usize = parts.headers.iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
        if headers > self.max_header_bytes {
            return Err(Refusal {
                status: 431,
                code: "RequestHeaderFieldsTooLarge",
                message: format!(
                    "The request headers take {headers} bytes; this server accepts at most {}.",
                    self.max_header_bytes
                ),
            });
        }
        Ok(())
    }

    /// The refusal for a body past [`Limits::max_body_bytes`].
    pub(crate) fn body_too_large(&self) -> Refusal {
        Refusal {
            status: 413,
            code: "RequestEntityTooLarge",
            message: match self.max_body_bytes {
                n if n % (1024 * 1024) == 0 => {
                    format!("The request payload is {} MB or more. Send a smaller request body.", n / (1024 * 1024))
                }
                n => format!("The request payload is {n} bytes or more. Send a smaller request body."),
            },
        }
    }

    /// The refusal for a body that did not arrive within [`Limits::body_timeout`].
    pub(crate) fn body_too_slow(&self) -> Refusal {
        Refusal {
            status: 408,
            code: "RequestTimeout",
            message: format!(
                "The request body did not arrive within {} seconds; send it whole and at once.",
                self.body_timeout.as_secs_f64()
            ),
        }
    }
}

/// The refusal for a body that broke off or was malformed (a bad chunk, a
/// connection closed before `Content-Length` bytes): the request never runs, so
/// nothing is half-applied with data the caller did not send.
pub(crate) fn body_unreadable(why: &str) -> Refusal {
    Refusal {
        status: 400,
        code: "BadRequest",
        message: format!("The request body could not be read ({why}); nothing was changed. Send the request again."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder().uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).expect("a valid request").into_parts().0
    }

    #[test]
    fn a_target_at_the_limit_passes_and_one_byte_more_is_414() {
        let limits = Limits { max_uri_bytes: 19, ..Limits::default() };
        assert_eq!(limits.check_head(&head("/v1.0/users?$top=12", &[])), Ok(()));
        let refused = limits.check_head(&head("/v1.0/users?$top=123", &[])).unwrap_err();
        assert_eq!((refused.status, refused.code), (414, "RequestUriTooLong"));
        assert!(refused.message.contains("20 bytes"), "{}", refused.message);
    }

    #[test]
    fn headers_past_the_budget_are_431_whatever_their_count() {
        let limits = Limits { max_header_bytes: 100, ..Limits::default() };
        let big = "x".repeat(90);
        assert_eq!(limits.check_head(&head("/", &[("a", "b")])), Ok(()));
        let refused = limits.check_head(&head("/", &[("authorization", &big)])).unwrap_err();
        assert_eq!((refused.status, refused.code), (431, "RequestHeaderFieldsTooLarge"));
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let d = Limits::default();
        assert_eq!(d.max_body_bytes, 4 * 1024 * 1024);
        assert_eq!(d.max_uri_bytes, 16 * 1024);
        assert_eq!(d.header_timeout, Duration::from_secs(30));
        assert_eq!(d.max_connections, 1024);
    }
}
