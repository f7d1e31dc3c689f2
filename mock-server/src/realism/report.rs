//! How each client behaved: requests, 429s it received, retries it sent before
//! the `Retry-After` it had been given was over (non-compliant), and its largest
//! burst (most requests inside one second of the tenant clock). A retry is the
//! same request again: the same `client-request-id` (which SDKs keep across
//! retries), or the same method and URL when the client sends none. Other
//! requests already on their way when a 429 was answered are not retries.

use std::collections::{BTreeMap, HashMap, VecDeque};

use serde::Serialize;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClientReport {
    pub requests: u64,
    pub throttled: u64,
    pub early_retries: u64,
    pub largest_burst: u64,
    /// 503/504 answers from realism's random faults.
    pub unavailable: u64,
    /// When each refused request may come back.
    #[serde(skip)]
    retry_at: HashMap<String, OffsetDateTime>,
    #[serde(skip)]
    recent: VecDeque<OffsetDateTime>,
}

#[derive(Debug, Default)]
pub(crate) struct Report {
    clients: BTreeMap<Uuid, ClientReport>,
}

impl Report {
    /// Count a request arriving at `now`; true when it came before the end of
    /// a `Retry-After` its client was given.
    pub(crate) fn arrived(&mut self, client: Uuid, request: &str, now: OffsetDateTime) -> bool {
        let c = self.clients.entry(client).or_default();
        c.requests += 1;
        while c.recent.front().is_some_and(|t| now - *t >= Duration::SECOND) {
            c.recent.pop_front();
        }
        c.recent.push_back(now);
        c.largest_burst = c.largest_burst.max(c.recent.len() as u64);
        let early = c.retry_at.get(request).is_some_and(|t| now < *t);
        if early {
            c.early_retries += 1;
        }
        early
    }

    /// Record the answer: a 429/503 with `Retry-After` sets when the client may
    /// come back.
    pub(crate) fn answered(
        &mut self,
        client: Uuid,
        request: &str,
        status: u16,
        retry_after: Option<f64>,
        now: OffsetDateTime,
    ) {
        let c = self.clients.entry(client).or_default();
        match status {
            429 => c.throttled += 1,
            503 | 504 => c.unavailable += 1,
            _ => {}
        }
        if let Some(s) = retry_after.filter(|s| s.is_finite() && *s > 0.0) {
            if c.retry_at.len() >= 1024 {
                c.retry_at.retain(|_, t| *t > now);
            }
            c.retry_at.insert(request.to_owned(), now + Duration::seconds_f64(s));
        }
    }

    pub(crate) fn view(&self) -> serde_json::Value {
        serde_json::json!({
            "clients": self.clients.iter().map(|(id, c)| {
                let mut v = serde_json::to_value(c).unwrap_or_default();
                if let Some(o) = v.as_object_mut() {
                    o.insert("clientId".into(), serde_json::Value::String(id.to_string()));
                }
                v
            }).collect::<Vec<_>>()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_request_before_retry_after_is_over_is_early_and_bursts_are_per_second() {
        let (mut r, app, at) = (Report::default(), Uuid::nil(), datetime!(2026-03-02 10:00 UTC));
        for i in 0..5 {
            assert!(!r.arrived(app, "a", at + Duration::milliseconds(100 * i)));
        }
        r.answered(app, "a", 429, Some(2.0), at + Duration::milliseconds(400));
        assert!(!r.arrived(app, "b", at + Duration::milliseconds(900)), "another request is not a retry");
        assert!(r.arrived(app, "a", at + Duration::seconds(1)), "1.6 s early");
        assert!(!r.arrived(app, "a", at + Duration::milliseconds(2400)), "waited");
        let v = r.view();
        let c = &v["clients"][0];
        assert_eq!(
            (c["requests"].as_u64(), c["throttled"].as_u64(), c["earlyRetries"].as_u64()),
            (Some(8), Some(1), Some(1))
        );
        assert_eq!(c["largestBurst"].as_u64(), Some(6));
    }
}
