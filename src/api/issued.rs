//! What a home has issued, and when it ends: every certificate the ledger
//! holds (users', servers', kit members'), the soonest to end first, with
//! its state and days left, and a summary. Ours: Atlas has no such view;
//! its own verbs (`certs list`) keep Atlas's columns.

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use super::error::Error;
use super::json::timestamp;
use crate::model::expiry::{State, days_left};
use crate::pki::serial_hex;
use crate::store::{CertRecord, Holder, Home};

/// One certificate as the view shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedEntry {
    /// `user`, `server` or `member`.
    pub kind: &'static str,
    /// The project whose CA signed it.
    pub project_id: String,
    /// The user, or the hosts.
    pub holder: String,
    /// The subject, RFC 2253.
    pub subject: String,
    /// The serial, hex as openssl prints it (lower case).
    pub serial: String,
    /// notBefore.
    pub not_before: String,
    /// notAfter.
    pub not_after: String,
    /// Whole days from now to notAfter (negative once ended).
    pub days_left: i64,
    /// `live`, `expiring`, `expired`, `not-yet-valid` or `revoked`.
    pub state: &'static str,
    /// When it was revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// How many certificates stand where.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// All of them.
    pub total: usize,
    /// Valid beyond the window.
    pub live: usize,
    /// Valid, ending within the window.
    pub expiring: usize,
    /// Ended.
    pub expired: usize,
    /// Issued for a later start.
    pub not_yet_valid: usize,
    /// Revoked.
    pub revoked: usize,
}

/// The whole view.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedReport {
    /// The window "expiring" means, in days.
    pub expiring_within_days: u32,
    /// The certificates, the soonest to end first.
    pub results: Vec<IssuedEntry>,
    /// The counts.
    pub summary: Summary,
}

/// Every certificate `home` issued (in `project_id`, or in all projects,
/// deleted ones included), as it stands at `now` with `within_days` as the
/// window of "expiring".
pub fn issued(
    home: &Home,
    project_id: Option<&str>,
    within_days: u32,
    now: OffsetDateTime,
) -> Result<IssuedReport, Error> {
    let records = home.with_existing_ledger(|ledger| match ledger {
        Some(ledger) => ledger.all(project_id),
        None => Ok(Vec::new()),
    })?;
    let window = Duration::days(within_days.into());
    let mut summary = Summary::default();
    let results = records
        .iter()
        .map(|r| {
            let state = State::at(
                Some(r.created_at),
                r.not_after,
                r.revoked_at.is_some(),
                now,
                window,
            );
            summary.total += 1;
            *match state {
                State::Live => &mut summary.live,
                State::Expiring => &mut summary.expiring,
                State::Expired => &mut summary.expired,
                State::NotYetValid => &mut summary.not_yet_valid,
                State::Revoked => &mut summary.revoked,
            } += 1;
            entry(r, state, now)
        })
        .collect();
    Ok(IssuedReport {
        expiring_within_days: within_days,
        results,
        summary,
    })
}

fn entry(r: &CertRecord, state: State, now: OffsetDateTime) -> IssuedEntry {
    let kind = match r.holder {
        Holder::User(_) => "user",
        Holder::Hosts(_) => "server",
        Holder::Member(_) => "member",
    };
    IssuedEntry {
        kind,
        project_id: r.project_id.clone(),
        holder: r.holder.name().to_string(),
        subject: r.subject.clone(),
        serial: serial_hex(r.serial),
        not_before: timestamp(r.created_at),
        not_after: timestamp(r.not_after),
        days_left: days_left(r.not_after, now),
        state: state.name(),
        revoked_at: r.revoked_at.map(timestamp),
    }
}
