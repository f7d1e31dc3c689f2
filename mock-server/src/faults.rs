//! Injected faults: scripted answers a test asks for through
//! `PUT /_graphbox/tenants/{tid}/faults`, so client retry logic meets
//! throttling (429 with `Retry-After`), unavailability (503/504) and server
//! errors exactly as a real tenant serves them, without wiremock.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// One rule: requests that match it fail with `status`, `times` times (or until
/// the rules are replaced).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct FaultRule {
    /// HTTP method to match; any when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// Path prefix to match, e.g. `/v1.0/users`.
    pub path: String,
    /// 429, 500, 502, 503 or 504.
    pub status: u16,
    #[serde(default)]
    pub retry_after_seconds: Option<f64>,
    /// How many matching requests fail; every one when absent.
    #[serde(default)]
    pub times: Option<u32>,
}

/// A tenant's fault rules, consumed as requests match them.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: Mutex<Vec<FaultRule>>,
}

impl FaultRule {
    fn matches(&self, method: &str, path: &str) -> bool {
        self.method.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(method)) && path.starts_with(&self.path)
    }

    fn error(&self) -> ApiError {
        answer(self.status, self.retry_after_seconds.or(matches!(self.status, 429 | 503).then_some(1.0)))
    }
}

/// The answer Graph gives for a throttled or failing request with this status;
/// realism's random faults answer the same way.
pub(crate) fn answer(status: u16, retry_after: Option<f64>) -> ApiError {
    let mut e = match status {
        429 => ApiError::new(429, "TooManyRequests", "Please retry again later."),
        503 => ApiError::new(503, "serviceNotAvailable", "The service is temporarily unavailable. Please retry."),
        504 => ApiError::new(504, "UnknownError", "The gateway timed out waiting for the service."),
        502 => ApiError::new(502, "UnknownError", "Bad gateway."),
        _ => ApiError::new(500, "UnknownError", "An internal server error occurred (injected by graphbox)."),
    };
    e.retry_after = retry_after;
    e
}

/// Why a set of rules was refused.
pub(crate) fn validate(rules: &[FaultRule]) -> Result<(), String> {
    for r in rules {
        if !matches!(r.status, 429 | 500 | 502 | 503 | 504) {
            return Err(format!("status {} is not a fault graphbox injects (use 429, 500, 502, 503 or 504)", r.status));
        }
        if !r.path.starts_with('/') {
            return Err(format!("path '{}' must start with '/', e.g. /v1.0/users", r.path));
        }
        if r.retry_after_seconds.is_some_and(|s| !s.is_finite() || s < 0.0) {
            return Err("retryAfterSeconds must be a non-negative number".to_owned());
        }
    }
    Ok(())
}

impl Faults {
    pub(crate) fn replace(&self, rules: Vec<FaultRule>) {
        *self.rules.lock().unwrap_or_else(|e| e.into_inner()) = rules;
    }

    pub(crate) fn rules(&self) -> Vec<FaultRule> {
        self.rules.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The fault this request meets, if any; a rule with `times` is used up
    /// (then `.1` is true: the rules changed).
    pub(crate) fn take(&self, method: &str, path: &str) -> Option<(ApiError, bool)> {
        let mut rules = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        if rules.is_empty() {
            return None;
        }
        let i = rules.iter().position(|r| r.matches(method, path) && r.times != Some(0))?;
        let error = rules[i].error();
        let used = rules[i].times.is_some();
        if let Some(t) = rules[i].times.as_mut() {
            *t -= 1;
        }
        rules.retain(|r| r.times != Some(0));
        Some((error, used))
    }
}

/// Fault rules are state a test relies on: with `--state` they are journaled
/// whole whenever they change, so a restart neither forgets them nor gives
/// back a fault already served.
impl crate::tenant::Tenant {
    /// `PUT …/faults`.
    pub(crate) fn put_faults(&self, rules: Vec<FaultRule>) {
        self.faults.replace(rules);
        self.journal_change(|t| crate::journal::Change::Faults(t.faults.rules()));
    }

    /// The scripted fault this request meets, if any (see [`Faults::take`]).
    pub(crate) fn take_fault(&self, method: &str, path: &str) -> Option<ApiError> {
        let (error, used) = self.faults.take(method, path)?;
        if used {
            // Read under the write lock: the last record holds the rules as
            // of the last use, whichever request records first.
            self.journal_change(|t| crate::journal::Change::Faults(t.faults.rules()));
        }
        Some(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_with_times_fails_that_many_matching_requests_then_stops() {
        let faults = Faults::default();
        faults.replace(vec![FaultRule {
            method: Some("GET".into()),
            path: "/v1.0/users".into(),
            status: 429,
            retry_after_seconds: Some(2.5),
            times: Some(2),
        }]);
        assert!(faults.take("POST", "/v1.0/users").is_none(), "another method");
        assert_eq!(faults.take("GET", "/v1.0/users/x").map(|(e, used)| (e.retry_after, used)), Some((Some(2.5), true)));
        assert!(faults.take("GET", "/v1.0/users").is_some());
        assert!(faults.take("GET", "/v1.0/users").is_none(), "used up");
    }
}
