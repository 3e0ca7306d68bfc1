//! Times in a `pki apply` file: RFC 3339 dates, or offsets from the run's
//! `now`.

use time::OffsetDateTime;

/// An instant: RFC 3339, or an offset from `now` (`-10000000s`, `+30d`,
/// `-1h`, `+20y` where a year is 365 days), within the years a certificate
/// can hold (1950 to 9999: UTCTime's first, GeneralizedTime's last).
pub(super) fn instant(s: &str, now: OffsetDateTime) -> Option<OffsetDateTime> {
    offset_or_date(s, now).filter(|t| (1950..=9999).contains(&t.year()))
}

fn offset_or_date(s: &str, now: OffsetDateTime) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Some(t);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let unit = rest.chars().last()?;
    let digits = &rest[..rest.len() - unit.len_utf8()];
    // Digits only: `+-5s` and `+ 5s` are no offsets.
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number: i64 = digits.parse().ok()?;
    let seconds = match unit {
        's' => 1,
        'h' => 3600,
        'd' => 86_400,
        'y' => 365 * 86_400,
        _ => return None,
    };
    now.checked_add(time::Duration::seconds(sign * number.checked_mul(seconds)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        time::macros::datetime!(2026-12-01 00:00 UTC)
    }

    #[test]
    fn offsets_and_dates() {
        assert_eq!(
            instant("-3600s", now()),
            Some(now() - time::Duration::hours(1))
        );
        assert_eq!(instant("+2d", now()), Some(now() + time::Duration::days(2)));
        assert_eq!(
            instant("2020-01-01T00:00:00Z", now()),
            Some(time::macros::datetime!(2020-01-01 00:00 UTC))
        );
        assert_eq!(instant("tomorrow", now()), None);
        for bad in [
            "+-5s",
            "-+5s",
            "+ 5s",
            "+s",
            "-3000y",
            "+8000y",
            "1900-01-01T00:00:00Z",
        ] {
            assert_eq!(instant(bad, now()), None, "{bad}");
        }
        assert_eq!(instant("+5w", now()), None);
    }
}
