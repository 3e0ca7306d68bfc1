//! Atlas's certificate endpoints: `POST` and `GET
//! .../databaseUsers/{username}/certs`, every check in Atlas's order, then
//! the one issuing path.

use time::OffsetDateTime;

use super::atlas_error::{ApiError, ErrorCode};
use super::error::{Error, Invalid};
use super::json::{self, CertEntry, Page, Paging};
use super::users::project;
use crate::issuing::{self, Fresh, IssueRequest, Issued, KeySource};
use crate::model::names::name_or_none;
use crate::model::{Months, is_valid_username};
use crate::pki::custom::Extras;
use crate::pki::{KeyType, Profile, Subject, Validity};
use crate::store::ledger::Filter;
use crate::store::{CertRecord, Home, Registry};

/// Default `monthsUntilExpiration`.
pub const DEFAULT_MONTHS: i64 = Months::DEFAULT.get() as i64;

/// `POST .../databaseUsers/{username}/certs`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateCert {
    /// The project (group) id.
    pub group_id: String,
    /// The database user.
    pub username: String,
    /// Requested lifetime in months as the client wrote it (Atlas's
    /// default is 3); checked into [`Months`] with Atlas's errors.
    pub months_until_expiration: i64,
    /// Issuance time; `None` means now. (Not in Atlas: for fixtures.)
    pub issued_at: Option<OffsetDateTime>,
    /// Certificate profile; Atlas's by default. (Not in Atlas.)
    pub profile: Profile,
    /// Subject key type; Atlas's RSA-4096 by default. (Not in Atlas.)
    pub key_type: KeyType,
    /// Extensions beyond the profile's; none by default. (Not in Atlas:
    /// for local deployments, such as an OCSP address.)
    pub extras: Extras,
}

impl CreateCert {
    /// A request with Atlas's defaults.
    pub fn new(group_id: &str, username: &str) -> CreateCert {
        CreateCert {
            group_id: group_id.to_string(),
            username: username.to_string(),
            months_until_expiration: DEFAULT_MONTHS,
            issued_at: None,
            profile: Profile::Atlas,
            key_type: KeyType::Rsa4096,
            extras: Extras::default(),
        }
    }
}

/// A certificate created by [`create_cert`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Created {
    /// What the ledger recorded.
    pub record: CertRecord,
    /// The response body: certificate PEM then private key PEM.
    pub pem: String,
    /// Whether the project's CA was created for this request.
    pub ca_created: bool,
}

/// Issues a client certificate as Atlas does, after every check Atlas
/// makes, with a freshly generated key. Nothing is written (no CA, no
/// ledger row) when a check fails.
///
/// ```
/// use atlas_ca::{CreateCert, Home, create_cert};
///
/// let dir = tempfile::tempdir()?;
/// std::fs::write(
///     dir.path().join("users.toml"),
///     "[[projects]]\nid = \"5efda6aea3f2ed2e7dd6ce05\"\n\
///      [[projects.databaseUsers]]\nusername = \"alice\"\nx509Type = \"MANAGED\"\n",
/// )?;
/// let home = Home::new(dir.path());
/// let request = CreateCert::new("5efda6aea3f2ed2e7dd6ce05", "alice");
/// let created = create_cert(&home, &home.registry()?, &request)?;
/// assert!(created.pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
/// assert_eq!(created.record.subject, "CN=alice");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn create_cert(home: &Home, registry: &Registry, req: &CreateCert) -> Result<Created, Error> {
    create_cert_with(home, registry, req, &Fresh)
}

/// [`create_cert`] with keys from `keys` (the server's warm pool).
pub(crate) fn create_cert_with(
    home: &Home,
    registry: &Registry,
    req: &CreateCert,
    keys: &dyn KeySource,
) -> Result<Created, Error> {
    let request = validate_create(home, registry, req, 1)?;
    Ok(issue(home, &request, keys, |_| Ok(()))?.0)
}

/// Every check Atlas makes before issuing, in Atlas's order, for `count`
/// certificates of the request; returns what to issue.
pub(crate) fn validate_create<'r>(
    home: &Home,
    registry: &'r Registry,
    req: &CreateCert,
    count: u32,
) -> Result<IssueRequest<'r>, Error> {
    let project = project(registry, &req.group_id)?;
    let asked = req.months_until_expiration;
    let months = Months::new(asked).ok_or_else(|| {
        let range = format!("monthsUntilExpiration is 1 to {}, not {asked}", Months::MAX);
        if asked > 0 {
            ApiError::new(ErrorCode::CertExpiryCannotExceedTwoYears, &[]).with_note(range)
        } else {
            ApiError::new(ErrorCode::InvalidAttribute, &["monthsUntilExpiration"]).with_note(range)
        }
    })?;
    let now = OffsetDateTime::now_utc();
    let user = project
        .user(&req.username, now)
        .ok_or_else(|| ApiError::new(ErrorCode::UsernameNotFound, &[&req.username]))?;
    if project.self_managed_x509 {
        let note = format!("project {} uses customer-managed X.509", project.id);
        return Err(
            ApiError::new(ErrorCode::CannotGenerateCertIfAdvancedX509, &[])
                .with_note(note)
                .into(),
        );
    }
    if !user.is_managed_x509() {
        let note = format!(
            "user {} has x509Type {}",
            user.username,
            name_or_none(user.kind.x509())
        );
        return Err(ApiError::new(ErrorCode::UserNotManagedX509, &[])
            .with_note(note)
            .into());
    }
    if !is_valid_username(&user.username) {
        return Err(
            ApiError::new(ErrorCode::AtlasManagedX509NameInvalid, &[&user.username]).into(),
        );
    }
    let limit = project.max_certs_per_user.map(|n| (n, now));
    if let Some(n) = project.max_certs_per_user {
        let active = home.with_existing_ledger(|ledger| match ledger {
            Some(ledger) => ledger.active_count(&project.id, &user.username, now),
            None => Ok(0),
        })?;
        if active + u64::from(count) > u64::from(n) {
            let note = format!(
                "user {} holds {active} unexpired certificate{}, {count} more asked; \
                 the limit is maxCertsPerUser = {n} in the registry",
                user.username,
                if active == 1 { "" } else { "s" },
            );
            return Err(
                ApiError::new(ErrorCode::AtlasGeneratedCertsLimitExceeded, &[])
                    .with_note(note)
                    .into(),
            );
        }
    }
    Ok(IssueRequest {
        project_id: &project.id,
        subject: Subject::Client(&user.username),
        validity: user_validity(req.issued_at.unwrap_or(now), months)?,
        limit,
        profile: req.profile,
        key_type: req.key_type,
        extras: req.extras.clone(),
        member: false,
    })
}

/// The Atlas validity for `months` from `issued_at`, or the request's error.
pub(crate) fn validity(issued_at: OffsetDateTime, months: u32) -> Result<Validity, Invalid> {
    Validity::atlas(issued_at, months).map_err(Invalid::IssuedAt)
}

/// A user certificate's validity: [`validity`] for a lifetime Atlas issues.
pub(crate) fn user_validity(
    issued_at: OffsetDateTime,
    months: Months,
) -> Result<Validity, Invalid> {
    validity(issued_at, months.get())
}

/// Issues under the project's CA (created on first use): the execute step
/// after a plan (`request` passed every check). `stage` writes what hands
/// the certificate out (a file under a temporary name) before its ledger
/// row commits; an error from it records nothing.
pub(crate) fn issue<T>(
    home: &Home,
    request: &IssueRequest<'_>,
    keys: &dyn KeySource,
    mut stage: impl FnMut(&Issued) -> Result<T, Error>,
) -> Result<(Created, T), Error> {
    let (ca, ca_created) = home.project_ca(request.project_id)?;
    let signed = issuing::sign(&ca, request, keys)?;
    let (Issued { record, pem }, staged) = home
        .with_ledger(|ledger| issuing::commit_one(&ca, ledger, signed, |issued| stage(issued)))?;
    let created = Created {
        record,
        pem,
        ca_created,
    };
    Ok((created, staged))
}

/// `GET .../databaseUsers/{username}/certs`: the user's certificates,
/// oldest first; unexpired and unrevoked only unless `all`.
pub fn list_certs(
    home: &Home,
    registry: &Registry,
    group_id: &str,
    username: &str,
    all: bool,
) -> Result<Vec<CertRecord>, Error> {
    let project = project(registry, group_id)?;
    if project.user(username, OffsetDateTime::now_utc()).is_none() {
        return Err(ApiError::new(ErrorCode::UsernameNotFound, &[username]).into());
    }
    let filter = if all {
        Filter::All
    } else {
        Filter::ActiveAt(OffsetDateTime::now_utc())
    };
    home.with_existing_ledger(|ledger| match ledger {
        Some(ledger) => Ok(ledger.list(&project.id, username, filter)?),
        None => Ok(Vec::new()),
    })
}

/// The Atlas list body for `records`; `self_url` is the list's URL without
/// query, such as `http://localhost:8080/api/atlas/v2/groups/G/databaseUsers/U/certs`.
pub(crate) fn cert_page<K: AsRef<str>, V: AsRef<str>>(
    records: &[CertRecord],
    paging: Paging,
    self_url: &str,
    query: &[(K, V)],
) -> Page<CertEntry> {
    Page::of(
        records.iter().map(CertEntry::from).collect(),
        paging,
        self_url,
        query,
    )
}

/// The certificate list's URL under the API root `base`.
pub(crate) fn certs_url(base: &str, group_id: &str, username: &str) -> String {
    format!(
        "{base}/groups/{group_id}/databaseUsers/{}/certs",
        json::path_segment(username)
    )
}
