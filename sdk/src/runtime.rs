//! What the SDK reads from the outside world, passed in so tests control it: the time
//! ([`Clock`], token expiry and the retry budget), waiting ([`Sleeper`], back-off) and randomness
//! ([`RandomSource`], back-off jitter and `client-request-id`s).

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

/// A source of the current time.
pub trait Clock: Send + Sync + Debug {
    /// Now.
    fn now(&self) -> SystemTime;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    // The one place the SDK reads OS time; everything else asks the injected clock.
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A boxed future returned by [`Sleeper::sleep`].
pub type SleepFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Waits between retries.
pub trait Sleeper: Send + Sync + Debug {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> SleepFuture;
}

/// Sleeps on the tokio timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep(&self, duration: Duration) -> SleepFuture {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Random bytes for back-off jitter and `client-request-id` values.
pub trait RandomSource: Send + Sync + Debug {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// The operating system's generator (through `ring`).
#[derive(Debug)]
pub struct SystemRandom(ring::rand::SystemRandom);

impl SystemRandom {
    /// The OS generator.
    pub fn new() -> Self {
        Self(ring::rand::SystemRandom::new())
    }
}

impl Default for SystemRandom {
    fn default() -> Self {
        Self::new()
    }
}

impl RandomSource for SystemRandom {
    fn fill(&self, buf: &mut [u8]) {
        use ring::rand::SecureRandom;
        // The OS generator fails only if the OS has no entropy source at all; fall back to
        // zeros then, which only affects jitter and request-id uniqueness, never security.
        if self.0.fill(buf).is_err() {
            buf.fill(0);
        }
    }
}

pub(crate) fn random_u64(random: &dyn RandomSource) -> u64 {
    let mut b = [0u8; 8];
    random.fill(&mut b);
    u64::from_le_bytes(b)
}

pub(crate) fn random_uuid(random: &dyn RandomSource) -> uuid::Uuid {
    let mut b = [0u8; 16];
    random.fill(&mut b);
    uuid::Builder::from_random_bytes(b).into_uuid()
}
