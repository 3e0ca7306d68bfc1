//! Projects (Atlas's groups) and programmatic API keys, kept in the
//! registry: created with fresh random ids and secrets, listed, removed.

use serde::Serialize;

use super::atlas_error::{ApiError, ErrorCode};
use super::error::Error;
use super::json::Link;
use super::users::project;
use crate::pki::{random_hex, random_letters};
use crate::store::registry_edit::{CredentialKind, Edit, NewCredential};
use crate::store::{ApiKey, Home, KeyRole, Project, Registry, ServiceAccount};

/// A project in the Admin API's shape (the fields that apply offline).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectEntry {
    cluster_count: u32,
    id: String,
    links: Vec<Link>,
    name: String,
}

impl ProjectEntry {
    /// The entry for `project`, its `self` link under `api_root`.
    pub fn new(project: &Project, api_root: &str) -> ProjectEntry {
        ProjectEntry {
            cluster_count: 0,
            id: project.id.clone(),
            links: vec![Link {
                href: format!("{api_root}/groups/{}", project.id),
                rel: "self",
            }],
            name: project.name.clone().unwrap_or_default(),
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

/// `POST /groups`: a new project named `name` (unique) with a fresh random
/// id, or `id` when given (it must be a free 24-hex id).
pub fn create_project(home: &Home, name: &str, id: Option<&str>) -> Result<Project, Error> {
    let mut edit = Edit::open(home.registry_path())?;
    check_name("name", name, 64)?;
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
            if !crate::store::registry::is_project_id(&id) {
                return Err(ApiError::new(ErrorCode::InvalidGroupId, &[&id]).into());
            }
            if edit.registry.project(&id).is_some() {
                return Err(ApiError::new(ErrorCode::GroupAlreadyExists, &[&id]).into());
            }
            id
        }
        None => fresh_project_id(&edit.registry)?,
    };
    edit.add_project(&id, Some(name))?;
    let registry = edit.commit()?;
    Ok(project(&registry, &id)?.clone())
}

/// `atlas-ca init`: creates the home with a commented registry of one
/// project (`id`, or a fresh random one) named `name`, and no users. An
/// existing registry is left alone and is an error.
pub fn init_home(home: &Home, id: Option<&str>, name: &str) -> Result<Project, Error> {
    let id = match id {
        Some(id) if crate::store::registry::is_project_id(id) => id.to_ascii_lowercase(),
        Some(id) => return Err(ApiError::new(ErrorCode::InvalidGroupId, &[id]).into()),
        None => random_hex(12)?,
    };
    check_name("name", name, 64)?;
    let text = crate::store::registry_edit::initial_text(&id, name);
    let registry = Registry::parse(&text, home.registry_path())?;
    home.create_registry(&text)?;
    Ok(project(&registry, &id)?.clone())
}

/// A name or description: not blank, no control characters, at most
/// `max` characters.
fn check_name(attribute: &str, s: &str, max: usize) -> Result<(), ApiError> {
    if s.trim().is_empty() || s.chars().any(char::is_control) || s.chars().count() > max {
        return Err(ApiError::new(ErrorCode::InvalidAttribute, &[attribute]));
    }
    Ok(())
}

/// A random 24-hex project id that the registry does not use yet.
pub fn fresh_project_id(registry: &Registry) -> Result<String, Error> {
    loop {
        let id = random_hex(12)?;
        if registry.project(&id).is_none() {
            return Ok(id);
        }
    }
}

/// `projects apiKeys create`: a key with a fresh public key (eight
/// lowercase letters, as Atlas's) and a random private key (a UUID, as
/// Atlas's), holding `roles`. The private key is shown only in the result.
pub fn create_api_key(home: &Home, desc: &str, roles: Vec<KeyRole>) -> Result<ApiKey, Error> {
    let mut edit = Edit::open(home.registry_path())?;
    check_name("desc", desc, 250)?;
    check_roles(&edit, &roles)?;
    let public_key = loop {
        let letters = random_letters(8)?;
        if edit.registry.api_key(&letters).is_none() {
            break letters;
        }
    };
    let hex = random_hex(16)?;
    let private_key = format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    );
    let key = ApiKey {
        desc: Some(desc.to_string()),
        public_key,
        private_key,
        roles,
    };
    edit.add_credential(NewCredential::ApiKey(&key))?;
    edit.commit()?;
    Ok(key)
}

/// `projects serviceAccounts create`: a service account named `name` with
/// a client id `mdb_sa_id_<24 hex>` and a random secret
/// `mdb_sa_sk_<...>`, as Atlas's look, holding `roles`. The secret is shown
/// only in the result.
pub fn create_service_account(
    home: &Home,
    name: &str,
    roles: Vec<KeyRole>,
) -> Result<ServiceAccount, Error> {
    let mut edit = Edit::open(home.registry_path())?;
    check_name("name", name, 64)?;
    check_roles(&edit, &roles)?;
    let client_id = loop {
        let id = format!("mdb_sa_id_{}", random_hex(12)?);
        if edit.registry.service_account(&id).is_none() {
            break id;
        }
    };
    let account = ServiceAccount {
        name: Some(name.to_string()),
        client_id,
        client_secret: format!("mdb_sa_sk_{}", random_hex(24)?),
        roles,
    };
    edit.add_credential(NewCredential::ServiceAccount(&account))?;
    edit.commit()?;
    Ok(account)
}

/// `projects serviceAccounts delete`: removes the account with this
/// client id (its tokens stop working at once).
pub fn delete_service_account(home: &Home, client_id: &str) -> Result<ServiceAccount, Error> {
    let mut edit = Edit::open(home.registry_path())?;
    let index = edit
        .registry
        .service_accounts
        .iter()
        .position(|a| a.client_id == client_id)
        .ok_or_else(|| ApiError::new(ErrorCode::ServiceAccountNotFound, &[client_id]))?;
    let account = edit.registry.service_accounts[index].clone();
    edit.remove_credential(CredentialKind::ServiceAccount, index)?;
    edit.commit()?;
    Ok(account)
}

/// Roles need a role, and project roles a project that exists.
fn check_roles(edit: &Edit, roles: &[KeyRole]) -> Result<(), ApiError> {
    if roles.is_empty() {
        return Err(ApiError::new(ErrorCode::MissingAttribute, &["roles"]));
    }
    for role in roles {
        if let Some(g) = &role.group_id {
            project(&edit.registry, g)?;
        }
    }
    Ok(())
}

/// `projects apiKeys delete`: removes the key with this public key.
pub fn delete_api_key(home: &Home, public_key: &str) -> Result<ApiKey, Error> {
    let mut edit = Edit::open(home.registry_path())?;
    let index = edit
        .registry
        .api_keys
        .iter()
        .position(|k| k.public_key == public_key)
        .ok_or_else(|| ApiError::new(ErrorCode::ApiKeyNotFound, &[public_key]))?;
    let key = edit.registry.api_keys[index].clone();
    edit.remove_credential(CredentialKind::ApiKey, index)?;
    edit.commit()?;
    Ok(key)
}

/// A private key as lists show it: all but its last 12 characters masked.
pub fn masked(private_key: &str) -> String {
    let keep = private_key.len().saturating_sub(12);
    private_key
        .char_indices()
        .map(|(i, c)| if i < keep && c != '-' { '*' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_keys_are_masked_but_their_end() {
        assert_eq!(
            masked("2ad3e8c5-1b2c-4d5e-8f90-a1b2c3d4e5f6"),
            "********-****-****-****-a1b2c3d4e5f6"
        );
    }
}
