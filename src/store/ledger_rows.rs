//! How the ledger's columns decode, strictly: times within the years a
//! certificate can hold, serials positive and below 2^63; anything else is
//! a corrupt row, never a silent default.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use time::OffsetDateTime;

/// A certificate time as stored: seconds since the epoch, within the years
/// a certificate can hold.
pub(super) struct Time(pub(super) OffsetDateTime);

impl FromSql for Time {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Time> {
        checked(value, |secs| {
            let t = OffsetDateTime::from_unix_timestamp(secs).ok()?;
            (1950..=9999).contains(&t.year()).then_some(Time(t))
        })?
        .map_err(|secs| corrupt(format!("time {secs} is outside the years 1950 to 9999")))
    }
}

/// A serial as stored: positive, below 2^63.
pub(super) struct Serial(pub(super) u64);

impl FromSql for Serial {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Serial> {
        checked(value, |n| {
            u64::try_from(n).ok().filter(|s| *s > 0).map(Serial)
        })?
        .map_err(|n| corrupt(format!("serial {n} is not positive")))
    }
}

/// The integer column `value` through `convert`: `Ok(Err(n))` when the
/// integer `n` is out of range, `Err` when it is not an integer at all.
fn checked<T>(
    value: ValueRef<'_>,
    convert: impl Fn(i64) -> Option<T>,
) -> FromSqlResult<Result<T, i64>> {
    let n = value.as_i64()?;
    Ok(convert(n).ok_or(n))
}

pub(super) fn corrupt(message: String) -> FromSqlError {
    FromSqlError::Other(message.into())
}
