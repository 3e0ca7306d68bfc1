//! A reproducible PKI file: its `[defaults]` `seed` and `now` (or the
//! command line's), and what a seeded file may not hold.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::planned::Fail;
use super::raw::{RawCert, RawFile};
use crate::api::Error;
use crate::pki::seeded::Seed;

/// A seed and a time given over a PKI file's own (`pki apply --seed S
/// --now T`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reproduce {
    /// The seed every random choice comes from.
    pub seed: Option<String>,
    /// The time relative dates count from.
    pub now: Option<OffsetDateTime>,
}

/// The seed in force (none: random choices), and the time relative dates
/// count from, with whether it is fixed (by the file or the command line)
/// rather than the clock's.
pub(super) fn reproduction(
    raw: &RawFile,
    atlas: &[RawCert],
    given: &Reproduce,
    clock: OffsetDateTime,
    fail: Fail<'_>,
) -> Result<(Option<Seed>, OffsetDateTime, bool), Error> {
    let now = match (&given.now, &raw.defaults.now) {
        (Some(t), _) => Some(*t),
        (None, Some(t)) => Some(OffsetDateTime::parse(t.get_ref(), &Rfc3339).map_err(|_| {
            fail(
                t.span().start,
                format!("now {:?} is not an RFC 3339 time", t.get_ref()),
            )
        })?),
        (None, None) => None,
    };
    let text = given
        .seed
        .clone()
        .or_else(|| raw.defaults.seed.as_ref().map(|s| s.get_ref().clone()));
    let Some(text) = text else {
        return Ok((None, now.unwrap_or(clock), now.is_some()));
    };
    let at = raw.defaults.seed.as_ref().map_or(0, |s| s.span().start);
    if let Some(c) = atlas.first() {
        return Err(fail(
            c.name.span().start,
            "a seeded file's keys can be made again by anyone with the file and the seed: \
             Atlas's certificates (issuer = \"atlas\") are recorded and stay private, so they \
             cannot be seeded"
                .into(),
        ));
    }
    if text.is_empty() {
        return Err(fail(at, "the seed is empty".into()));
    }
    let seed = Seed::new(&text)?;
    Ok((Some(seed), now.unwrap_or(clock), now.is_some()))
}
