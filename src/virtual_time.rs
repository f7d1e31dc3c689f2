//! Waiting on a mock tenant's clock instead of the wall clock.
//!
//! [`VirtualTime`] is both the SDK's [`Clock`] (it reads the tenant's clock) and its
//! [`Sleeper`] (it moves the tenant's clock forward), so replication windows, `Retry-After`
//! and throttling buckets on a realistic mock pass in an instant while every decision is the
//! same as over real time. Give it to the `GraphClient` builder (`.clock(..)` and `.sleeper(..)`)
//! and to onboarding's `.waiter(..)`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use graphbox_mock::Graphbox;
use graphbox_sdk::{Clock, SleepFuture, Sleeper};

/// The default tenant's clock of an in-process mock, as the SDK's clock and sleeper.
#[derive(Debug, Clone)]
pub struct VirtualTime {
    mock: Arc<Graphbox>,
    slept: Arc<Mutex<Duration>>,
}

impl VirtualTime {
    /// Time on `mock`'s default tenant.
    pub fn new(mock: Arc<Graphbox>) -> Self {
        Self { mock, slept: Arc::default() }
    }

    /// The sum of every wait asked of this sleeper (concurrent waits overlap on the clock, so
    /// the clock may have moved less).
    pub fn slept(&self) -> Duration {
        *self.slept.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clock for VirtualTime {
    fn now(&self) -> SystemTime {
        SystemTime::from(self.mock.now())
    }
}

impl Sleeper for VirtualTime {
    /// Move the clock to `now + duration` unless another wait already moved it past that:
    /// waits that overlap in time overlap on the clock too.
    fn sleep(&self, duration: Duration) -> SleepFuture {
        *self.slept.lock().unwrap_or_else(|e| e.into_inner()) += duration;
        let mock = self.mock.clone();
        let target = mock.now() + duration;
        Box::pin(async move {
            let now = mock.now();
            if target > now {
                let by = Duration::try_from(target - now).unwrap_or_default();
                if let Err(e) = mock.advance_clock(by) {
                    eprintln!("graphbox: the virtual clock could not move: {e}");
                }
            }
            // Let the other tasks run, as a real wait would.
            tokio::task::yield_now().await;
        })
    }
}
