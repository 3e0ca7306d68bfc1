//! Names in a `pki apply` file: the files a table writes, subjects (the
//! table's merged with the defaults'), and subjectAltNames.

use std::net::IpAddr;

use toml::Spanned;

use super::planned::{Fail, Files, Planned};
use super::raw::{RawCert, RawDefaults};
use crate::api::Error;
use crate::pki::custom::AltName;
use crate::pki::{merged_subject, name_der, printable_where_it_fits};

/// Whether `name` can be the base of a file name in the output directory.
pub(super) fn is_file_base(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The files a planned certificate writes, relative to the output
/// directory.
pub(crate) fn file_names(p: &Planned) -> Vec<String> {
    let base = &p.file;
    let mut names = match p.files {
        Files::Pem | Files::CertOnly => vec![format!("{base}.pem")],
        Files::Split => vec![format!("{base}.crt"), format!("{base}.key")],
        Files::PemAndSplit => vec![
            format!("{base}.pem"),
            format!("{base}.crt"),
            format!("{base}.key"),
        ],
        Files::None => Vec::new(),
    };
    if p.public_key {
        names.push(format!("{base}-public.pem"));
    }
    if p.pkcs12.is_some() {
        names.push(format!("{base}.pfx"));
    }
    names
}

/// The base of a table's file names: its `file` (a relative path whose
/// parts are each a file base; directories are made) or its name.
pub(super) fn file_base(
    file: Option<&Spanned<String>>,
    name: &str,
    fail: Fail<'_>,
) -> Result<String, Error> {
    match file {
        None => Ok(name.to_string()),
        Some(f) if f.get_ref().split('/').all(is_file_base) => Ok(f.get_ref().clone()),
        Some(f) => Err(fail(
            f.span().start,
            format!(
                "file {:?}: a relative path of names made of letters, digits, '.', '_', '-'",
                f.get_ref()
            ),
        )),
    }
}

/// The subject's DER: the certificate's RFC 4514 string, then the
/// defaults' unless `explicit_subject`.
pub(super) fn subject(
    c: &RawCert,
    defaults: &RawDefaults,
    fail: Fail<'_>,
) -> Result<Vec<u8>, Error> {
    let own = c
        .subject
        .as_ref()
        .map(|s| (s.get_ref().as_str(), s.span().start));
    let inherited = defaults
        .subject
        .as_ref()
        .filter(|_| !c.explicit_subject)
        .map(|s| (s.get_ref().as_str(), s.span().start));
    let parts: Vec<(&str, usize)> = own
        .into_iter()
        .chain(inherited)
        .filter(|(s, _)| !s.is_empty())
        .collect();
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    for (text, at) in &parts {
        name_der(text).map_err(|e| {
            fail(
                *at,
                format!("subject {text:?}: {e} (RFC 4514, e.g. CN=server,O=MongoDB)"),
            )
        })?;
    }
    let joined = match parts[..] {
        [(own, at), (defaults, _)] => {
            merged_subject(own, defaults).map_err(|e| fail(at, format!("subject {own:?}: {e}")))?
        }
        _ => parts[0].0.to_string(),
    };
    let der =
        name_der(&joined).map_err(|e| fail(parts[0].1, format!("subject {joined:?}: {e}")))?;
    // The table's string type, else the defaults', else UTF8String.
    let kind = c.string_type.as_ref().or(defaults.string_type.as_ref());
    match kind.map(|k| (k.get_ref().as_str(), k.span().start)) {
        None | Some(("utf8", _)) => Ok(der),
        Some(("printable", at)) => {
            printable_where_it_fits(&der).map_err(|e| fail(at, format!("subject {joined:?}: {e}")))
        }
        Some((other, at)) => Err(fail(
            at,
            format!("string_type {other:?}: utf8 (the default) or printable"),
        )),
    }
}

/// `DNS:name`, `IP:addr`, `email:addr` or `URI:uri`.
pub(super) fn alt_name(s: &str) -> Option<AltName> {
    let (kind, value) = s.split_once(':')?;
    Some(match kind {
        "DNS" if value.is_ascii() => AltName::Dns(value.to_string()),
        "IP" => AltName::Ip(value.parse::<IpAddr>().ok()?),
        "email" if value.is_ascii() => AltName::Email(value.to_string()),
        "URI" if value.is_ascii() => AltName::Uri(value.to_string()),
        _ => return None,
    })
}
