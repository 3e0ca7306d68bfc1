//! Service accounts, from the command line and over HTTP as the spec's
//! version 2024-08-05 has them (`/orgs/{orgId}/serviceAccounts`,
//! `/groups/{groupId}/serviceAccounts`): created with a client id that is
//! an ObjectId (`mdb_sa_id_` and the creation time in front) and a random
//! secret shown once; listed, read, deleted; a new secret replaces the
//! old one (ours: one secret per account).

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use super::atlas_error::{ApiError, ErrorCode};
use super::error::Error;
use super::json::timestamp;
use super::projects::{MAX_ACCOUNT_NAME, check_new, check_text, masked, object_id_time};
use super::users::project;
use crate::model::{Credential, CredentialKind, KeyRole, KeyRoleName, SecretTimes};
use crate::pki::random_hex;
use crate::store::{Home, Registry};

/// Longest description (the spec's).
const MAX_DESCRIPTION: usize = 250;
/// A secret's lifetime in hours: from 8 hours to a year (Atlas's docs).
pub const SECRET_HOURS: std::ops::RangeInclusive<i64> = 8..=8760;

/// Where an endpoint stands: the organization, or one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// `/orgs/{orgId}/serviceAccounts`.
    Org,
    /// `/groups/{groupId}/serviceAccounts`.
    Project(&'a str),
}

/// What a create body asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    /// `name`.
    pub name: String,
    /// `description`, when given (the CLI gives none).
    pub description: Option<String>,
    /// `roles`: organization roles at the organization, project roles in
    /// a project.
    pub roles: Vec<KeyRoleName>,
    /// `secretExpiresAfterHours`, when given (the CLI gives none: the
    /// secret does not end, ours).
    pub hours: Option<i64>,
}

/// Parses a create body: `name`, `description`, `roles`,
/// `secretExpiresAfterHours`, all required over HTTP.
pub fn parse_account_body(body: &[u8]) -> Result<NewAccount, ApiError> {
    let members = super::request::parse_settings_body(body)?;
    let (mut name, mut description, mut roles, mut hours) = (None, None, None, None);
    for (key, v) in members {
        let bad = || ApiError::new(ErrorCode::InvalidJsonAttribute, &[&key]);
        match key.as_str() {
            "name" => name = Some(v.as_str().ok_or_else(bad)?.to_string()),
            "description" => description = Some(v.as_str().ok_or_else(bad)?.to_string()),
            "secretExpiresAfterHours" => hours = Some(v.as_i64().ok_or_else(bad)?),
            "roles" => {
                let names: Vec<String> = serde_json::from_value(v).map_err(|_| bad())?;
                let parsed = names.iter().map(|n| n.parse::<KeyRoleName>().ok());
                roles = Some(
                    parsed
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| ApiError::new(ErrorCode::InvalidAttribute, &["roles"]))?,
                );
            }
            "clientId" | "createdAt" | "secrets" => {}
            k => return Err(ApiError::new(ErrorCode::InvalidAttribute, &[k])),
        }
    }
    let missing = |n: &str| ApiError::new(ErrorCode::MissingAttribute, &[n]);
    Ok(NewAccount {
        name: name.ok_or_else(|| missing("name"))?,
        description: Some(description.ok_or_else(|| missing("description"))?),
        roles: roles
            .filter(|r| !r.is_empty())
            .ok_or_else(|| missing("roles"))?,
        hours: Some(hours.ok_or_else(|| missing("secretExpiresAfterHours"))?),
    })
}

/// Parses a new secret's body: `secretExpiresAfterHours`, required.
pub fn parse_secret_body(body: &[u8]) -> Result<i64, ApiError> {
    let mut hours = None;
    for (key, v) in super::request::parse_settings_body(body)? {
        match key.as_str() {
            "secretExpiresAfterHours" => {
                hours = Some(v.as_i64().ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::InvalidJsonAttribute,
                        &["secretExpiresAfterHours"],
                    )
                })?)
            }
            k => return Err(ApiError::new(ErrorCode::InvalidAttribute, &[k])),
        }
    }
    hours.ok_or_else(|| ApiError::new(ErrorCode::MissingAttribute, &["secretExpiresAfterHours"]))
}

/// A secret's times for `hours` from `now`, checked.
fn secret_times(hours: Option<i64>, now: OffsetDateTime) -> Result<Option<SecretTimes>, ApiError> {
    let Some(hours) = hours else { return Ok(None) };
    if !SECRET_HOURS.contains(&hours) {
        return Err(ApiError::new(
            ErrorCode::InvalidAttribute,
            &["secretExpiresAfterHours"],
        ));
    }
    Ok(Some(SecretTimes {
        created: now,
        expires: now + Duration::hours(hours),
    }))
}

/// The roles a new account gets: at the organization only `ORG_OWNER`
/// is modelled (ours); in a project, its project roles.
fn roles_for(scope: Scope<'_>, names: &[KeyRoleName]) -> Result<Vec<KeyRole>, ApiError> {
    let bad = || ApiError::new(ErrorCode::InvalidAttribute, &["roles"]);
    names
        .iter()
        .map(|&name| match (scope, name) {
            (Scope::Org, KeyRoleName::OrgOwner) => KeyRole::new(name, None).map_err(|_| bad()),
            (Scope::Project(gid), n) if n != KeyRoleName::OrgOwner => {
                KeyRole::new(n, Some(gid)).map_err(|_| bad())
            }
            _ => Err(bad()),
        })
        .collect()
}

/// Creates a service account (`name`, at most 64 characters; a
/// description of at most 250) holding `roles`; the secret is in the
/// result only.
pub fn create(home: &Home, new: &NewAccount, roles: Vec<KeyRole>) -> Result<Credential, Error> {
    check_text("name", &new.name, MAX_ACCOUNT_NAME)?;
    if let Some(d) = &new.description {
        check_text("description", d, MAX_DESCRIPTION)?;
    }
    let now = OffsetDateTime::now_utc();
    let times = secret_times(new.hours, now)?;
    let mut edit = home.edit_registry()?;
    check_new(&edit, CredentialKind::ServiceAccount, &roles)?;
    // ObjectId seconds are 32-bit, as MongoDB's.
    let seconds = now.unix_timestamp() as u32;
    let client_id = loop {
        let id = format!("mdb_sa_id_{seconds:08x}{}", random_hex(8)?);
        if edit.registry.service_account(&id).is_none() {
            break id;
        }
    };
    let mut account = Credential::new(
        CredentialKind::ServiceAccount,
        Some(new.name.clone()),
        client_id,
        format!("mdb_sa_sk_{}", random_hex(24)?),
        roles,
    );
    account.description = new.description.clone();
    account.secret_times = times;
    edit.add_credential(&account)?;
    edit.commit()?;
    Ok(account)
}

/// `POST .../serviceAccounts`: a new account in `scope`.
pub fn create_in(home: &Home, scope: Scope<'_>, new: &NewAccount) -> Result<Credential, Error> {
    if let Scope::Project(gid) = scope {
        project(&home.registry()?, gid)?;
    }
    create(home, new, roles_for(scope, &new.roles)?)
}

/// Whether `account` is seen in `scope`: every account at the
/// organization, those with a role in the project in a project.
fn seen_in(account: &Credential, scope: Scope<'_>) -> bool {
    match scope {
        Scope::Org => true,
        Scope::Project(gid) => account.roles.iter().any(|r| r.is_in(gid)),
    }
}

/// The accounts `scope` sees, in registry order.
pub fn accounts<'r>(registry: &'r Registry, scope: Scope<'_>) -> Vec<&'r Credential> {
    registry
        .service_accounts
        .iter()
        .filter(|a| seen_in(a, scope))
        .collect()
}

/// The account `client_id` as `scope` sees it.
pub fn find<'r>(
    registry: &'r Registry,
    scope: Scope<'_>,
    client_id: &str,
) -> Result<&'r Credential, ApiError> {
    registry
        .service_accounts
        .iter()
        .find(|a| a.id == client_id && seen_in(a, scope))
        .ok_or_else(|| ApiError::new(ErrorCode::ServiceAccountNotFound, &[client_id]))
}

/// The registry index of the account `client_id`.
fn index_of(registry: &Registry, client_id: &str) -> Result<usize, ApiError> {
    registry
        .service_accounts
        .iter()
        .position(|a| a.id == client_id)
        .ok_or_else(|| ApiError::new(ErrorCode::ServiceAccountNotFound, &[client_id]))
}

/// `DELETE`: at the organization the account goes (its tokens stop
/// working at once); in a project it loses its roles there, and goes
/// with its last role (ours: no organization keeps it).
pub fn delete(home: &Home, scope: Scope<'_>, client_id: &str) -> Result<Credential, Error> {
    let mut edit = home.edit_registry()?;
    let found = find(&edit.registry, scope, client_id)?.clone();
    let index = index_of(&edit.registry, client_id)?;
    let left: Vec<KeyRole> = match scope {
        Scope::Org => Vec::new(),
        Scope::Project(gid) => found
            .roles
            .iter()
            .filter(|r| !r.is_in(gid))
            .cloned()
            .collect(),
    };
    if left.is_empty() {
        edit.remove_credential(CredentialKind::ServiceAccount, index)?;
    } else {
        edit.set_credential_roles(CredentialKind::ServiceAccount, index, &left)?;
    }
    edit.commit()?;
    Ok(found)
}

/// `POST .../serviceAccounts/{clientId}/secrets`: a new secret for
/// `hours`, which replaces the account's (its tokens end with the old one).
pub fn new_secret(
    home: &Home,
    scope: Scope<'_>,
    client_id: &str,
    hours: i64,
) -> Result<Credential, Error> {
    let times = secret_times(Some(hours), OffsetDateTime::now_utc())?;
    let mut edit = home.edit_registry()?;
    let account = find(&edit.registry, scope, client_id)?;
    // In a project, only an account of that project alone: a secret of one
    // that holds roles elsewhere (an Organization Owner's) would hand a
    // Project Owner those roles.
    if let Scope::Project(gid) = scope
        && !account.roles.iter().all(|r| r.is_in(gid))
    {
        return Err(ApiError::new(ErrorCode::UserUnauthorized, &[]).into());
    }
    let index = index_of(&edit.registry, client_id)?;
    let secret = format!("mdb_sa_sk_{}", random_hex(24)?);
    edit.set_account_secret(index, &secret, times)?;
    let registry = edit.commit()?;
    Ok(registry.service_accounts[index].clone())
}

/// What a PATCH changes: `name`, `description`, `roles` (each optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountPatch {
    /// A new name.
    pub name: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// The account's roles where the endpoint stands (the organization's,
    /// or the project's), replacing those.
    pub roles: Option<Vec<KeyRoleName>>,
}

/// Parses a PATCH body (the spec's `ServiceAccountUpdate`).
pub fn parse_patch_body(body: &[u8]) -> Result<AccountPatch, ApiError> {
    let mut patch = AccountPatch::default();
    for (key, v) in super::request::parse_settings_body(body)? {
        let bad = || ApiError::new(ErrorCode::InvalidJsonAttribute, &[&key]);
        match key.as_str() {
            "name" => patch.name = Some(v.as_str().ok_or_else(bad)?.to_string()),
            "description" => patch.description = Some(v.as_str().ok_or_else(bad)?.to_string()),
            "roles" => {
                let names: Vec<String> = serde_json::from_value(v).map_err(|_| bad())?;
                let parsed = names.iter().map(|n| n.parse::<KeyRoleName>().ok());
                patch.roles = Some(
                    parsed
                        .collect::<Option<Vec<_>>>()
                        .ok_or_else(|| ApiError::new(ErrorCode::InvalidAttribute, &["roles"]))?,
                );
            }
            k => return Err(ApiError::new(ErrorCode::InvalidAttribute, &[k])),
        }
    }
    Ok(patch)
}

/// `PATCH .../serviceAccounts/{clientId}`: name, description, and the
/// roles where the endpoint stands (its other roles kept); an account left
/// with no role at all is refused.
pub fn update(
    home: &Home,
    scope: Scope<'_>,
    client_id: &str,
    patch: &AccountPatch,
) -> Result<Credential, Error> {
    if let Some(name) = &patch.name {
        check_text("name", name, MAX_ACCOUNT_NAME)?;
    }
    if let Some(d) = &patch.description {
        check_text("description", d, MAX_DESCRIPTION)?;
    }
    let mut edit = home.edit_registry()?;
    let found = find(&edit.registry, scope, client_id)?.clone();
    // From a project, only an account of that project alone is renamed.
    if let Scope::Project(gid) = scope
        && (patch.name.is_some() || patch.description.is_some())
        && !found.roles.iter().all(|r| r.is_in(gid))
    {
        return Err(ApiError::new(ErrorCode::UserUnauthorized, &[]).into());
    }
    let index = index_of(&edit.registry, client_id)?;
    if let Some(names) = &patch.roles {
        let here = |r: &KeyRole| match scope {
            Scope::Org => r.group_id.is_none(),
            Scope::Project(gid) => r.is_in(gid),
        };
        let mut roles: Vec<KeyRole> = found.roles.iter().filter(|r| !here(r)).cloned().collect();
        roles.extend(roles_for(scope, names)?);
        if roles.is_empty() {
            return Err(ApiError::new(ErrorCode::InvalidAttribute, &["roles"]).into());
        }
        super::projects::each_role_once(&roles)?;
        edit.set_credential_roles(CredentialKind::ServiceAccount, index, &roles)?;
    }
    if let Some(name) = &patch.name {
        edit.set_credential_label(CredentialKind::ServiceAccount, index, name)?;
    }
    if let Some(d) = &patch.description {
        edit.set_account_description(index, d)?;
    }
    let registry = edit.commit()?;
    Ok(registry.service_accounts[index].clone())
}

/// A secret's id (24 hex): the first 12 bytes of its SHA-256 (ours).
pub fn secret_id(secret: &str) -> String {
    crate::model::hex(&openssl::sha::sha256(secret.as_bytes())[..12])
}

/// A service account as the spec's `ServiceAccount` has it, keys in
/// Atlas's alphabetical order.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountEntry {
    client_id: String,
    created_at: String,
    description: String,
    name: String,
    roles: Vec<String>,
    secrets: Vec<SecretEntry>,
}

/// One of its secrets.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretEntry {
    created_at: String,
    expires_at: String,
    id: String,
    masked_secret_value: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

/// When the account was made: the time its client id begins with (the
/// epoch for a hand-written id that is no ObjectId: ours).
fn created(account: &Credential) -> OffsetDateTime {
    account
        .id
        .strip_prefix("mdb_sa_id_")
        .and_then(object_id_time)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

impl SecretEntry {
    /// The account's secret, whole when `reveal` (its creation only).
    pub fn new(account: &Credential, reveal: bool) -> SecretEntry {
        let made = created(account);
        // A secret without recorded times does not end (ours).
        let (from, until) = account.secret_times.map_or((made, timestamp_max()), |t| {
            (t.created, timestamp(t.expires))
        });
        SecretEntry {
            created_at: timestamp(from),
            expires_at: until,
            id: secret_id(&account.secret),
            masked_secret_value: masked(&account.secret),
            secret: reveal.then(|| account.secret.clone()),
        }
    }
}

/// The end of a secret that does not end.
fn timestamp_max() -> String {
    "9999-12-31T23:59:59Z".into()
}

impl AccountEntry {
    /// `account` as `scope` shows it: at the organization its
    /// organization role (`ORG_MEMBER` for an account with project roles
    /// only), in a project its roles there.
    pub fn new(account: &Credential, scope: Scope<'_>, reveal: bool) -> AccountEntry {
        let roles = match scope {
            Scope::Org
                if account
                    .roles
                    .iter()
                    .any(|r| r.role_name == KeyRoleName::OrgOwner) =>
            {
                vec!["ORG_OWNER".to_string()]
            }
            Scope::Org => vec!["ORG_MEMBER".to_string()],
            Scope::Project(gid) => account
                .roles
                .iter()
                .filter(|r| r.is_in(gid))
                .map(|r| r.role_name.name().to_string())
                .collect(),
        };
        AccountEntry {
            client_id: account.id.clone(),
            created_at: timestamp(created(account)),
            description: account.description.clone().unwrap_or_default(),
            name: account.label.clone().unwrap_or_default(),
            roles,
            secrets: vec![SecretEntry::new(account, reveal)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_checked() {
        let ok = parse_account_body(
            br#"{"description":"Test service account","name":"sa","roles":["ORG_OWNER"],"secretExpiresAfterHours":8}"#,
        )
        .unwrap();
        assert_eq!(ok.roles, [KeyRoleName::OrgOwner]);
        assert_eq!(ok.hours, Some(8));
        let code = |b: &str| parse_account_body(b.as_bytes()).unwrap_err();
        assert_eq!(code(r#"{"name":"sa"}"#).code, ErrorCode::MissingAttribute);
        assert_eq!(
            code(r#"{"name":"sa","description":"d","roles":["NOPE"],"secretExpiresAfterHours":8}"#)
                .parameters,
            ["roles"]
        );
        assert_eq!(
            parse_secret_body(br#"{"secretExpiresAfterHours":24}"#),
            Ok(24)
        );
        assert!(secret_times(Some(7), OffsetDateTime::UNIX_EPOCH).is_err());
        assert!(secret_times(Some(8761), OffsetDateTime::UNIX_EPOCH).is_err());
        let gid = "5efda6aea3f2ed2e7dd6ce05";
        assert!(roles_for(Scope::Project(gid), &[KeyRoleName::OrgOwner]).is_err());
        assert!(roles_for(Scope::Org, &[KeyRoleName::GroupOwner]).is_err());
    }
}
