//! Pacing to Graph's throttling headers, so a long run is not throttled when it could have
//! slowed down instead.
//!
//! Microsoft Graph's directory throttling is a token bucket per application and tenant. Above
//! 80 % use of a limit, responses carry `x-ms-throttle-limit-percentage` (0.8–1.8); a `429`
//! carries `Retry-After`. A client that knows this:
//!
//! - while answers say a limit is above 80 % used and rising, pauses before each request,
//!   doubling the pause each time use rises and easing it by a fifth each time it falls, so its
//!   rate settles at the bucket's refill rate (which it cannot know: it depends on the tenant's
//!   size and the operation) instead of emptying the bucket;
//! - after a `429`, holds *every* request of this client until `Retry-After` is over (other
//!   requests in flight would be throttled too, and coming back early counts against the
//!   client).
//!
//! Every wait is counted in a [`WaitReport`] ([`crate::GraphClient::waits`]).

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use crate::runtime::{Clock, Sleeper};

/// Use of a limit below which Graph sends no percentage and the client does not pause.
const THRESHOLD: f64 = 0.8;

/// The first pause once use passes the threshold and keeps rising.
const FIRST_PAUSE: Duration = Duration::from_millis(100);

/// The longest pause before one request.
const LONGEST_PAUSE: Duration = Duration::from_secs(60);

/// What a client waited, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WaitReport {
    /// Pauses before requests because Graph said a limit was above 80 % used.
    pub paced: u64,
    /// Their total.
    pub paced_time: Duration,
    /// Waits for a `Retry-After` (a 429 or 503 this client received, or one another request of
    /// this client received).
    pub retry_after: u64,
    /// Their total.
    pub retry_after_time: Duration,
    /// Exponential back-off waits (a retryable answer without `Retry-After`, or a transport error).
    pub backoff: u64,
    /// Their total.
    pub backoff_time: Duration,
    /// `429` answers received.
    pub throttled: u64,
}

impl WaitReport {
    /// All time waited.
    pub fn total(&self) -> Duration {
        self.paced_time + self.retry_after_time + self.backoff_time
    }
}

impl std::fmt::Display for WaitReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} pauses near a throttling limit ({:.1}s), {} Retry-After waits ({:.1}s), {} back-offs ({:.1}s); {} 429s received",
            self.paced,
            self.paced_time.as_secs_f64(),
            self.retry_after,
            self.retry_after_time.as_secs_f64(),
            self.backoff,
            self.backoff_time.as_secs_f64(),
            self.throttled
        )
    }
}

#[derive(Debug, Default)]
struct State {
    /// The last `x-ms-throttle-limit-percentage` seen (0 when the last answer had none).
    pressure: f64,
    /// The pause before each request now.
    pause: Duration,
    /// No request before this (a `Retry-After` given to any request of this client).
    not_before: Option<SystemTime>,
    report: WaitReport,
}

/// Shared by every request of one client.
#[derive(Debug, Default)]
pub(crate) struct Pacer {
    state: Mutex<State>,
}

/// The next pause after an answer reported `now` use of a limit, following `before`.
pub(crate) fn next_pause(pause: Duration, before: f64, now: Option<f64>) -> Duration {
    match now {
        None => Duration::ZERO,
        Some(p) if p <= THRESHOLD => Duration::ZERO,
        Some(p) if p >= before => pause.saturating_mul(2).max(FIRST_PAUSE).min(LONGEST_PAUSE),
        Some(_) => pause.mul_f64(0.8),
    }
}

/// `x-ms-throttle-limit-percentage` as a number.
pub(crate) fn parse_percentage(value: &str) -> Option<f64> {
    value.trim().trim_end_matches('%').parse::<f64>().ok().filter(|p| p.is_finite() && *p >= 0.0)
}

impl Pacer {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wait as the last answers ask before sending a request.
    pub(crate) async fn before_request(&self, clock: &dyn Clock, sleeper: &dyn Sleeper) {
        let (hold, pause) = {
            let s = self.lock();
            let hold = s.not_before.and_then(|t| t.duration_since(clock.now()).ok()).filter(|d| !d.is_zero());
            (hold, s.pause)
        };
        if let Some(hold) = hold {
            self.lock().report.retry_after += 1;
            self.lock().report.retry_after_time += hold;
            tracing::debug!(?hold, "holding until another request's Retry-After is over");
            sleeper.sleep(hold).await;
        }
        if !pause.is_zero() {
            {
                let mut s = self.lock();
                s.report.paced += 1;
                s.report.paced_time += pause;
            }
            tracing::debug!(?pause, "pacing: a throttling limit is above 80 % used");
            sleeper.sleep(pause).await;
        }
    }

    /// Learn from an answer's headers.
    pub(crate) fn observe(&self, status: u16, percentage: Option<f64>, retry_after: Option<Duration>, now: SystemTime) {
        let mut s = self.lock();
        s.pause = next_pause(s.pause, s.pressure, percentage);
        s.pressure = percentage.unwrap_or(0.0);
        if status == 429 {
            s.report.throttled += 1;
        }
        if matches!(status, 429 | 503) {
            if let Some(after) = retry_after {
                let until = now + after;
                s.not_before = Some(s.not_before.map_or(until, |t| t.max(until)));
            }
        }
    }

    /// A retry wait the transport is about to make: a `Retry-After` counts as such (and holds
    /// this client's other requests too), anything else as back-off.
    pub(crate) fn retry_wait(&self, delay: Duration, from_retry_after: bool) {
        let mut s = self.lock();
        if from_retry_after {
            s.report.retry_after += 1;
            s.report.retry_after_time += delay;
        } else {
            s.report.backoff += 1;
            s.report.backoff_time += delay;
        }
    }

    /// What was waited so far.
    pub(crate) fn report(&self) -> WaitReport {
        self.lock().report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pause_doubles_while_use_rises_eases_while_it_falls_and_ends_below_80_percent() {
        let mut pause = Duration::ZERO;
        let mut before = 0.0;
        let mut seen = Vec::new();
        for p in [0.7, 0.82, 0.85, 0.9, 0.88, 0.86, 0.9] {
            pause = next_pause(pause, before, Some(p));
            before = p;
            seen.push(pause.as_millis());
        }
        assert_eq!(seen, [0, 100, 200, 400, 320, 256, 512]);
        assert_eq!(next_pause(Duration::from_secs(50), 0.9, Some(0.95)), LONGEST_PAUSE);
        assert_eq!(next_pause(Duration::from_secs(5), 0.9, None), Duration::ZERO, "no header: below 80 %");
    }

    #[test]
    fn percentages_parse_as_fractions_and_nonsense_is_ignored() {
        assert_eq!(parse_percentage("0.85"), Some(0.85));
        assert_eq!(parse_percentage(" 1.2 "), Some(1.2));
        assert_eq!(parse_percentage("high"), None);
        assert_eq!(parse_percentage("-1"), None);
    }

    #[test]
    fn a_retry_after_holds_until_it_is_over_and_later_answers_reset_the_pressure() {
        let p = Pacer::default();
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        p.observe(429, None, Some(Duration::from_secs(3)), now);
        p.observe(200, Some(0.95), None, now);
        {
            let s = p.lock();
            assert_eq!(s.not_before, Some(now + Duration::from_secs(3)));
            assert!((s.pressure - 0.95).abs() < 1e-9);
        }
        p.observe(200, None, None, now);
        assert_eq!(p.lock().pressure, 0.0, "no header: below 80 %");
        assert_eq!(p.report().throttled, 1);
    }
}
