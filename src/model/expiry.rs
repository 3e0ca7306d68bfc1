//! When a certificate or CRL ends, as people ask it: its state at a time
//! (live, ending soon, expired, not yet valid, revoked) and the whole days
//! left. One rule for the ledger's view and `pki status`.

use serde::Serialize;
use time::{Duration, OffsetDateTime};

/// Where a certificate or CRL stands at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Revoked (whatever its dates).
    Revoked,
    /// Past its end.
    Expired,
    /// Before its start.
    NotYetValid,
    /// Valid, and ends within the window asked about.
    Expiring,
    /// Valid beyond the window.
    Live,
}

impl State {
    /// Of something valid from `start` (if known) to `end`, at `now`,
    /// ending soon when within `window`; `revoked` wins.
    pub fn at(
        start: Option<OffsetDateTime>,
        end: OffsetDateTime,
        revoked: bool,
        now: OffsetDateTime,
        window: Duration,
    ) -> State {
        if revoked {
            State::Revoked
        } else if end <= now {
            State::Expired
        } else if start.is_some_and(|s| s > now) {
            State::NotYetValid
        } else if end - now <= window {
            State::Expiring
        } else {
            State::Live
        }
    }

    /// The state as the tables and JSON write it.
    pub fn name(self) -> &'static str {
        match self {
            State::Revoked => "revoked",
            State::Expired => "expired",
            State::NotYetValid => "not-yet-valid",
            State::Expiring => "expiring",
            State::Live => "live",
        }
    }
}

/// Whole days from `now` to `end`, rounded towards the past: negative once
/// ended (a certificate that ended an hour ago has -1 days left).
pub fn days_left(end: OffsetDateTime, now: OffsetDateTime) -> i64 {
    (end - now).as_seconds_f64().div_euclid(86_400.0) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_days() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(1000);
        let day = Duration::days;
        let window = Duration::days(30);
        let at = |start: Option<i64>, end: i64, revoked| {
            State::at(
                start.map(|d| now + day(d)),
                now + day(end),
                revoked,
                now,
                window,
            )
        };
        assert_eq!(at(None, 31, false), State::Live);
        assert_eq!(at(None, 30, false), State::Expiring);
        assert_eq!(at(Some(-1), 1, false), State::Expiring);
        assert_eq!(at(Some(2), 90, false), State::NotYetValid);
        assert_eq!(at(None, 0, false), State::Expired);
        assert_eq!(at(None, 90, true), State::Revoked);
        assert_eq!(days_left(now + day(3) + Duration::hours(5), now), 3);
        assert_eq!(days_left(now - Duration::hours(1), now), -1);
        assert_eq!(days_left(now, now), 0);
    }
}
