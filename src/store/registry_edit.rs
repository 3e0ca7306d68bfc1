//! Writing the registry: every change is made on the file's own TOML
//! document (`toml_edit`), so comments, key order and layout of everything
//! it does not touch stay byte for byte; the result is validated as a whole
//! and written atomically (temporary file, fsync, rename, mode 0600), under
//! an exclusive lock that every writer (CLI processes and the server) takes,
//! so that concurrent writers lose nothing. A kill at any moment leaves the
//! old file or the new one.

use std::fs::File;
use std::path::{Path, PathBuf};

use time::format_description::well_known::Rfc3339;
use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, value};

use super::files::{Dir, file_name, lock_file};
use super::notes::Notes;
use super::registry::{MAX_REGISTRY_BYTES, Registry, RegistryError, read_text};
use crate::model::names::name_or_none;
use crate::model::{
    AuthFields, Credential, CredentialKind, DatabaseUser, KeyRole, Label, SecretTimes, UserDetails,
};

/// An open edit of the registry: the validated registry as it is now, and
/// its document to change. Dropping it without [`Edit::commit`] changes
/// nothing; the lock is held until then.
pub struct Edit {
    /// The registry file: the target of a symbolic link, which is followed.
    path: PathBuf,
    /// The registry as it is before the edit.
    pub registry: Registry,
    doc: DocumentMut,
    /// What the rewrite keeps of the file as it was.
    kept: Kept,
    _lock: File,
}

/// The registry's lock, held until dropped.
pub struct RegistryLock {
    _held: File,
}

/// What a rewrite keeps of the file: its owner, its line endings and its
/// byte-order mark (the mode is always 0600: it holds secrets).
struct Kept {
    uid: u32,
    gid: u32,
    crlf: bool,
    bom: bool,
}

impl Kept {
    fn of(path: &Path, text: &str) -> Result<Kept, RegistryError> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(path).map_err(|source| RegistryError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Kept {
            uid: meta.uid(),
            gid: meta.gid(),
            crlf: text.contains("\r\n"),
            bom: text.starts_with('\u{feff}'),
        })
    }

    /// Root editing another user's registry leaves the lock file theirs
    /// too, so that their next edit can open it.
    fn give_lock(&self, lock: &File) -> std::io::Result<()> {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: geteuid only reads the process's credentials.
        if lock.metadata()?.uid() != self.uid && unsafe { libc::geteuid() } == 0 {
            std::os::unix::fs::fchown(lock, Some(self.uid), Some(self.gid))?;
        }
        Ok(())
    }

    /// `text` (as `toml_edit` writes it: LF, no mark) in the file's own
    /// line endings and with its mark.
    fn text(&self, text: String) -> String {
        let text = if self.crlf {
            text.replace("\r\n", "\n").replace('\n', "\r\n")
        } else {
            text
        };
        match (self.bom, text.starts_with('\u{feff}')) {
            (true, false) => format!("\u{feff}{text}"),
            _ => text,
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RegistryError {
    let path = path.to_path_buf();
    move |source| RegistryError::Write { path, source }
}

/// The lock file beside the registry: `.<name>.lock`.
fn lock_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "registry".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.lock"))
}

impl Edit {
    /// Locks the registry at `path`, waiting at most `wait` for another
    /// writer, and reads it; it must be valid. A registry that is a
    /// symbolic link is edited where it points (and locked there), so the
    /// link stays a link.
    pub fn open(path: &Path, wait: std::time::Duration) -> Result<Edit, RegistryError> {
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        let path = &if is_link {
            std::fs::canonicalize(path).map_err(|source| RegistryError::Read {
                path: path.to_path_buf(),
                source,
            })?
        } else {
            path.to_path_buf()
        };
        let lock = lock_path(path);
        let file = lock_file(&lock, wait).map_err(io(&lock))?;
        let text = read_text(path)?;
        let kept = Kept::of(path, &text)?;
        kept.give_lock(&file).map_err(io(&lock))?;
        let registry = Registry::parse(&text, path)?;
        let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
            // The text just parsed as a registry, so this cannot happen.
            RegistryError::Write {
                path: path.to_path_buf(),
                source: std::io::Error::other(e.to_string()),
            }
        })?;
        Ok(Edit {
            path: path.to_path_buf(),
            registry,
            doc,
            kept,
            _lock: file,
        })
    }

    /// Validates the changed document as a registry and writes it
    /// atomically; returns the registry as it now is.
    /// The file keeps its owner, line endings and byte-order mark.
    pub fn commit(self) -> Result<Registry, RegistryError> {
        self.commit_holding_lock().map(|(registry, _)| registry)
    }

    /// [`Edit::commit`], keeping the lock until the returned guard drops:
    /// for a change that ends with a file beside the registry (customer
    /// CAs), so that no other writer comes in between.
    pub fn commit_holding_lock(self) -> Result<(Registry, RegistryLock), RegistryError> {
        let text = self.kept.text(self.doc.to_string());
        if text.len() > MAX_REGISTRY_BYTES {
            return Err(RegistryError::TooLarge {
                path: self.path.clone(),
            });
        }
        let registry = Registry::parse(&text, &self.path)?;
        self.write(text.as_bytes()).map_err(io(&self.path))?;
        Ok((registry, RegistryLock { _held: self._lock }))
    }

    fn write(&self, bytes: &[u8]) -> std::io::Result<()> {
        let dir = Dir::of(&self.path, &Notes::default());
        let staged = dir.stage(file_name(&self.path)?, bytes, 0o600, true)?;
        // SAFETY: geteuid only reads the process's credentials.
        if self.kept.uid != unsafe { libc::geteuid() } {
            staged.chown(self.kept.uid, self.kept.gid)?;
        }
        staged.publish()?;
        dir.sync()
    }

    /// The `[[key]]` tables of `table`, created when absent; an error when
    /// the key holds something else (an inline array, which atlas-ca does
    /// not rewrite).
    fn tables<'t>(
        path: &Path,
        table: &'t mut Table,
        key: &str,
    ) -> Result<&'t mut ArrayOfTables, RegistryError> {
        table
            .entry(key)
            .or_insert_with(|| Item::ArrayOfTables(ArrayOfTables::new()))
            .as_array_of_tables_mut()
            .ok_or_else(|| RegistryError::NotEditable {
                path: path.to_path_buf(),
                what: format!("{key} is not written as [[{key}]] tables"),
            })
    }

    fn project(&mut self, index: usize) -> Result<&mut Table, RegistryError> {
        let path = self.path.clone();
        Edit::tables(&path, self.doc.as_table_mut(), "projects")?
            .get_mut(index)
            .ok_or_else(|| RegistryError::NotEditable {
                path,
                what: format!("project {index} is missing"),
            })
    }

    fn users(&mut self, project: usize) -> Result<&mut ArrayOfTables, RegistryError> {
        let path = self.path.clone();
        Edit::tables(&path, self.project(project)?, "databaseUsers")
    }

    /// Appends a project.
    pub fn add_project(
        &mut self,
        id: &str,
        name: Option<&str>,
        org_id: &str,
        created: time::OffsetDateTime,
    ) -> Result<(), RegistryError> {
        let mut table = Table::new();
        table.insert("id", value(id));
        if let Some(name) = name {
            table.insert("name", value(name));
        }
        table.insert("orgId", value(org_id));
        if let Ok(text) = created.format(&Rfc3339) {
            table.insert("created", value(text));
        }
        let path = self.path.clone();
        Edit::tables(&path, self.doc.as_table_mut(), "projects")?.push(table);
        Ok(())
    }

    /// Renames the project at `project` and, when given, replaces its tags.
    pub fn set_project(
        &mut self,
        project: usize,
        name: Option<&str>,
        tags: Option<&[Label]>,
    ) -> Result<(), RegistryError> {
        let table = self.project(project)?;
        if let Some(name) = name {
            table.insert("name", value(name));
        }
        if let Some(tags) = tags {
            let mut array = Array::new();
            for tag in tags {
                let mut t = InlineTable::new();
                t.insert("key", tag.key.as_str().into());
                t.insert("value", tag.value.as_str().into());
                array.push(t);
            }
            put(table, "tags", (!tags.is_empty()).then(|| value(array)));
        }
        Ok(())
    }

    /// Removes the project at `project`, its users with it.
    pub fn remove_project(&mut self, project: usize) -> Result<(), RegistryError> {
        let path = self.path.clone();
        Edit::tables(&path, self.doc.as_table_mut(), "projects")?.remove(project);
        Ok(())
    }

    /// Appends `user` to the project at `project` (its index in file order).
    pub fn add_user(&mut self, project: usize, user: &DatabaseUser) -> Result<(), RegistryError> {
        let mut table = Table::new();
        table.insert("username", value(user.username.as_str()));
        let fields = user.kind.fields();
        table.insert("databaseName", value(user.database().name()));
        table.insert("x509Type", value(name_or_none(fields.x509)));
        set_auth(&mut table, AuthFields::default(), fields);
        table.insert("roles", value(roles(user)));
        set_details(&mut table, &UserDetails::default(), &user.details);
        self.users(project)?.push(table);
        Ok(())
    }

    /// Changes the user at `user` of project `project` from `from` to `to`,
    /// rewriting only the fields that differ (the others keep their
    /// comments).
    pub fn update_user(
        &mut self,
        project: usize,
        user: usize,
        from: &DatabaseUser,
        to: &DatabaseUser,
    ) -> Result<(), RegistryError> {
        let path = self.path.clone();
        let table =
            self.users(project)?
                .get_mut(user)
                .ok_or_else(|| RegistryError::NotEditable {
                    path,
                    what: format!("user {user} of project {project} is missing"),
                })?;
        if from.database() != to.database() {
            table.insert("databaseName", value(to.database().name()));
        }
        let (old, new) = (from.kind.fields(), to.kind.fields());
        if old.x509 != new.x509 {
            table.insert("x509Type", value(name_or_none(new.x509)));
        }
        set_auth(table, old, new);
        if from.roles != to.roles {
            table.insert("roles", value(roles(to)));
        }
        set_details(table, &from.details, &to.details);
        Ok(())
    }

    /// Removes the user at `user` of project `project`.
    pub fn remove_user(&mut self, project: usize, user: usize) -> Result<(), RegistryError> {
        self.users(project)?.remove(user);
        Ok(())
    }

    /// Sets or clears the project's `selfManagedX509`.
    pub fn set_self_managed_x509(&mut self, project: usize, on: bool) -> Result<(), RegistryError> {
        let table = self.project(project)?;
        if on {
            table.insert("selfManagedX509", value(true));
        } else {
            table.remove("selfManagedX509");
        }
        Ok(())
    }

    /// Appends `credential` to its kind's section (`apiKeys`,
    /// `serviceAccounts`), with that kind's field names.
    pub fn add_credential(&mut self, credential: &Credential) -> Result<(), RegistryError> {
        let names = credential.kind.fields();
        let mut table = Table::new();
        if let Some(label) = &credential.label {
            table.insert(names.label, value(label.as_str()));
        }
        table.insert(names.id, value(credential.id.as_str()));
        table.insert(names.secret, value(credential.secret.as_str()));
        table.insert("roles", value(key_roles_array(&credential.roles)));
        if let Some(description) = &credential.description {
            table.insert("description", value(description.as_str()));
        }
        set_secret_times(&mut table, credential.secret_times);
        let path = self.path.clone();
        Edit::tables(&path, self.doc.as_table_mut(), names.section)?.push(table);
        Ok(())
    }

    /// The table of the service account at `index` (file order).
    fn account_table(&mut self, index: usize) -> Result<&mut Table, RegistryError> {
        let path = self.path.clone();
        let section = CredentialKind::ServiceAccount.fields().section;
        Edit::tables(&path, self.doc.as_table_mut(), section)?
            .get_mut(index)
            .ok_or_else(|| RegistryError::NotEditable {
                path: path.clone(),
                what: format!("service account {index} is missing"),
            })
    }

    /// Replaces the secret of the service account at `index` (its times
    /// with it).
    pub fn set_account_secret(
        &mut self,
        index: usize,
        secret: &str,
        times: Option<SecretTimes>,
    ) -> Result<(), RegistryError> {
        let table = self.account_table(index)?;
        table.insert("clientSecret", value(secret));
        set_secret_times(table, times);
        Ok(())
    }

    /// Replaces the roles of the credential of `kind` at `index`.
    pub fn set_credential_roles(
        &mut self,
        kind: CredentialKind,
        index: usize,
        roles: &[KeyRole],
    ) -> Result<(), RegistryError> {
        let path = self.path.clone();
        let table = Edit::tables(&path, self.doc.as_table_mut(), kind.fields().section)?
            .get_mut(index)
            .ok_or_else(|| RegistryError::NotEditable {
                path: path.clone(),
                what: format!("credential {index} is missing"),
            })?;
        table.insert("roles", value(key_roles_array(roles)));
        Ok(())
    }

    /// Replaces the description (`desc`, `name`) of the credential of
    /// `kind` at `index`.
    pub fn set_credential_label(
        &mut self,
        kind: CredentialKind,
        index: usize,
        label: &str,
    ) -> Result<(), RegistryError> {
        let path = self.path.clone();
        let fields = kind.fields();
        let table = Edit::tables(&path, self.doc.as_table_mut(), fields.section)?
            .get_mut(index)
            .ok_or_else(|| RegistryError::NotEditable {
                path: path.clone(),
                what: format!("credential {index} is missing"),
            })?;
        table.insert(fields.label, value(label));
        Ok(())
    }

    /// Replaces the description of the service account at `index`.
    pub fn set_account_description(
        &mut self,
        index: usize,
        text: &str,
    ) -> Result<(), RegistryError> {
        let table = self.account_table(index)?;
        table.insert("description", value(text));
        Ok(())
    }

    /// Removes the credential of `kind` at `index` (file order).
    pub fn remove_credential(
        &mut self,
        kind: CredentialKind,
        index: usize,
    ) -> Result<(), RegistryError> {
        let path = self.path.clone();
        Edit::tables(&path, self.doc.as_table_mut(), kind.fields().section)?.remove(index);
        Ok(())
    }
}

/// The roles array of a credential's table.
fn key_roles_array(key_roles: &[KeyRole]) -> Array {
    let mut roles = Array::new();
    for role in key_roles {
        let mut r = InlineTable::new();
        r.insert("roleName", role.role_name.name().into());
        if let Some(g) = &role.group_id {
            r.insert("groupId", g.as_str().into());
        }
        roles.push(r);
    }
    roles
}

/// Writes the authentication types that differ from `from` (`NONE` is
/// left out).
fn set_auth(table: &mut Table, from: AuthFields, to: AuthFields) {
    let fields = [
        (
            "awsIAMType",
            name_or_none(from.aws_iam),
            name_or_none(to.aws_iam),
        ),
        (
            "ldapAuthType",
            name_or_none(from.ldap),
            name_or_none(to.ldap),
        ),
        (
            "oidcAuthType",
            name_or_none(from.oidc),
            name_or_none(to.oidc),
        ),
    ];
    for (key, old, new) in fields {
        if old != new {
            put(table, key, (new != "NONE").then(|| value(new)));
        }
    }
}

/// Writes the details that differ from `from` (an empty one is removed).
fn set_details(table: &mut Table, from: &UserDetails, to: &UserDetails) {
    if from.scopes != to.scopes {
        let mut scopes = Array::new();
        for scope in &to.scopes {
            let mut t = InlineTable::new();
            t.insert("name", scope.name.as_str().into());
            t.insert("type", scope.kind.name().into());
            scopes.push(t);
        }
        put(
            table,
            "scopes",
            (!to.scopes.is_empty()).then(|| value(scopes)),
        );
    }
    if from.labels != to.labels {
        let mut labels = Array::new();
        for label in &to.labels {
            let mut t = InlineTable::new();
            t.insert("key", label.key.as_str().into());
            t.insert("value", label.value.as_str().into());
            labels.push(t);
        }
        put(
            table,
            "labels",
            (!to.labels.is_empty()).then(|| value(labels)),
        );
    }
    if from.description != to.description {
        put(table, "description", to.description.as_deref().map(value));
    }
    if from.delete_after_date != to.delete_after_date {
        let text = to.delete_after_date.and_then(|t| t.format(&Rfc3339).ok());
        put(table, "deleteAfterDate", text.map(value));
    }
}

/// A service account's `secretCreatedAt` and `secretExpiresAt` (both, or
/// neither).
fn set_secret_times(table: &mut Table, times: Option<SecretTimes>) {
    let text = |t: time::OffsetDateTime| t.format(&Rfc3339).ok().map(value);
    put(
        table,
        "secretCreatedAt",
        times.and_then(|t| text(t.created)),
    );
    put(
        table,
        "secretExpiresAt",
        times.and_then(|t| text(t.expires)),
    );
}

/// Sets `key` to `item`, or removes it for `None`.
fn put(table: &mut Table, key: &str, item: Option<Item>) {
    match item {
        Some(item) => {
            table.insert(key, item);
        }
        None => {
            table.remove(key);
        }
    }
}

/// `user`'s roles as an inline array of inline tables.
fn roles(user: &DatabaseUser) -> Array {
    let mut roles = Array::new();
    for role in &user.roles {
        let mut r = InlineTable::new();
        r.insert("roleName", role.role_name.as_str().into());
        r.insert("databaseName", role.database_name.as_str().into());
        if let Some(c) = &role.collection_name {
            r.insert("collectionName", c.as_str().into());
        }
        roles.push(r);
    }
    roles
}

/// The text of a new registry: one project, no users, comments that say
/// what goes where.
pub fn initial_text(project_id: &str, name: &str, org_id: &str, created: &str) -> String {
    let name = toml_edit::Value::from(name).decorated(" ", "").to_string();
    format!(
        "# atlas-ca registry: the projects, database users and API keys that Atlas\n\
         # would hold, with the Atlas Administration API's field names.\n\
         # atlas-ca edits this file itself and keeps comments and layout; it may be\n\
         # edited by hand too (errors name the line).\n\
         #\n\
         # A project may also set:\n\
         #   maxCertsPerUser = 50     # unexpired certificates per user (default: no limit)\n\
         # Its database users follow it, one table each:\n\
         #   [[projects.databaseUsers]]\n\
         #   username = \"alice\"\n\
         #   databaseName = \"$external\"\n\
         #   x509Type = \"MANAGED\"      # NONE | MANAGED | CUSTOMER\n\
         #   roles = [{{ roleName = \"readWrite\", databaseName = \"app\" }}]\n\
         # Other kinds of users set awsIAMType (USER | ROLE), ldapAuthType\n\
         # (USER | GROUP) or oidcAuthType (IDP_GROUP | USER) instead of x509Type;\n\
         # all NONE is a password user (no password is stored).\n\
         \n\
         [[projects]]\n\
         id = \"{project_id}\"\n\
         name ={name}\n\
         orgId = \"{org_id}\"\n\
         created = \"{created}\"\n"
    )
}
