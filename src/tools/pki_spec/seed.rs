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
    for c in &raw.certs {
        if c.pkcs12.is_some() {
            return Err(fail(
                c.name.span().start,
                "a PKCS#12 file is not reproducible yet (ours): leave pkcs12 out of a seeded file"
                    .into(),
            ));
        }
    }
    let encryptions = raw
        .certs
        .iter()
        .filter_map(|c| c.key_encryption.as_ref())
        .chain(raw.bundles.iter().filter_map(|b| b.key_encryption.as_ref()));
    for e in encryptions {
        if e.get_ref() == "pkcs8-3des" {
            return Err(fail(
                e.span().start,
                "pkcs8-3des keys are not reproducible (ours): pkcs8-aes256, pkcs8-aes128 or pkcs1 in a seeded file"
                    .into(),
            ));
        }
    }
    if text.is_empty() {
        return Err(fail(at, "the seed is empty".into()));
    }
    let seed = Seed::new(&text)?;
    Ok((Some(seed), now.unwrap_or(clock), now.is_some()))
}
