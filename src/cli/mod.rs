//! The command line: the Atlas CLI's verbs (`dbusers certs create`, `dbusers
//! certs list`, `dbusers list`) plus the CA's own (`ca`, `server-cert`,
//! `local-kit`, `fixtures`, `verify`, `serve`). It parses arguments, calls
//! the API model and prints; nothing more.

mod args;
mod output;

pub use args::Cli;
use args::{CaCommand, CertsCommand, Command, DEFAULT_BASE, DbusersCommand, Output, ProjectArg};

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use time::OffsetDateTime;

use crate::api::{self, CreateCert, Paging, ServerCert};
use crate::ca::{Passphrase, ProjectCa};
use crate::fixtures::{self, FixtureOptions};
use crate::home::Home;
use crate::issuing::Fresh;
use crate::kit::{self, KitOptions};
use crate::registry::Registry;
use crate::server::{self, ServeOptions};
use crate::{Error, verify};
use output::{emit, note_created, print_bytes, print_certs, print_checks, print_line, print_users};

/// Runs the command line and returns the process exit status.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<(), Error> {
    let mut home = Home::new(&cli.home);
    if let Some(registry) = cli.registry {
        home = home.with_registry(registry);
    }
    if let Some(passphrase) = passphrase(cli.passphrase_file)? {
        home = home.with_passphrase(passphrase);
    }
    match cli.command {
        Command::Ca(c) => run_ca(&home, c),
        Command::Dbusers(DbusersCommand::List { project, output }) => {
            let registry = home.registry()?;
            let gid = select_project(&registry, &project)?;
            let users = api::list_users(&registry, &gid)?;
            match output {
                Output::Json => {
                    let url = format!("{DEFAULT_BASE}/api/atlas/v2/groups/{gid}/databaseUsers");
                    print_line(&api::render(
                        &api::Page::of(users, Paging::default(), &url),
                        false,
                    ))
                }
                Output::Table => print_users(&registry, &gid),
            }
        }
        Command::Dbusers(DbusersCommand::Certs(c)) => run_certs(&home, c),
        Command::ServerCert {
            project,
            hosts,
            months,
            key_type,
            out,
            issued_at,
        } => {
            let registry = home.registry()?;
            let gid = select_project(&registry, &project)?;
            let request = ServerCert {
                group_id: gid.clone(),
                hosts,
                months,
                issued_at,
                key_type,
            };
            let created = api::server_cert(&home, &registry, &request, &Fresh)?;
            note_created(&home, &gid, created.ca_created);
            emit(out, created.pem.as_bytes(), true)
        }
        Command::LocalKit {
            project,
            out,
            hosts,
            months,
            profile,
            key_type,
            force,
        } => {
            let registry = home.registry()?;
            let gid = select_project(&registry, &project)?;
            let options = KitOptions {
                group_id: gid,
                out: out.clone(),
                hosts,
                months,
                profile,
                key_type,
                force,
            };
            let files = kit::local_kit(&home, &registry, &options)?;
            eprintln!(
                "atlas-ca: wrote {} files to {}; see README.txt there",
                files.len(),
                out.display()
            );
            Ok(())
        }
        Command::Fixtures {
            project,
            out,
            users,
            count_per_user,
            months,
            issued_at,
            key_type,
            profile,
            jobs,
            force,
            quiet,
        } => {
            let registry = home.registry()?;
            let gid = select_project(&registry, &project)?;
            let mut template = CreateCert::new(&gid, "");
            template.months_until_expiration = months;
            template.issued_at = issued_at;
            template.key_type = key_type;
            template.profile = profile;
            let options = FixtureOptions {
                out: out.clone(),
                users,
                count_per_user,
                template,
                jobs,
                force,
            };
            let started = std::time::Instant::now();
            let manifest = output::with_progress(quiet, |tick| {
                fixtures::issue_fixtures(&home, &registry, &options, tick)
            })?;
            let secs = started.elapsed().as_secs_f64();
            if !quiet {
                let n = manifest.len();
                eprintln!(
                    "atlas-ca: issued {n} certificate{} to {} in {secs:.2} s ({:.1}/s)",
                    if n == 1 { "" } else { "s" },
                    out.display(),
                    n as f64 / secs.max(1e-9)
                );
            }
            Ok(())
        }
        Command::Verify { file, project } => {
            let registry = home.registry()?;
            let gid = select_project(&registry, &project)?;
            let pem = std::fs::read(&file).map_err(|source| Error::Io { path: file, source })?;
            let checks =
                verify::verify_bundle(&home, &registry, &gid, &pem, OffsetDateTime::now_utc())?;
            print_checks(&checks)
        }
        Command::Serve {
            listen,
            nonce_ttl,
            key_pool,
            client_timeout,
        } => server::serve(
            home,
            ServeOptions {
                listen,
                nonce_ttl: Duration::from_secs(nonce_ttl),
                key_pool,
                client_timeout: Duration::from_secs(client_timeout),
            },
        ),
    }
}

fn run_ca(home: &Home, command: CaCommand) -> Result<(), Error> {
    let registry = home.registry()?;
    match command {
        CaCommand::Init {
            project,
            import_key,
            encrypt,
            rotate,
        } => {
            let gid = select_project(&registry, &project)?;
            let passphrase = match (encrypt, home.passphrase()) {
                (true, None) => {
                    return Err(Error::Usage(
                        "--encrypt needs a passphrase: set ATLAS_CA_PASSPHRASE or pass --passphrase-file".into(),
                    ));
                }
                (true, p) => p,
                (false, _) => None,
            };
            ProjectCa::init(home.root(), &gid, import_key.as_deref(), passphrase, rotate)?;
            eprintln!(
                "atlas-ca: created the CA of project {gid} in {}",
                ProjectCa::dir(home.root(), &gid).display()
            );
            Ok(())
        }
        CaCommand::Cert { project } => {
            let gid = select_project(&registry, &project)?;
            let (ca, created) = home.project_ca(&gid)?;
            note_created(home, &gid, created);
            let pem = ca.cert_pem()?;
            print_bytes(&pem)
        }
        CaCommand::Crl { project, out } => {
            let gid = select_project(&registry, &project)?;
            let (pem, created) = api::crl_pem(home, &registry, &gid)?;
            note_created(home, &gid, created);
            emit(out, pem.as_bytes(), false)
        }
    }
}

fn run_certs(home: &Home, command: CertsCommand) -> Result<(), Error> {
    let registry = home.registry()?;
    match command {
        CertsCommand::Create {
            username,
            months,
            project,
            out,
            issued_at,
            profile,
            key_type,
        } => {
            let gid = select_project(&registry, &project)?;
            let request = CreateCert {
                group_id: gid.clone(),
                username,
                months_until_expiration: months,
                issued_at,
                profile,
                key_type,
            };
            let created = api::create_cert(home, &registry, &request, &Fresh)?;
            note_created(home, &gid, created.ca_created);
            emit(out, created.pem.as_bytes(), true)
        }
        CertsCommand::List {
            username,
            project,
            output,
            all,
            page,
            limit,
            base_url,
        } => {
            let gid = select_project(&registry, &project)?;
            let records = api::list_certs(home, &registry, &gid, &username, all)?;
            match output {
                Output::Json => {
                    let paging = Paging {
                        include_count: true,
                        items_per_page: limit,
                        page_num: page,
                    };
                    let base = format!("{}/api/atlas/v2", base_url.trim_end_matches('/'));
                    let url = api::certs_url(&base, &gid, &username);
                    let body = api::cert_page(&records, paging, &url);
                    print_line(&api::render(&body, false))
                }
                Output::Table => print_certs(&records, all),
            }
        }
        CertsCommand::Revoke {
            username,
            serial,
            project,
        } => {
            let gid = select_project(&registry, &project)?;
            let record = api::revoke_cert(home, &registry, &gid, &username, serial)?;
            let at = record
                .revoked_at
                .map(api::json::timestamp)
                .unwrap_or_default();
            eprintln!(
                "atlas-ca: certificate {serial} of {username} is revoked (since {at}); refresh CRLs with: atlas-ca ca crl"
            );
            Ok(())
        }
    }
}

/// The CA key passphrase: from `--passphrase-file`, else the environment;
/// never from the command line itself, where other users could see it.
fn passphrase(file: Option<PathBuf>) -> Result<Option<Passphrase>, Error> {
    let bytes = match file {
        Some(path) => std::fs::read(&path).map_err(|source| Error::Io { path, source })?,
        None => match std::env::var_os("ATLAS_CA_PASSPHRASE") {
            Some(value) => value.into_encoded_bytes(),
            None => return Ok(None),
        },
    };
    let passphrase = Passphrase::new(bytes);
    if passphrase.is_empty() {
        return Err(Error::Usage("the CA key passphrase is empty".into()));
    }
    Ok(Some(passphrase))
}

/// The project to act on: `--projectId` / `MONGODB_ATLAS_PROJECT_ID`, else
/// the registry's only project.
fn select_project(registry: &Registry, arg: &ProjectArg) -> Result<String, Error> {
    if let Some(id) = &arg.project_id {
        return Ok(api::project(registry, id)?.id.clone());
    }
    match registry.projects.as_slice() {
        [only] => Ok(only.id.clone()),
        [] => Err(Error::Usage(
            "the registry has no projects; add a [[projects]] table".into(),
        )),
        many => Err(Error::Usage(format!(
            "the registry has {} projects; choose one with --projectId or MONGODB_ATLAS_PROJECT_ID",
            many.len()
        ))),
    }
}
