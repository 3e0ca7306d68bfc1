//! The command line: the Atlas CLI's verbs (`dbusers certs create`, `dbusers
//! certs list`, `dbusers list`) plus the CA's own (`ca init`, `ca cert`).
//! It parses arguments, calls the API model and prints; nothing more.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::Error;
use crate::api::{self, CreateCert, Paging};
use crate::ca::ProjectCa;
use crate::files::write_private;
use crate::home::Home;
use crate::ledger::CertRecord;
use crate::registry::Registry;
use crate::server::{self, ServeOptions};

/// The server address written into JSON `self` links by the CLI: where
/// `atlas-ca serve` listens by default.
const DEFAULT_BASE: &str = "http://localhost:8080";

/// Offline MongoDB Atlas X.509 certificate authority.
#[derive(Debug, Parser)]
#[command(name = "atlas-ca", version, about)]
pub struct Cli {
    /// The CA home: registry, project CAs and ledger.
    #[arg(long, global = true, env = "ATLAS_CA_HOME", default_value = "ca")]
    home: PathBuf,
    /// The registry file [default: <home>/users.toml].
    #[arg(long, global = true)]
    registry: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The project CA.
    #[command(subcommand)]
    Ca(CaCommand),
    /// Database users and their certificates.
    #[command(subcommand)]
    Dbusers(DbusersCommand),
    /// Serves the Atlas Administration API locally (Digest-authenticated).
    Serve {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Seconds a Digest nonce stays valid before clients must renew it.
        #[arg(long = "nonce-ttl", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
        nonce_ttl: u64,
    },
}

#[derive(Debug, Args)]
struct ProjectArg {
    /// The project id [default: the registry's only project].
    #[arg(long = "projectId", env = "MONGODB_ATLAS_PROJECT_ID")]
    project_id: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Output {
    /// A table for people.
    Table,
    /// The exact Atlas JSON body.
    Json,
}

#[derive(Debug, Subcommand)]
enum CaCommand {
    /// Creates the project's CA (otherwise created on first use).
    Init {
        #[command(flatten)]
        project: ProjectArg,
        /// Use this RSA private key (PEM) instead of generating one.
        #[arg(long = "import-key")]
        import_key: Option<PathBuf>,
    },
    /// Prints the project's CA certificate (for net.tls.CAFile).
    Cert {
        #[command(flatten)]
        project: ProjectArg,
    },
}

#[derive(Debug, Subcommand)]
enum DbusersCommand {
    /// Lists the project's database users.
    List {
        #[command(flatten)]
        project: ProjectArg,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Managed X.509 certificates of a database user.
    #[command(subcommand)]
    Certs(CertsCommand),
}

#[derive(Debug, Subcommand)]
enum CertsCommand {
    /// Issues a certificate; prints the Atlas response body (cert + key PEM).
    Create {
        /// The database user.
        #[arg(long)]
        username: String,
        /// Months until the certificate expires (1 to 24).
        #[arg(long = "monthsUntilExpiration", default_value_t = api::DEFAULT_MONTHS, allow_negative_numbers = true)]
        months: i64,
        #[command(flatten)]
        project: ProjectArg,
        /// Write the PEM to this file (mode 0600, atomically) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Issuance time (RFC 3339), to mint expired or future certificates.
        #[arg(long = "issued-at", value_parser = parse_time)]
        issued_at: Option<OffsetDateTime>,
    },
    /// Lists a user's unexpired certificates, oldest first.
    List {
        /// The database user.
        username: String,
        #[command(flatten)]
        project: ProjectArg,
        /// Output format (`json` is the Atlas list body).
        #[arg(short, long, value_enum, default_value_t = Output::Table)]
        output: Output,
        /// Include expired and revoked certificates.
        #[arg(long)]
        all: bool,
        /// Page number (Atlas `pageNum`).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        page: u32,
        /// Items per page (Atlas `itemsPerPage`, 1 to 500).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=500))]
        limit: u32,
        /// Base URL written into the `self` link of the JSON body.
        #[arg(long = "base-url", default_value = DEFAULT_BASE)]
        base_url: String,
    },
}

fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|e| format!("expected an RFC 3339 time such as 2024-01-31T12:00:00Z ({e})"))
}

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
        Command::Serve { listen, nonce_ttl } => server::serve(
            home,
            ServeOptions {
                listen,
                nonce_ttl: Duration::from_secs(nonce_ttl),
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
        } => {
            let gid = select_project(&registry, &project)?;
            ProjectCa::init(home.root(), &gid, import_key.as_deref())?;
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
            let pem = ca.cert_pem().map_err(|e| Error::Usage(e.to_string()))?;
            print_bytes(&pem)
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
        } => {
            let gid = select_project(&registry, &project)?;
            let request = CreateCert {
                group_id: gid.clone(),
                username,
                months_until_expiration: months,
                issued_at,
            };
            let created = api::create_cert(home, &registry, &request)?;
            note_created(home, &gid, created.ca_created);
            match out {
                Some(path) => write_private(&path, created.pem.as_bytes())
                    .map_err(|source| Error::Io { path, source }),
                None => print_bytes(created.pem.as_bytes()),
            }
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
    }
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

fn note_created(home: &Home, gid: &str, created: bool) {
    if created {
        eprintln!(
            "atlas-ca: created a new CA for project {gid} in {}",
            ProjectCa::dir(home.root(), gid).display()
        );
    }
}

fn print_bytes(bytes: &[u8]) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|source| Error::Io {
            path: Path::new("<stdout>").to_path_buf(),
            source,
        })
}

fn print_line(text: &str) -> Result<(), Error> {
    print_bytes(format!("{text}\n").as_bytes())
}

fn print_certs(records: &[CertRecord], all: bool) -> Result<(), Error> {
    let now = OffsetDateTime::now_utc();
    let mut text = format!("{:<20}  {:<20}  {:<20}  ", "ID", "CREATED AT", "NOT AFTER");
    if all {
        text.push_str(&format!("{:<8}  ", "STATUS"));
    }
    text.push_str("SUBJECT\n");
    for r in records {
        text.push_str(&format!(
            "{:<20}  {:<20}  {:<20}  ",
            r.serial,
            api::json::timestamp(r.created_at),
            api::json::timestamp(r.not_after)
        ));
        if all {
            let status = if r.revoked_at.is_some() {
                "revoked"
            } else if r.not_after <= now {
                "expired"
            } else {
                "active"
            };
            text.push_str(&format!("{status:<8}  "));
        }
        text.push_str(&r.subject);
        text.push('\n');
    }
    print_bytes(text.as_bytes())
}

fn print_users(registry: &Registry, gid: &str) -> Result<(), Error> {
    let project = api::project(registry, gid)?;
    let mut text = format!(
        "{:<24}  {:<10}  {:<9}  {}\n",
        "USERNAME", "DATABASE", "X509", "ROLES"
    );
    for u in &project.database_users {
        let roles: Vec<String> = u
            .roles
            .iter()
            .map(|r| format!("{}@{}", r.role_name, r.database_name))
            .collect();
        text.push_str(&format!(
            "{:<24}  {:<10}  {:<9}  {}\n",
            u.username,
            u.database_name,
            u.x509_type.to_string(),
            roles.join(", ")
        ));
    }
    print_bytes(text.as_bytes())
}
