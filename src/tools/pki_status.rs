//! `pki status DIR`: every certificate and CRL under a directory of PEM
//! files (a `pki apply` output, a kit, anything), with when it ends and
//! where it stands, the soonest first. With the PKI file that made the
//! directory, the certificates and CRLs it makes expired or not yet valid
//! on purpose (drivers' `expired.pem`) are marked intended.

use std::collections::HashSet;
use std::path::Path;

use openssl::x509::{X509, X509Crl};
use serde::Serialize;
use time::{Duration, OffsetDateTime};
use x509_cert::der::Decode;

use super::pem_dir::{pem_blocks, pem_files};
use super::pki_spec::{Plan, file_names, plan};
use crate::api::{Error, timestamp};
use crate::model::expiry::{State, days_left};
use crate::pki::time_of;
use crate::store::files::read_input;

/// One certificate or CRL, wherever it appears under the directory.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusEntry {
    /// `certificate` or `crl`.
    pub kind: &'static str,
    /// The files it is in, relative to the directory.
    pub files: Vec<String>,
    /// Its subject (a CRL's: its issuer), RFC 4514.
    pub subject: String,
    /// Its issuer, RFC 4514.
    pub issuer: String,
    /// notBefore (a CRL's thisUpdate).
    pub not_before: String,
    /// notAfter (a CRL's nextUpdate).
    pub not_after: String,
    /// Whole days from now to its end (negative once ended).
    pub days_left: i64,
    /// `live`, `expiring`, `expired` or `not-yet-valid`.
    pub state: &'static str,
    /// Expired or not yet valid because the PKI file says so.
    pub intended: bool,
    #[serde(skip)]
    end: OffsetDateTime,
    #[serde(skip)]
    state_value: State,
}

impl StatusEntry {
    /// Whether this needs a person: ended, not yet valid or ending within
    /// the window, and not on purpose.
    pub fn needs_attention(&self) -> bool {
        !self.intended && self.state_value != State::Live
    }
}

/// The whole status of a directory.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// The window "expiring" means, in days.
    pub within_days: u32,
    /// Every certificate and CRL, the soonest to end first.
    pub results: Vec<StatusEntry>,
    /// How many need a person (see [`StatusEntry::needs_attention`]).
    pub needing_attention: usize,
}

/// The status of `dir` at `now`, "expiring" meaning within `within_days`;
/// with the PKI file (`spec`: its path and text), its intended dates.
pub fn status(
    dir: &Path,
    spec: Option<(&Path, &str)>,
    within_days: u32,
    now: OffsetDateTime,
) -> Result<Status, Error> {
    let intended = match spec {
        // On purpose: expired or not yet valid at the time the file's
        // relative dates count from (its own `now`, else this one).
        Some((path, text)) => {
            let plan = plan(path, text, now)?;
            intended(&plan, plan.now)
        }
        None => HashSet::new(),
    };
    let window = Duration::days(within_days.into());
    let mut results: Vec<StatusEntry> = Vec::new();
    let mut seen: Vec<Vec<u8>> = Vec::new();
    for path in pem_files(dir, true)? {
        let bytes = read_input(&path).map_err(Error::io(&path))?;
        let rel = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        for block in pem_blocks(&bytes) {
            let Some((der, mut entry)) = read_block(block.label, block.text, now, window) else {
                continue;
            };
            if let Some(at) = seen.iter().position(|d| *d == der) {
                results[at].files.push(rel.clone());
                continue;
            }
            entry.files.push(rel.clone());
            seen.push(der);
            results.push(entry);
        }
    }
    for entry in &mut results {
        let on_purpose = matches!(entry.state_value, State::Expired | State::NotYetValid);
        entry.intended = on_purpose
            && entry
                .files
                .iter()
                .any(|f| intended.contains(&(f.clone(), entry.kind, entry.subject.clone())));
    }
    results.sort_by(|a, b| a.end.cmp(&b.end).then_with(|| a.files.cmp(&b.files)));
    let needing_attention = results.iter().filter(|e| e.needs_attention()).count();
    Ok(Status {
        within_days,
        results,
        needing_attention,
    })
}

/// A certificate or CRL block read: its DER and its entry (no files yet).
fn read_block(
    label: &str,
    text: &[u8],
    now: OffsetDateTime,
    window: Duration,
) -> Option<(Vec<u8>, StatusEntry)> {
    let (kind, der, subject, issuer, start, end) = match label {
        "CERTIFICATE" => {
            let cert = X509::from_pem(text).ok()?;
            let der = cert.to_der().ok()?;
            let parsed = x509_cert::Certificate::from_der(&der).ok()?;
            let tbs = parsed.tbs_certificate();
            (
                "certificate",
                der.clone(),
                tbs.subject().to_string(),
                tbs.issuer().to_string(),
                time_of(cert.not_before())?,
                time_of(cert.not_after())?,
            )
        }
        "X509 CRL" => {
            let crl = X509Crl::from_pem(text).ok()?;
            let der = crl.to_der().ok()?;
            let parsed =
                x509_cert::crl::CertificateList::<x509_cert::certificate::Rfc5280>::from_der(&der)
                    .ok()?;
            let issuer = parsed.tbs_cert_list.issuer.to_string();
            (
                "crl",
                der,
                issuer.clone(),
                issuer,
                time_of(crl.last_update())?,
                // A CRL without nextUpdate never ends; it is listed as
                // ending with the years a certificate can hold.
                crl.next_update()
                    .and_then(time_of)
                    .unwrap_or(OffsetDateTime::new_utc(
                        time::Date::from_calendar_date(9999, time::Month::December, 31).ok()?,
                        time::Time::MIDNIGHT,
                    )),
            )
        }
        _ => return None,
    };
    let state = State::at(Some(start), end, false, now, window);
    Some((
        der,
        StatusEntry {
            kind,
            files: Vec::new(),
            subject,
            issuer,
            not_before: timestamp(start),
            not_after: timestamp(end),
            days_left: days_left(end, now),
            state: state.name(),
            intended: false,
            end,
            state_value: state,
        },
    ))
}

/// The (file, kind, subject) of every certificate and CRL the plan makes
/// expired or not yet valid at `now`, in every file it is written to.
fn intended(plan: &Plan, now: OffsetDateTime) -> HashSet<(String, &'static str, String)> {
    let mut out = HashSet::new();
    let off = |start: Option<OffsetDateTime>, end: Option<OffsetDateTime>| {
        end.is_some_and(|e| e <= now) || start.is_some_and(|s| s > now)
    };
    for (i, p) in plan.certs.iter().enumerate() {
        if !off(p.spec.not_before, p.spec.not_after) {
            continue;
        }
        let subject = x509_cert::name::Name::from_der(&p.spec.subject_der)
            .map(|n| n.to_string())
            .unwrap_or_default();
        let mut files = file_names(p);
        files.extend(
            plan.bundles
                .iter()
                .filter(|b| b.certs.contains(&i))
                .map(|b| format!("{}.pem", b.file)),
        );
        files.extend(
            plan.certs
                .iter()
                .filter(|other| other.append.contains(&i))
                .flat_map(file_names),
        );
        for f in files {
            out.insert((f, "certificate", subject.clone()));
        }
    }
    for c in &plan.crls {
        if off(Some(c.this_update), Some(c.next_update)) {
            let issuer = &plan.certs[c.issuer].spec.subject_der;
            let issuer = x509_cert::name::Name::from_der(issuer)
                .map(|n| n.to_string())
                .unwrap_or_default();
            out.insert((format!("{}.pem", c.file), "crl", issuer));
        }
    }
    out
}
