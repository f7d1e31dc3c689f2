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

    /// Rebuild a clock from saved state with the same offset.
    pub(crate) fn with_offset(frozen_at: Option<OffsetDateTime>, offset: Duration) -> Self {
        let micros = i64::try_from(offset.as_micros()).unwrap_or(i64::MAX);
        TenantClock { frozen_at, offset_micros: AtomicI64::new(micros) }
    }

    /// The tenant's current time.
    pub(crate) fn now(&self) -> OffsetDateTime {
        let base = self.frozen_at.unwrap_or_else(system_now);
        base + time::Duration::microseconds(self.offset_micros.load(Ordering::Relaxed))
    }

    /// Move the clock forward; time never runs backwards.
    pub(crate) fn advance(&self, by: Duration) {
        let micros = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        let _ = self
            .offset_micros
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |cur| Some(cur.saturating_add(micros)));
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

/// `2026-03-02T10:21:07`: `innerError.date` has no zone and no fraction
/// (reference/graph-wire.md §2.1).
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
    fn advancing_a_frozen_clock_moves_it_by_exactly_that_much() {
        let clock = TenantClock::frozen(datetime!(2026-03-02 10:00:00 UTC));
        clock.advance(Duration::from_secs(72 * 3600));
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
