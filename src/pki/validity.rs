//! Validity periods as Atlas computes them: notBefore one hour before
//! issuance, notAfter a whole number of calendar months after it.

use time::{Duration, Month, OffsetDateTime, UtcOffset};

/// The validity window of a certificate, in whole seconds, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// Start of validity: issuance time minus one hour.
    pub not_before: OffsetDateTime,
    /// End of validity: issuance time plus the requested months.
    pub not_after: OffsetDateTime,
}

/// Why a validity could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the validity period ends outside the years 1950 to 9999")]
pub struct OutOfRange;

impl Validity {
    /// The Atlas validity for a certificate issued at `issued_at` that lasts
    /// `months` calendar months. Sub-second precision is dropped first, as a
    /// certificate cannot carry it.
    pub fn atlas(issued_at: OffsetDateTime, months: u32) -> Result<Validity, OutOfRange> {
        let issued_at = whole_seconds(issued_at);
        let not_before = issued_at.checked_sub(Duration::HOUR).ok_or(OutOfRange)?;
        let not_after = add_months(issued_at, months)?;
        if not_before.year() < 1950 || not_after.year() > 9999 {
            return Err(OutOfRange);
        }
        Ok(Validity {
            not_before,
            not_after,
        })
    }
}

/// `t` in UTC with the fraction of a second removed.
pub fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    // Zero nanoseconds is always in range, so `replace_nanosecond` cannot fail.
    t.to_offset(UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t)
}

/// Adds calendar months, keeping the time of day; a day the target month
/// lacks (Jan 31 + 1 month) becomes that month's last day, as the JVM does.
pub fn add_months(t: OffsetDateTime, months: u32) -> Result<OffsetDateTime, OutOfRange> {
    let index = i64::from(t.year()) * 12 + i64::from(u8::from(t.month()) - 1) + i64::from(months);
    let year = i32::try_from(index.div_euclid(12)).map_err(|_| OutOfRange)?;
    // `rem_euclid(12) + 1` is within 1..=12, so both conversions succeed.
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).map_err(|_| OutOfRange)?)
        .map_err(|_| OutOfRange)?;
    let day = t.day().min(month.length(year));
    let date = time::Date::from_calendar_date(year, month, day).map_err(|_| OutOfRange)?;
    Ok(t.replace_date(date))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn matches_the_atlas_reference_certificate() {
        let v = Validity::atlas(datetime!(2026-08-10 03:06:35.7 UTC), 3).unwrap();
        assert_eq!(v.not_before, datetime!(2026-08-10 02:06:35 UTC));
        assert_eq!(v.not_after, datetime!(2026-11-10 03:06:35 UTC));
    }

    #[test]
    fn clamps_to_the_last_day_of_the_month() {
        let t = datetime!(2027-01-31 12:00:00 UTC);
        assert_eq!(
            add_months(t, 1).unwrap(),
            datetime!(2027-02-28 12:00:00 UTC)
        );
        assert_eq!(
            add_months(datetime!(2027-12-31 00:00:00 UTC), 2).unwrap(),
            datetime!(2028-02-29 00:00:00 UTC)
        );
        assert_eq!(
            add_months(t, 24).unwrap(),
            datetime!(2029-01-31 12:00:00 UTC)
        );
    }

    #[test]
    fn converts_offsets_to_utc() {
        let v = Validity::atlas(datetime!(2026-01-01 01:30:00 +02:00), 1).unwrap();
        assert_eq!(v.not_before, datetime!(2025-12-31 22:30:00 UTC));
        assert_eq!(v.not_after, datetime!(2026-01-31 23:30:00 UTC));
    }

    #[test]
    fn rejects_years_a_certificate_cannot_hold() {
        assert_eq!(
            Validity::atlas(datetime!(1950-01-01 00:30:00 UTC), 1),
            Err(OutOfRange)
        );
        assert_eq!(
            Validity::atlas(datetime!(9999-12-01 00:00:00 UTC), 1),
            Err(OutOfRange)
        );
    }
}
