//! The shapes of the database user commands and their certificates'
//! (`dbusers ...`, `dbusers certs ...`), with the paging and key options
//! they share.

use std::path::PathBuf;

use clap::builder::TypedValueParser;
use clap::{Args, Subcommand};
use time::OffsetDateTime;

use super::args_manage::{UserCreateArgs, UserDeleteArgs, UserRefArgs, UserUpdateArgs};
use super::args_shared::{OcspArg, Output, ProjectArg, named, parse_time};
use crate::api::{self, CreateCert, MAX_ITEMS_PER_PAGE};
use crate::pki::{KeyType, Profile};

/// The server address written into JSON `self` links by the CLI: where
/// `atlas-ca serve` listens by default.
pub(super) const DEFAULT_BASE: &str = "http://localhost:8080";

#[derive(Debug, Subcommand)]
pub(super) enum DbusersCommand {
    /// Creates a database user, as `atlas dbusers create`.
    #[command(after_help = "Examples:\n  \
      atlas-ca dbusers create --username alice --x509Type MANAGED --role readWrite@app\n  \
      atlas-ca dbusers create --username app --password s3cret-pw --role read@shop")]
    Create(UserCreateArgs),
    /// Shows one database user.
    #[command(visible_alias = "get")]
    #[command(after_help = "Examples:\n  \
      atlas-ca dbusers describe alice --authDB '$external'\n  \
      atlas-ca dbusers describe app -o json")]
    Describe(UserRefArgs),
    /// Changes a database user's roles or X.509 type.
    #[command(after_help = "Examples:\n  \
      atlas-ca dbusers update alice --role read@app\n  \
      atlas-ca dbusers update app --desc \"reporting job\"")]
    Update(UserUpdateArgs),
    /// Deletes a database user (its certificates stay on record).
    #[command(visible_alias = "rm")]
    #[command(after_help = "Examples:\n  \
      atlas-ca dbusers delete alice --authDB '$external' --force")]
    Delete(UserDeleteArgs),
    /// Lists the project's database users.
    #[command(visible_alias = "ls")]
    #[command(after_help = "Examples:\n  \
      atlas-ca dbusers list\n  \
      atlas-ca dbusers list -o json --limit 10 --page 2")]
    List {
        #[command(flatten)]
        project: ProjectArg,
        /// Output format.
        #[arg(short, long, value_enum, default_value_t = Output::Table)]
        output: Output,
        #[command(flatten)]
        paging: PageArgs,
    },
    /// Managed X.509 certificates of a database user.
    #[command(subcommand, visible_alias = "cert")]
    #[command(after_help = "Examples:\n  \
      atlas-ca dbusers certs create --username alice --out alice.pem\n  \
      atlas-ca dbusers certs list alice\n  \
      atlas-ca dbusers certs revoke -u alice --serial 0x133FAB8AE4AAA37E")]
    Certs(CertsCommand),
}

#[derive(Debug, Subcommand)]
pub(super) enum CertsCommand {
    /// Issues a certificate; prints the Atlas response body (cert + key PEM).
    #[command(after_help = "Examples:\n  \
      atlas-ca dbusers certs create --username alice --out alice.pem       PEM: certificate, key (0600)\n  \
      atlas-ca dbusers certs create -u alice --monthsUntilExpiration 24 -o json\n  \
      atlas-ca dbusers certs create -u alice --key-type ec-p256 --ocsp-url http://127.0.0.1:8080/ocsp --out a.pem")]
    Create(CertsCreateArgs),
    /// Lists a user's unexpired certificates, oldest first.
    #[command(visible_alias = "ls")]
    #[command(after_help = "Examples:\n  \
      atlas-ca dbusers certs list alice\n  \
      atlas-ca dbusers certs list alice --all -o json")]
    List(CertsListArgs),
    /// Revokes one of a user's certificates (Atlas cannot); idempotent.
    #[command(after_help = "Examples:\n  \
      atlas-ca dbusers certs revoke -u alice --serial 0x133FAB8AE4AAA37E")]
    #[command(
        override_usage = "atlas-ca dbusers certs revoke [OPTIONS] \\\n         --username <USERNAME> --serial <SERIAL>"
    )]
    Revoke {
        /// The database user.
        #[arg(short = 'u', long)]
        username: String,
        /// The certificate's serial number: decimal (as `_id` in the list) or
        /// hex as OpenSSL prints it (with or without 0x and colons).
        #[arg(long)]
        serial: String,
        #[command(flatten)]
        project: ProjectArg,
    },
}

#[derive(Debug, Args)]
pub(super) struct CertsCreateArgs {
    /// The database user.
    #[arg(short = 'u', long)]
    pub(super) username: String,
    #[command(flatten)]
    pub(super) cert: CertArgs,
    #[command(flatten)]
    pub(super) project: ProjectArg,
    /// Write the PEM to this file (mode 0600, atomically) instead of stdout.
    #[arg(long)]
    pub(super) out: Option<PathBuf>,
    /// Replace an existing --out file (never a link or a device).
    #[arg(long, requires = "out")]
    pub(super) force: bool,
    /// Output format: the PEM as it is [default], or `json`: the PEM as
    /// one JSON string, as the Atlas CLI prints it.
    #[arg(short, long, value_parser = clap::builder::PossibleValuesParser::new(["json"]).map(|_| Output::Json))]
    pub(super) output: Option<Output>,
}

/// Atlas's paging, in tables as in JSON.
#[derive(Debug, Args)]
pub(super) struct PageArgs {
    /// Page number (Atlas `pageNum`).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub(super) page: u32,
    /// Items per page (Atlas `itemsPerPage`, 1 to 500).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_ITEMS_PER_PAGE)))]
    pub(super) limit: u32,
    /// Leave `totalCount` out of the JSON list (Atlas `includeCount=false`).
    #[arg(long = "omitCount")]
    pub(super) omit_count: bool,
    /// With `-o json`, print the list's results alone, as the Atlas CLI's
    /// `--compact` does.
    #[arg(short = 'c', long)]
    pub(super) compact: bool,
}

impl PageArgs {
    /// The paging these select (with `totalCount` unless `--omitCount`).
    pub(super) fn paging(&self) -> api::Paging {
        api::Paging {
            include_count: !self.omit_count,
            items_per_page: self.limit,
            page_num: self.page,
        }
    }
}

/// What every client certificate request takes besides its user.
#[derive(Debug, Args)]
pub(super) struct CertArgs {
    /// Months until the certificate expires (1 to 24).
    #[arg(long = "monthsUntilExpiration", default_value_t = api::DEFAULT_MONTHS, allow_negative_numbers = true)]
    pub(super) months: i64,
    /// Issuance time (RFC 3339), to mint expired or future certificates.
    #[arg(long = "issued-at", value_parser = parse_time)]
    pub(super) issued_at: Option<OffsetDateTime>,
    #[command(flatten)]
    pub(super) keys: KeyArgs,
    #[command(flatten)]
    pub(super) ocsp: OcspArg,
}

/// The profile and key type of client certificates.
#[derive(Debug, Args)]
pub(super) struct KeyArgs {
    /// Certificate profile: Atlas's exactly, or with key identifiers.
    #[arg(long = "cert-profile", alias = "certProfile", value_parser = named::<Profile>(), default_value_t = Profile::Atlas)]
    pub(super) profile: Profile,
    /// Subject key type (Atlas: rsa-4096).
    #[arg(long = "key-type", value_parser = named::<KeyType>(), default_value_t = KeyType::Rsa4096)]
    pub(super) key_type: KeyType,
}

impl CertArgs {
    /// The request for `username` in project `gid`.
    pub(super) fn request(&self, gid: &str, username: &str) -> CreateCert {
        let mut request = CreateCert::new(gid, username);
        request.months_until_expiration = self.months;
        request.issued_at = self.issued_at;
        request.profile = self.keys.profile;
        request.key_type = self.keys.key_type;
        request.extras.ocsp = self.ocsp.urls.clone();
        request
    }
}

#[derive(Debug, Args)]
pub(super) struct CertsListArgs {
    /// The database user.
    pub(super) username: String,
    #[command(flatten)]
    pub(super) project: ProjectArg,
    /// Output format (`json` is the Atlas list body).
    #[arg(short, long, value_enum, default_value_t = Output::Table)]
    pub(super) output: Output,
    /// Include expired and revoked certificates.
    #[arg(long)]
    pub(super) all: bool,
    #[command(flatten)]
    pub(super) paging: PageArgs,
    /// Base URL written into the `self` link of the JSON body.
    #[arg(long = "base-url", default_value = DEFAULT_BASE)]
    pub(super) base_url: String,
}
