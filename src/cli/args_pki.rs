//! The shapes of `pki`: apply, check and status of test PKI files and
//! the directories they make.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::args_shared::{Output, WriteArgs, parse_time};

#[derive(Debug, Subcommand)]
pub(super) enum PkiCommand {
    /// Writes every certificate, key and bundle a PKI file declares, or
    /// nothing when any of it cannot be written.
    #[command(after_help = "Examples:\n  \
      atlas-ca pki apply examples/pki/drivers-x509gen.toml --out x509gen\n  \
      atlas-ca pki apply examples/pki/mongod-jstests.toml --out jstests-libs --force")]
    Apply {
        /// The PKI file (TOML; see examples/pki/ and the README).
        file: PathBuf,
        /// The directory to write.
        #[arg(long)]
        out: PathBuf,
        /// Replace existing files.
        #[arg(long)]
        force: bool,
        /// Make every certificate and CRL again with fresh dates, keeping
        /// every private key DIR already holds (read with the file's
        /// passwords); implies --force.
        #[arg(long)]
        renew: bool,
        #[command(flatten)]
        reproduce: ReproduceArgs,
        #[command(flatten)]
        write: WriteArgs,
    },
    /// Checks a PKI file as `apply` does first, and makes nothing; with
    /// --against, also that a directory holds what the file makes (exit 1
    /// naming every missing, extra or different file).
    #[command(after_help = "Examples:\n  \
      atlas-ca pki check examples/pki/mongod-jstests.toml\n  \
      atlas-ca pki check examples/pki/drivers-x509gen.toml --against x509gen")]
    Check {
        /// The PKI file.
        file: PathBuf,
        /// A directory the file was applied to: its files, subjects,
        /// issuers, extensions, key types and encodings and lifetimes are
        /// compared with what the file makes.
        #[arg(long, value_name = "DIR")]
        against: Option<PathBuf>,
        #[command(flatten)]
        reproduce: ReproduceArgs,
    },
    /// Lists every certificate and CRL under a directory of PEM files (a
    /// `pki apply` output, a kit), the soonest to end first; exits 1 when
    /// any has ended, is not yet valid or ends within --within days, unless
    /// the PKI file (--file) makes it so on purpose.
    #[command(after_help = "Examples:\n  \
      atlas-ca pki status x509gen --file examples/pki/drivers-x509gen.toml\n  \
      atlas-ca pki status kit --within 60 -o json")]
    Status {
        /// The directory.
        dir: PathBuf,
        /// The PKI file that made it: what it makes expired or not yet
        /// valid is intended, not an error.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Days ahead that count as ending soon.
        #[arg(long, value_name = "DAYS", default_value_t = 30,
              value_parser = clap::value_parser!(u32).range(0..=36_500))]
        within: u32,
        /// Output format (`json`: ours).
        #[arg(short, long, value_enum, default_value = "table")]
        output: Output,
    },
}

/// `--seed` and `--now`, over a PKI file's own.
#[derive(Debug, Args)]
pub(super) struct ReproduceArgs {
    /// Make every key, serial, salt and signature from this seed (the file's
    /// `[defaults] seed` otherwise): the same bytes on every run. Seeded
    /// keys are not secret.
    #[arg(long)]
    pub(super) seed: Option<String>,
    /// Count relative dates from this time (RFC 3339; the file's `[defaults]
    /// now` otherwise, else the clock).
    #[arg(long, value_parser = parse_time)]
    pub(super) now: Option<time::OffsetDateTime>,
}

impl ReproduceArgs {
    /// As the library takes it.
    pub(super) fn reproduce(self) -> crate::Reproduce {
        crate::Reproduce {
            seed: self.seed,
            now: self.now,
        }
    }
}
