//! Certificates resolved: issuers ordered before what they sign, and each
//! table's fields turned into what signing needs.

use std::collections::HashMap;

use time::OffsetDateTime;
use toml::Spanned;

use super::names::{alt_name, file_base, subject};
use super::planned::{Fail, Files, Planned, PlannedPkcs12};
use super::raw::{RawCert, RawDefaults};
use super::times::instant;
use crate::api::Error;
use crate::pki::PKCS12_ITERATIONS;
use crate::pki::custom::{EXTENDED_KEY_USAGES, Extras, Grant, KEY_USAGES, Spec};
use crate::pki::seeded::Seed;
use crate::pki::{KeyType, random_serial};
use crate::tools::pki_keys::{RawKeyForm, key_form};

/// The certificates in an order where each one's issuer comes before it;
/// an unknown issuer or a cycle is an error at the cert that names it.
pub(super) fn issuer_order(
    certs: &[RawCert],
    index: &HashMap<String, usize>,
    fail: Fail<'_>,
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

/// Where a table stands: the certificates by name and their places in the
/// plan, the time relative dates count from, the seed.
#[derive(Clone, Copy)]
pub(super) struct Place<'a> {
    /// Every own table, as written (a table may take another's key).
    pub(super) raw: &'a [RawCert],
    pub(super) index: &'a HashMap<String, usize>,
    pub(super) position: &'a [usize],
    pub(super) now: OffsetDateTime,
    pub(super) now_fixed: bool,
    pub(super) seed: Option<&'a Seed>,
}

/// One certificate's table resolved against the defaults: its issuer's
/// place, subject, key, times, extensions, files and key encoding.
pub(super) fn resolve(
    c: &RawCert,
    defaults: &RawDefaults,
    at: &Place<'_>,
    fail: Fail<'_>,
) -> Result<Planned, Error> {
    let Place {
        raw,
        index,
        position,
        now,
        now_fixed,
        seed,
    } = *at;
    // A renewal by a new fixed `now` gets new serials: an issuer never
    // signs two certificates with one serial.
    let serial_purpose = if now_fixed {
        format!("serial@{}", now.unix_timestamp())
    } else {
        "serial".to_string()
    };
    let issuer = match c.issuer.get_ref().as_str() {
        "self" => None,
        name => Some(position[index[name]]),
    };
    let subject_der = subject(c, defaults, fail)?;
    let (key_type, key_from) = key_of(c, defaults, raw, index, fail)?;
    let key_from = key_from.map(|i| position[i]);
    let when = |own: &Option<Spanned<String>>, default: &Option<Spanned<String>>, fallback: i64| {
        match own
            .as_ref()
            .or(default.as_ref())
        {
            None => Ok(now + time::Duration::seconds(fallback)),
            Some(s) => instant(s.get_ref(), now).ok_or_else(|| {
                fail(
                    s.span().start,
                    format!(
                        "{:?} is neither a date (RFC 3339) nor an offset like -3600s, +30d, -1h (years 1950 to 9999)",
                        s.get_ref()
                    ),
                )
            }),
        }
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
    if c.authority_key_hash && (c.authority_key_issuer || c.authority_key_id == Some(true)) {
        return Err(fail(
            c.name.span().start,
            "authority_key_hash, authority_key_id and authority_key_issuer each make the \
             authorityKeyIdentifier: choose one"
                .into(),
        ));
    }
    let spec = Spec {
        subject_der,
        serial: match c.serial {
            Some(s) => s,
            None => match seed {
                Some(seed) => seed.stream(c.name.get_ref(), &serial_purpose)?.serial()?,
                None => random_serial()?,
            },
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
        authority_key_hash: c.authority_key_hash,
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
    let files = match &c.files {
        None => Files::Pem,
        Some(f) => f.get_ref().parse::<Files>().map_err(|_| {
            fail(
                f.span().start,
                format!(
                    "files {:?}: one of {}",
                    f.get_ref(),
                    Files::NAMES.join(", ")
                ),
            )
        })?,
    };
    let raw_form = RawKeyForm {
        password: c.key_password.as_ref(),
        encryption: c.key_encryption.as_ref(),
        format: c.key_format.as_ref(),
        first: c.key_first,
        prf: c.key_prf.as_ref(),
        salt_bytes: c.key_salt_bytes.as_ref(),
    };
    let writes_key = !matches!(files, Files::CertOnly | Files::None);
    let key_form = key_form(&raw_form, key_type, writes_key, c.name.span().start, fail)?;
    let named = |list: &[Spanned<String>], what: &str| -> Result<Vec<usize>, Error> {
        list.iter()
            .map(|a| certificate_at(index, position, a, what, fail))
            .collect()
    };
    let append = named(&c.append, "append")?;
    if let Some(p12) = &c.pkcs12 {
        // OpenSSL takes both as C strings, and a friendly name is a
        // BMPString: no NUL, nothing beyond U+FFFF.
        if p12.password.contains('\0')
            || p12.friendly_name.as_ref().is_some_and(|n| n.contains('\0'))
        {
            return Err(fail(
                c.name.span().start,
                "pkcs12 password and friendly_name cannot hold a NUL".into(),
            ));
        }
        if p12
            .friendly_name
            .as_ref()
            .is_some_and(|n| n.chars().any(|ch| u32::from(ch) > 0xffff))
        {
            return Err(fail(
                c.name.span().start,
                "pkcs12 friendly_name is a BMPString: no character beyond U+FFFF (an emoji)".into(),
            ));
        }
    }
    Ok(Planned {
        name: c.name.get_ref().clone(),
        file: file_base(c.file.as_ref(), c.name.get_ref(), fail)?,
        issuer,
        key_type,
        key_from,
        spec,
        files,
        key_form,
        pkcs12: match &c.pkcs12 {
            None => None,
            Some(p) => Some(PlannedPkcs12 {
                password: p.password.clone(),
                friendly_name: p.friendly_name.clone(),
                chain: match &p.chain {
                    Some(chain) => named(chain, "pkcs12 chain")?,
                    None => append.clone(),
                },
                iterations: match &p.iterations {
                    None => PKCS12_ITERATIONS,
                    Some(n) if (1..=MAX_PKCS12_ITERATIONS).contains(n.get_ref()) => *n.get_ref(),
                    Some(n) => {
                        return Err(fail(
                            n.span().start,
                            format!("pkcs12 iterations: 1 to {MAX_PKCS12_ITERATIONS}"),
                        ));
                    }
                },
            }),
        },
        public_key: c.public_key,
        append,
        append_after_key: c.append_after_key,
        extension_order: extension_order(c, defaults, fail)?,
    })
}

/// The most PBKDF2 rounds a `.pfx` may ask (cryptography's files use
/// 20000; a million keeps one file's cost under a second).
const MAX_PKCS12_ITERATIONS: u32 = 1_000_000;

/// The planned index of the certificate `s` names (`what` says which
/// field names it, for the error).
pub(super) fn certificate_at(
    index: &HashMap<String, usize>,
    position: &[usize],
    s: &Spanned<String>,
    what: &str,
    fail: Fail<'_>,
) -> Result<usize, Error> {
    index.get(s.get_ref()).map(|&i| position[i]).ok_or_else(|| {
        fail(
            s.span().start,
            format!("{what}: no certificate named {:?}", s.get_ref()),
        )
    })
}

/// A table's key: a new one of its type (its own `key`, else the
/// defaults'), or, when its `key` names another table, that table's (its
/// type, and the table's index among `raw`).
fn key_of(
    c: &RawCert,
    defaults: &RawDefaults,
    raw: &[RawCert],
    index: &HashMap<String, usize>,
    fail: Fail<'_>,
) -> Result<(KeyType, Option<usize>), Error> {
    let own_type = |c: &RawCert| -> Option<Result<KeyType, (usize, String)>> {
        let k = c.key.as_ref().or(defaults.key.as_ref())?;
        Some(
            k.get_ref()
                .parse::<KeyType>()
                .map_err(|e| (k.span().start, e.to_string())),
        )
    };
    let Some(parsed) = own_type(c) else {
        return Ok((KeyType::Rsa2048, None));
    };
    let (at, why) = match parsed {
        Ok(t) => return Ok((t, None)),
        Err(e) => e,
    };
    // Only a table's own `key` may name another table.
    let Some(own) = c.key.as_ref() else {
        return Err(fail(at, why));
    };
    let Some(&i) = index.get(own.get_ref()) else {
        return Err(fail(
            at,
            format!("{why}, or the name of a [[cert]] table whose key this one shares"),
        ));
    };
    let owner = &raw[i];
    if owner.name.get_ref() == c.name.get_ref() {
        return Err(fail(at, "key names this table itself".into()));
    }
    match own_type(owner) {
        None => Ok((KeyType::Rsa2048, Some(i))),
        Some(Ok(t)) => Ok((t, Some(i))),
        Some(Err(_))
            if owner
                .key
                .as_ref()
                .is_some_and(|k| index.contains_key(k.get_ref())) =>
        {
            Err(fail(
                at,
                format!(
                    "key = {:?} takes the key of a table that takes another's: name the table whose key it is",
                    own.get_ref()
                ),
            ))
        }
        // The owner's own key is wrong: said where it is written.
        Some(Err((at, why))) => Err(fail(at, why)),
    }
}

/// `extension_order` (the table's, else the defaults'): names of
/// extensions, each once.
fn extension_order(
    c: &RawCert,
    defaults: &RawDefaults,
    fail: Fail<'_>,
) -> Result<Vec<String>, Error> {
    let Some(order) = c
        .extension_order
        .as_ref()
        .or(defaults.extension_order.as_ref())
    else {
        return Ok(Vec::new());
    };
    let at = order.span().start;
    for (i, name) in order.get_ref().iter().enumerate() {
        if !crate::pki::EXTENSION_NAMES.iter().any(|(n, _)| n == name) {
            let known: Vec<&str> = crate::pki::EXTENSION_NAMES
                .iter()
                .map(|(n, _)| *n)
                .collect();
            return Err(fail(
                at,
                format!("extension_order {name:?}: one of {}", known.join(", ")),
            ));
        }
        if order.get_ref()[..i].contains(name) {
            return Err(fail(at, format!("extension_order names {name:?} twice")));
        }
    }
    Ok(order.get_ref().clone())
}
