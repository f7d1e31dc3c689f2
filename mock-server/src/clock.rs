//! Time, as each tenant sees it.
//!
//! A tenant's clock is the OS clock plus an offset that the control API grows
//! (`POST /_graphbox/tenants/{tid}/clock/advance`), or a frozen instant plus that
//! offset, which makes snapshot tests byte-stable. Nothing else in the mock reads
//! the OS time: token lifetimes, `createdDateTime`, DirSync deadlines and error
//! dates all come from here.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

use time::OffsetDateTime;

/// The wall clock, read once per call. The only place the mock touches OS time.
pub(crate) fn system_now() -> OffsetDateTime {
    // The one sanctioned reading of real time: every tenant clock starts here.
    #[allow(clippy::disallowed_methods)]
    let now = SystemTime::now();
    OffsetDateTime::from(now)
}

/// The latest instant a tenant clock may show. Dates derived from "now" (token
/// expiry, a secret's default two-year end, refresh-token lifetimes, DirSync
/// deadlines) must stay representable, so the clock stops a millennium short
/// of the year 9999 that Graph's date formats end at.
pub(crate) const LATEST: OffsetDateTime = time::macros::datetime!(9000-01-01 00:00:00 UTC);

/// Why a clock cannot move or be rebuilt as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the clock would pass {latest} (it can move at most {room_seconds} more seconds)")]
pub(crate) struct ClockOutOfRange {
    pub latest: String,
    pub room_seconds: i64,
}

/// A tenant's clock: a base (the OS clock or a frozen instant) plus an offset.
#[derive(Debug)]
pub(crate) struct TenantClock {
    frozen_at: Option<OffsetDateTime>,
    offset_micros: AtomicI64,
}

impl TenantClock {
    /// Real time, advanced by whatever the control API adds.
    pub(crate) fn system() -> Self {
        TenantClock { frozen_at: None, offset_micros: AtomicI64::new(0) }
    }

    /// Time that stands still at `at` until advanced.
    pub(crate) fn frozen(at: OffsetDateTime) -> Self {
        TenantClock { frozen_at: Some(at), offset_micros: AtomicI64::new(0) }
    }

    /// Rebuild a clock from saved state with the same offset; refused when the
    /// clock it describes would already be past [`LATEST`].
    pub(crate) fn with_offset(frozen_at: Option<OffsetDateTime>, offset: Duration) -> Result<Self, ClockOutOfRange> {
        let clock = TenantClock { frozen_at, offset_micros: AtomicI64::new(0) };
        clock.advance(offset)?;
        Ok(clock)
    }

    /// The tenant's current time.
    pub(crate) fn now(&self) -> OffsetDateTime {
        let base = self.frozen_at.unwrap_or_else(system_now);
        // `advance` keeps base + offset within range; the clamp covers only a
        // frozen base that a future edit lets past it.
        base.checked_add(time::Duration::microseconds(self.offset_micros.load(Ordering::Relaxed))).unwrap_or(LATEST)
    }

    /// Move the clock forward by `by`, unless that would pass [`LATEST`].
    pub(crate) fn advance(&self, by: Duration) -> Result<(), ClockOutOfRange> {
        let base = self.frozen_at.unwrap_or_else(system_now);
        let room = (LATEST - base).whole_microseconds();
        let by = i128::try_from(by.as_micros()).unwrap_or(i128::MAX);
        let mut refused = None;
        let _ = self.offset_micros.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |cur| {
            refused = None;
            let next = i128::from(cur) + by;
            if next > room {
                refused = Some(ClockOutOfRange {
                    latest: format_datetime(LATEST),
                    room_seconds: ((room - i128::from(cur)) / 1_000_000).max(0) as i64,
                });
                return None;
            }
            i64::try_from(next).ok()
        });
        match refused {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// How far the control API has moved this clock.
    pub(crate) fn offset(&self) -> Duration {
        Duration::from_micros(self.offset_micros.load(Ordering::Relaxed).max(0) as u64)
    }

    pub(crate) fn frozen_at(&self) -> Option<OffsetDateTime> {
        self.frozen_at
    }
}

/// `2026-03-02T10:21:07Z`: Graph's date-time format for entity properties.
///
/// Written digit by digit: every object a tenant creates carries one or two of
/// these, and the `format!` machinery was a visible share of tenant creation.
pub(crate) fn format_datetime(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return format!(
            "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
    }
    let mut out = *b"0000-00-00T00:00:00Z";
    let mut put = |at: usize, value: u32, width: usize| {
        let mut v = value;
        for i in (0..width).rev() {
            out[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year as u32, 4);
    put(5, u32::from(u8::from(t.month())), 2);
    put(8, u32::from(t.day()), 2);
    put(11, u32::from(t.hour()), 2);
    put(14, u32::from(t.minute()), 2);
    put(17, u32::from(t.second()), 2);
    String::from_utf8(out.to_vec()).expect("ASCII digits and separators")
}

/// `2026-03-02T10:21:07`: `innerError.date` has no zone and no fraction.
pub(crate) fn format_inner_error_date(t: OffsetDateTime) -> String {
    let mut s = format_datetime(t);
    s.pop();
    s
}

/// `Mon, 02 Mar 2026 10:21:07 GMT` for the `Date` header.
pub(crate) fn format_http_date(t: OffsetDateTime) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[t.weekday().number_days_from_monday() as usize],
        t.day(),
        MONTHS[u8::from(t.month()) as usize - 1],
        t.year(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parse an ISO 8601 date-time as clients send it (`Z` or an offset, optional fraction).
pub(crate) fn parse_datetime(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn advancing_past_the_latest_instant_is_refused_and_leaves_the_clock_where_it_was() {
        let start = time::macros::datetime!(2026-01-01 00:00:00 UTC);
        let clock = TenantClock::frozen(start);
        let e = clock.advance(Duration::from_secs(1_000_000_000_000)).unwrap_err();
        assert_eq!(clock.now(), start);
        assert_eq!(e.room_seconds, (LATEST - start).whole_seconds());
        // Exactly to the edge is fine; one second more is not.
        clock.advance(Duration::from_secs(e.room_seconds as u64)).unwrap();
        assert_eq!(clock.now(), LATEST);
        assert!(clock.advance(Duration::from_secs(1)).is_err());
        assert_eq!(clock.now(), LATEST);
        assert!(clock.advance(Duration::MAX).is_err());
    }

    #[test]
    fn a_saved_clock_past_the_latest_instant_is_not_rebuilt() {
        let start = time::macros::datetime!(2026-01-01 00:00:00 UTC);
        assert!(TenantClock::with_offset(Some(start), Duration::from_secs(3600)).is_ok());
        assert!(TenantClock::with_offset(Some(start), Duration::from_secs(1_000_000_000_000)).is_err());
        let late = time::macros::datetime!(9500-01-01 00:00:00 UTC);
        assert!(TenantClock::with_offset(Some(late), Duration::ZERO).is_err());
    }

    #[test]
    fn advancing_a_frozen_clock_moves_it_by_exactly_that_much() {
        let clock = TenantClock::frozen(datetime!(2026-03-02 10:00:00 UTC));
        clock.advance(Duration::from_secs(72 * 3600)).unwrap();
        assert_eq!(clock.now(), datetime!(2026-03-05 10:00:00 UTC));
    }

    #[test]
    fn dates_use_graphs_three_formats() {
        let t = datetime!(2026-03-02 10:21:07.123 UTC);
        assert_eq!(format_datetime(t), "2026-03-02T10:21:07Z");
        assert_eq!(format_inner_error_date(t), "2026-03-02T10:21:07");
        assert_eq!(format_http_date(t), "Mon, 02 Mar 2026 10:21:07 GMT");
    }

    #[test]
    fn entity_dates_pad_every_field_and_are_in_utc() {
        assert_eq!(format_datetime(datetime!(0987-01-09 03:04:05 UTC)), "0987-01-09T03:04:05Z");
        assert_eq!(format_datetime(datetime!(9999-12-31 23:59:59.999 UTC)), "9999-12-31T23:59:59Z");
        assert_eq!(format_datetime(datetime!(2026-03-02 01:00:00 +02:00)), "2026-03-01T23:00:00Z");
    }
}
