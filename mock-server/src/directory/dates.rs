//! Dates from request bodies. Graph's `Edm.DateTimeOffset` runs from year 1 to
//! 9999 in UTC; a value outside that (or one whose offset pushes it outside,
//! like `9999-12-31T23:00:00-05:00`) is a client error, never arithmetic that
//! overflows. Every computation on a client-supplied date goes through here.

use serde_json::Value;
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::clock::{format_datetime, parse_datetime};

/// A client's RFC 3339 date, in UTC, or `None` when it is not one Graph can hold.
pub(crate) fn parse_client(text: &str) -> Option<OffsetDateTime> {
    let t = parse_datetime(text)?.checked_to_offset(UtcOffset::UTC)?;
    (t.year() >= 1).then_some(t)
}

/// `t + d`, or `None` past the end of Graph's calendar.
pub(crate) fn checked_after(t: OffsetDateTime, d: Duration) -> Option<OffsetDateTime> {
    t.checked_add(d)
}

/// A date value as Graph stores and echoes it: UTC, whole seconds, `Z`.
pub(crate) fn normalised(value: &Value) -> Option<Value> {
    value.as_str().and_then(parse_client).map(|t| Value::String(format_datetime(t)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn an_offset_that_pushes_a_date_past_year_9999_is_refused() {
        assert!(parse_client("9999-12-31T23:00:00-05:00").is_none());
        assert!(parse_client("9999-12-31T23:00:00Z").is_some());
    }

    #[test]
    fn year_zero_is_not_a_graph_date() {
        assert!(parse_client("0000-06-01T00:00:00Z").is_none());
        assert!(parse_client("0001-01-01T00:00:00Z").is_some());
    }

    #[test]
    fn adding_past_the_calendar_is_none_not_a_panic() {
        assert_eq!(checked_after(datetime!(9999-06-01 00:00 UTC), Duration::days(730)), None);
        assert_eq!(
            checked_after(datetime!(2026-01-01 00:00 UTC), Duration::days(1)),
            Some(datetime!(2026-01-02 00:00 UTC))
        );
    }

    #[test]
    fn stored_dates_are_utc_with_a_z() {
        assert_eq!(normalised(&Value::from("2026-03-02T12:00:00+02:00")), Some(Value::from("2026-03-02T10:00:00Z")));
        assert_eq!(normalised(&Value::from(17)), None);
    }
}
