//! Bounded back-off for the two kinds of waiting onboarding does: the real service's replication
//! delay (an object created a moment ago is not yet visible everywhere), and DirSync's
//! `PendingDisabled` window (hours to days). Both wait through an injected [`Sleeper`], so against
//! the mock the caller can advance the tenant's virtual clock instead of sleeping.

use std::time::Duration;

use crate::error::Error;
use crate::runtime::Sleeper;

/// An exponential back-off with a cap per wait and a budget for the total waited time.
///
/// The budget counts the durations handed to the waiter, not wall-clock time, so it means the
/// same against the mock's virtual clock as against a real tenant.
///
/// ```
/// use std::time::Duration;
/// use graphbox_sdk::onboarding::Backoff;
/// let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(8), Duration::from_secs(60));
/// assert_eq!(b.delay(0), Duration::from_secs(1));
/// assert_eq!(b.delay(5), Duration::from_secs(8));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first wait.
    pub initial: Duration,
    /// The longest single wait.
    pub max: Duration,
    /// Give up once this much waiting has been done.
    pub budget: Duration,
}

impl Backoff {
    /// A back-off doubling from `initial` up to `max` per wait, giving up after `budget`.
    pub fn new(initial: Duration, max: Duration, budget: Duration) -> Self {
        Self { initial, max, budget }
    }

    /// For replication delay: 1 s doubling to 8 s, at most 60 s in all. Microsoft's guidance for
    /// a fresh service principal or secret is "retry for up to a minute".
    pub fn replication() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(8), Duration::from_secs(60))
    }

    /// For DirSync's `PendingDisabled`: 1 minute doubling to 1 hour, at most 96 hours (the
    /// documented window is up to 72 hours; people report more).
    pub fn dirsync() -> Self {
        Self::new(Duration::from_secs(60), Duration::from_secs(3600), Duration::from_secs(96 * 3600))
    }

    /// The wait before retry number `attempt` (0-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

/// `true` for the errors the real service gives right after an object was created, before it
/// has replicated: a 404 for the fresh object, or a 400 naming a reference that "does not exist".
pub(crate) fn is_replication_delay(error: &Error) -> bool {
    let Some(e) = error.as_graph_error() else { return false };
    if e.status == 404 {
        return true;
    }
    if e.status != 400 {
        return false;
    }
    // Observed texts for a service principal or application that has not replicated yet, e.g.
    // "Resource '…' does not exist or one of its queried reference-property objects are not
    // present." and "The appId '…' of the service principal does not reference a valid
    // application object."; matched loosely because the texts are not a contract.
    let m = e.message.to_ascii_lowercase();
    ["does not exist", "not present", "does not reference a valid", "invalid object identifier"]
        .iter()
        .any(|needle| m.contains(needle))
}

/// `true` for the token endpoint's answers for a client that was just created or a secret that
/// was just added: AADSTS700016 (application not found in the directory) and AADSTS7000215
/// (invalid client secret).
pub(crate) fn is_credential_replication_delay(error: &Error) -> bool {
    error.as_auth_error().and_then(|e| e.aadsts()).is_some_and(|code| code == 700016 || code == 7000215)
}

/// Runs `op` until it succeeds, fails with an error `retryable` rejects, or the back-off budget
/// is spent; `on_wait(attempt, delay, &error)` is told before each wait.
pub(crate) async fn retry<T, F, Fut>(
    backoff: Backoff,
    sleeper: &dyn Sleeper,
    retryable: fn(&Error) -> bool,
    mut on_wait: impl FnMut(u32, Duration, &Error),
    mut op: F,
) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let mut waited = Duration::ZERO;
    let mut attempt = 0u32;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if retryable(&e) => {
                let delay = backoff.delay(attempt);
                if waited + delay > backoff.budget {
                    return Err(e);
                }
                on_wait(attempt + 1, delay, &e);
                sleeper.sleep(delay).await;
                waited += delay;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::error::{GraphError, InnerError, RequestSummary};
    use crate::runtime::SleepFuture;

    #[derive(Debug, Default)]
    struct Recorder(Mutex<Vec<Duration>>);

    impl Sleeper for Recorder {
        fn sleep(&self, duration: Duration) -> SleepFuture {
            self.0.lock().expect("recorder").push(duration);
            Box::pin(async {})
        }
    }

    fn graph(status: u16, message: &str) -> Error {
        Error::Api(Box::new(GraphError {
            status,
            code: "Request_BadRequest".into(),
            message: message.into(),
            inner_error: InnerError::default(),
            details: vec![],
            retry_after: None,
            request: RequestSummary { method: "POST".into(), path: "/v1.0/servicePrincipals".into() },
        }))
    }

    #[tokio::test]
    async fn a_fresh_objects_404_is_retried_with_back_off_until_it_appears() {
        let sleeper = Recorder::default();
        let mut answers = vec![Ok(7), Err(graph(404, "gone")), Err(graph(404, "gone"))];
        let got = retry(
            Backoff::replication(),
            &sleeper,
            is_replication_delay,
            |_, _, _| {},
            || {
                let next = answers.pop().expect("an answer");
                async move { next }
            },
        )
        .await;
        assert_eq!(got.ok(), Some(7));
        assert_eq!(*sleeper.0.lock().expect("recorder"), [Duration::from_secs(1), Duration::from_secs(2)]);
    }

    #[tokio::test]
    async fn other_errors_are_not_retried_and_the_budget_bounds_the_rest() {
        let sleeper = Recorder::default();
        let refused = retry(
            Backoff::replication(),
            &sleeper,
            is_replication_delay,
            |_, _, _| {},
            || async {
                Err::<(), _>(graph(
                    400,
                    "Another object with the same value for property userPrincipalName already exists.",
                ))
            },
        )
        .await;
        assert!(refused.is_err());
        assert!(sleeper.0.lock().expect("recorder").is_empty());

        let mut calls = 0;
        let missing = "The appId 'x' of the service principal does not reference a valid application object.";
        let gave_up = retry(
            Backoff::replication(),
            &sleeper,
            is_replication_delay,
            |_, _, _| {},
            || {
                calls += 1;
                async move { Err::<(), _>(graph(400, missing)) }
            },
        )
        .await;
        assert!(gave_up.is_err());
        let waited: Duration = sleeper.0.lock().expect("recorder").iter().sum();
        assert!(waited <= Backoff::replication().budget, "{waited:?}");
        assert_eq!(calls, 10, "1+2+4+8×6 = 55 s of waits fit in 60 s: 9 waits, 10 tries");
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let b = Backoff::new(Duration::from_secs(2), Duration::from_secs(10), Duration::from_secs(100));
        let delays: Vec<u64> = (0..5).map(|a| b.delay(a).as_secs()).collect();
        assert_eq!(delays, [2, 4, 8, 10, 10]);
        assert_eq!(b.delay(200), Duration::from_secs(10));
    }
}
