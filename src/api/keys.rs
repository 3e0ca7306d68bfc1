//! Project API keys as Atlas answers them (`/groups/{id}/apiKeys` and the
//! CLI's `projects apiKeys`): the entity with its organization role and
//! link, the project's keys, and removal from a project (the create body
//! is parsed with the other bodies, in `request`).

use serde::Serialize;

use super::atlas_error::{ApiError, ErrorCode};
use super::error::Error;
use super::json::Link;
use super::projects::{MAX_KEY_DESC, check_text, create_api_key, each_role_once, key_id, masked};
use super::users::project;
use crate::model::{Credential, CredentialKind, KeyRole, KeyRoleName, hex};
use crate::store::{Home, Registry};

/// A project API key in Atlas's shape (`ApiKeyUserDetails`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyEntry {
    desc: String,
    id: String,
    links: Vec<Link>,
    private_key: String,
    public_key: String,
    roles: Vec<KeyRoleEntry>,
}

/// One role of a key or service account: a project role with its
/// `groupId`, or the organization's with its `orgId`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyRoleEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    group_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_id: Option<String>,
    role_name: &'static str,
}

impl ApiKeyEntry {
    /// The key as its own answer shows it (seen: create and PATCH): its
    /// organization's `ORG_MEMBER` role first, then its own roles; the
    /// link under the organization; `private_key` as given (whole only in
    /// the answer that creates the key).
    pub fn new(registry: &Registry, key: &Credential, private_key: String, api_root: &str) -> Self {
        let org = org_of(registry, key);
        let mut roles: Vec<KeyRoleEntry> = org.as_deref().map(org_member).into_iter().collect();
        roles.extend(role_entries(&key.roles));
        let id = key_id(&key.id);
        let links = org
            .map(|o| Link {
                href: format!("{api_root}/orgs/{o}/apiKeys/{id}"),
                rel: "self",
            })
            .into_iter()
            .collect();
        ApiKeyEntry {
            desc: key.label.clone().unwrap_or_default(),
            id,
            links,
            private_key,
            public_key: key.id.clone(),
            roles,
        }
    }

    /// The key as a list shows it (seen): the private key masked, its own
    /// roles first, then `ORG_MEMBER`.
    pub fn in_list(registry: &Registry, key: &Credential, api_root: &str) -> Self {
        let mut entry = ApiKeyEntry::new(registry, key, masked(&key.secret), api_root);
        if entry.roles.first().is_some_and(|r| r.org_id.is_some()) {
            entry.roles.rotate_left(1);
        }
        entry
    }

    /// The key's id (24 hex).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The public key (the Digest user name).
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// The description.
    pub fn desc(&self) -> &str {
        &self.desc
    }
}

/// The organization of the first project `key` holds a role in, else the
/// registry's.
fn org_of(registry: &Registry, key: &Credential) -> Option<String> {
    key.roles
        .iter()
        .filter_map(|r| r.group_id.as_deref())
        .find_map(|g| registry.project(g).and_then(|p| p.org_id.clone()))
        .or_else(|| registry.organization())
}

fn org_member(org: &str) -> KeyRoleEntry {
    KeyRoleEntry {
        group_id: None,
        org_id: Some(org.to_string()),
        role_name: "ORG_MEMBER",
    }
}

/// The roles as Atlas writes them.
pub fn role_entries(roles: &[KeyRole]) -> Vec<KeyRoleEntry> {
    roles
        .iter()
        .map(|r| KeyRoleEntry {
            group_id: r.group_id.clone(),
            org_id: None,
            role_name: r.role_name.name(),
        })
        .collect()
}

/// The keys that hold a role in project `group_id`, in file order.
pub fn project_keys<'a>(
    registry: &'a Registry,
    group_id: &'a str,
) -> impl Iterator<Item = &'a Credential> + 'a {
    registry
        .api_keys
        .iter()
        .filter(move |k| k.roles.iter().any(|r| r.is_in(group_id)))
}

/// `POST /groups/{id}/apiKeys`: a new key holding `roles` in the project.
pub fn create_project_key(
    home: &Home,
    group_id: &str,
    desc: &str,
    roles: &[KeyRoleName],
) -> Result<Credential, Error> {
    let gid = project(&home.registry()?, group_id)?.id.clone();
    let roles = roles
        .iter()
        .map(|&role_name| KeyRole {
            role_name,
            group_id: Some(gid.clone()),
        })
        .collect();
    create_api_key(home, desc, roles)
}

/// The index of the API key whose id (24 hex) or public key is `key`.
fn key_index(registry: &Registry, key: &str) -> Result<usize, ApiError> {
    registry
        .api_keys
        .iter()
        .position(|k| key_id(&k.id) == key || k.id == key)
        .ok_or_else(|| ApiError::new(ErrorCode::ApiKeyNotFound, &[key]))
}

/// `PATCH /groups/{id}/apiKeys/{apiUserId}` (`atlas projects apiKeys
/// assign`): the key's roles in the project become `roles` (each once),
/// its roles elsewhere stay; a key without one in the project gets them.
/// A `desc` replaces the key's description.
pub fn assign_project_roles(
    home: &Home,
    group_id: &str,
    key: &str,
    desc: Option<&str>,
    roles: Option<&[KeyRoleName]>,
) -> Result<Credential, Error> {
    if let Some(desc) = desc {
        check_text("desc", desc, MAX_KEY_DESC)?;
    }
    let mut edit = home.edit_registry()?;
    let gid = project(&edit.registry, group_id)?.id.clone();
    let index = key_index(&edit.registry, key)?;
    // Only the project's keys are renamed here; giving roles brings a key in.
    let in_project = edit.registry.api_keys[index]
        .roles
        .iter()
        .any(|r| r.is_in(&gid));
    if roles.is_none() && !in_project {
        return Err(ApiError::new(ErrorCode::ApiKeyNotFound, &[key]).into());
    }
    if let Some(roles) = roles {
        let mut held: Vec<KeyRole> = edit.registry.api_keys[index]
            .roles
            .iter()
            .filter(|r| !r.is_in(&gid))
            .cloned()
            .collect();
        held.extend(roles.iter().map(|&role_name| KeyRole {
            role_name,
            group_id: Some(gid.clone()),
        }));
        each_role_once(&held)?;
        edit.set_credential_roles(CredentialKind::ApiKey, index, &held)?;
    }
    if let Some(desc) = desc {
        edit.set_credential_label(CredentialKind::ApiKey, index, desc)?;
    }
    let registry = edit.commit()?;
    Ok(registry.api_keys[index].clone())
}

/// `GET /orgs/{orgId}/apiKeys/{id}`: the key, if `org_id` is the
/// registry's organization.
pub fn org_key<'r>(
    registry: &'r Registry,
    org_id: &str,
    key: &str,
) -> Result<&'r Credential, Error> {
    check_org(registry, org_id)?;
    Ok(&registry.api_keys[key_index(registry, key)?])
}

/// `DELETE /orgs/{orgId}/apiKeys/{id}`: removes the key from the
/// organization, and so from every project.
pub fn delete_org_key(home: &Home, org_id: &str, key: &str) -> Result<Credential, Error> {
    let mut edit = home.edit_registry()?;
    check_org(&edit.registry, org_id)?;
    let index = key_index(&edit.registry, key)?;
    let removed = edit.registry.api_keys[index].clone();
    edit.remove_credential(CredentialKind::ApiKey, index)?;
    edit.commit()?;
    Ok(removed)
}

/// Refuses an organization other than the registry's (ours: Atlas's
/// `ORG_NOT_FOUND` is not recorded; a missing resource is).
pub(crate) fn check_org(registry: &Registry, org_id: &str) -> Result<(), ApiError> {
    if registry.organization().as_deref() == Some(org_id) {
        Ok(())
    } else {
        let path = format!("/orgs/{org_id}");
        Err(ApiError::new(ErrorCode::ResourceNotFound, &[&path]))
    }
}

/// `DELETE /groups/{id}/apiKeys/{apiUserId}`: the key with this id (or
/// public key) loses its roles in the project; a key left with no role
/// at all is removed (ours: atlas-ca has no organization to keep it in).
pub fn remove_from_project(home: &Home, group_id: &str, key: &str) -> Result<Credential, Error> {
    let mut edit = home.edit_registry()?;
    let gid = project(&edit.registry, group_id)?.id.clone();
    let index = edit
        .registry
        .api_keys
        .iter()
        .position(|k| {
            k.roles.iter().any(|r| r.is_in(&gid)) && (key_id(&k.id) == key || k.id == key)
        })
        .ok_or_else(|| ApiError::new(ErrorCode::ApiKeyNotFound, &[key]))?;
    let found = edit.registry.api_keys[index].clone();
    let left: Vec<KeyRole> = found
        .roles
        .iter()
        .filter(|r| !r.is_in(&gid))
        .cloned()
        .collect();
    if left.is_empty() {
        edit.remove_credential(CredentialKind::ApiKey, index)?;
    } else {
        edit.set_credential_roles(CredentialKind::ApiKey, index, &left)?;
    }
    edit.commit()?;
    Ok(found)
}

/// `GET /api/atlas/v2` (getSystemStatus): the service and the key that
/// asked, in the spec's shape (keys in Atlas's alphabetical order).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SystemStatus {
    api_key: Option<StatusKey>,
    app_name: &'static str,
    build: String,
    links: Vec<Link>,
    throttling: bool,
}

/// The asking key as the system status shows it: no access list (atlas-ca
/// has none), its id, public key and roles.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusKey {
    access_list: Vec<String>,
    id: String,
    public_key: String,
    roles: Vec<KeyRoleEntry>,
}

impl SystemStatus {
    /// The status as the caller `caller_id` sees it at `root` (the API
    /// root with its version). A service account has no API key: `null`
    /// (ours). `build` is this release's, as 40 hex digits (ours: SHA-256
    /// of the version, cut to a git hash's length).
    pub fn new(registry: &Registry, caller_id: &str, root: &str) -> SystemStatus {
        let api_key = registry.api_key(caller_id).map(|key| StatusKey {
            access_list: Vec::new(),
            id: key_id(&key.id),
            public_key: key.id.clone(),
            roles: role_entries(&key.roles),
        });
        let build = hex(&openssl::sha::sha256(env!("CARGO_PKG_VERSION").as_bytes())[..20]);
        SystemStatus {
            api_key,
            app_name: "MongoDB Atlas",
            build,
            links: vec![Link {
                href: root.to_string(),
                rel: "self",
            }],
            throttling: false,
        }
    }
}
