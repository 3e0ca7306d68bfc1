//! The command line: the Atlas CLI's verbs (`dbusers certs create`, `dbusers
//! certs list`, `dbusers list`) plus the CA's own (`ca`, `server-cert`,
//! `local-kit`, `fixtures`, `verify`, `serve`). It parses arguments, calls
//! the API model and tools, and prints; nothing more. Flag names live here
//! only: errors from below are worded for the command line in
//! `messages`.

mod args;
mod args_kit;
mod args_manage;
mod args_pki;
mod args_shared;
mod commands;
mod manage;
mod messages;
mod outcome;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::api::Error;
use crate::model::escape_hidden;
use crate::store::files::read_input;
use crate::store::{Home, Notes, Passphrase, default_root};
use args::{Cli, Command, DbusersCommand, PkiCommand};
use outcome::{Failure, Outcome};

/// Runs the command line (the `atlas-ca` binary) and returns the process
/// exit status: 0, 1 for a failure, 2 for command-line syntax.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // User-supplied text (names from the registry, paths) is
            // escaped: it cannot steer the terminal.
            eprintln!("Error: {}", escape_hidden(&messages::describe(&e)));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Outcome {
    if let Some(name @ ("atlas" | "strict")) = cli.atlas_profile.as_deref() {
        eprintln!(
            "atlas-ca: note: -P/--profile {name} is the Atlas CLI's configuration profile and has \
             no effect; the certificate profile is --cert-profile {name}"
        );
    }
    let explicit = cli.home.is_some();
    let mut home = Home::new(cli.home.unwrap_or_else(default_root))
        .with_lock_wait(std::time::Duration::from_secs(cli.lock_wait))
        .with_notes(Notes::to(|note| {
            eprintln!("atlas-ca: {}", escape_hidden(&note.to_string()));
        }));
    if let Some(registry) = cli.registry {
        home = home.with_registry(registry);
    }
    if let Some(passphrase) = passphrase(cli.passphrase_file)? {
        home = home.with_passphrase(passphrase);
    }
    match cli.command {
        Command::Home => output::print_line(&home.root().display().to_string()),
        Command::Init { project_id, name } => {
            manage::init(&home, explicit, project_id.as_deref(), &name)
        }
        Command::Projects(c) => manage::projects_command(&home, c),
        Command::Security(c) => manage::security(&home, c),
        Command::Ca(c) => commands::ca(&home, c),
        Command::Dbusers(DbusersCommand::Create(a)) => manage::create_user(&home, a),
        Command::Dbusers(DbusersCommand::Describe(a)) => manage::describe_user(&home, a),
        Command::Dbusers(DbusersCommand::Update(a)) => manage::update_user(&home, a),
        Command::Dbusers(DbusersCommand::Delete(a)) => manage::delete_user(&home, a),
        Command::Dbusers(DbusersCommand::List {
            project,
            output,
            paging,
        }) => commands::list_users(&home, &project, output, &paging),
        Command::Dbusers(DbusersCommand::Certs(c)) => commands::certs(&home, c),
        Command::ServerCert(a) => commands::server_cert(&home, a),
        Command::LocalKit(a) => commands::local_kit(&home, a),
        Command::Fixtures(a) => commands::fixtures(&home, a),
        Command::Pki(PkiCommand::Apply {
            file,
            out,
            force,
            renew,
            reproduce,
        }) => {
            let given = reproduce.reproduce();
            let applied = crate::tools::pki_apply::apply(&home, &file, &out, force, renew, &given)?;
            if applied.seeded {
                eprintln!(
                    "atlas-ca: made from a seed: anyone with the file and the seed can make these private keys; keep them for tests"
                );
            }
            eprintln!(
                "atlas-ca: wrote {} files for {} certificates and {} CRLs in {}",
                applied.files.len(),
                applied.certificates.len(),
                applied.crls.len(),
                escape_hidden(&out.display().to_string())
            );
            Ok(())
        }
        Command::Pki(PkiCommand::Check {
            file,
            against,
            reproduce,
        }) => commands::pki_check(&file, against.as_deref(), &reproduce.reproduce()),
        Command::Pki(PkiCommand::Status {
            dir,
            file,
            within,
            output,
        }) => commands::pki_status(&dir, file.as_deref(), within, output),
        Command::Revoke { serial, project_id } => {
            commands::revoke(&home, &serial, project_id.as_deref())
        }
        Command::Verify(a) => commands::verify(&home, a),
        Command::Ledger {
            project_id,
            expiring,
            output,
        } => commands::ledger(&home, project_id.as_deref(), expiring, output),
        Command::Serve(a) => commands::serve(home, a),
        Command::ServeCa => output::print_bytes(&crate::server::api_ca_pem(&home)?),
    }
}

/// The CA key passphrase: from `--passphrase-file`, else the environment;
/// never from the command line itself, where other users could see it.
fn passphrase(file: Option<PathBuf>) -> Result<Option<Passphrase>, Failure> {
    let bytes = match file {
        Some(path) => read_input(&path).map_err(Error::io(path))?,
        None => match std::env::var_os("ATLAS_CA_PASSPHRASE") {
            Some(value) => value.into_encoded_bytes(),
            None => return Ok(None),
        },
    };
    let passphrase = Passphrase::new(bytes);
    if passphrase.is_empty() {
        return Err(Failure::Usage("the CA key passphrase is empty".into()));
    }
    Ok(Some(passphrase))
}
