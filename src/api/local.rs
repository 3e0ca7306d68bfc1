//! Operations Atlas does not have and test environments need: server
//! certificates and revocation. They follow the same path as Atlas's own
//! (validation here, then issuing and the ledger).

use time::OffsetDateTime;

use super::cas::CaHistory;
use super::certs::validity;
use super::error::{Error, Invalid};
use super::users::project;
use crate::issuing::IssueRequest;
use crate::pki::custom::Extras;
use crate::pki::{Host, KeyType, Profile, Subject, crl};
use crate::store::{Home, Registry, ca};

/// Longest server certificate, in months (the CA lives 120).
pub const MAX_SERVER_MONTHS: u32 = 119;

/// A server certificate request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerCert {
    /// The project whose CA signs.
    pub group_id: String,
    /// The hosts, as subjectAltNames; the first is also the CN.
    pub hosts: Vec<Host>,
    /// Lifetime in months.
    pub months: u32,
    /// Issuance time; `None` means now.
    pub issued_at: Option<OffsetDateTime>,
    /// The subject key's type.
    pub key_type: KeyType,
    /// Extensions beyond the profile's (an OCSP address, cluster membership).
    pub extras: Extras,
}

/// Plans a server certificate (for `net.tls.certificateKeyFile`): every
/// check, nothing written; [`super::certs::issue`] then issues it.
pub fn plan_server_cert<'r>(
    registry: &'r Registry,
    req: &'r ServerCert,
) -> Result<IssueRequest<'r>, Error> {
    let project = project(registry, &req.group_id)?;
    if req.hosts.is_empty() {
        return Err(Invalid::NoHosts.into());
    }
    if !(1..=MAX_SERVER_MONTHS).contains(&req.months) {
        return Err(Invalid::Months {
            max: MAX_SERVER_MONTHS,
        }
        .into());
    }
    let validity = validity(
        req.issued_at.unwrap_or_else(OffsetDateTime::now_utc),
        req.months,
    )?;
    Ok(IssueRequest {
        project_id: &project.id,
        subject: Subject::Server(&req.hosts),
        validity,
        limit: None,
        profile: Profile::Strict,
        key_type: req.key_type,
        extras: req.extras.clone(),
        member: false,
    })
}

/// Which CAs of a project a CRL file speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrlScope {
    /// The current CA.
    Current,
    /// The current CA, then every retired one, newest first: one CRL each,
    /// in one PEM file (mongod's CRLFile takes several).
    AllCas,
}

/// The project's CRL (PEM): the revoked certificates that have not expired,
/// each under the CA that signed it, signed by that CA, current from now
/// until `next_update` (30 days when `None`). A project without a CA has
/// signed nothing to list: that is an error, and no CA is made.
pub fn crl_pem(
    home: &Home,
    registry: &Registry,
    group_id: &str,
    next_update: Option<OffsetDateTime>,
    scope: CrlScope,
) -> Result<String, Error> {
    let project = project(registry, group_id)?;
    if ca::current_cert(home.root(), &project.id)?.is_none() {
        return Err(Invalid::NoCa(project.id.clone()).into());
    }
    let history = CaHistory::of(home, &project.id)?;
    let cas = match scope {
        CrlScope::Current => home.project_cas(&project.id)?.into_iter().take(1).collect(),
        CrlScope::AllCas => home.project_cas(&project.id)?,
    };
    let now = OffsetDateTime::now_utc();
    let revoked = home.with_existing_ledger(|ledger| match ledger {
        Some(ledger) => ledger.revoked(&project.id, now),
        None => Ok(Vec::new()),
    })?;
    let next_update = next_update.unwrap_or(now + crl::CRL_LIFETIME);
    let mut pem = String::new();
    for ca in &cas {
        // The history and the CAs are read one after the other: a rotation
        // in between would shift them, so each is matched by certificate,
        // and one the history lacks is left for the next CRL.
        let Some(at) = history
            .certs
            .iter()
            .position(|c| c.to_der().ok() == ca.cert().to_der().ok())
        else {
            continue;
        };
        let own: Vec<(u64, OffsetDateTime)> = revoked
            .iter()
            .filter(|r| history.signer_of(r) == Some(at))
            .filter_map(|r| Some((r.serial, r.revoked_at?)))
            .collect();
        pem.push_str(&crl::build(ca, &own, now, next_update)?);
    }
    Ok(pem)
}
