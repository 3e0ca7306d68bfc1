//! The file `pki apply` reads: a whole test PKI in TOML, checked in full
//! (issuers, subjects, extension names, key encodings, file names) before
//! anything is generated, each problem reported with its file, line and
//! column. `raw` is the file as TOML has it; `atlas` Atlas's own tables;
//! `resolve` the others, issuers first; `names` and `times` what fields
//! mean; the plan below is the sequence of those steps.

mod atlas;
mod names;
mod planned;
mod raw;
mod resolve;
mod seed;
mod times;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use time::OffsetDateTime;
use toml::Spanned;

use super::pki_keys::{RawKeyForm, key_form};
use crate::api::{Error, Invalid};
use crate::pki::KeyType;
use atlas::{ATLAS, atlas_leaf};
pub(crate) use names::file_names;
use names::{file_base, is_file_base};
use planned::Fail;
pub(crate) use planned::{
    AtlasLeaf, Files, Plan, Planned, PlannedBundle, PlannedCrl, PlannedPkcs12,
};
use raw::{RawBundle, RawCert, RawCrl, RawFile};
use resolve::{Place, certificate_at, issuer_order, resolve};
pub use seed::Reproduce;
use seed::reproduction;
use times::instant;

/// The text of the PKI file at `path` whose bytes are `bytes`: invalid
/// UTF-8 is an error at its line and column (read leniently, a password
/// would silently become another one).
pub(crate) fn text_of(path: &Path, bytes: Vec<u8>) -> Result<String, Error> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        // The prefix is valid UTF-8 by definition of `valid_up_to`.
        let text = std::str::from_utf8(valid).unwrap_or_default();
        let (line, column) = crate::store::registry::line_column(text, text.len());
        Invalid::Spec {
            path: path.to_path_buf(),
            line,
            column,
            message: "the file is not valid UTF-8".into(),
        }
        .into()
    })
}

/// Most tables (certificates, CRLs, bundles) one file makes: far above any
/// suite's (mongod's has 86), far below a run of hours.
pub(crate) const MAX_TABLES: usize = 2_000;

/// Reads and checks the file at `path` (its text is `text`) against `now`;
/// returns the certificates in an order where every issuer comes first,
/// Atlas's certificates, the CRLs and the bundles.
pub(crate) fn plan(path: &Path, text: &str, now: OffsetDateTime) -> Result<Plan, Error> {
    plan_with(path, text, now, &Reproduce::default())
}

/// [`plan`] with the command line's seed and time over the file's; `clock`
/// is the time when neither fixes it.
pub(crate) fn plan_with(
    path: &Path,
    text: &str,
    clock: OffsetDateTime,
    given: &Reproduce,
) -> Result<Plan, Error> {
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
        fail(at, nearest_field(e.message()))
    })?;
    if raw.certs.is_empty() {
        return Err(fail(0, "no [[cert]] tables: nothing to make".into()));
    }
    let tables = raw.certs.len() + raw.crls.len() + raw.bundles.len();
    if tables > MAX_TABLES {
        return Err(fail(
            0,
            format!("{tables} tables: one file makes at most {MAX_TABLES}"),
        ));
    }
    let (atlas_raw, raw) = split_atlas(raw);
    let (seed, now, now_fixed) = reproduction(&raw, &atlas_raw, given, clock, &fail)?;
    let atlas = atlas_tables(&atlas_raw, &fail)?;
    check_own_tables(&raw.certs, &fail)?;
    let index = certificate_names(&raw.certs, &atlas_raw, &fail)?;
    let order = issuer_order(&raw.certs, &index, &fail)?;
    let mut position = vec![0; raw.certs.len()];
    for (at, &i) in order.iter().enumerate() {
        position[i] = at;
    }
    let certs = order
        .iter()
        .map(|&i| {
            let at = Place {
                raw: &raw.certs,
                index: &index,
                position: &position,
                now,
                now_fixed,
                seed: seed.as_ref(),
            };
            resolve(&raw.certs[i], &raw.defaults, &at, &fail)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let lookup = Lookup {
        index: &index,
        position: &position,
        fail: &fail,
    };
    let mut taken: HashSet<String> = index.keys().cloned().collect();
    taken.extend(atlas.iter().map(|a| a.name.clone()));
    let crls = plan_crls(&raw.crls, &lookup, &mut taken, now)?;
    let bundles = plan_bundles(&raw.bundles, &certs, &lookup, &mut taken)?;
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
    one_writer_per_file(tables, &fail)?;
    Ok(Plan {
        certs,
        atlas,
        crls,
        bundles,
        seed,
        now,
        now_fixed,
        digests: raw.defaults.digests,
    })
}

/// Atlas's certificates stand apart: nothing issues from, bundles or
/// revokes them here. Returns them, and the file without them.
fn split_atlas(raw: RawFile) -> (Vec<RawCert>, RawFile) {
    let (atlas, own): (Vec<RawCert>, Vec<RawCert>) = raw
        .certs
        .into_iter()
        .partition(|c| c.issuer.get_ref() == ATLAS);
    let rest = RawFile {
        defaults: raw.defaults,
        certs: own,
        crls: raw.crls,
        bundles: raw.bundles,
    };
    (atlas, rest)
}

/// Atlas's tables checked, all of one project (their records commit
/// together).
fn atlas_tables(atlas_raw: &[RawCert], fail: Fail<'_>) -> Result<Vec<AtlasLeaf>, Error> {
    let atlas = atlas_raw
        .iter()
        .map(|c| atlas_leaf(c, fail))
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
    Ok(atlas)
}

/// The test PKI's own tables set none of Atlas's fields.
fn check_own_tables(certs: &[RawCert], fail: Fail<'_>) -> Result<(), Error> {
    for c in certs {
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
    Ok(())
}

/// Every certificate's name names files and is unique, Atlas's included;
/// returns the own certificates' indexes by name.
fn certificate_names(
    certs: &[RawCert],
    atlas_raw: &[RawCert],
    fail: Fail<'_>,
) -> Result<HashMap<String, usize>, Error> {
    let file_name_rule = |name: &str| {
        format!("name {name:?} must be letters, digits, '.', '_' or '-' (it names files)")
    };
    let atlas_names: Vec<&str> = atlas_raw
        .iter()
        .map(|c| c.name.get_ref().as_str())
        .collect();
    for c in atlas_raw {
        let (name, at) = (c.name.get_ref(), c.name.span().start);
        if !is_file_base(name) {
            return Err(fail(at, file_name_rule(name)));
        }
        if atlas_names.iter().filter(|n| **n == name).count() > 1
            || certs.iter().any(|c| c.name.get_ref() == name)
        {
            return Err(fail(at, format!("a second certificate named {name:?}")));
        }
    }
    let mut index = HashMap::new();
    for (i, c) in certs.iter().enumerate() {
        let (name, at) = (c.name.get_ref(), c.name.span().start);
        if !is_file_base(name) {
            return Err(fail(at, file_name_rule(name)));
        }
        if index.insert(name.clone(), i).is_some() {
            return Err(fail(at, format!("a second certificate named {name:?}")));
        }
        // `key = NAME` could not tell such a table from a new key.
        if name.parse::<KeyType>().is_ok() {
            return Err(fail(
                at,
                format!("a certificate cannot be named {name:?}: that is a key type"),
            ));
        }
    }
    Ok(index)
}

/// How the later steps find a certificate by name: its place in the plan.
struct Lookup<'a> {
    index: &'a HashMap<String, usize>,
    position: &'a [usize],
    fail: Fail<'a>,
}

impl Lookup<'_> {
    /// The planned index of the certificate `s` names (`what` says which
    /// field names it, for the error).
    fn named(&self, s: &Spanned<String>, what: &str) -> Result<usize, Error> {
        certificate_at(self.index, self.position, s, what, self.fail)
    }

    /// Claims `name` for a CRL or bundle: it must name files and be unused.
    fn claim(
        &self,
        taken: &mut HashSet<String>,
        name: &Spanned<String>,
        what: &str,
    ) -> Result<(), Error> {
        let n = name.get_ref();
        if is_file_base(n) && taken.insert(n.clone()) {
            Ok(())
        } else {
            Err((self.fail)(
                name.span().start,
                format!(
                    "{what} name {n:?} must name files (letters, digits, '.', '_', '-') and be unique"
                ),
            ))
        }
    }
}

/// The CRLs: issuer and revoked certificates by name, times against `now`.
fn plan_crls(
    raw: &[RawCrl],
    lookup: &Lookup<'_>,
    taken: &mut HashSet<String>,
    now: OffsetDateTime,
) -> Result<Vec<PlannedCrl>, Error> {
    let fail = lookup.fail;
    let mut crls = Vec::with_capacity(raw.len());
    for c in raw {
        let name = c.name.get_ref();
        lookup.claim(taken, &c.name, "CRL")?;
        let at = |t: &Option<Spanned<String>>, fallback: i64| match t {
            None => Ok(now + time::Duration::seconds(fallback)),
            Some(s) => instant(s.get_ref(), now).ok_or_else(|| {
                fail(
                    s.span().start,
                    format!(
                        "{:?} is neither a date nor an offset (years 1950 to 9999)",
                        s.get_ref()
                    ),
                )
            }),
        };
        crls.push(PlannedCrl {
            name: name.clone(),
            file: file_base(c.file.as_ref(), name, fail)?,
            issuer: lookup.named(&c.issuer, "issuer")?,
            revoked: c
                .revoked
                .iter()
                .map(|r| lookup.named(r, "revoked"))
                .collect::<Result<_, _>>()?,
            this_update: at(&c.this_update, -60)?,
            next_update: at(&c.next_update, 30 * 86_400)?,
            numbered: c.crl_number.unwrap_or(true),
        });
    }
    Ok(crls)
}

/// The bundles: certificates by name, and a key in the form asked.
fn plan_bundles(
    raw: &[RawBundle],
    certs: &[Planned],
    lookup: &Lookup<'_>,
    taken: &mut HashSet<String>,
) -> Result<Vec<PlannedBundle>, Error> {
    let fail = lookup.fail;
    let mut bundles = Vec::with_capacity(raw.len());
    for b in raw {
        lookup.claim(taken, &b.name, "bundle")?;
        let members = b
            .certs
            .iter()
            .map(|c| lookup.named(c, "bundle"))
            .collect::<Result<Vec<_>, _>>()?;
        let raw_form = RawKeyForm {
            password: b.key_password.as_ref(),
            encryption: b.key_encryption.as_ref(),
            format: b.key_format.as_ref(),
            first: b.key_first,
            prf: b.key_prf.as_ref(),
            salt_bytes: b.key_salt_bytes.as_ref(),
        };
        let key = match &b.key {
            Some(k) => {
                let i = lookup.named(k, "key")?;
                Some((
                    i,
                    key_form(&raw_form, certs[i].key_type, true, k.span().start, fail)?,
                ))
            }
            None => {
                key_form(
                    &raw_form,
                    KeyType::Rsa2048,
                    false,
                    b.name.span().start,
                    fail,
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
            file: file_base(b.file.as_ref(), b.name.get_ref(), fail)?,
            certs: members,
            key,
        });
    }
    Ok(bundles)
}

/// No two tables may write one file, and no file is another's directory.
fn one_writer_per_file<'a>(
    tables: impl Iterator<Item = (&'a Spanned<String>, Vec<String>)>,
    fail: Fail<'_>,
) -> Result<(), Error> {
    let mut written: std::collections::BTreeMap<String, (&str, usize)> = Default::default();
    for (name, files) in tables {
        for file in files {
            if let Some((other, _)) =
                written.insert(file.clone(), (name.get_ref(), name.span().start))
            {
                return Err(fail(
                    name.span().start,
                    format!("{file} is written by {other:?} already"),
                ));
            }
        }
    }
    // Nor may one table's file be a directory another's path goes through.
    for (file, (table, at)) in &written {
        for dir in Path::new(file).ancestors().skip(1) {
            if let Some((other, _)) = dir.to_str().and_then(|d| written.get(d)) {
                return Err(fail(
                    *at,
                    format!(
                        "{file} of {table:?} goes through {}, which {other:?} writes as a file",
                        dir.display()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// serde's "unknown field `x`, expected one of ..." as a suggestion of the
/// nearest field (by edit distance), instead of every field there is;
/// any other message as it is.
fn nearest_field(message: &str) -> String {
    let Some((unknown, expected)) = message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split_once("`, expected one of "))
    else {
        return message.to_string();
    };
    let nearest = expected
        .split(", ")
        .map(|f| f.trim_matches('`'))
        .min_by_key(|f| edit_distance(unknown, f));
    match nearest {
        Some(f) if edit_distance(unknown, f) <= (unknown.len() / 3).max(2) => {
            format!("unknown field `{unknown}`; did you mean `{f}`?")
        }
        _ => format!(
            "unknown field `{unknown}` (the fields a table takes are listed at the top of examples/pki/drivers-x509gen.toml)"
        ),
    }
}

/// Levenshtein distance between `a` and `b`, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        time::macros::datetime!(2026-12-01 00:00 UTC)
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

    #[test]
    fn unknown_fields_get_the_nearest_one() {
        let m = "unknown field `key_usag`, expected one of `name`, `key_usage`, `san`";
        assert_eq!(
            nearest_field(m),
            "unknown field `key_usag`; did you mean `key_usage`?"
        );
        let far = "unknown field `colour`, expected one of `name`, `san`";
        assert!(nearest_field(far).contains("listed at the top"));
        assert_eq!(nearest_field("other"), "other");
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
