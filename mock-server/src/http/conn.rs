//! One connection's clock: what it last did, and when it has waited too long.
//!
//! hyper's own header timer also runs while a keep-alive connection waits for
//! its next request, so it cannot tell "idle" from "slow headers". The server
//! watches the bytes instead: [`Watched`] stamps every read and write on an
//! [`Activity`], the service marks when a request is under way, and
//! [`Activity::check`] (pure, tested without sockets) says whether the
//! connection is past its header or idle deadline.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

// Connection deadlines are network time, not a tenant's: advancing a tenant
// clock must not time out its sockets. tokio's clock also pauses in tests.
use tokio::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::limits::Limits;

/// What one connection did last. Times are nanoseconds since `origin`, with 0
/// meaning "not set"; every field is touched from the connection's own task,
/// so relaxed ordering is enough.
#[derive(Debug)]
pub(crate) struct Activity {
    origin: Instant,
    last: AtomicU64,
    head_started: AtomicU64,
    in_flight: AtomicU32,
}

/// What the watchdog should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Watch {
    /// Nothing is due before this many nanoseconds since the origin.
    Until(u64),
    /// A request is being handled: its body has its own timeout and handlers do
    /// not block, so look again after the shortest timeout.
    Busy,
    /// Close the connection: a request began and its headers did not finish.
    HeadersTooSlow,
    /// Close the connection: nothing was sent or received for too long.
    Idle,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Activity {
            origin: Instant::now(),
            last: AtomicU64::new(1),
            head_started: AtomicU64::new(0),
            in_flight: AtomicU32::new(0),
        }
    }

    /// Nanoseconds since the origin, never 0 (0 means "not set").
    pub(crate) fn now(&self) -> u64 {
        (self.origin.elapsed().as_nanos() as u64).max(1)
    }

    pub(crate) fn instant(&self, at: u64) -> Instant {
        self.origin + Duration::from_nanos(at)
    }

    /// Bytes arrived; true when they are the first of a new request.
    fn read(&self, at: u64) -> bool {
        self.last.store(at, Ordering::Relaxed);
        let starts = self.in_flight.load(Ordering::Relaxed) == 0 && self.head_started.load(Ordering::Relaxed) == 0;
        if starts {
            self.head_started.store(at, Ordering::Relaxed);
        }
        starts
    }

    /// A request began and never reached the service: what hyper writes now
    /// is its own answer to a head it could not parse.
    fn stranded(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0 && self.head_started.load(Ordering::Relaxed) != 0
    }

    fn wrote(&self, at: u64) {
        self.last.store(at, Ordering::Relaxed);
    }

    /// hyper handed a whole request head to the service.
    pub(crate) fn request_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.head_started.store(0, Ordering::Relaxed);
    }

    /// The service produced its response (hyper now writes it).
    pub(crate) fn request_finished(&self, at: u64) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.last.store(at, Ordering::Relaxed);
    }

    /// Whether the connection has outstayed `limits` at `now`.
    pub(crate) fn check(&self, now: u64, limits: &Limits) -> Watch {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return Watch::Busy;
        }
        let nanos = |d: Duration| d.as_nanos().min(u64::MAX as u128) as u64;
        let head = self.head_started.load(Ordering::Relaxed);
        if head != 0 {
            let due = head.saturating_add(nanos(limits.header_timeout));
            return if now >= due { Watch::HeadersTooSlow } else { Watch::Until(due) };
        }
        let due = self.last.load(Ordering::Relaxed).saturating_add(nanos(limits.idle_timeout));
        if now >= due {
            Watch::Idle
        } else {
            Watch::Until(due)
        }
    }
}

/// Builds the answer to a request hyper refused before the service saw it,
/// from the first bytes of that request and hyper's status (400, 414, 431).
pub(crate) type Rewrite = std::sync::Arc<dyn Fn(&[u8], u16) -> Vec<u8> + Send + Sync>;

/// How much of a request's first bytes is kept to name its endpoint when
/// hyper cannot parse it: the method and enough of the path for its family.
const HEAD_PREFIX: usize = 256;

/// A stream that stamps its connection's [`Activity`] on every byte moved,
/// and gives hyper's bodiless answer to an unparseable request the envelope
/// of the endpoint it was sent to.
pub(crate) struct Watched<S> {
    inner: S,
    activity: std::sync::Arc<Activity>,
    rewrite: Rewrite,
    head_prefix: Vec<u8>,
    /// Our answer in place of hyper's, and how much of it is written.
    replacement: Option<(Vec<u8>, usize)>,
}

impl<S> std::fmt::Debug for Watched<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watched").field("activity", &self.activity).finish_non_exhaustive()
    }
}

impl<S> Watched<S> {
    pub(crate) fn new(inner: S, activity: std::sync::Arc<Activity>, rewrite: Rewrite) -> Self {
        Watched { inner, activity, rewrite, head_prefix: Vec::new(), replacement: None }
    }

    /// hyper's automatic answer to a parse error is exactly a 4xx head with
    /// `connection: close` and an empty body; the service never answers so.
    fn hypers_refusal(&self, data: &[u8]) -> Option<u16> {
        const SIGNATURE: &[u8] = b"\r\nconnection: close\r\ncontent-length: 0\r\n";
        if self.replacement.is_some() || !data.starts_with(b"HTTP/1.1 4") || !self.activity.stranded() {
            return None;
        }
        if !data.windows(SIGNATURE.len()).any(|w| w == SIGNATURE) {
            return None;
        }
        std::str::from_utf8(data.get(9..12)?).ok()?.parse().ok()
    }
}

impl<S: AsyncWrite + Unpin> Watched<S> {
    /// Write our replacement; `claimed` is what hyper is told was written.
    fn poll_replacement(&mut self, cx: &mut Context<'_>, claimed: usize) -> Poll<io::Result<usize>> {
        while let Some((bytes, written)) = &mut self.replacement {
            if *written == bytes.len() {
                return Poll::Ready(Ok(claimed));
            }
            match Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(claimed))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let now = self.activity.now();
            if self.activity.read(now) {
                let fresh = &buf.filled()[before..];
                let keep = fresh.len().min(HEAD_PREFIX);
                self.head_prefix.clear();
                self.head_prefix.extend_from_slice(&fresh[..keep]);
            }
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        if let Some(status) = self.hypers_refusal(data) {
            let answer = (self.rewrite)(&self.head_prefix, status);
            self.replacement = Some((answer, 0));
        }
        if self.replacement.is_some() {
            return self.poll_replacement(cx, data.len());
        }
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            let now = self.activity.now();
            self.activity.wrote(now);
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if let Some(first) = bufs.iter().find(|b| !b.is_empty()) {
            if let Some(status) = self.hypers_refusal(first) {
                let answer = (self.rewrite)(&self.head_prefix, status);
                self.replacement = Some((answer, 0));
            }
        }
        if self.replacement.is_some() {
            let claimed = bufs.iter().map(|b| b.len()).sum();
            return self.poll_replacement(cx, claimed);
        }
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            let now = self.activity.now();
            self.activity.wrote(now);
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn limits() -> Limits {
        Limits { header_timeout: Duration::from_secs(5), idle_timeout: Duration::from_secs(60), ..Limits::default() }
    }

    #[test]
    fn a_silent_connection_is_idle_after_the_idle_timeout_from_its_last_activity() {
        let a = Activity::new();
        a.wrote(10 * S);
        assert_eq!(a.check(20 * S, &limits()), Watch::Until(70 * S));
        assert_eq!(a.check(70 * S, &limits()), Watch::Idle);
    }

    #[test]
    fn a_request_that_began_has_the_header_timeout_from_its_first_byte_however_it_drips() {
        let a = Activity::new();
        a.read(10 * S);
        // More bytes keep arriving, but the deadline stays where the head began.
        a.read(12 * S);
        a.read(14 * S);
        assert_eq!(a.check(14 * S, &limits()), Watch::Until(15 * S));
        assert_eq!(a.check(15 * S, &limits()), Watch::HeadersTooSlow);
    }

    #[test]
    fn a_request_under_way_is_never_cut_and_its_end_starts_the_idle_wait() {
        let a = Activity::new();
        a.read(10 * S);
        a.request_started();
        assert_eq!(a.check(100 * S, &limits()), Watch::Busy);
        a.request_finished(100 * S);
        assert_eq!(a.check(101 * S, &limits()), Watch::Until(160 * S));
        // The next request's first byte starts a new header deadline.
        a.read(120 * S);
        assert_eq!(a.check(121 * S, &limits()), Watch::Until(125 * S));
    }

    const HYPERS_400: &[u8] = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: x\r\n\r\n";

    fn watched(activity: std::sync::Arc<Activity>) -> Watched<Vec<u8>> {
        let rewrite: Rewrite = std::sync::Arc::new(|prefix: &[u8], status: u16| {
            format!("{status} for {}", String::from_utf8_lossy(prefix)).into_bytes()
        });
        Watched::new(Vec::new(), activity, rewrite)
    }

    #[tokio::test]
    async fn hypers_bare_answer_to_an_unparseable_head_is_replaced_by_ours() {
        use tokio::io::AsyncWriteExt;
        let activity = std::sync::Arc::new(Activity::new());
        let mut w = watched(activity.clone());
        w.head_prefix = b"GET /v1.0/x\"".to_vec();
        activity.read(5 * S);
        w.write_all(HYPERS_400).await.unwrap();
        assert_eq!(w.inner, b"400 for GET /v1.0/x\"");
    }

    #[tokio::test]
    async fn answers_of_requests_the_service_saw_pass_untouched() {
        use tokio::io::AsyncWriteExt;
        let activity = std::sync::Arc::new(Activity::new());
        let mut w = watched(activity.clone());
        // Served: the head reached the service, so nothing is stranded.
        activity.read(5 * S);
        activity.request_started();
        activity.request_finished(6 * S);
        w.write_all(HYPERS_400).await.unwrap();
        assert_eq!(w.inner, HYPERS_400);
        // Stranded, but a body-carrying answer is never hyper's.
        let mut w = watched(activity.clone());
        activity.read(7 * S);
        let ours = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}";
        w.write_all(ours).await.unwrap();
        assert_eq!(w.inner, ours);
    }

    #[test]
    fn huge_timeouts_saturate_instead_of_overflowing() {
        let a = Activity::new();
        let forever = Limits { idle_timeout: Duration::MAX, ..limits() };
        assert_eq!(a.check(u64::MAX - 1, &forever), Watch::Until(u64::MAX));
    }
}
