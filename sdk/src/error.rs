//! Errors, named by where a call failed.
//!
//! [`Error`] tells a caller whether the request may have reached Graph: `Build` never left the
//! process, `Auth` failed before Graph was called, `Transport` may have been applied, `Api` is
//! Graph's answer and `Decode` is a successful answer the model did not fit. `Api`'s `Display`
//! is the whole answer on one line (request, status, Graph code, message, request id), so a plain
//! `error!(%e)` keeps it; the other variants' `Display` is one short clause with the request
//! (method and URL path, never the token or the query string) and the detail in the
//! [`source`](std::error::Error::source) chain.
//!
//! Graph's codes are an [`ErrorCode`]; match on it, never on the message:
//!
//! ```
//! use graphbox_sdk::error::{Error, ErrorCode};
//!
//! fn describe(e: &Error) -> &'static str {
//!     match e.code() {
//!         Some(ErrorCode::RequestResourceNotFound) => "gone",
//!         Some(ErrorCode::AuthorizationRequestDenied) => "not allowed",
//!         Some(ErrorCode::TooManyRequests) => "slow down",
//!         Some(_) => "Graph refused",
//!         None => "Graph was not reached, or did not answer with an error",
//!     }
//! }
//! ```

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Any failure of a graphbox-sdk call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request could not be built; nothing was sent.
    #[error("request could not be built")]
    Build(#[source] BuildError),
    /// No access token could be acquired; Graph was not called.
    #[error("token acquisition failed")]
    Auth(#[source] AuthError),
    /// The connection failed or timed out; the request may have been sent.
    #[error("request may have been sent")]
    Transport(#[source] TransportError),
    /// Graph answered with an error status. `Display` is [`GraphError`]'s: the request, status,
    /// code, message and request id.
    #[error(transparent)]
    Api(Box<GraphError>),
    /// Graph answered with success but the body did not match the model.
    #[error("response did not match model")]
    Decode(#[source] DecodeError),
}

impl Error {
    /// The Graph error, when Graph answered with an error status.
    pub fn as_graph_error(&self) -> Option<&GraphError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The token-endpoint error, when token acquisition failed.
    pub fn as_auth_error(&self) -> Option<&AuthError> {
        match self {
            Error::Auth(e) => Some(e),
            _ => None,
        }
    }

    /// `true` for a Graph `404`.
    pub fn is_not_found(&self) -> bool {
        self.as_graph_error().is_some_and(GraphError::is_not_found)
    }

    /// Graph's error code, when Graph answered with an error status.
    pub fn code(&self) -> Option<&ErrorCode> {
        self.as_graph_error().map(|e| &e.code)
    }

    /// The HTTP status, when Graph (or the token endpoint) answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::Auth(e) => e.status(),
            _ => None,
        }
    }

    /// The Graph error by value, when Graph answered with an error status (for moving its
    /// fields out: `let GraphError { code, message, .. } = *e;` needs the box opened).
    pub fn into_graph_error(self) -> Result<GraphError, Self> {
        match self {
            Error::Api(e) => Ok(*e),
            other => Err(other),
        }
    }
}

/// Graph's error `code`. The variants are the codes graphbox's callers branch on; any other
/// code is kept as [`ErrorCode::Other`], so matching needs a wildcard arm and new variants can
/// be added. Compares equal to its wire string (`code == "Request_ResourceNotFound"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `Request_ResourceNotFound`: no object with that id (404).
    RequestResourceNotFound,
    /// `ResourceNotFound`: an unknown segment or resource (404).
    ResourceNotFound,
    /// `Request_BadRequest`: an invalid value or request (400), including duplicate UPNs.
    RequestBadRequest,
    /// `BadRequest`: a malformed query or body (400).
    BadRequest,
    /// `Request_UnsupportedQuery`: the query needs `ConsistencyLevel: eventual` or is not
    /// supported (400).
    RequestUnsupportedQuery,
    /// `Request_MultipleObjectsWithSameKeyValue`: a unique property is taken (400).
    RequestMultipleObjectsWithSameKeyValue,
    /// `Authorization_RequestDenied`: insufficient privileges (403).
    AuthorizationRequestDenied,
    /// `Authorization_IdentityNotFound`: the calling application is unknown to the tenant.
    AuthorizationIdentityNotFound,
    /// `InvalidAuthenticationToken`: missing, expired or invalid token (401).
    InvalidAuthenticationToken,
    /// `TooManyRequests`: throttled (429); see [`GraphError::retry_after`].
    TooManyRequests,
    /// `serviceNotAvailable`: try again later (503).
    ServiceNotAvailable,
    /// `UnknownError`: a server-side failure (5xx).
    UnknownError,
    /// `NotImplemented`: Graph does not support the operation.
    NotImplemented,
    /// `MethodNotAllowed`.
    MethodNotAllowed,
    /// Any other code, as Graph wrote it (empty when the body had none).
    Other(String),
}

impl ErrorCode {
    const KNOWN: [(&'static str, ErrorCode); 14] = [
        ("Request_ResourceNotFound", ErrorCode::RequestResourceNotFound),
        ("ResourceNotFound", ErrorCode::ResourceNotFound),
        ("Request_BadRequest", ErrorCode::RequestBadRequest),
        ("BadRequest", ErrorCode::BadRequest),
        ("Request_UnsupportedQuery", ErrorCode::RequestUnsupportedQuery),
        ("Request_MultipleObjectsWithSameKeyValue", ErrorCode::RequestMultipleObjectsWithSameKeyValue),
        ("Authorization_RequestDenied", ErrorCode::AuthorizationRequestDenied),
        ("Authorization_IdentityNotFound", ErrorCode::AuthorizationIdentityNotFound),
        ("InvalidAuthenticationToken", ErrorCode::InvalidAuthenticationToken),
        ("TooManyRequests", ErrorCode::TooManyRequests),
        ("serviceNotAvailable", ErrorCode::ServiceNotAvailable),
        ("UnknownError", ErrorCode::UnknownError),
        ("NotImplemented", ErrorCode::NotImplemented),
        ("MethodNotAllowed", ErrorCode::MethodNotAllowed),
    ];

    /// The code as Graph writes it.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::Other(code) => code,
            known => Self::KNOWN.iter().find(|(_, c)| c == known).map_or("", |(s, _)| s),
        }
    }

    /// `true` when Graph's body carried no code (e.g. an HTML gateway page).
    pub fn is_empty(&self) -> bool {
        self.as_str().is_empty()
    }
}

impl From<String> for ErrorCode {
    fn from(code: String) -> Self {
        Self::KNOWN.iter().find(|(s, _)| *s == code).map_or(ErrorCode::Other(code), |(_, c)| c.clone())
    }
}

impl From<&str> for ErrorCode {
    fn from(code: &str) -> Self {
        ErrorCode::from(code.to_owned())
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The method and URL path of the request that failed (no query string, no headers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSummary {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// URL path, e.g. `/v1.0/users/2d7e9c14-…`.
    pub path: String,
}

impl fmt::Display for RequestSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// A request that could not be built (bad URL, bad key material, too many batch items, …).
#[derive(Debug)]
pub struct BuildError {
    message: String,
    source: Option<BoxError>,
}

impl BuildError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), source: None }
    }

    pub(crate) fn with_source(message: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self { message: message.into(), source: Some(source.into()) }
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for BuildError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}

impl From<BuildError> for Error {
    fn from(e: BuildError) -> Self {
        Error::Build(e)
    }
}

/// Token acquisition failed: the token endpoint refused, could not be reached, or a custom
/// credential reported an error.
///
/// For identity-platform refusals, [`error`](Self::error) is the OAuth `error` (e.g.
/// `invalid_client`), [`aadsts`](Self::aadsts) the `AADSTS` number and
/// [`description`](Self::description) the `error_description`.
#[derive(Debug)]
pub struct AuthError(Box<AuthDetails>);

#[derive(Debug)]
struct AuthDetails {
    status: Option<u16>,
    error: Option<String>,
    aadsts: Option<u32>,
    description: Option<String>,
    correlation_id: Option<String>,
    request: Option<RequestSummary>,
    source: Option<BoxError>,
}

impl AuthError {
    /// An error from a custom [`TokenCredential`](crate::auth::TokenCredential).
    pub fn custom(description: impl Into<String>) -> Self {
        Self(Box::new(AuthDetails {
            status: None,
            error: None,
            aadsts: None,
            description: Some(description.into()),
            correlation_id: None,
            request: None,
            source: None,
        }))
    }

    /// A custom error with an underlying cause.
    pub fn with_source(description: impl Into<String>, source: impl Into<BoxError>) -> Self {
        let mut e = Self::custom(description);
        e.0.source = Some(source.into());
        e
    }

    pub(crate) fn endpoint(
        status: u16,
        error: Option<String>,
        error_codes: &[u32],
        description: Option<String>,
        correlation_id: Option<String>,
    ) -> Self {
        let aadsts = error_codes.first().copied().or_else(|| description.as_deref().and_then(parse_aadsts));
        Self(Box::new(AuthDetails {
            status: Some(status),
            error,
            aadsts,
            description,
            correlation_id,
            request: None,
            source: None,
        }))
    }

    pub(crate) fn for_request(mut self, request: RequestSummary) -> Self {
        self.0.request = Some(request);
        self
    }

    /// The token request (method and path), for the built-in credentials.
    pub fn request(&self) -> Option<&RequestSummary> {
        self.0.request.as_ref()
    }

    /// HTTP status of the token endpoint's answer, if it answered.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }

    /// The OAuth `error` field, e.g. `invalid_client`.
    pub fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }

    /// The AADSTS code, from `error_codes` or the `AADSTS…:` prefix of the description.
    pub fn aadsts(&self) -> Option<u32> {
        self.0.aadsts
    }

    /// The `error_description` (or a custom credential's message).
    pub fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The identity platform's `correlation_id`, for support requests.
    pub fn correlation_id(&self) -> Option<&str> {
        self.0.correlation_id.as_deref()
    }
}

fn parse_aadsts(description: &str) -> Option<u32> {
    let rest = &description[description.find("AADSTS")? + 6..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.request {
            Some(request) => write!(f, "{request}")?,
            None => f.write_str("token endpoint")?,
        }
        match (&self.0.status, &self.0.error, self.0.aadsts) {
            (Some(status), Some(error), Some(code)) => write!(f, " answered {status} {error} (AADSTS{code})"),
            (Some(status), Some(error), None) => write!(f, " answered {status} {error}"),
            (Some(status), None, _) => write!(f, " answered {status}"),
            (None, _, _) => write!(f, ": {}", self.0.description.as_deref().unwrap_or("credential failed")),
        }
    }
}

impl StdError for AuthError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source.as_deref().map(|e| e as &(dyn StdError + 'static))
    }
}

/// The connection failed, timed out, or the body could not be read. Opaque so that the HTTP
/// stack can change without breaking callers.
#[derive(Debug)]
pub struct TransportError {
    request: RequestSummary,
    timeout: bool,
    connect: bool,
    source: BoxError,
}

impl TransportError {
    pub(crate) fn new(request: RequestSummary, source: reqwest::Error) -> Self {
        Self { timeout: source.is_timeout(), connect: source.is_connect(), request, source: Box::new(source) }
    }

    /// The request that failed.
    pub fn request(&self) -> &RequestSummary {
        &self.request
    }

    /// `true` when the request or connection timed out.
    pub fn is_timeout(&self) -> bool {
        self.timeout
    }

    /// `true` when no connection could be made (the request was not sent).
    pub fn is_connect(&self) -> bool {
        self.connect
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = if self.timeout {
            "timed out"
        } else if self.connect {
            "could not connect"
        } else {
            "failed in transit"
        };
        write!(f, "{} {what}", self.request)
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&*self.source)
    }
}

/// A successful response whose body did not match the model.
#[derive(Debug)]
pub struct DecodeError {
    request: RequestSummary,
    path: String,
    message: String,
}

impl DecodeError {
    pub(crate) fn new(request: RequestSummary, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self { request, path: path.into(), message: message.into() }
    }

    /// The request whose response failed to decode.
    pub fn request(&self) -> &RequestSummary {
        &self.request
    }

    /// The JSON path where decoding failed, e.g. `value[3].createdDateTime` (`.` for the root).
    pub fn json_path(&self) -> &str {
        &self.path
    }

    /// What serde reported at that path.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: at `{}`: {}", self.request, self.path, self.message)
    }
}

impl StdError for DecodeError {}

/// Graph's error envelope (`{"error": {"code", "message", "innerError", "details"}}`) as a type.
///
/// Match on [`code`](Self::code), never on the message text.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct GraphError {
    /// HTTP status.
    pub status: u16,
    /// Graph's error code, e.g. [`ErrorCode::RequestResourceNotFound`] (`Other("")` if the body
    /// had none).
    pub code: ErrorCode,
    /// Graph's message.
    pub message: String,
    /// `innerError`: request ids and date.
    pub inner_error: InnerError,
    /// `details` (e.g. `ObjectConflict` on `userPrincipalName`).
    pub details: Vec<ErrorDetail>,
    /// `Retry-After`, when the response had one.
    pub retry_after: Option<Duration>,
    /// The request that failed.
    pub request: RequestSummary,
}

/// The `innerError` of a Graph error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct InnerError {
    /// `request-id` (from the body, else the `request-id` response header).
    pub request_id: Option<String>,
    /// `client-request-id` as echoed by Graph (else the id this client sent).
    pub client_request_id: Option<String>,
    /// `date` as Graph wrote it (UTC, no `Z`).
    pub date: Option<String>,
}

/// One entry of `details` in a Graph error.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[non_exhaustive]
pub struct ErrorDetail {
    /// Detail code, e.g. `ObjectConflict`.
    #[serde(default)]
    pub code: String,
    /// Detail message, if any.
    #[serde(default)]
    pub message: Option<String>,
    /// The property concerned, e.g. `userPrincipalName`.
    #[serde(default)]
    pub target: Option<String>,
}

impl GraphError {
    /// `404`.
    pub fn is_not_found(&self) -> bool {
        self.status == 404
    }

    /// `429`, or a `503` that asked the caller to come back later.
    pub fn is_throttled(&self) -> bool {
        self.status == 429 || (self.status == 503 && self.retry_after.is_some())
    }

    /// `403`.
    pub fn is_forbidden(&self) -> bool {
        self.status == 403
    }

    /// `401`.
    pub fn is_unauthorized(&self) -> bool {
        self.status == 401
    }

    /// How long Graph asked the caller to wait.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = if self.code.is_empty() { "(no code)" } else { self.code.as_str() };
        write!(f, "{}: {} {code}", self.request, self.status)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.inner_error.request_id {
            write!(f, " (request-id {id})")?;
        }
        Ok(())
    }
}

impl StdError for GraphError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aadsts_code_is_read_from_the_description_when_error_codes_are_missing() {
        let e =
            AuthError::endpoint(401, Some("invalid_client".into()), &[], Some("AADSTS7000215: Invalid".into()), None);
        assert_eq!(e.aadsts(), Some(7000215));
        assert_eq!(e.to_string(), "token endpoint answered 401 invalid_client (AADSTS7000215)");
    }

    #[test]
    fn graph_error_display_names_the_request() {
        let e = GraphError {
            status: 404,
            code: ErrorCode::RequestResourceNotFound,
            message: "gone".into(),
            inner_error: InnerError { request_id: Some("r-1".into()), ..InnerError::default() },
            details: vec![],
            retry_after: None,
            request: RequestSummary { method: "GET".into(), path: "/v1.0/users/x".into() },
        };
        assert_eq!(e.to_string(), "GET /v1.0/users/x: 404 Request_ResourceNotFound: gone (request-id r-1)");
        let outer = Error::Api(Box::new(e));
        assert_eq!(
            outer.to_string(),
            "GET /v1.0/users/x: 404 Request_ResourceNotFound: gone (request-id r-1)",
            "a plain log line of the error keeps status, code, message and request id"
        );
        assert!(outer.is_not_found());
        assert_eq!(outer.code(), Some(&ErrorCode::RequestResourceNotFound));
        assert_eq!(outer.status(), Some(404));
    }

    #[test]
    fn error_codes_round_trip_their_wire_strings_and_keep_unknown_ones() {
        for (wire, code) in ErrorCode::KNOWN {
            assert_eq!(ErrorCode::from(wire), code);
            assert_eq!(code.as_str(), wire);
        }
        let other = ErrorCode::from("Directory_QuotaExceeded");
        assert_eq!(other, ErrorCode::Other("Directory_QuotaExceeded".into()));
        assert_eq!(other, "Directory_QuotaExceeded");
        assert!(ErrorCode::from("").is_empty());
    }
}
