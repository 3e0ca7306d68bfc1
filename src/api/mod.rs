//! The Atlas API model shared by the CLI and the HTTP server: requests,
//! their validation in Atlas's order with Atlas's errors, and responses.
//!
//! Both front ends call [`create_cert`], [`list_certs`] and [`list_users`];
//! these validate, then hand over to [`crate::issuing`] and the ledger.

mod error;
pub mod json;
mod local;

pub use error::{ApiError, CHALLENGE_BODY, ChallengeBody, ErrorBody, ErrorCode, reason_phrase};
pub use json::{CertEntry, Envelope, Page, Paging, UserEntry, render};
pub use local::{ServerCert, crl_pem, revoke_cert, server_cert};

use time::OffsetDateTime;

use crate::Error;
use crate::home::Home;
use crate::issuing::{
    self, IssueError, IssueRequest, Issued, KeySource, KeyType, Profile, Subject,
};
use crate::ledger::{CertRecord, Filter};
use crate::registry::{Project, Registry, X509Type, is_project_id};
use crate::validity::Validity;

/// Default `monthsUntilExpiration`.
pub const DEFAULT_MONTHS: i64 = 3;
/// Largest `monthsUntilExpiration` Atlas accepts.
pub const MAX_MONTHS: i64 = 24;

/// `POST .../databaseUsers/{username}/certs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateCert {
    /// The project (group) id.
    pub group_id: String,
    /// The database user.
    pub username: String,
    /// Requested lifetime in months; Atlas's default is 3.
    pub months_until_expiration: i64,
    /// Issuance time; `None` means now. (Not in Atlas: for fixtures.)
    pub issued_at: Option<OffsetDateTime>,
    /// Certificate profile; Atlas's by default. (Not in Atlas.)
    pub profile: Profile,
    /// Subject key type; Atlas's RSA-4096 by default. (Not in Atlas.)
    pub key_type: KeyType,
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
        }
    }
}

/// A certificate created by [`create_cert`].
#[derive(Debug, Clone)]
pub struct Created {
    /// What the ledger recorded.
    pub record: CertRecord,
    /// The response body: certificate PEM then private key PEM.
    pub pem: String,
    /// Whether the project's CA was created for this request.
    pub ca_created: bool,
}

/// Finds the project, with Atlas's errors for a malformed or unknown id.
pub fn project<'r>(registry: &'r Registry, group_id: &str) -> Result<&'r Project, ApiError> {
    if !is_project_id(group_id) {
        return Err(ApiError::new(ErrorCode::InvalidGroupId, &[group_id]));
    }
    registry
        .project(group_id)
        .ok_or_else(|| ApiError::new(ErrorCode::GroupNotFound, &[group_id]))
}

/// Issues a client certificate as Atlas does, after every check Atlas
/// makes, with a key from `keys`. Nothing is written (no CA, no ledger
/// row) when a check fails.
pub fn create_cert(
    home: &Home,
    registry: &Registry,
    req: &CreateCert,
    keys: &dyn KeySource,
) -> Result<Created, Error> {
    let request = validate_create(home, registry, req, 1)?;
    issue(home, &request, keys)
}

/// Every check Atlas makes before issuing, in Atlas's order, for `count`
/// certificates of the request; returns what to issue.
pub fn validate_create<'r>(
    home: &Home,
    registry: &'r Registry,
    req: &CreateCert,
    count: u32,
) -> Result<IssueRequest<'r>, Error> {
    let project = project(registry, &req.group_id)?;
    let months = req.months_until_expiration;
    if months > MAX_MONTHS {
        return Err(ApiError::new(ErrorCode::CertExpiryCannotExceedTwoYears, &[]).into());
    }
    if months < 1 {
        return Err(ApiError::new(ErrorCode::InvalidAttribute, &["monthsUntilExpiration"]).into());
    }
    let user = project
        .user(&req.username)
        .ok_or_else(|| ApiError::new(ErrorCode::UsernameNotFound, &[&req.username]))?;
    if project.self_managed_x509 {
        return Err(ApiError::new(ErrorCode::CannotGenerateCertIfAdvancedX509, &[]).into());
    }
    if user.x509_type != X509Type::Managed {
        return Err(ApiError::new(ErrorCode::UserNotManagedX509, &[]).into());
    }
    if !issuing::is_valid_username(&user.username) {
        return Err(
            ApiError::new(ErrorCode::AtlasManagedX509NameInvalid, &[&user.username]).into(),
        );
    }
    let now = OffsetDateTime::now_utc();
    let limit = project.max_certs_per_user.map(|n| (n, now));
    if let Some(n) = project.max_certs_per_user {
        let active = match home.existing_ledger()? {
            Some(ledger) => ledger.active_count(&project.id, &user.username, now)?,
            None => 0,
        };
        if active + u64::from(count) > u64::from(n) {
            return Err(limit_reached());
        }
    }
    // `months` is within 1..=24 here.
    let months = u32::try_from(months).unwrap_or(1);
    let validity = Validity::atlas(req.issued_at.unwrap_or(now), months)
        .map_err(|e| Error::Usage(format!("--issued-at: {e}")))?;
    Ok(IssueRequest {
        project_id: &project.id,
        subject: Subject::Client(&user.username),
        validity,
        limit,
        profile: req.profile,
        key_type: req.key_type,
    })
}

/// Issues under the project's CA (created on first use), mapping the
/// per-user limit to Atlas's error.
fn issue(home: &Home, request: &IssueRequest<'_>, keys: &dyn KeySource) -> Result<Created, Error> {
    let (ca, ca_created) = home.project_ca(request.project_id)?;
    let mut ledger = home.ledger()?;
    match issuing::issue(&ca, &mut ledger, request, keys) {
        Ok(Issued { record, pem }) => Ok(Created {
            record,
            pem,
            ca_created,
        }),
        Err(IssueError::LimitReached) => Err(limit_reached()),
        Err(e) => Err(e.into()),
    }
}

/// Atlas's error for a user at the per-user certificate limit.
pub fn limit_reached() -> Error {
    ApiError::new(ErrorCode::AtlasGeneratedCertsLimitExceeded, &[]).into()
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
    if project.user(username).is_none() {
        return Err(ApiError::new(ErrorCode::UsernameNotFound, &[username]).into());
    }
    let filter = if all {
        Filter::All
    } else {
        Filter::ActiveAt(OffsetDateTime::now_utc())
    };
    match home.existing_ledger()? {
        Some(ledger) => Ok(ledger.list(&project.id, username, filter)?),
        None => Ok(Vec::new()),
    }
}

/// The Atlas list body for `records`; `self_url` is the list's URL without
/// query, such as `http://localhost:8080/api/atlas/v2/groups/G/databaseUsers/U/certs`.
pub fn cert_page(records: &[CertRecord], paging: Paging, self_url: &str) -> Page<CertEntry> {
    Page::of(
        records.iter().map(CertEntry::from).collect(),
        paging,
        self_url,
    )
}

/// The certificate list's URL under the API root `base`.
pub fn certs_url(base: &str, group_id: &str, username: &str) -> String {
    format!(
        "{base}/groups/{group_id}/databaseUsers/{}/certs",
        json::path_segment(username)
    )
}

/// Read-only fields of Atlas's certificate entity, which a create body may
/// carry (SDKs echo them) and which are ignored.
const READ_ONLY_FIELDS: [&str; 5] = ["_id", "createdAt", "groupId", "notAfter", "subject"];

/// Parses a create body, `{"monthsUntilExpiration": N}`, into the months;
/// an empty body means the default. Errors are Atlas's for bad JSON.
pub fn parse_create_body(body: &[u8]) -> Result<i64, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(DEFAULT_MONTHS);
    }
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| ApiError::new(ErrorCode::MalformedJson, &[]))?;
    let object = value
        .as_object()
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidJson, &[]))?;
    let mut months = DEFAULT_MONTHS;
    for (key, v) in object {
        match key.as_str() {
            "monthsUntilExpiration" if v.is_null() => {}
            "monthsUntilExpiration" => {
                months = v.as_i64().ok_or_else(|| {
                    ApiError::new(ErrorCode::InvalidJsonAttribute, &["monthsUntilExpiration"])
                })?;
            }
            k if READ_ONLY_FIELDS.contains(&k) => {}
            k => return Err(ApiError::new(ErrorCode::InvalidAttribute, &[k])),
        }
    }
    Ok(months)
}

/// Parses Atlas's list query parameters (`includeCount`, `itemsPerPage`
/// 1..=500, `pageNum` >= 1) from `(name, value)` pairs; others are ignored.
/// Booleans follow Java's `Boolean.parseBoolean`: only `true` (any case) is true.
pub fn parse_paging<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Paging, ApiError> {
    let mut paging = Paging::default();
    for (name, value) in pairs {
        let number = |lo: u32, hi: u32| {
            value
                .parse::<u32>()
                .ok()
                .filter(|n| (lo..=hi).contains(n))
                .ok_or_else(|| ApiError::new(ErrorCode::InvalidQueryParameter, &[name]))
        };
        match name {
            "includeCount" => paging.include_count = value.eq_ignore_ascii_case("true"),
            "itemsPerPage" => paging.items_per_page = number(1, json::MAX_ITEMS_PER_PAGE)?,
            "pageNum" => paging.page_num = number(1, u32::MAX)?,
            _ => {}
        }
    }
    Ok(paging)
}

/// `GET .../databaseUsers`: the project's users in the Admin API's shape.
pub fn list_users(registry: &Registry, group_id: &str) -> Result<Vec<UserEntry>, ApiError> {
    let project = project(registry, group_id)?;
    Ok(project
        .database_users
        .iter()
        .map(|u| UserEntry::new(&project.id, u))
        .collect())
}

/// `GET .../databaseUsers/{databaseName}/{username}`: one user.
pub fn get_user(
    registry: &Registry,
    group_id: &str,
    database_name: &str,
    username: &str,
) -> Result<UserEntry, ApiError> {
    let project = project(registry, group_id)?;
    project
        .user(username)
        .filter(|u| u.database_name == database_name)
        .map(|u| UserEntry::new(&project.id, u))
        .ok_or_else(|| ApiError::new(ErrorCode::UsernameNotFound, &[username]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_bodies() {
        let code = |b: &str| parse_create_body(b.as_bytes()).map_err(|e| (e.code, e.detail));
        assert_eq!(code(""), Ok(3));
        assert_eq!(code(" \n"), Ok(3));
        assert_eq!(code(r#"{"monthsUntilExpiration":12}"#), Ok(12));
        assert_eq!(
            code(r#"{"monthsUntilExpiration":null,"groupId":"x"}"#),
            Ok(3)
        );
        assert_eq!(code("{").unwrap_err().0, ErrorCode::MalformedJson);
        assert_eq!(code("[1]").unwrap_err().0, ErrorCode::InvalidJson);
        assert_eq!(code(r#""12""#).unwrap_err().0, ErrorCode::InvalidJson);
        assert_eq!(
            code(r#"{"monthsUntilExpiration":"12"}"#).unwrap_err(),
            (
                ErrorCode::InvalidJsonAttribute,
                "Received JSON for the monthsUntilExpiration attribute does not match expected format.".into()
            )
        );
        assert_eq!(
            code(r#"{"monthsUntilExpiration":1.5}"#).unwrap_err().0,
            ErrorCode::InvalidJsonAttribute
        );
        assert_eq!(
            code(r#"{"months":1}"#).unwrap_err(),
            (
                ErrorCode::InvalidAttribute,
                "Invalid attribute months specified.".into()
            )
        );
    }

    #[test]
    fn paging_parameters() {
        assert_eq!(parse_paging([]), Ok(Paging::default()));
        let p = parse_paging([
            ("includeCount", "FALSE"),
            ("itemsPerPage", "500"),
            ("pageNum", "7"),
        ])
        .unwrap();
        assert_eq!(
            (p.include_count, p.items_per_page, p.page_num),
            (false, 500, 7)
        );
        assert!(
            !parse_paging([("includeCount", "yes")])
                .unwrap()
                .include_count
        );
        for bad in [
            ("itemsPerPage", "0"),
            ("itemsPerPage", "501"),
            ("pageNum", "0"),
            ("pageNum", "x"),
        ] {
            assert_eq!(
                parse_paging([bad]).unwrap_err().code,
                ErrorCode::InvalidQueryParameter
            );
        }
    }
}
