//! The commands that change the registry, printing what the Atlas CLI
//! prints: `init`, `home`, `dbusers create|describe|update|delete`,
//! `projects`, `projects apiKeys`, `security customerCerts`.

use std::io::{BufRead, IsTerminal, Write};

use serde::Serialize;

use super::args::{DEFAULT_BASE, Output, ProjectArg};
use super::args_manage::{
    ApiKeysCommand, CustomerCertsCommand, ProjectsCommand, SecurityCommand, ServiceAccountsCommand,
    UserCreateArgs, UserDeleteArgs, UserRefArgs, UserUpdateArgs,
};
use super::outcome::{Failure, Outcome, select_project};
use super::output::{print_bytes, print_json, print_line, table};
use crate::api::customer_x509;
use crate::api::json::{CLI_QUERY, UserEntry};
use crate::api::keys::{self, ApiKeyEntry, KeyRoleEntry, role_entries};
use crate::api::manage::{self, Password, UserSpec};
use crate::api::projects::{self, ProjectEntry, masked};
use crate::api::service_accounts::{self, NewAccount, Scope};
use crate::api::{self, ApiError, Error, ErrorCode, Page, Paging};
use crate::model::{Credential, DatabaseUser, KeyRole, KeyRoleName, Role, escape_hidden};
use crate::store::files::read_input;
use crate::store::{Home, Registry};

/// The API root written into `links` by the command line.
fn api_root() -> String {
    format!("{DEFAULT_BASE}/api/atlas/v2")
}

pub(super) fn init(home: &Home, explicit: bool, id: Option<&str>, name: &str) -> Outcome {
    let project = projects::init_home(home, id, name)?;
    let flag = if explicit {
        format!(" --home {}", sh_word(&home.root().display().to_string()))
    } else {
        String::new()
    };
    print_line(&format!(
        "Created the atlas-ca home {} with project {} ({name:?}) in {} and no users yet.\n\
         Next:\n  \
         atlas-ca{flag} dbusers create --username alice --x509Type MANAGED --role readWrite@app\n  \
         atlas-ca{flag} dbusers certs create --username alice --out alice.pem   (0600: it holds the key)\n  \
         atlas-ca{flag} local-kit --out kit",
        home.root().display(),
        project.id,
        home.registry_path().display(),
    ))
}

fn user_entry(gid: &str, user: &DatabaseUser) -> UserEntry {
    UserEntry::new(gid, user, &api_root())
}

pub(super) fn create_user(home: &Home, a: UserCreateArgs) -> Outcome {
    let gid = select_project(home, &home.registry()?, &a.user.project)?;
    let mut roles: Vec<Role> = a
        .built_in_roles
        .iter()
        .map(|name| Role {
            collection_name: None,
            database_name: "admin".into(),
            role_name: name.clone(),
        })
        .collect();
    roles.extend(a.user.roles);
    if roles.is_empty() {
        return Err(Failure::Usage(
            "missing role for the user (as the Atlas CLI says): give one, as --role readWrite@app \
             or a built-in role such as readWriteAnyDatabase"
                .into(),
        ));
    }
    let spec = UserSpec {
        username: Some(a.username),
        database_name: None,
        x509_type: Some(a.x509_type.0),
        roles: Some(roles),
        scopes: Some(a.user.scopes),
        labels: None,
        description: a.user.description,
        delete_after_date: a.user.delete_after,
        aws_iam: a.aws_iam_type.map(|t| t.0),
        ldap: a.ldap_type.map(|t| t.0),
        oidc: a.oidc_type.map(|t| t.0),
        password: a.user.password.as_deref().map(Password::given),
        group_id: None,
    };
    let (gid, user) = manage::create_user(home, &gid, &spec)?;
    match a.user.output {
        Some(Output::Json) => print_json(&user_entry(&gid, &user)),
        _ => print_line(&format!(
            "Database user '{}' successfully created.",
            user.username
        )),
    }
}

/// Checks `--authDB` before a user is looked up in it: only `admin` and
/// `$external` exist, and a user who lives in the other one is named with
/// the exact command that finds it (`verb` is `describe` or `delete`).
fn check_auth_db(
    registry: &Registry,
    gid: &str,
    auth_db: &str,
    username: &str,
    verb: &str,
) -> Outcome {
    if !["admin", "$external"].contains(&auth_db) {
        return Err(Failure::Usage(format!(
            "--authDB {}: use admin or '$external' (in single quotes, so that the shell keeps the $)",
            escape_hidden(&format!("{auth_db:?}"))
        )));
    }
    let project = api::project(registry, gid)?;
    let here = |u: &&DatabaseUser| u.username == username;
    let now = time::OffsetDateTime::now_utc();
    let users: Vec<&DatabaseUser> = project.users(now).filter(here).collect();
    if !users.is_empty() && !users.iter().any(|u| u.database().name() == auth_db) {
        let other = users[0].database().name();
        let note = format!(
            "{} is in {other}: atlas-ca dbusers {verb} {} --authDB '{other}'",
            escape_hidden(username),
            sh_word(username)
        );
        return Err(ApiError::new(ErrorCode::UsernameNotFound, &[username])
            .with_note(note)
            .into());
    }
    Ok(())
}

/// `s` as one shell word: as it is when it is plain, else single-quoted.
fn sh_word(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", escape_hidden(&s.replace('\'', "'\\''")))
    }
}

pub(super) fn describe_user(home: &Home, a: UserRefArgs) -> Outcome {
    let registry = home.registry()?;
    let gid = select_project(home, &registry, &a.project)?;
    check_auth_db(&registry, &gid, &a.auth_db, &a.username, "describe")?;
    let entry = api::users::get_user(&registry, &gid, &a.auth_db, &a.username, &api_root())?;
    match a.output {
        Some(Output::Json) => print_json(&entry),
        _ => print_bytes(
            table(
                &["USERNAME", "DATABASE"],
                [vec![a.username.clone(), a.auth_db.clone()]],
            )
            .as_bytes(),
        ),
    }
}

pub(super) fn update_user(home: &Home, a: UserUpdateArgs) -> Outcome {
    let gid = select_project(home, &home.registry()?, &a.user.project)?;
    let spec = UserSpec {
        username: None,
        database_name: None,
        x509_type: a.x509_type.map(|t| t.0),
        roles: (!a.user.roles.is_empty()).then_some(a.user.roles),
        scopes: (!a.user.scopes.is_empty()).then_some(a.user.scopes),
        labels: None,
        description: a.user.description,
        delete_after_date: a.user.delete_after,
        password: a.user.password.as_deref().map(Password::given),
        ..UserSpec::default()
    };
    let (gid, user) = manage::update_user(home, &gid, None, &a.username, &spec)?;
    match a.user.output {
        Some(Output::Json) => print_json(&user_entry(&gid, &user)),
        _ => print_line(&format!(
            "Successfully updated database user '{}'.",
            user.username
        )),
    }
}

pub(super) fn delete_user(home: &Home, a: UserDeleteArgs) -> Outcome {
    let registry = home.registry()?;
    let gid = select_project(home, &registry, &a.project)?;
    check_auth_db(&registry, &gid, &a.auth_db, &a.username, "delete")?;
    if !a.force {
        confirm(&format!(
            "Are you sure you want to delete: {}? [y/N] ",
            a.username
        ))?;
    }
    manage::delete_user(home, &gid, &a.auth_db, &a.username)?;
    print_line(&format!("DB user '{}' deleted", a.username))
}

/// Asks on the terminal; refuses when stdin is not one.
fn confirm(question: &str) -> Outcome {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Failure::Usage(
            "not deleting without confirmation: stdin is not a terminal; pass --force".into(),
        ));
    }
    let mut err = std::io::stderr();
    let _ = err.write_all(question.as_bytes());
    let _ = err.flush();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(Error::system("reading stdin"))?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "Yes") {
        Ok(())
    } else {
        Err(Failure::Usage("not deleted".into()))
    }
}

pub(super) fn projects_command(home: &Home, command: ProjectsCommand) -> Outcome {
    match command {
        ProjectsCommand::Create { name, tags, output } => {
            let project = projects::create_project(home, &name, None, &tags)?;
            match output {
                Some(Output::Json) => {
                    print_json(&ProjectEntry::new(&home.registry()?, &project, &api_root()))
                }
                _ => print_line(&format!("Project '{}' created.", project.id)),
            }
        }
        ProjectsCommand::List { output } => {
            let registry = home.registry()?;
            let entries: Vec<ProjectEntry> = registry
                .projects
                .iter()
                .map(|p| ProjectEntry::in_list(&registry, p, &api_root()))
                .collect();
            match output {
                Some(Output::Json) => {
                    let url = format!("{}/groups", api_root());
                    print_json(&Page::of(entries, Paging::default(), &url, CLI_QUERY))
                }
                _ => print_bytes(
                    table(
                        &["ID", "NAME"],
                        entries
                            .iter()
                            .map(|e| vec![e.id().to_string(), e.name().to_string()]),
                    )
                    .as_bytes(),
                ),
            }
        }
        ProjectsCommand::Describe { id, output } => {
            let registry = home.registry()?;
            let entry = ProjectEntry::new(&registry, api::project(&registry, &id)?, &api_root());
            match output {
                Some(Output::Json) => print_json(&entry),
                _ => print_bytes(
                    table(
                        &["ID", "NAME"],
                        [vec![entry.id().to_string(), entry.name().to_string()]],
                    )
                    .as_bytes(),
                ),
            }
        }
        ProjectsCommand::Use { id, none } => {
            if none {
                home.set_default_project(None)?;
                return print_line("No default project.");
            }
            let registry = home.registry()?;
            let wanted = ProjectArg { project_id: id };
            let gid = select_project(home, &registry, &wanted)?;
            home.set_default_project(Some(&gid))?;
            print_line(&format!("Default project: {gid}"))
        }
        ProjectsCommand::Delete { id, force } => {
            let registry = home.registry()?;
            let project = api::project(&registry, &id)?;
            if !force {
                confirm(&format!(
                    "Are you sure you want to delete project {} ({})? [y/N] ",
                    project.id,
                    escape_hidden(project.name.as_deref().unwrap_or("no name"))
                ))?;
            }
            let gone = projects::delete_project(home, &project.id)?;
            if home.default_project()?.as_deref() == Some(gone.id.as_str()) {
                home.set_default_project(None)?;
            }
            // The Atlas CLI's sentence.
            print_line(&format!("Project '{}' deleted", gone.id))
        }
        ProjectsCommand::ApiKeys(c) => api_keys(home, c),
        ProjectsCommand::ServiceAccounts(c) => service_accounts(home, c),
    }
}

/// The roles of a new credential: project roles in the selected project,
/// `ORG_OWNER` in none.
fn key_roles(
    home: &Home,
    roles: Vec<KeyRoleName>,
    project: &ProjectArg,
) -> Result<Vec<KeyRole>, Failure> {
    let needs_project = roles.iter().any(|r| *r != KeyRoleName::OrgOwner);
    let gid = if needs_project {
        Some(select_project(home, &home.registry()?, project)?)
    } else {
        None
    };
    Ok(roles
        .into_iter()
        .map(|r| {
            let role_name = r;
            KeyRole {
                role_name,
                group_id: (role_name != KeyRoleName::OrgOwner)
                    .then(|| gid.clone())
                    .flatten(),
            }
        })
        .collect())
}

/// A service account as lists and `-o json` show it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountView {
    client_id: String,
    client_secret: String,
    name: String,
    roles: Vec<KeyRoleEntry>,
}

fn account_view(account: &Credential, client_secret: String) -> AccountView {
    AccountView {
        client_id: account.id.clone(),
        client_secret,
        name: account.label.clone().unwrap_or_default(),
        roles: role_entries(&account.roles),
    }
}

fn service_accounts(home: &Home, command: ServiceAccountsCommand) -> Outcome {
    match command {
        ServiceAccountsCommand::Create {
            name,
            roles,
            project,
            output,
        } => {
            let roles = key_roles(home, roles, &project)?;
            let new = NewAccount {
                name: name.clone(),
                description: None,
                roles: Vec::new(),
                hours: None,
            };
            let account = service_accounts::create(home, &new, roles)?;
            match output {
                Some(Output::Json) => print_json(&account_view(&account, account.secret.clone())),
                _ => print_line(&format!(
                    "Service account '{name}' created.\nClient ID {}\nClient Secret {}\n\
                     export MONGODB_ATLAS_CLIENT_ID={}\n\
                     export MONGODB_ATLAS_CLIENT_SECRET={}",
                    account.id, account.secret, account.id, account.secret
                )),
            }
        }
        ServiceAccountsCommand::List { output } => {
            let registry = home.registry()?;
            let accounts: Vec<AccountView> = registry
                .service_accounts
                .iter()
                .map(|a| account_view(a, masked(&a.secret)))
                .collect();
            match output {
                Some(Output::Json) => print_json(&accounts),
                _ => print_bytes(
                    table(
                        &["CLIENT ID", "CLIENT SECRET", "NAME"],
                        accounts.iter().map(|a| {
                            vec![a.client_id.clone(), a.client_secret.clone(), a.name.clone()]
                        }),
                    )
                    .as_bytes(),
                ),
            }
        }
        ServiceAccountsCommand::Delete { client_id } => {
            let account = service_accounts::delete(home, Scope::Org, &client_id)?;
            print_line(&format!("Service account '{}' deleted", account.id))
        }
    }
}

fn api_keys(home: &Home, command: ApiKeysCommand) -> Outcome {
    match command {
        ApiKeysCommand::Create {
            desc,
            roles,
            project,
            output,
        } => {
            let roles = key_roles(home, roles, &project)?;
            let key = projects::create_api_key(home, &desc, roles)?;
            let registry = home.registry()?;
            match output {
                Some(Output::Json) => print_json(&ApiKeyEntry::new(
                    &registry,
                    &key,
                    key.secret.clone(),
                    &api_root(),
                )),
                // The Atlas CLI's template.
                _ => print_line(&format!(
                    "API Key '{}' created.\nPublic API Key {}\nPrivate API Key {}",
                    projects::key_id(&key.id),
                    key.id,
                    key.secret
                )),
            }
        }
        ApiKeysCommand::List { project, output } => {
            let registry = home.registry()?;
            let gid = select_project(home, &registry, &project)?;
            let entries: Vec<ApiKeyEntry> = keys::project_keys(&registry, &gid)
                .map(|k| ApiKeyEntry::in_list(&registry, k, &api_root()))
                .collect();
            match output {
                // Paged, as Atlas lists a project's keys.
                Some(Output::Json) => {
                    let url = format!("{}/groups/{gid}/apiKeys", api_root());
                    print_json(&Page::of(entries, Paging::default(), &url, CLI_QUERY))
                }
                // The Atlas CLI's columns.
                _ => print_bytes(
                    table(
                        &["ID", "PUBLIC KEY", "DESCRIPTION"],
                        entries.iter().map(|k| {
                            vec![
                                k.id().to_string(),
                                k.public_key().to_string(),
                                k.desc().to_string(),
                            ]
                        }),
                    )
                    .as_bytes(),
                ),
            }
        }
        ApiKeysCommand::Delete { public_key } => {
            let key = projects::delete_api_key(home, &public_key)?;
            print_line(&format!("API Key '{}' deleted", key.id))
        }
    }
}

pub(super) fn security(home: &Home, command: SecurityCommand) -> Outcome {
    let SecurityCommand::CustomerCerts(command) = command;
    match command {
        CustomerCertsCommand::Create { cas_file, project } => {
            let gid = select_project(home, &home.registry()?, &project)?;
            let bytes = read_input(&cas_file).map_err(Error::io(&cas_file))?;
            // Not UTF-8 is not PEM either: the parse below says so.
            customer_x509::enable(home, &gid, &String::from_utf8_lossy(&bytes))?;
            // The Atlas CLI's sentence.
            print_line("Certificate successfully created.")
        }
        CustomerCertsCommand::Describe { project, output } => {
            let gid = select_project(home, &home.registry()?, &project)?;
            let settings = customer_x509::user_security(home, &gid)?;
            match output {
                Some(Output::Json) => print_json(&settings),
                _ => match settings.cas() {
                    Some(pem) => print_bytes(pem.as_bytes()),
                    None => print_line("Customer-managed X.509 is off."),
                },
            }
        }
        CustomerCertsCommand::Disable { project } => {
            let gid = select_project(home, &home.registry()?, &project)?;
            customer_x509::disable(home, &gid)?;
            print_line(&format!(
                "X.509 configuration for project {gid} was deleted."
            ))
        }
    }
}
