//! The command line's shape: every command, option and default, as clap
//! parses them. What they do is in the parent module.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::{Args, Parser, Subcommand};
use time::OffsetDateTime;

use super::args_kit::TopologyArgs;
use super::args_manage::{ProjectsCommand, SecurityCommand};
pub(super) use super::args_pki::PkiCommand;
pub(super) use super::args_shared::{OcspArg, Output, ProjectArg, WriteArgs};
use super::args_shared::{named, parse_time};
pub(super) use super::args_users::{
    CertArgs, CertsCommand, CertsCreateArgs, CertsListArgs, DEFAULT_BASE, DbusersCommand, KeyArgs,
    PageArgs,
};
use crate::api::MAX_SERVER_MONTHS;
use crate::pki::{Host, KeyType};

/// The heading of the options every command takes.
const GLOBAL: &str = "Global options";

/// Offline MongoDB Atlas X.509 certificate authority.
#[derive(Debug, Parser)]
#[command(
    name = "atlas-ca",
    version,
    about,
    next_line_help = true,
    after_help = "Start here:\n  \
      atlas-ca init                                       a home with one project\n  \
      atlas-ca dbusers create --username alice --x509Type MANAGED --role readWrite@app\n  \
      atlas-ca dbusers certs create --username alice --out alice.pem   what Atlas answers\n  \
      atlas-ca local-kit --out kit                        a local mongod with TLS and users\n\n\
      Examples:\n  \
      atlas-ca home                                       the home in use, and why\n  \
      atlas-ca completions bash > ~/.local/share/bash-completion/completions/atlas-ca\n\n\
      Each command's --help has examples. Exit status: 0 success, 1 failure (verify: a check\n\
      failed), 2 a command line that does not parse (verify: what kept it from checking)."
)]
pub(super) struct Cli {
    /// The CA home: registry, project CAs and ledger [default: ./ca when it
    /// holds a users.toml, else $XDG_DATA_HOME/atlas-ca].
    #[arg(long, global = true, env = "ATLAS_CA_HOME", help_heading = GLOBAL)]
    pub(super) home: Option<PathBuf>,
    /// The registry file [default: users.toml in the home].
    #[arg(long, global = true, help_heading = GLOBAL)]
    pub(super) registry: Option<PathBuf>,
    /// A file holding the CA key passphrase (else $ATLAS_CA_PASSPHRASE).
    #[arg(long = "passphrase-file", global = true, help_heading = GLOBAL)]
    pub(super) passphrase_file: Option<PathBuf>,
    /// Seconds a registry edit waits for another writer's lock before it
    /// fails naming the holder (0 to 600).
    #[arg(long = "lock-wait", global = true, help_heading = GLOBAL, default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub(super) lock_wait: u64,
    /// The Atlas CLI's configuration profile: accepted so that its
    /// scripts run unchanged, and without effect.
    #[arg(short = 'P', long = "profile", global = true, help_heading = GLOBAL, value_name = "NAME")]
    pub(super) atlas_profile: Option<String>,
    /// No notes on stderr: what was written, progress, keys being made
    /// (errors and warnings still).
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub(super) quiet: bool,
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Debug, Subcommand)]
pub(super) enum Command {
    /// Creates a home with a registry of one project and no users.
    #[command(after_help = "Examples:\n  \
      atlas-ca init                         ./ca, or $XDG_DATA_HOME/atlas-ca\n  \
      atlas-ca --home /tmp/ca init --name dev")]
    Init {
        /// The project id [default: a fresh random one].
        #[arg(long = "projectId")]
        project_id: Option<String>,
        /// The project's name.
        #[arg(long, default_value = "local")]
        name: String,
    },
    /// Database users and their certificates.
    #[command(subcommand, visible_alias = "dbuser")]
    #[command(after_help = "Examples:\n  \
      atlas-ca dbusers create --username alice --x509Type MANAGED --role readWrite@app\n  \
      atlas-ca dbusers list\n  \
      atlas-ca dbusers certs create --username alice --out alice.pem")]
    Dbusers(DbusersCommand),
    /// Prints the home in force (absolute; why it was chosen on stderr).
    #[command(after_help = "Examples:\n  \
      atlas-ca home                         the home a command here would use\n  \
      cd \"$(atlas-ca home)\"")]
    Home,
    /// Prints a shell completion script, generated from the same
    /// definitions as --help.
    #[command(after_help = "Examples:\n  \
      atlas-ca completions bash > ~/.local/share/bash-completion/completions/atlas-ca\n  \
      atlas-ca completions zsh > \"${fpath[1]}/_atlas-ca\"\n  \
      atlas-ca completions fish > ~/.config/fish/completions/atlas-ca.fish")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Prints the manual page (roff), generated from the same definitions
    /// as --help.
    #[command(after_help = "Examples:\n  \
      atlas-ca man | man -l -\n  \
      atlas-ca man > ~/.local/share/man/man1/atlas-ca.1")]
    Man,
    /// Projects and their API keys.
    #[command(subcommand)]
    #[command(after_help = "Examples:\n  \
      atlas-ca projects list\n  \
      atlas-ca projects create staging\n  \
      atlas-ca projects apiKeys create --desc ci --role GROUP_OWNER")]
    Projects(ProjectsCommand),
    /// Project security settings.
    #[command(subcommand)]
    #[command(after_help = "Examples:\n  \
      atlas-ca security customerCerts create --casFile my-ca.pem\n  \
      atlas-ca security customerCerts describe")]
    Security(SecurityCommand),
    /// The project CA.
    #[command(subcommand)]
    #[command(after_help = "Examples:\n  \
      atlas-ca ca init --encrypt\n  \
      atlas-ca ca cert > project-ca.pem\n  \
      atlas-ca ca crl --out crl.pem")]
    Ca(CaCommand),
    /// Issues a server certificate (for net.tls.certificateKeyFile).
    #[command(after_help = "Examples:\n  \
      atlas-ca server-cert --host localhost --host 127.0.0.1 --out server.pem\n  \
      atlas-ca server-cert --host db.example.net --key-type ec-p256 --monthsUntilExpiration 6 --out db.pem")]
    ServerCert(ServerCertArgs),
    /// Writes a local MongoDB TLS kit: CA, server and user certificates,
    /// CRL, mongod.conf, create-users.js and a README.
    #[command(after_help = "Examples:\n  \
      atlas-ca local-kit --out kit                      one mongod\n  \
      atlas-ca local-kit --out rs --replset rs0         a 3-member replica set\n  \
      atlas-ca local-kit --out sh --sharded --shards 2  a sharded cluster\n\n\
      Users' certificates live at most 24 months (Atlas's limit).")]
    LocalKit(KitArgs),
    /// Issues many client certificates in parallel, with a manifest.
    #[command(after_help = "Examples:\n  \
      atlas-ca fixtures --out fx --count-per-user 10 --key-type ec-p256\n  \
      atlas-ca fixtures --out fx --issued-at-for alice=2020-01-01T00:00:00Z   alice's expired")]
    Fixtures(FixturesArgs),
    /// Test PKIs beyond Atlas: roots, intermediates, any leaf (see
    /// examples/pki/).
    #[command(subcommand)]
    #[command(after_help = "Examples:\n  \
      atlas-ca pki apply examples/pki/drivers-x509gen.toml --out x509gen\n  \
      atlas-ca pki check examples/pki/mongod-jstests.toml\n  \
      atlas-ca pki status x509gen")]
    Pki(PkiCommand),
    /// Revokes any certificate a project CA issued (a user's, a server's, a
    /// member's) by its serial; CRLs made after it and OCSP answers list it.
    #[command(after_help = "Examples:\n  \
      atlas-ca revoke --serial 0x133FAB8AE4AAA37E\n  \
      atlas-ca revoke --serial 1386523447349061502 --projectId 5efda6aea3f2ed2e7dd6ce05")]
    Revoke {
        /// The serial: decimal (as `_id` in the list) or hex as OpenSSL
        /// prints it (with or without 0x and colons).
        #[arg(long)]
        serial: String,
        /// The project [default: whichever project has the serial].
        #[arg(long = "projectId", env = "MONGODB_ATLAS_PROJECT_ID")]
        project_id: Option<String>,
    },
    /// Checks a PEM bundle: key, chain, validity, revocation, user.
    #[command(after_help = "Examples:\n  \
      atlas-ca verify alice.pem\n  \
      atlas-ca verify --mongod kit            what mongod would refuse in a kit\n\n\
      Exit status: 0 every check passed, 1 a check failed, 2 it could not check\n\
      (no such file, no registry...).")]
    Verify(VerifyArgs),
    /// Lists every certificate this home issued (users', servers', kit
    /// members'), the soonest to end first, with its state.
    #[command(after_help = "Examples:\n  \
      atlas-ca ledger                         every project, ending within 30 days marked\n  \
      atlas-ca ledger --expiring 90 -o json   the same as JSON, a 90-day window")]
    Ledger {
        /// Only this project's [default: every project's].
        #[arg(long = "projectId", env = "MONGODB_ATLAS_PROJECT_ID")]
        project_id: Option<String>,
        /// Days ahead that count as expiring.
        #[arg(long, value_name = "DAYS", default_value_t = 30,
              value_parser = clap::value_parser!(u32).range(0..=36_500))]
        expiring: u32,
        /// Output format (`json`: ours; Atlas has no such list).
        #[arg(short, long, value_enum, default_value = "table")]
        output: Output,
    },
    /// Serves the Atlas Administration API locally (Digest-authenticated).
    #[command(after_help = "Examples:\n  \
      atlas-ca serve                              http://127.0.0.1:8080\n  \
      atlas-ca serve --listen 0 --tls             HTTPS on a free port\n  \
      atlas-ca serve --pki x509gen                also OCSP for a pki apply output\n\n\
      Requests need an API key: atlas-ca projects apiKeys create --desc local --role GROUP_OWNER")]
    Serve(ServeArgs),
    /// Prints the CA that `serve --tls` certificates chain to (created on
    /// first use), for clients to trust.
    #[command(after_help = "Examples:\n  \
      atlas-ca serve-ca > api-ca.pem\n  \
      NODE_EXTRA_CA_CERTS=api-ca.pem node app.js    clients trust serve --tls")]
    ServeCa,
}

#[derive(Debug, Args)]
pub(super) struct ServerCertArgs {
    #[command(flatten)]
    pub(super) project: ProjectArg,
    /// A DNS name or IP address (repeat for more); the first is the CN.
    #[arg(long = "host", required = true, value_parser = Host::parse)]
    pub(super) hosts: Vec<Host>,
    /// Months until the certificate expires.
    #[arg(long = "monthsUntilExpiration", default_value_t = 12)]
    pub(super) months: u32,
    /// Subject key type.
    #[arg(long = "key-type", value_parser = named::<KeyType>(), default_value_t = KeyType::Rsa4096)]
    pub(super) key_type: KeyType,
    /// Write the PEM here (mode 0600, atomically) instead of stdout.
    #[arg(long)]
    pub(super) out: Option<PathBuf>,
    /// Replace an existing --out file (never a link or a device).
    #[arg(long, requires = "out")]
    pub(super) force: bool,
    /// `json`: what was written (file, serial, subject, notAfter) on
    /// stdout; needs --out.
    #[arg(short, long, requires = "out", value_parser = clap::builder::PossibleValuesParser::new(["json"]).map(|_| Output::Json))]
    pub(super) output: Option<Output>,
    /// Issuance time (RFC 3339).
    #[arg(long = "issued-at", value_parser = parse_time)]
    pub(super) issued_at: Option<OffsetDateTime>,
    #[command(flatten)]
    pub(super) ocsp: OcspArg,
}

#[derive(Debug, Args)]
pub(super) struct KitArgs {
    #[command(flatten)]
    pub(super) project: ProjectArg,
    /// The directory to write.
    #[arg(long)]
    pub(super) out: PathBuf,
    /// More hosts for the server and member certificates (localhost and 127.0.0.1 are always in).
    #[arg(long = "host", value_parser = Host::parse)]
    pub(super) hosts: Vec<Host>,
    /// Months until the certificates expire (at most 24 when the kit has
    /// users: Atlas's limit for their certificates).
    #[arg(long = "monthsUntilExpiration", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_SERVER_MONTHS)))]
    pub(super) months: u32,
    #[command(flatten)]
    pub(super) keys: KeyArgs,
    #[command(flatten)]
    pub(super) topology: TopologyArgs,
    /// Put each user's roles into MongoDB's roles extension (mongoRoles), so
    /// mongod authorizes the user from the certificate, without createUser.
    #[arg(long = "roles-in-cert")]
    pub(super) roles_in_cert: bool,
    /// Members prove membership by MongoDB's cluster-membership extension
    /// with this value (net.tls.clusterAuthX509.extensionValue, mongod 7.0+).
    #[arg(long = "membership-extension", value_name = "VALUE")]
    pub(super) membership: Option<String>,
    #[command(flatten)]
    pub(super) ocsp: OcspArg,
    /// Also write each user's PKCS#12 (users/<user>.p12) and ca.der, for
    /// Java and .NET drivers; the password is printed once unless given.
    #[arg(long)]
    pub(super) pkcs12: bool,
    /// The PKCS#12 password, from the first line of this file.
    #[arg(
        long = "pkcs12-password-file",
        value_name = "FILE",
        requires = "pkcs12"
    )]
    pub(super) pkcs12_password_file: Option<PathBuf>,
    /// Replace an existing kit.
    #[arg(long)]
    pub(super) force: bool,
    #[command(flatten)]
    pub(super) write: WriteArgs,
}

#[derive(Debug, Args)]
pub(super) struct FixturesArgs {
    #[command(flatten)]
    pub(super) project: ProjectArg,
    /// The directory to write: <user>.pem (or <user>-<i>.pem), ca.pem, manifest.json.
    #[arg(long)]
    pub(super) out: PathBuf,
    /// Users to issue for [default: every MANAGED user].
    #[arg(long, value_delimiter = ',')]
    pub(super) users: Vec<String>,
    /// Certificates per user.
    #[arg(long = "count-per-user", default_value_t = 1)]
    pub(super) count_per_user: u32,
    /// USER=RFC3339: this user's certificates are issued at that time
    /// (repeat; e.g. some expired, the rest valid, in one run).
    #[arg(long = "issued-at-for", value_name = "USER=TIME", value_parser = user_time)]
    pub(super) issued_at_for: Vec<(String, OffsetDateTime)>,
    #[command(flatten)]
    pub(super) cert: CertArgs,
    /// Parallel jobs [default: one per core].
    #[arg(long, default_value_t = 0, hide_default_value = true)]
    pub(super) jobs: usize,
    /// Replace existing files.
    #[arg(long)]
    pub(super) force: bool,
    #[command(flatten)]
    pub(super) write: WriteArgs,
}

#[derive(Debug, Args)]
pub(super) struct VerifyArgs {
    /// The PEM file (certificate, then private key); with --mongod, a file
    /// or a directory (a kit, a pki apply output).
    pub(super) file: PathBuf,
    /// Checks what makes mongod (or a macOS client) refuse the set:
    /// members' O/OU/DC and EKUs, clients taken for members, the $external
    /// user names, server lifetimes over 825 days, CRLs past nextUpdate,
    /// SANs and chains against what the configs name.
    #[arg(long)]
    pub(super) mongod: bool,
    /// `json`: the checks as JSON (name, passed, detail) on stdout.
    #[arg(short, long, value_parser = clap::builder::PossibleValuesParser::new(["json"]).map(|_| Output::Json))]
    pub(super) output: Option<Output>,
    #[command(flatten)]
    pub(super) project: ProjectArg,
}

#[derive(Debug, Args)]
pub(super) struct ServeArgs {
    /// Address to listen on: HOST:PORT (a name such as localhost is
    /// resolved, its IPv4 address first) or a bare PORT on 127.0.0.1; port
    /// 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080", value_parser = parse_listen)]
    pub(super) listen: SocketAddr,
    /// Seconds a Digest nonce stays valid before clients must renew it.
    #[arg(long = "nonce-ttl", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(super) nonce_ttl: u64,
    /// RSA-4096 keys kept ready by background threads (0: generate per
    /// request; at most 1024).
    #[arg(long = "key-pool", default_value_t = 8, value_parser = clap::value_parser!(u16).range(0..=1024).map(usize::from))]
    pub(super) key_pool: usize,
    /// Seconds a client may take to send its request headers, and its body.
    #[arg(long = "client-timeout", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub(super) client_timeout: u64,
    /// Serve HTTPS with a certificate from atlas-ca's local API CA (for the
    /// listen address, localhost and 127.0.0.1); `atlas-ca serve-ca` prints
    /// the CA for clients to trust.
    #[arg(long)]
    pub(super) tls: bool,
    /// Serve HTTPS with this PEM file's certificate and key instead.
    #[arg(long = "tls-cert", value_name = "FILE")]
    pub(super) tls_cert: Option<PathBuf>,
    /// Seconds a service account's bearer token lives (Atlas: 3600).
    #[arg(long = "token-ttl", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(super) token_ttl: u64,
    /// Subject key type of the certificates it creates (Atlas: rsa-4096;
    /// the key pool holds rsa-4096 only).
    #[arg(long = "key-type", value_parser = named::<KeyType>(), default_value_t = KeyType::Rsa4096)]
    pub(super) key_type: KeyType,
    /// Also answer OCSP for the CAs of this `pki apply` output directory,
    /// from its CRLs (repeat for more).
    #[arg(long = "pki", value_name = "DIR")]
    pub(super) pki: Vec<PathBuf>,
    /// Sign those OCSP answers with the CA's delegated responder (a
    /// certificate with OCSPSigning in the directory) rather than the CA.
    #[arg(long = "ocsp-delegate")]
    pub(super) ocsp_delegate: bool,
    /// Seconds from an OCSP answer's thisUpdate to its nextUpdate.
    #[arg(long = "ocsp-next-update", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    pub(super) ocsp_next_update: u64,
}

/// `USER=RFC3339` of `--issued-at-for`.
fn user_time(s: &str) -> Result<(String, OffsetDateTime), String> {
    let (user, at) = s
        .rsplit_once('=')
        .ok_or_else(|| format!("{s:?} is not USER=RFC3339"))?;
    Ok((user.trim().to_string(), parse_time(at)?))
}

/// `--listen`: `HOST:PORT`, `[v6]:PORT`, or a bare port on 127.0.0.1.
fn parse_listen(s: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let addrs: Vec<SocketAddr> = s
        .to_socket_addrs()
        .map_err(|e| format!("{s:?} is not HOST:PORT or PORT: {e}"))?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or(addrs.first())
        .copied()
        .ok_or_else(|| format!("{s:?} resolves to no address"))
}

#[derive(Debug, Subcommand)]
pub(super) enum CaCommand {
    /// Creates the project's CA (otherwise created on first use).
    #[command(after_help = "Examples:\n  \
      atlas-ca ca init                      a new RSA-4096 CA for the project\n  \
      atlas-ca ca init --encrypt            its key encrypted (ATLAS_CA_PASSPHRASE)\n  \
      atlas-ca ca init --rotate            a new CA; the old one kept to verify")]
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
    #[command(after_help = "Examples:\n  \
      atlas-ca ca cert > ca.pem\n  \
      atlas-ca ca cert --projectId 5efda6aea3f2ed2e7dd6ce05")]
    Cert {
        #[command(flatten)]
        project: ProjectArg,
    },
    /// Prints a CRL of the project's revoked certificates (for net.tls.CRLFile).
    #[command(after_help = "Examples:\n  \
      atlas-ca ca crl --out crl.pem\n  \
      atlas-ca ca crl --next-update 365 --all-cas --out crl.pem")]
    Crl {
        #[command(flatten)]
        project: ProjectArg,
        /// Days until the CRL's nextUpdate, after which mongod refuses every
        /// client until a new one is installed (at most ten years).
        #[arg(long = "next-update", value_name = "DAYS", default_value_t = 30,
              value_parser = clap::value_parser!(u32).range(1..=3650))]
        next_update: u32,
        /// One CRL per CA of the project: the current one's, then each
        /// retired one's (after `ca init --rotate`), in one PEM file; each
        /// lists the revoked certificates it signed.
        #[arg(long = "all-cas")]
        all_cas: bool,
        /// Write it here (atomically) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace an existing --out file (never a link or a device).
        #[arg(long, requires = "out")]
        force: bool,
    },
}

#[cfg(test)]
#[path = "args_tests.rs"]
mod tests;
