//! Projects (Atlas's groups) and programmatic API keys, kept in the
//! registry: created with fresh random ids and secrets, listed, removed.

use serde::Serialize;
use time::OffsetDateTime;

use super::atlas_error::{ApiError, ErrorCode};
use super::error::Error;
use super::json::{Link, timestamp};
use super::users::{project, project_at};
use crate::model::{
    Credential, CredentialKind, KeyRole, Label, MAX_CREDENTIALS, Project, is_hidden, repeated_role,
};
use crate::pki::{random_hex, random_letters};
use crate::store::registry_edit::Edit;
use crate::store::{Home, Registry};

/// A project in the Admin API's shape (the fields that apply offline).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectEntry {
    cluster_count: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    created: Option<String>,
    id: String,
    links: Vec<Link>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_id: Option<String>,
    tags: Vec<Label>,
    with_default_alerts_settings: bool,
}

/// The relations of a project's own answer besides `self`, in Atlas's
/// order (seen: GET, POST and PATCH carry them; list items do not).
const PROJECT_RELATIONS: [(&str, &str); 6] = [
    ("containers", "https://cloud.mongodb.com/containers"),
    ("clusters", "https://cloud.mongodb.com/clusters"),
    ("databaseUsers", "https://cloud.mongodb.com/databaseUsers"),
    ("peers", "https://cloud.mongodb.com/peers"),
    ("processes", "https://cloud.mongodb.com/processes"),
    ("whitelist", "https://cloud.mongodb.com/whitelist"),
];

impl ProjectEntry {
    /// The entry for `project` as a list shows it: its `self` link under
    /// `api_root`.
    pub fn in_list(registry: &Registry, project: &Project, api_root: &str) -> ProjectEntry {
        let mut entry = ProjectEntry::new(registry, project, api_root);
        entry.links.truncate(1);
        entry
    }

    /// The entry for `project` of `registry` as its own answer (GET, POST,
    /// PATCH): the `self` link and Atlas's six related resources under
    /// `api_root`. A project written without `created` or `orgId` still
    /// has both, as on Atlas: the time its ObjectId id begins with, and
    /// the registry's organization.
    pub fn new(registry: &Registry, project: &Project, api_root: &str) -> ProjectEntry {
        let href = format!("{api_root}/groups/{}", project.id);
        let mut links = vec![Link {
            href: href.clone(),
            rel: "self",
        }];
        links.extend(PROJECT_RELATIONS.iter().map(|(path, rel)| Link {
            href: format!("{href}/{path}"),
            rel,
        }));
        ProjectEntry {
            cluster_count: 0,
            created: project
                .created
                .or_else(|| object_id_time(&project.id))
                .map(timestamp),
            id: project.id.clone(),
            links,
            name: project.name.clone().unwrap_or_default(),
            org_id: project.org_id.clone().or_else(|| registry.organization()),
            tags: project.tags.clone(),
            with_default_alerts_settings: true,
        }
    }

    /// The project's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The project's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// 32 random hex digits as an RFC 4122 version-4 UUID, as Atlas's private
/// keys are: the version digit `4`, the variant digit one of `8`-`b`.
fn uuid_v4(hex: &str) -> String {
    let variant = u8::from_str_radix(&hex[16..17], 16).map_or(8, |v| (v & 0x3) | 0x8);
    format!(
        "{}-{}-4{}-{:x}{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[13..16],
        variant,
        &hex[17..20],
        &hex[20..32]
    )
}

/// The creation time an ObjectId carries in its first four bytes.
pub(crate) fn object_id_time(id: &str) -> Option<OffsetDateTime> {
    let seconds = u32::from_str_radix(id.get(..8)?, 16).ok()?;
    OffsetDateTime::from_unix_timestamp(i64::from(seconds)).ok()
}

/// `POST /groups`: a new project named `name` (unique) with a fresh random
/// id, or `id` when given (it must be a free 24-hex id).
pub fn create_project(
    home: &Home,
    name: &str,
    id: Option<&str>,
    tags: &[Label],
) -> Result<Project, Error> {
    let now = OffsetDateTime::now_utc();
    let mut edit = home.edit_registry()?;
    check_project_name(name)?;
    if edit
        .registry
        .projects
        .iter()
        .any(|p| p.name.as_deref() == Some(name))
    {
        return Err(ApiError::new(ErrorCode::GroupAlreadyExists, &[name]).into());
    }
    let id = match id {
        Some(id) => {
            let id = id.to_ascii_lowercase();
            if !crate::model::is_project_id(&id) {
                return Err(ApiError::new(ErrorCode::InvalidGroupId, &[&id]).into());
            }
            if edit.registry.project(&id).is_some() {
                return Err(ApiError::new(ErrorCode::GroupAlreadyExists, &[&id]).into());
            }
            id
        }
        None => fresh_project_id(&edit.registry, now)?,
    };
    // The registry's organization, else a new one.
    let org = match edit.registry.organization() {
        Some(org) => org,
        None => random_hex(12)?,
    };
    let index = edit.registry.projects.len();
    edit.add_project(&id, Some(name), &org, now)?;
    if !tags.is_empty() {
        edit.set_project(index, None, Some(tags))?;
    }
    let registry = edit.commit()?;
    Ok(project(&registry, &id)?.clone())
}

/// `PATCH /groups/{id}`: a new name (unique, Atlas's pattern) and, when
/// given, new tags.
pub fn update_project(
    home: &Home,
    group_id: &str,
    name: Option<&str>,
    tags: Option<&[Label]>,
) -> Result<Project, Error> {
    let mut edit = home.edit_registry()?;
    let (index, old) = project_at(&edit.registry, group_id)?;
    let id = old.id.clone();
    if let Some(name) = name {
        check_project_name(name)?;
        if edit
            .registry
            .projects
            .iter()
            .any(|p| p.id != id && p.name.as_deref() == Some(name))
        {
            return Err(ApiError::new(ErrorCode::GroupAlreadyExists, &[name]).into());
        }
    }
    edit.set_project(index, name, tags)?;
    let registry = edit.commit()?;
    Ok(project(&registry, &id)?.clone())
}

/// `DELETE /groups/{id}`: the project and its users leave the registry;
/// its CA files and ledger rows stay (what it issued can still be verified).
pub fn delete_project(home: &Home, group_id: &str) -> Result<Project, Error> {
    let mut edit = home.edit_registry()?;
    let (index, old) = project_at(&edit.registry, group_id)?;
    let old = old.clone();
    edit.remove_project(index)?;
    edit.commit()?;
    Ok(old)
}

/// `atlas-ca init`: creates the home with a commented registry of one
/// project (`id`, or a fresh random one) named `name`, and no users. An
/// existing registry is left alone and is an error.
pub fn init_home(home: &Home, id: Option<&str>, name: &str) -> Result<Project, Error> {
    let id = match id {
        Some(id) if crate::model::is_project_id(id) => id.to_ascii_lowercase(),
        Some(id) => return Err(ApiError::new(ErrorCode::InvalidGroupId, &[id]).into()),
        None => random_hex(12)?,
    };
    check_project_name(name)?;
    let org = random_hex(12)?;
    let created = timestamp(OffsetDateTime::now_utc());
    let text = crate::store::registry_edit::initial_text(&id, name, &org, &created);
    let registry = Registry::parse(&text, home.registry_path())?;
    home.create_registry(&text)?;
    Ok(project(&registry, &id)?.clone())
}

/// Longest project name, as Atlas's spec (`Group.name`).
const MAX_PROJECT_NAME: usize = 64;
/// Longest API key description, as Atlas's spec (`ApiKeyUserDetails.desc`).
pub(crate) const MAX_KEY_DESC: usize = 250;
/// Longest service account name (ours, the same as a project's).
pub(crate) const MAX_ACCOUNT_NAME: usize = 64;

/// A project name as Atlas's spec has it: `^[\p{L}\p{N}\-_.(),:&@+']{1,64}$`
/// (letters and digits of any script, a few marks, no spaces).
fn check_project_name(name: &str) -> Result<(), ApiError> {
    use unicode_properties::{GeneralCategoryGroup as G, UnicodeGeneralCategory};
    let allowed = |c: char| {
        matches!(c.general_category_group(), G::Letter | G::Number) || "-_.(),:&@+'".contains(c)
    };
    let count = name.chars().count();
    if (1..=MAX_PROJECT_NAME).contains(&count) && name.chars().all(allowed) {
        Ok(())
    } else {
        Err(ApiError::new(ErrorCode::InvalidAttribute, &["name"]))
    }
}

/// A description or account name: not blank, at most `max` characters,
/// and nothing that would not show as itself in a list ([`is_hidden`]).
pub(crate) fn check_text(attribute: &str, s: &str, max: usize) -> Result<(), ApiError> {
    if s.trim().is_empty() || s.chars().any(is_hidden) || s.chars().count() > max {
        return Err(ApiError::new(ErrorCode::InvalidAttribute, &[attribute]));
    }
    Ok(())
}

/// A new project id that the registry does not use yet, an ObjectId as
/// Atlas's are: the creation time `now` in its first four bytes, then
/// eight random ones.
pub fn fresh_project_id(registry: &Registry, now: OffsetDateTime) -> Result<String, Error> {
    // ObjectId seconds are 32-bit: a clock past 2106 wraps, as MongoDB's do.
    let seconds = now.unix_timestamp() as u32;
    loop {
        let id = format!("{seconds:08x}{}", random_hex(8)?);
        if registry.project(&id).is_none() {
            return Ok(id);
        }
    }
}

/// `projects apiKeys create`: a key with a fresh public key (eight
/// lowercase letters, as Atlas's) and a random private key (a UUID, as
/// Atlas's), holding `roles`. The private key is shown only in the result.
pub fn create_api_key(home: &Home, desc: &str, roles: Vec<KeyRole>) -> Result<Credential, Error> {
    check_text("desc", desc, MAX_KEY_DESC)?;
    let mut edit = home.edit_registry()?;
    check_new(&edit, CredentialKind::ApiKey, &roles)?;
    let public_key = loop {
        let letters = random_letters(8)?;
        if edit.registry.api_key(&letters).is_none() {
            break letters;
        }
    };
    let private_key = uuid_v4(&random_hex(16)?);
    let key = Credential::new(
        CredentialKind::ApiKey,
        Some(desc.to_string()),
        public_key,
        private_key,
        roles,
    );
    edit.add_credential(&key)?;
    edit.commit()?;
    Ok(key)
}

/// A new credential of `kind` needs room (at most [`MAX_CREDENTIALS`] of
/// a kind), a role, each role once, and project roles a project that
/// exists.
pub(crate) fn check_new(
    edit: &Edit,
    kind: CredentialKind,
    roles: &[KeyRole],
) -> Result<(), ApiError> {
    let (held, what) = match kind {
        CredentialKind::ApiKey => (edit.registry.api_keys.len(), "API keys"),
        CredentialKind::ServiceAccount => {
            (edit.registry.service_accounts.len(), "service accounts")
        }
    };
    if held >= MAX_CREDENTIALS {
        let limit = MAX_CREDENTIALS.to_string();
        return Err(ApiError::new(
            ErrorCode::CredentialLimitExceeded,
            &[&limit, what],
        ));
    }
    if roles.is_empty() {
        return Err(ApiError::new(ErrorCode::MissingAttribute, &["roles"]));
    }
    each_role_once(roles)?;
    for role in roles {
        if let Some(g) = &role.group_id {
            project(&edit.registry, g)?;
        }
    }
    Ok(())
}

/// Refuses roles that name one role twice: a credential holds each once.
pub(crate) fn each_role_once(roles: &[KeyRole]) -> Result<(), ApiError> {
    match repeated_role(roles) {
        Some(_) => Err(ApiError::new(ErrorCode::InvalidAttribute, &["roles"])
            .with_note("each role is granted once")),
        None => Ok(()),
    }
}

/// `projects apiKeys delete`: removes the key with this public key.
pub fn delete_api_key(home: &Home, public_key: &str) -> Result<Credential, Error> {
    let mut edit = home.edit_registry()?;
    let index = edit
        .registry
        .api_keys
        .iter()
        .position(|k| k.id == public_key)
        .ok_or_else(|| ApiError::new(ErrorCode::ApiKeyNotFound, &[public_key]))?;
    let key = edit.registry.api_keys[index].clone();
    edit.remove_credential(CredentialKind::ApiKey, index)?;
    edit.commit()?;
    Ok(key)
}

/// A secret as lists show it: a UUID key as Atlas masks it
/// (`********-****-****-<last 12>`); any other secret masked but its last
/// characters (dashes kept), never more than a third of it nor twelve.
pub fn masked(secret: &str) -> String {
    // A UUID (what Atlas's private keys are) as Atlas masks it: three
    // starred groups and the last twelve characters.
    let uuid = secret.len() == 36
        && secret.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    if uuid {
        return format!("********-****-****-{}", &secret[24..]);
    }
    masked_chars(secret)
}

/// An API key's id as the Admin API shows it (24 hex): for a key the
/// registry names by its public key alone, the first 12 bytes of that
/// public key's SHA-256, so it stays the same from run to run (ours).
pub fn key_id(public_key: &str) -> String {
    crate::model::hex(&openssl::sha::sha256(public_key.as_bytes())[..12])
}

/// Every character starred but the last ones, dashes kept.
fn masked_chars(secret: &str) -> String {
    let chars = secret.chars().count();
    let shown = (chars / 3).min(12);
    secret
        .chars()
        .enumerate()
        .map(|(i, c)| {
            if i < chars - shown && c != '-' {
                '*'
            } else {
                c
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_keys_are_version_4_uuids() {
        for hex in [
            "00000000000000000000000000000000",
            "ffffffffffffffffffffffffffffffff",
        ] {
            let key = uuid_v4(hex);
            let parts: Vec<&str> = key.split('-').collect();
            assert_eq!(
                parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
                [8, 4, 4, 4, 12]
            );
            assert!(parts[2].starts_with('4'), "{key}");
            assert!(parts[3].starts_with(['8', '9', 'a', 'b']), "{key}");
        }
        assert_eq!(
            uuid_v4("754c88080ba831538eea0123456789ab"),
            "754c8808-0ba8-4153-8eea-0123456789ab"
        );
    }

    #[test]
    fn private_keys_are_masked_but_their_end() {
        assert_eq!(
            masked("2ad3e8c5-1b2c-4d5e-8f90-a1b2c3d4e5f6"),
            // As Atlas's recorded list shows a UUID key: three starred groups.
            "********-****-****-a1b2c3d4e5f6"
        );
        // README's example secret: 18 characters, 6 shown.
        assert_eq!(masked("local-owner-secret"), "*****-*****-secret");
        assert_eq!(masked("ab"), "**");
        let account = format!("mdb_sa_sk_{}", "a".repeat(48));
        let shown = masked(&account).chars().filter(|&c| c != '*').count();
        assert_eq!(shown, 12);
    }

    #[test]
    fn project_names_follow_atlas_pattern() {
        for good in ["local", "Калоян", "a(b),c:d&e@f+g'h_i-j.k", "日本2"] {
            assert!(check_project_name(good).is_ok(), "{good}");
        }
        let long = "x".repeat(MAX_PROJECT_NAME + 1);
        for bad in [
            "",
            "a b",
            "a\u{202e}b",
            "a\u{200b}b",
            "a\u{2028}",
            "a/b",
            &long,
        ] {
            assert!(check_project_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn descriptions_refuse_hidden_characters() {
        assert!(check_text("desc", "CI key (nightly)", MAX_KEY_DESC).is_ok());
        for bad in [
            "",
            "  ",
            "a\u{202e}b",
            "a\u{200b}",
            "a\u{2029}b",
            "a\u{e000}",
        ] {
            assert!(check_text("desc", bad, MAX_KEY_DESC).is_err(), "{bad:?}");
        }
    }
}
