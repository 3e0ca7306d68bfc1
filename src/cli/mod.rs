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
mod args_users;
mod commands;
mod manage;
mod messages;
mod outcome;
mod output;
mod tool_commands;

use std::path::PathBuf;
use std::process::ExitCode;

use crate::api::Error;
use crate::model::escape_hidden;
use crate::store::files::read_input;
use crate::store::{Home, Notes, Passphrase, default_root_why};
use crate::tools::pki_apply::Mode;
use args::{Cli, Command, DbusersCommand, PkiCommand};
use outcome::{Failure, Outcome};

/// Runs the command line (the `atlas-ca` binary) and returns the process
/// exit status: 0, 1 for a failure, 2 for command-line syntax (and for
/// `verify`, what kept it from checking).
pub fn main() -> ExitCode {
    let cli = parse();
    let choice = HomeChoice::of(cli.home.clone());
    // verify: 1 for a check that failed, 2 for what kept it from checking.
    let verifying = matches!(cli.command, Command::Verify(_));
    match run(cli, &choice) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = match &e {
                Failure::Core(_) if verifying => ExitCode::from(2),
                // A check that failed says so; anything else kept verify
                // from checking (no project chosen...).
                Failure::Usage(m)
                    if verifying
                        && !m.starts_with("verification failed")
                        && !m.starts_with("mongod would refuse") =>
                {
                    ExitCode::from(2)
                }
                _ => ExitCode::FAILURE,
            };
            // User-supplied text (names from the registry, paths) is
            // escaped: it cannot steer the terminal.
            eprintln!("Error: {}", escape_hidden(&messages::describe(&e)));
            if messages::depends_on_home(&e) {
                eprintln!("  (home: {})", escape_hidden(&choice.describe()));
            }
            code
        }
    }
}

/// The command line, with `--version` naming the commit and the OpenSSL
/// this binary runs on.
fn parse() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let long = format!(
        "{} (commit {}, {})",
        env!("CARGO_PKG_VERSION"),
        env!("ATLAS_CA_COMMIT"),
        openssl::version::version()
    );
    let matches = Cli::command().long_version(long).get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// The home in use and why it was chosen, for `home` and for errors that
/// depend on it.
struct HomeChoice {
    root: PathBuf,
    why: &'static str,
}

impl HomeChoice {
    /// `--home`, else `ATLAS_CA_HOME` (clap reads both into `flag`), else
    /// the default.
    fn of(flag: Option<PathBuf>) -> HomeChoice {
        match flag {
            Some(root) => {
                let from_env = std::env::var_os("ATLAS_CA_HOME").is_some_and(|v| v == root)
                    && !std::env::args_os()
                        .any(|a| a == "--home" || a.to_string_lossy().starts_with("--home="));
                let why = if from_env { "ATLAS_CA_HOME" } else { "--home" };
                HomeChoice { root, why }
            }
            None => {
                let (root, why) = default_root_why();
                HomeChoice { root, why }
            }
        }
    }

    /// The home as an absolute path.
    fn absolute(&self) -> PathBuf {
        std::path::absolute(&self.root).unwrap_or_else(|_| self.root.clone())
    }

    /// `<absolute path>, chosen by <why>`.
    fn describe(&self) -> String {
        format!("{}, chosen by {}", self.absolute().display(), self.why)
    }
}

fn run(cli: Cli, choice: &HomeChoice) -> Outcome {
    if let Some(name @ ("atlas" | "strict")) = cli.atlas_profile.as_deref() {
        eprintln!(
            "atlas-ca: note: -P/--profile {name} is the Atlas CLI's configuration profile and has \
             no effect; the certificate profile is --cert-profile {name}"
        );
    }
    let explicit = cli.home.is_some();
    let notes = if cli.quiet {
        Notes::default()
    } else {
        Notes::to(|note| {
            eprintln!("atlas-ca: {}", escape_hidden(&note.to_string()));
        })
    };
    let quiet = cli.quiet;
    let mut home = Home::new(choice.root.clone())
        .with_lock_wait(std::time::Duration::from_secs(cli.lock_wait))
        .with_notes(notes);
    if let Some(registry) = cli.registry {
        home = home.with_registry(registry);
    }
    if let Some(passphrase) = passphrase(cli.passphrase_file)? {
        home = home.with_passphrase(passphrase);
    }
    match cli.command {
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "atlas-ca", &mut out);
            output::print_bytes(&out)
        }
        Command::Man => {
            use clap::CommandFactory;
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command())
                .render(&mut out)
                .map_err(|e| Error::System {
                    what: "rendering the manual page".into(),
                    source: e,
                })?;
            output::print_bytes(&out)
        }
        Command::Home => {
            eprintln!(
                "atlas-ca: the home is {}; another: --home DIR or ATLAS_CA_HOME=DIR",
                escape_hidden(&choice.describe())
            );
            output::print_line(&choice.absolute().display().to_string())
        }
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
        Command::LocalKit(a) => tool_commands::local_kit(&home, a, quiet),
        Command::Fixtures(a) => tool_commands::fixtures(&home, a, quiet),
        Command::Pki(PkiCommand::Apply {
            file,
            out,
            force,
            renew,
            reproduce,
            write,
        }) => {
            let given = reproduce.reproduce();
            let applied = output::with_progress(quiet, |tick| {
                let mode = Mode {
                    force,
                    renew,
                    dry_run: write.dry_run,
                };
                crate::tools::pki_apply::apply(&home, &file, &out, mode, &given, tick)
            })?;
            let json = write.output == Some(args::Output::Json);
            if write.dry_run || json {
                output::print_written(&out, &applied.files, write.dry_run, json)?;
            }
            if write.dry_run {
                return Ok(());
            }
            if applied.seeded {
                eprintln!(
                    "atlas-ca: made from a seed: anyone with the file and the seed can make these private keys; keep them for tests"
                );
            }
            if !quiet {
                eprint!(
                    "{}",
                    output::issuer_tree(&applied.certificates, &applied.issuers)
                );
                eprintln!(
                    "atlas-ca: wrote {} for {} and {} in {}",
                    output::counted(applied.files.len(), "file"),
                    output::counted(applied.certificates.len(), "certificate"),
                    output::counted(applied.crls.len(), "CRL"),
                    escape_hidden(&out.display().to_string())
                );
            }
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
        Command::Verify(a) => tool_commands::verify(&home, a),
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
