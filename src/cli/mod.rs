//! The command line: the Atlas CLI's verbs (`dbusers certs create`, `dbusers
//! certs list`, `dbusers list`) plus the CA's own (`ca init`, `ca cert`).
//! It parses arguments, calls the API model and prints; nothing more.

mod output;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::api::{self, CreateCert, Paging, ServerCert};
use crate::ca::{Passphrase, ProjectCa};
use crate::fixtures::{self, FixtureOptions};
use crate::home::Home;
use crate::issuing::{Fresh, Host, KeyType, Profile};
use crate::kit::{self, KitOptions};
use crate::registry::Registry;
use crate::server::{self, ServeOptions};
use crate::{Error, verify};
use output::{emit, note_created, print_bytes, print_certs, print_checks, print_line, print_users};

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
    /// A file holding the CA key passphrase (else $ATLAS_CA_PASSPHRASE).
    #[arg(long = "passphrase-file", global = true)]
    passphrase_file: Option<PathBuf>,
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
    /// Issues a server certificate (for net.tls.certificateKeyFile).
    ServerCert {
        #[command(flatten)]
        project: ProjectArg,
        /// A DNS name or IP address (repeat for more); the first is the CN.
        #[arg(long = "host", required = true, value_parser = Host::parse)]
        hosts: Vec<Host>,
        /// Months until the certificate expires.
        #[arg(long = "monthsUntilExpiration", default_value_t = 12)]
        months: u32,
        /// Subject key type.
        #[arg(long = "key-type", value_enum, default_value_t = KeyType::Rsa4096)]
        key_type: KeyType,
        /// Write the PEM here (mode 0600, atomically) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Issuance time (RFC 3339).
        #[arg(long = "issued-at", value_parser = parse_time)]
        issued_at: Option<OffsetDateTime>,
    },
    /// Writes a local MongoDB TLS kit: CA, server and user certificates,
    /// CRL, mongod.conf, create-users.js and a README.
    LocalKit {
        #[command(flatten)]
        project: ProjectArg,
        /// The directory to write.
        #[arg(long)]
        out: PathBuf,
        /// More hosts for the server certificate (localhost and 127.0.0.1 are always in).
        #[arg(long = "host", value_parser = Host::parse)]
        hosts: Vec<Host>,
        /// Months until the certificates expire (user certificates: at most 24).
        #[arg(long = "monthsUntilExpiration", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=119))]
        months: u32,
        /// Profile of the user certificates.
        #[arg(long, value_enum, default_value_t = Profile::Atlas)]
        profile: Profile,
        /// Subject key type of every certificate.
        #[arg(long = "key-type", value_enum, default_value_t = KeyType::Rsa4096)]
        key_type: KeyType,
        /// Replace an existing kit.
        #[arg(long)]
        force: bool,
    },
    /// Issues many client certificates in parallel, with a manifest.
    Fixtures {
        #[command(flatten)]
        project: ProjectArg,
        /// The directory to write: <user>.pem (or <user>-<i>.pem), ca.pem, manifest.json.
        #[arg(long)]
        out: PathBuf,
        /// Users to issue for [default: every MANAGED user].
        #[arg(long, value_delimiter = ',')]
        users: Vec<String>,
        /// Certificates per user.
        #[arg(long = "count-per-user", default_value_t = 1)]
        count_per_user: u32,
        /// Months until the certificates expire (1 to 24).
        #[arg(long = "monthsUntilExpiration", default_value_t = api::DEFAULT_MONTHS, allow_negative_numbers = true)]
        months: i64,
        /// Issuance time (RFC 3339), to mint expired or future certificates.
        #[arg(long = "issued-at", value_parser = parse_time)]
        issued_at: Option<OffsetDateTime>,
        /// Subject key type.
        #[arg(long = "key-type", value_enum, default_value_t = KeyType::Rsa4096)]
        key_type: KeyType,
        /// Certificate profile.
        #[arg(long, value_enum, default_value_t = Profile::Atlas)]
        profile: Profile,
        /// Parallel jobs [default: one per core].
        #[arg(long, default_value_t = 0)]
        jobs: usize,
        /// Replace existing files.
        #[arg(long)]
        force: bool,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Checks a PEM bundle: key, chain, validity, revocation, user.
    Verify {
        /// The PEM file (certificate, then private key).
        file: PathBuf,
        #[command(flatten)]
        project: ProjectArg,
    },
    /// Serves the Atlas Administration API locally (Digest-authenticated).
    Serve {
        /// Address to listen on; port 0 picks a free port.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Seconds a Digest nonce stays valid before clients must renew it.
        #[arg(long = "nonce-ttl", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..))]
        nonce_ttl: u64,
        /// RSA-4096 keys kept ready by background threads (0: generate per request).
        #[arg(long = "key-pool", default_value_t = 8)]
        key_pool: usize,
        /// Seconds a client may take to send its request headers, and its body.
        #[arg(long = "client-timeout", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
        client_timeout: u64,
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
        /// Store the CA key encrypted (PKCS#8, AES-256) with the passphrase
        /// from --passphrase-file or $ATLAS_CA_PASSPHRASE.
        #[arg(long)]
        encrypt: bool,
        /// Replace the project's CA with a new one; the old one is kept
        /// (under retired/) for verifying what it issued.
        #[arg(long)]
        rotate: bool,
    },
    /// Prints the project's CA certificate (for net.tls.CAFile).
    Cert {
        #[command(flatten)]
        project: ProjectArg,
    },
    /// Prints a CRL of the project's revoked certificates (for net.tls.CRLFile).
    Crl {
        #[command(flatten)]
        project: ProjectArg,
        /// Write it here (atomically) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
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
        /// Certificate profile: Atlas's exactly, or with key identifiers.
        #[arg(long, value_enum, default_value_t = Profile::Atlas)]
        profile: Profile,
        /// Subject key type (Atlas: rsa-4096).
        #[arg(long = "key-type", value_enum, default_value_t = KeyType::Rsa4096)]
        key_type: KeyType,
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
    /// Revokes one of a user's certificates (Atlas cannot); idempotent.
    Revoke {
        /// The database user.
        #[arg(long)]
        username: String,
        /// The certificate's serial number (decimal, as `_id` in the list).
        #[arg(long)]
        serial: u64,
        #[command(flatten)]
        project: ProjectArg,
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
            eprintln!(
                "atlas-ca: issued {} certificates to {} in {secs:.2} s ({:.1}/s)",
                manifest.len(),
                out.display(),
                manifest.len() as f64 / secs.max(1e-9)
            );
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
