//! The file `pki apply` reads: a whole test PKI in TOML, checked in full
//! (issuers, subjects, extension names, key encodings, file names) before
//! anything is generated, each problem reported with its file, line and
//! column.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;
use time::OffsetDateTime;
use toml::Spanned;

use super::pki_keys::{KeyForm, RawKeyForm, key_form};
use crate::api::{Error, Invalid};
use crate::pki::custom::{AltName, EXTENDED_KEY_USAGES, Extras, Grant, KEY_USAGES, Spec};
use crate::pki::{KeyType, merged_subject, name_der, random_serial};

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default, rename = "cert")]
    certs: Vec<RawCert>,
    #[serde(default, rename = "crl")]
    crls: Vec<RawCrl>,
    #[serde(default, rename = "bundle")]
    bundles: Vec<RawBundle>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBundle {
    name: Spanned<String>,
    file: Option<Spanned<String>>,
    #[serde(default)]
    certs: Vec<Spanned<String>>,
    key: Option<Spanned<String>>,
    #[serde(default)]
    key_first: bool,
    key_format: Option<Spanned<String>>,
    key_password: Option<String>,
    key_encryption: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCrl {
    name: Spanned<String>,
    file: Option<Spanned<String>>,
    issuer: Spanned<String>,
    #[serde(default)]
    revoked: Vec<Spanned<String>>,
    this_update: Option<Spanned<String>>,
    next_update: Option<Spanned<String>>,
}

/// A certificate exactly as `certs create` issues it (`issuer = "atlas"`):
/// signed by the project's CA and recorded in its ledger.
#[derive(Debug)]
pub(crate) struct AtlasLeaf {
    /// `<name>.pem`: Atlas's body, certificate then key.
    pub(crate) name: String,
    pub(crate) project: String,
    pub(crate) username: String,
    /// monthsUntilExpiration (Atlas's default 3).
    pub(crate) months: i64,
    /// Atlas's RSA-4096 unless the table says otherwise.
    pub(crate) key_type: KeyType,
}

/// The whole plan: certificates (issuers first), Atlas's certificates, CRLs
/// and bundles.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) certs: Vec<Planned>,
    pub(crate) atlas: Vec<AtlasLeaf>,
    pub(crate) crls: Vec<PlannedCrl>,
    pub(crate) bundles: Vec<PlannedBundle>,
}

/// One bundle of the plan: `<file>.pem` holding the named certificates,
/// in order, and one certificate's key before or after them.
#[derive(Debug)]
pub(crate) struct PlannedBundle {
    /// The base of its file name, relative to the output directory.
    pub(crate) file: String,
    pub(crate) certs: Vec<usize>,
    /// The certificate whose key the file holds, and how.
    pub(crate) key: Option<(usize, KeyForm)>,
}

/// One CRL of the plan, resolved.
#[derive(Debug)]
pub(crate) struct PlannedCrl {
    /// Its name.
    pub(crate) name: String,
    /// The base of its file name (`<file>.pem`).
    pub(crate) file: String,
    /// The index of its issuer among the planned certificates.
    pub(crate) issuer: usize,
    /// The indexes of the certificates it revokes.
    pub(crate) revoked: Vec<usize>,
    pub(crate) this_update: OffsetDateTime,
    pub(crate) next_update: OffsetDateTime,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    subject: Option<Spanned<String>>,
    key: Option<Spanned<String>>,
    not_before: Option<Spanned<String>>,
    not_after: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCert {
    name: Spanned<String>,
    file: Option<Spanned<String>>,
    issuer: Spanned<String>,
    #[serde(default)]
    subject: Option<Spanned<String>>,
    #[serde(default)]
    explicit_subject: bool,
    key: Option<Spanned<String>>,
    #[serde(default)]
    ca: bool,
    pathlen: Option<u32>,
    basic_constraints: Option<bool>,
    #[serde(default)]
    basic_constraints_critical: Option<bool>,
    key_usage: Option<Spanned<Vec<String>>>,
    key_usage_critical: Option<bool>,
    extended_key_usage: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    san: Vec<Spanned<String>>,
    #[serde(default)]
    san_critical: bool,
    subject_key_id: Option<bool>,
    authority_key_id: Option<bool>,
    #[serde(default)]
    authority_key_issuer: bool,
    #[serde(default)]
    mongo_roles: Vec<RawGrant>,
    cluster_membership: Option<String>,
    #[serde(default)]
    ocsp: Vec<Spanned<String>>,
    #[serde(default)]
    must_staple: bool,
    comment: Option<Spanned<String>>,
    serial: Option<u64>,
    not_before: Option<Spanned<String>>,
    not_after: Option<Spanned<String>>,
    #[serde(default)]
    files: Option<Spanned<String>>,
    key_password: Option<String>,
    key_encryption: Option<Spanned<String>>,
    key_format: Option<Spanned<String>>,
    #[serde(default)]
    key_first: bool,
    pkcs12: Option<RawPkcs12>,
    #[serde(default)]
    public_key: bool,
    #[serde(default)]
    append: Vec<Spanned<String>>,
    #[serde(default)]
    append_after_key: bool,
    project: Option<Spanned<String>>,
    username: Option<Spanned<String>>,
    months: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrant {
    role: String,
    db: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPkcs12 {
    password: String,
    friendly_name: Option<String>,
}

/// How a certificate's files are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Files {
    /// `<name>.pem`: the certificate (and appended ones), then the key.
    Pem,
    /// `<name>.crt` and `<name>.key`.
    Split,
    /// `<name>.pem` with the certificate only; the key is not written.
    CertOnly,
    /// `<name>.pem` as [`Files::Pem`], and `<name>.crt` and `<name>.key` too
    /// (as certs.yml's `keyfile`/`crtfile` beside the PEM).
    PemAndSplit,
    /// No file of its own: its certificate and key go into bundles.
    None,
}

/// One certificate of the plan, resolved.
#[derive(Debug)]
pub(crate) struct Planned {
    /// Its name: how others name it.
    pub(crate) name: String,
    /// The base of its file names, relative to the output directory (its
    /// name unless the table says `file`).
    pub(crate) file: String,
    /// The index of its issuer among the planned ones; `None`: self-signed.
    pub(crate) issuer: Option<usize>,
    pub(crate) key_type: KeyType,
    pub(crate) spec: Spec,
    pub(crate) files: Files,
    /// How its own files hold the key.
    pub(crate) key_form: KeyForm,
    /// A PKCS#12 file: password and friendly name.
    pub(crate) pkcs12: Option<(String, Option<String>)>,
    /// `<name>-public.pem` with the public key.
    pub(crate) public_key: bool,
    /// Indexes of the certificates appended after it in its PEM file.
    pub(crate) append: Vec<usize>,
    /// The appended certificates after the key rather than before it (as
    /// mkcert.py's `append_cert` writes them).
    pub(crate) append_after_key: bool,
}

/// Reads and checks the file at `path` (its text is `text`) against `now`;
/// returns the certificates in an order where every issuer comes first,
/// the CRLs and the bundles.
pub(crate) fn plan(path: &Path, text: &str, now: OffsetDateTime) -> Result<Plan, Error> {
    let fail = |at: usize, message: String| -> Error {
        let (line, column) = crate::store::registry::line_column(text, at);
        Invalid::Spec {
            path: path.to_path_buf(),
            line,
            column,
            message,
        }
        .into()
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start);
        fail(at, e.message().to_string())
    })?;
    if raw.certs.is_empty() {
        return Err(fail(0, "no [[cert]] tables: nothing to make".into()));
    }
    // Atlas's certificates stand apart: nothing issues from, bundles or
    // revokes them here.
    let (atlas_raw, own): (Vec<RawCert>, Vec<RawCert>) = raw
        .certs
        .into_iter()
        .partition(|c| c.issuer.get_ref() == ATLAS);
    let atlas = atlas_raw
        .iter()
        .map(|c| atlas_leaf(c, &fail))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some((c, a)) = atlas_raw
        .iter()
        .zip(&atlas)
        .find(|(_, a)| a.project != atlas[0].project)
    {
        let at = c
            .project
            .as_ref()
            .map_or(c.name.span().start, |p| p.span().start);
        return Err(fail(
            at,
            format!(
                "the Atlas certificates of one file are of one project ({} and {}): their records commit together",
                atlas[0].project, a.project
            ),
        ));
    }
    let atlas_names: Vec<&str> = atlas.iter().map(|a| a.name.as_str()).collect();
    let raw = RawFile {
        defaults: raw.defaults,
        certs: own,
        crls: raw.crls,
        bundles: raw.bundles,
    };
    for c in &raw.certs {
        if let Some(field) = c.project.as_ref().or(c.username.as_ref()) {
            return Err(fail(
                field.span().start,
                "project and username are for Atlas's certificates (issuer = \"atlas\")".into(),
            ));
        }
        if c.months.is_some() {
            return Err(fail(
                c.name.span().start,
                "months is for Atlas's certificates (issuer = \"atlas\"); others take not_after"
                    .into(),
            ));
        }
    }
    let mut index = HashMap::new();
    let atlas_spans = atlas_raw
        .iter()
        .map(|c| (c.name.get_ref(), c.name.span().start));
    for (name, at) in atlas_spans.chain(
        raw.certs
            .iter()
            .map(|c| (c.name.get_ref(), c.name.span().start)),
    ) {
        if !is_file_base(name) {
            return Err(fail(
                at,
                format!("name {name:?} must be letters, digits, '.', '_' or '-' (it names files)"),
            ));
        }
        if atlas_names.iter().filter(|n| **n == name).count() > 1
            || (atlas_names.contains(&name.as_str())
                && raw.certs.iter().any(|c| c.name.get_ref() == name))
        {
            return Err(fail(at, format!("a second certificate named {name:?}")));
        }
    }
    for (i, c) in raw.certs.iter().enumerate() {
        let name = c.name.get_ref();
        if !is_file_base(name) {
            return Err(fail(
                c.name.span().start,
                format!("name {name:?} must be letters, digits, '.', '_' or '-' (it names files)"),
            ));
        }
        if index.insert(name.clone(), i).is_some() {
            return Err(fail(
                c.name.span().start,
                format!("a second certificate named {name:?}"),
            ));
        }
    }
    let order = issuer_order(&raw.certs, &index, &fail)?;
    let mut position = vec![0; raw.certs.len()];
    for (at, &i) in order.iter().enumerate() {
        position[i] = at;
    }
    let defaults = &raw.defaults;
    let certs = order
        .iter()
        .map(|&i| resolve(&raw.certs[i], defaults, &index, &position, now, &fail))
        .collect::<Result<Vec<_>, _>>()?;
    let named = |s: &Spanned<String>, what: &str| {
        index.get(s.get_ref()).map(|&i| position[i]).ok_or_else(|| {
            fail(
                s.span().start,
                format!("{what}: no certificate named {:?}", s.get_ref()),
            )
        })
    };
    let mut taken: std::collections::HashSet<String> = index.keys().cloned().collect();
    taken.extend(atlas_names.iter().map(|n| n.to_string()));
    let mut unique = |name: &Spanned<String>, what: &str| {
        let n = name.get_ref();
        if is_file_base(n) && taken.insert(n.clone()) {
            Ok(())
        } else {
            Err(fail(
                name.span().start,
                format!(
                    "{what} name {n:?} must name files (letters, digits, '.', '_', '-') and be unique"
                ),
            ))
        }
    };
    let mut crls = Vec::with_capacity(raw.crls.len());
    for c in &raw.crls {
        let name = c.name.get_ref();
        unique(&c.name, "CRL")?;
        let at = |t: &Option<Spanned<String>>, fallback: i64| match t {
            None => Ok(now + time::Duration::seconds(fallback)),
            Some(s) => instant(s.get_ref(), now).ok_or_else(|| {
                fail(
                    s.span().start,
                    format!("{:?} is neither a date nor an offset", s.get_ref()),
                )
            }),
        };
        crls.push(PlannedCrl {
            name: name.clone(),
            file: file_base(c.file.as_ref(), name, &fail)?,
            issuer: named(&c.issuer, "issuer")?,
            revoked: c
                .revoked
                .iter()
                .map(|r| named(r, "revoked"))
                .collect::<Result<_, _>>()?,
            this_update: at(&c.this_update, -60)?,
            next_update: at(&c.next_update, 30 * 86_400)?,
        });
    }
    let mut bundles = Vec::with_capacity(raw.bundles.len());
    for b in &raw.bundles {
        unique(&b.name, "bundle")?;
        let members = b
            .certs
            .iter()
            .map(|c| named(c, "bundle"))
            .collect::<Result<Vec<_>, _>>()?;
        let raw_form = RawKeyForm {
            password: b.key_password.as_ref(),
            encryption: b.key_encryption.as_ref(),
            format: b.key_format.as_ref(),
            first: b.key_first,
        };
        let key = match &b.key {
            Some(k) => {
                let i = named(k, "key")?;
                Some((
                    i,
                    key_form(&raw_form, certs[i].key_type, true, k.span().start, &fail)?,
                ))
            }
            None => {
                key_form(
                    &raw_form,
                    KeyType::Rsa2048,
                    false,
                    b.name.span().start,
                    &fail,
                )?;
                None
            }
        };
        if members.is_empty() && key.is_none() {
            return Err(fail(
                b.name.span().start,
                "a bundle holds certificates, a key, or both".into(),
            ));
        }
        bundles.push(PlannedBundle {
            file: file_base(b.file.as_ref(), b.name.get_ref(), &fail)?,
            certs: members,
            key,
        });
    }
    // No two tables may write one file.
    let mut written: HashMap<String, &str> = HashMap::new();
    let tables = order
        .iter()
        .zip(&certs)
        .map(|(&i, p)| (&raw.certs[i].name, file_names(p)))
        .chain(
            atlas_raw
                .iter()
                .zip(&atlas)
                .map(|(c, a)| (&c.name, vec![format!("{}.pem", a.name)])),
        )
        .chain(
            raw.crls
                .iter()
                .zip(&crls)
                .map(|(c, p)| (&c.name, vec![format!("{}.pem", p.file)])),
        )
        .chain(
            raw.bundles
                .iter()
                .zip(&bundles)
                .map(|(b, p)| (&b.name, vec![format!("{}.pem", p.file)])),
        );
    for (name, files) in tables {
        for file in files {
            if let Some(other) = written.insert(file.clone(), name.get_ref()) {
                return Err(fail(
                    name.span().start,
                    format!("{file} is written by {other:?} already"),
                ));
            }
        }
    }
    Ok(Plan {
        certs,
        atlas,
        crls,
        bundles,
    })
}

/// The issuer that marks a certificate as Atlas's own.
const ATLAS: &str = "atlas";

/// An Atlas certificate's table: `project`, `username`, `months` and `key`
/// only, since it is exactly what `certs create` issues.
fn atlas_leaf(c: &RawCert, fail: &dyn Fn(usize, String) -> Error) -> Result<AtlasLeaf, Error> {
    let only = c.subject.is_none()
        && !c.explicit_subject
        && !c.ca
        && c.pathlen.is_none()
        && c.basic_constraints.is_none()
        && c.basic_constraints_critical.is_none()
        && c.key_usage.is_none()
        && c.key_usage_critical.is_none()
        && c.extended_key_usage.is_none()
        && c.san.is_empty()
        && !c.san_critical
        && c.subject_key_id.is_none()
        && c.authority_key_id.is_none()
        && !c.authority_key_issuer
        && !c.append_after_key
        && c.mongo_roles.is_empty()
        && c.cluster_membership.is_none()
        && c.ocsp.is_empty()
        && !c.must_staple
        && c.comment.is_none()
        && c.serial.is_none()
        && c.not_before.is_none()
        && c.not_after.is_none()
        && c.files.is_none()
        && c.key_password.is_none()
        && c.key_encryption.is_none()
        && c.key_format.is_none()
        && !c.key_first
        && c.file.is_none()
        && c.pkcs12.is_none()
        && !c.public_key
        && c.append.is_empty();
    let at = c.name.span().start;
    if !only {
        return Err(fail(
            at,
            "an Atlas certificate (issuer = \"atlas\") is exactly what certs create issues: it takes project, username, months and key only".into(),
        ));
    }
    let (Some(project), Some(username)) = (&c.project, &c.username) else {
        return Err(fail(
            at,
            "an Atlas certificate needs project and username".into(),
        ));
    };
    // Atlas's key unless the table names one: the defaults' key is for the
    // test PKI's own certificates.
    let key_type = match &c.key {
        None => KeyType::Rsa4096,
        Some(k) => k
            .get_ref()
            .parse::<KeyType>()
            .map_err(|e| fail(k.span().start, e.to_string()))?,
    };
    Ok(AtlasLeaf {
        name: c.name.get_ref().clone(),
        project: project.get_ref().clone(),
        username: username.get_ref().clone(),
        months: c.months.unwrap_or(crate::api::DEFAULT_MONTHS),
        key_type,
    })
}

/// Whether `name` can be the base of a file name in the output directory.
fn is_file_base(name: &str) -> bool {
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
fn file_base(
    file: Option<&Spanned<String>>,
    name: &str,
    fail: &dyn Fn(usize, String) -> Error,
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

/// The certificates in an order where each one's issuer comes before it;
/// an unknown issuer or a cycle is an error at the cert that names it.
fn issuer_order(
    certs: &[RawCert],
    index: &HashMap<String, usize>,
    fail: &dyn Fn(usize, String) -> Error,
) -> Result<Vec<usize>, Error> {
    let issuer_of = |i: usize| -> Result<Option<usize>, Error> {
        let issuer = &certs[i].issuer;
        match issuer.get_ref().as_str() {
            "self" => Ok(None),
            name => index.get(name).copied().map(Some).ok_or_else(|| {
                fail(
                    issuer.span().start,
                    format!("unknown issuer {name:?} (no [[cert]] of that name, nor \"self\")"),
                )
            }),
        }
    };
    // 0: not seen, 1: on the current path, 2: placed.
    let mut state = vec![0u8; certs.len()];
    let mut order = Vec::with_capacity(certs.len());
    for start in 0..certs.len() {
        let mut path = Vec::new();
        let mut at = Some(start);
        while let Some(i) = at {
            match state[i] {
                2 => break,
                1 => {
                    let issuer = &certs[i].issuer;
                    return Err(fail(
                        issuer.span().start,
                        format!("issuers form a cycle through {:?}", certs[i].name.get_ref()),
                    ));
                }
                _ => {
                    state[i] = 1;
                    path.push(i);
                    at = issuer_of(i)?;
                }
            }
        }
        for &i in path.iter().rev() {
            state[i] = 2;
            order.push(i);
        }
    }
    Ok(order)
}

fn resolve(
    c: &RawCert,
    defaults: &RawDefaults,
    index: &HashMap<String, usize>,
    position: &[usize],
    now: OffsetDateTime,
    fail: &dyn Fn(usize, String) -> Error,
) -> Result<Planned, Error> {
    let issuer = match c.issuer.get_ref().as_str() {
        "self" => None,
        name => Some(position[index[name]]),
    };
    let subject_der = subject(c, defaults, fail)?;
    let key = c.key.as_ref().or(defaults.key.as_ref());
    let key_type = match key {
        None => KeyType::Rsa2048,
        Some(k) => k
            .get_ref()
            .parse::<KeyType>()
            .map_err(|e| fail(k.span().start, e.to_string()))?,
    };
    let when =
        |own: &Option<Spanned<String>>, default: &Option<Spanned<String>>, fallback: i64| match own
            .as_ref()
            .or(default.as_ref())
        {
            None => Ok(now + time::Duration::seconds(fallback)),
            Some(s) => instant(s.get_ref(), now).ok_or_else(|| {
                fail(
                    s.span().start,
                    format!(
                        "{:?} is neither a date (RFC 3339) nor an offset like -3600s, +30d, -1h",
                        s.get_ref()
                    ),
                )
            }),
        };
    let not_before = when(&c.not_before, &defaults.not_before, -3600)?;
    let not_after = when(&c.not_after, &defaults.not_after, 365 * 86_400)?;
    let names = |list: &Option<Spanned<Vec<String>>>, allowed: &[&str], what: &str| {
        list.as_ref()
            .map(|l| {
                for n in l.get_ref() {
                    if !allowed.contains(&n.as_str()) {
                        return Err(fail(
                            l.span().start,
                            format!("{n:?} is not {what}; one of: {}", allowed.join(", ")),
                        ));
                    }
                }
                Ok(l.get_ref().clone())
            })
            .transpose()
    };
    let key_usage = match names(&c.key_usage, &KEY_USAGES, "a key usage")? {
        Some(list) if list.is_empty() => None,
        Some(list) => Some(list),
        None if c.ca => Some(vec!["keyCertSign".into(), "cRLSign".into()]),
        None => Some(vec!["digitalSignature".into(), "keyEncipherment".into()]),
    };
    let extended_key_usage = match names(
        &c.extended_key_usage,
        &EXTENDED_KEY_USAGES,
        "an extended key usage",
    )? {
        Some(list) if list.is_empty() => None,
        other => other,
    };
    let mut alt_names = Vec::new();
    for s in &c.san {
        alt_names.push(alt_name(s.get_ref()).ok_or_else(|| {
            fail(
                s.span().start,
                format!(
                    "{:?}: a subjectAltName is DNS:, IP:, email: or URI: and a value",
                    s.get_ref()
                ),
            )
        })?);
    }
    for url in c.ocsp.iter().chain(c.comment.iter()) {
        if !url.get_ref().is_ascii() {
            return Err(fail(
                url.span().start,
                "OCSP addresses and comments are IA5 strings: ASCII only".into(),
            ));
        }
    }
    let spec = Spec {
        subject_der,
        serial: match c.serial {
            Some(s) => s,
            None => random_serial()?,
        },
        not_before: Some(not_before),
        not_after: Some(not_after),
        basic_constraints: c.basic_constraints.unwrap_or(true).then_some((
            c.ca,
            c.pathlen,
            c.basic_constraints_critical.unwrap_or(c.ca),
        )),
        key_usage,
        key_usage_critical: c.key_usage_critical.unwrap_or(true),
        extended_key_usage,
        alt_names,
        alt_names_critical: c.san_critical,
        subject_key_id: c.subject_key_id.unwrap_or(true),
        authority_key_id: c.authority_key_id.unwrap_or(true),
        authority_key_issuer: c.authority_key_issuer,
        extras: Extras {
            mongo_roles: c
                .mongo_roles
                .iter()
                .map(|g| Grant {
                    role: g.role.clone(),
                    db: g.db.clone(),
                })
                .collect(),
            cluster_membership: c.cluster_membership.clone(),
            ocsp: c.ocsp.iter().map(|u| u.get_ref().clone()).collect(),
        },
        must_staple: c.must_staple,
        comment: c.comment.as_ref().map(|s| s.get_ref().clone()),
    };
    let files = match c
        .files
        .as_ref()
        .map(|f| (f.get_ref().as_str(), f.span().start))
    {
        None | Some(("pem", _)) => Files::Pem,
        Some(("split", _)) => Files::Split,
        Some(("cert-only", _)) => Files::CertOnly,
        Some(("pem+split", _)) => Files::PemAndSplit,
        Some(("none", _)) => Files::None,
        Some((other, at)) => {
            return Err(fail(
                at,
                format!("files {other:?}: one of pem, split, pem+split, cert-only, none"),
            ));
        }
    };
    let raw_form = RawKeyForm {
        password: c.key_password.as_ref(),
        encryption: c.key_encryption.as_ref(),
        format: c.key_format.as_ref(),
        first: c.key_first,
    };
    let writes_key = !matches!(files, Files::CertOnly | Files::None);
    let key_form = key_form(&raw_form, key_type, writes_key, c.name.span().start, fail)?;
    let append = c
        .append
        .iter()
        .map(|a| {
            index.get(a.get_ref()).map(|&i| position[i]).ok_or_else(|| {
                fail(
                    a.span().start,
                    format!("append: no certificate named {:?}", a.get_ref()),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Planned {
        name: c.name.get_ref().clone(),
        file: file_base(c.file.as_ref(), c.name.get_ref(), fail)?,
        issuer,
        key_type,
        spec,
        files,
        key_form,
        pkcs12: c
            .pkcs12
            .as_ref()
            .map(|p| (p.password.clone(), p.friendly_name.clone())),
        public_key: c.public_key,
        append,
        append_after_key: c.append_after_key,
    })
}

/// The subject's DER: the certificate's RFC 4514 string, then the
/// defaults' unless `explicit_subject`.
fn subject(
    c: &RawCert,
    defaults: &RawDefaults,
    fail: &dyn Fn(usize, String) -> Error,
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
    name_der(&joined).map_err(|e| fail(parts[0].1, format!("subject {joined:?}: {e}")))
}

/// An instant: RFC 3339, or an offset from `now` (`-10000000s`, `+30d`,
/// `-1h`, `+20y` where a year is 365 days).
fn instant(s: &str, now: OffsetDateTime) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Some(t);
    }
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let unit = rest.chars().last()?;
    let number: i64 = rest[..rest.len() - unit.len_utf8()].parse().ok()?;
    let seconds = match unit {
        's' => 1,
        'h' => 3600,
        'd' => 86_400,
        'y' => 365 * 86_400,
        _ => return None,
    };
    now.checked_add(time::Duration::seconds(sign * number.checked_mul(seconds)?))
}

/// `DNS:name`, `IP:addr`, `email:addr` or `URI:uri`.
fn alt_name(s: &str) -> Option<AltName> {
    let (kind, value) = s.split_once(':')?;
    Some(match kind {
        "DNS" if value.is_ascii() => AltName::Dns(value.to_string()),
        "IP" => AltName::Ip(value.parse::<IpAddr>().ok()?),
        "email" if value.is_ascii() => AltName::Email(value.to_string()),
        "URI" if value.is_ascii() => AltName::Uri(value.to_string()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        time::macros::datetime!(2026-12-01 00:00 UTC)
    }

    #[test]
    fn offsets_and_dates() {
        assert_eq!(
            instant("-3600s", now()),
            Some(now() - time::Duration::hours(1))
        );
        assert_eq!(instant("+2d", now()), Some(now() + time::Duration::days(2)));
        assert_eq!(
            instant("2020-01-01T00:00:00Z", now()),
            Some(time::macros::datetime!(2020-01-01 00:00 UTC))
        );
        assert_eq!(instant("tomorrow", now()), None);
        assert_eq!(instant("+5w", now()), None);
    }

    #[test]
    fn bad_files_name_their_line() {
        let path = Path::new("pki.toml");
        let err = |text: &str| plan(path, text, now()).unwrap_err().to_string();
        let unknown = "[[cert]]\nname = \"a\"\nissuer = \"b\"\n";
        assert!(err(unknown).starts_with("pki.toml:3:"), "{}", err(unknown));
        assert!(err(unknown).contains("unknown issuer \"b\""));
        let cycle =
            "[[cert]]\nname = \"a\"\nissuer = \"b\"\n[[cert]]\nname = \"b\"\nissuer = \"a\"\n";
        assert!(err(cycle).contains("cycle"), "{}", err(cycle));
        let attr = "[[cert]]\nname = \"a\"\nissuer = \"self\"\nsubject = \"NOPE=x\"\n";
        assert!(err(attr).starts_with("pki.toml:4:"), "{}", err(attr));
        let eku =
            "[[cert]]\nname = \"a\"\nissuer = \"self\"\nextended_key_usage = [\"keyCertSign\"]\n";
        assert!(
            err(eku).contains("is not an extended key usage"),
            "{}",
            err(eku)
        );
        let pass = "[[cert]]\nname = \"a\"\nissuer = \"self\"\nfiles = \"cert-only\"\nkey_password = \"x\"\n";
        assert!(
            err(pass).contains("on a table whose key is not written"),
            "{}",
            err(pass)
        );
        let field = "[[cert]]\nname = \"a\"\nissuer = \"self\"\ncolour = 1\n";
        assert!(err(field).starts_with("pki.toml:4:"), "{}", err(field));
    }

    #[test]
    fn issuers_come_first() {
        let text = "[[cert]]\nname = \"leaf\"\nissuer = \"mid\"\n[[cert]]\nname = \"mid\"\nissuer = \"root\"\nca = true\n[[cert]]\nname = \"root\"\nissuer = \"self\"\nca = true\n";
        let planned = plan(Path::new("p.toml"), text, now()).unwrap().certs;
        let names: Vec<&str> = planned.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["root", "mid", "leaf"]);
        assert_eq!(planned[2].issuer, Some(1));
        assert_eq!(planned[0].issuer, None);
    }
}
