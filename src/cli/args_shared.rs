//! Argument shapes that both the CA's own verbs (`args`) and the registry
//! verbs (`args_manage`) use: kept apart so neither imports the other.

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, ValueEnum};

use crate::model::AtlasName;
use crate::model::names::{NONE, parse, parse_or_none};
use crate::pki::custom::ocsp_url;

/// A flag whose values are an enum's names (`--key-type`, `--x509Type`,
/// `--role`): the names listed with their meaning in `--help`.
pub(super) fn named<T: AtlasName>() -> impl TypedValueParser<Value = T> {
    let values = T::all()
        .iter()
        .map(|t| PossibleValue::new(t.name()).help(t.about()));
    PossibleValuesParser::new(values).try_map(|s| parse::<T>(&s))
}

/// A flag that takes `NONE` or one of an enum's names (`--x509Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct OrNone<T>(pub(super) Option<T>);

/// The parser of an [`OrNone`] flag.
pub(super) fn named_or_none<T: AtlasName>() -> impl TypedValueParser<Value = OrNone<T>> {
    let none = PossibleValue::new(NONE).help("none of these");
    let values = T::all()
        .iter()
        .map(|t| PossibleValue::new(t.name()).help(t.about()));
    PossibleValuesParser::new(std::iter::once(none).chain(values))
        .try_map(|s| parse_or_none::<T>(&s).map(OrNone))
}

// `--projectId`.
#[derive(Debug, Args)]
pub(super) struct ProjectArg {
    /// The project id [default: the registry's only project].
    #[arg(long = "projectId", env = "MONGODB_ATLAS_PROJECT_ID")]
    pub(super) project_id: Option<String>,
}

// `-o`/`--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Output {
    /// A table for people.
    Table,
    /// The exact Atlas JSON body.
    Json,
}

/// The options of a tool that writes a directory: its plan alone, and
/// what it wrote as JSON.
#[derive(Debug, Args)]
pub(super) struct WriteArgs {
    /// Print the plan (every file it would write) and write nothing; every
    /// check still runs.
    #[arg(long = "dry-run")]
    pub(super) dry_run: bool,
    /// `json`: what was written (or would be, with --dry-run) as JSON on
    /// stdout.
    #[arg(short, long, value_parser = PossibleValuesParser::new(["json"]).map(|_| Output::Json))]
    pub(super) output: Option<Output>,
}

// `--ocsp-url`.
#[derive(Debug, Args)]
pub(super) struct OcspArg {
    /// An OCSP responder address for authorityInfoAccess (repeat for a
    /// second); `atlas-ca serve` answers at http://HOST:PORT/ocsp.
    #[arg(long = "ocsp-url", value_name = "URL", value_parser = ocsp_url)]
    pub(super) urls: Vec<String>,
}

/// An RFC 3339 time (`--issued-at`, `--deleteAfter`, ...).
pub(super) fn parse_time(s: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("expected an RFC 3339 time such as 2024-01-31T12:00:00Z ({e})"))
}
