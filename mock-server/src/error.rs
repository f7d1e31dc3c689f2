//! `ApiError`: every way a Graph request can fail, as data. Handlers return it;
//! only `http` turns it into bytes (Graph's error envelope), so no handler writes
//! error JSON by hand.

use std::borrow::Cow;

use crate::odata::ODataError;

/// One entry of the envelope's optional `details` array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorDetail {
    pub target: String,
    pub code: String,
}

/// A failed Graph request: status, Graph's `error.code` and a message that tells
/// the caller what to fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub(crate) struct ApiError {
    pub status: u16,
    pub code: Cow<'static, str>,
    pub message: String,
    pub details: Vec<ErrorDetail>,
    /// `Retry-After` in seconds, for throttling and unavailability answers.
    pub retry_after: Option<f64>,
}

impl ApiError {
    pub(crate) fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code: Cow::Borrowed(code), message: message.into(), details: Vec::new(), retry_after: None }
    }

    pub(crate) fn with_detail(mut self, target: &str, code: &str) -> Self {
        self.details.push(ErrorDetail { target: target.to_owned(), code: code.to_owned() });
        self
    }

    /// 404 for an object id or UPN the tenant does not have.
    pub(crate) fn not_found(id: &str) -> Self {
        ApiError::new(
            404,
            "Request_ResourceNotFound",
            format!("Resource '{id}' does not exist or one of its queried reference-property objects are not present."),
        )
    }

    /// A path segment Graph does not know: 400, not 404.
    pub(crate) fn unknown_segment(segment: &str) -> Self {
        ApiError::new(400, "BadRequest", format!("Resource not found for the segment '{segment}'."))
    }

    /// Gateway/OData-level 400 (bare `BadRequest`).
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(400, "BadRequest", message)
    }

    /// Directory-level 400 (`Request_BadRequest`).
    pub(crate) fn request_bad_request(message: impl Into<String>) -> Self {
        ApiError::new(400, "Request_BadRequest", message)
    }

    pub(crate) fn unsupported_query(message: impl Into<String>) -> Self {
        ApiError::new(400, "Request_UnsupportedQuery", message)
    }

    pub(crate) fn method_not_allowed() -> Self {
        ApiError::new(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
    }

    /// The body could not be read as JSON (also: wrong or missing content type).
    pub(crate) fn unreadable_json() -> Self {
        ApiError::bad_request(
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
        )
    }

    /// 401 `InvalidAuthenticationToken` with the given reason.
    pub(crate) fn invalid_token(message: impl Into<String>) -> Self {
        ApiError::new(401, "InvalidAuthenticationToken", message)
    }

    /// The one 403 Graph gives for missing permissions.
    pub(crate) fn forbidden() -> Self {
        ApiError::new(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
    }

    pub(crate) fn property_read_only(name: &str) -> Self {
        ApiError::request_bad_request(format!("Property '{name}' is read-only and cannot be set."))
    }

    pub(crate) fn value_required(property: &str, resource: &str) -> Self {
        ApiError::request_bad_request(format!(
            "A value is required for property '{property}' of resource '{resource}'."
        ))
    }

    pub(crate) fn invalid_values() -> Self {
        ApiError::request_bad_request("One or more properties contains invalid values.")
    }
}

impl From<ODataError> for ApiError {
    fn from(e: ODataError) -> Self {
        ApiError::new(400, e.code.as_str(), e.message)
    }
}
