//! Distinguished names from RFC 4514 text, with every attribute type
//! OpenSSL has a name for (mongod's test subjects use X.520 types such as
//! `dmdName` or `role` that the `x509-cert` name table lacks), by name or
//! dotted OID.

use std::str::FromStr;

use der::asn1::{ObjectIdentifier, PrintableStringRef};
use der::{Encode, Tag};
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{RdnSequence, RelativeDistinguishedName};

/// Why a subject string is not a distinguished name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnError {
    /// An attribute with no `=`.
    #[error("{0:?} is not TYPE=value")]
    NotAnAttribute(String),
    /// A type that is neither a known name nor a dotted OID.
    #[error("{0:?} is not an attribute type (a name such as CN, O, dmdName, or a dotted OID)")]
    UnknownType(String),
    /// A value that cannot be encoded (a bad escape, or a country that is not printable).
    #[error("{0:?}: {1}")]
    BadValue(String, String),
}

/// The DER of the name written as RFC 4514 `text` (most significant RDN
/// last, `+` joining the attributes of one RDN).
pub fn name_der(text: &str) -> Result<Vec<u8>, DnError> {
    let mut rdns = Vec::new();
    for rdn in split_unescaped(text, b',') {
        let mut attributes = Vec::new();
        for ava in split_unescaped(rdn, b'+') {
            attributes.push(attribute(ava)?);
        }
        let set = RelativeDistinguishedName::try_from(attributes)
            .map_err(|e| DnError::BadValue(rdn.to_string(), e.to_string()))?;
        rdns.push(set);
    }
    let mut sequence = RdnSequence::default();
    for rdn in rdns.into_iter().rev() {
        sequence.push(rdn);
    }
    let der = sequence
        .to_der()
        .map_err(|e| DnError::BadValue(text.to_string(), e.to_string()))?;
    // What OpenSSL will not read back (a value's bytes that do not fit its
    // string type) is refused now, not after every key is made.
    openssl::x509::X509Name::from_der(&der)
        .map_err(|_| DnError::BadValue(text.to_string(), "OpenSSL cannot read it".into()))?;
    Ok(der)
}

/// `der` (a Name) with every UTF8String value that PrintableString can
/// hold made a PrintableString, as OpenSSL 1.x and Python's
/// `cryptography` wrote names (drivers-evergreen-tools' x509gen files).
pub fn printable_where_it_fits(der: &[u8]) -> Result<Vec<u8>, DnError> {
    use der::{Decode, Tagged};
    let bad = |e: der::Error| DnError::BadValue("the subject".into(), e.to_string());
    let name = RdnSequence::from_der(der).map_err(bad)?;
    let mut out = RdnSequence::default();
    for rdn in name.iter() {
        let mut attributes = Vec::new();
        for ava in rdn.iter() {
            let mut ava = ava.clone();
            let bytes = ava.value.value();
            if ava.value.tag() == Tag::Utf8String && PrintableStringRef::new(bytes).is_ok() {
                ava.value = der::Any::new(Tag::PrintableString, bytes).map_err(bad)?;
            }
            attributes.push(ava);
        }
        out.push(RelativeDistinguishedName::try_from(attributes).map_err(bad)?);
    }
    out.to_der().map_err(bad)
}

/// Whether every backslash of `value` escapes something RFC 4514 lets it:
/// a special character, a space, or two hexadecimal digits.
fn escapes_ok(value: &str) -> bool {
    let bytes = value.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            match bytes.get(i + 1) {
                Some(b',' | b'+' | b'"' | b'\\' | b'<' | b'>' | b';' | b'=' | b'#' | b' ') => {
                    i += 2
                }
                Some(a)
                    if a.is_ascii_hexdigit()
                        && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit) =>
                {
                    i += 3
                }
                _ => return false,
            }
        } else {
            i += 1;
        }
    }
    true
}

/// A certificate's subject `own` merged with the `defaults` (both RFC
/// 4514), as mongod's certs.yml merges them (pyOpenSSL's `X509Name`
/// deletes an attribute of the type it sets, then appends): the defaults'
/// attributes of a type `own` has are dropped, and `own` comes first
/// (most specific). Types compare by OID, so `CN` and `commonName` are
/// one type; a multi-valued RDN of the defaults stays.
pub fn merged_subject(own: &str, defaults: &str) -> Result<String, DnError> {
    let single_type = |rdn: &str| -> Result<Option<ObjectIdentifier>, DnError> {
        if split_unescaped(rdn, b'+').len() > 1 {
            return Ok(None);
        }
        let (key, _) = rdn
            .split_once('=')
            .ok_or_else(|| DnError::NotAnAttribute(rdn.to_string()))?;
        oid_of(key.trim())
            .map(Some)
            .ok_or_else(|| DnError::UnknownType(key.to_string()))
    };
    let mut types = Vec::new();
    for rdn in split_unescaped(own, b',') {
        for ava in split_unescaped(rdn, b'+') {
            types.push(single_type(ava)?);
        }
    }
    let mut merged: Vec<&str> = split_unescaped(own, b',');
    for rdn in split_unescaped(defaults, b',') {
        let kind = single_type(rdn)?;
        if kind.is_none() || !types.contains(&kind) {
            merged.push(rdn);
        }
    }
    Ok(merged.join(","))
}

/// One `TYPE=value`, its type resolved to a dotted OID first so that the
/// value gets `x509-cert`'s encoding rules (PrintableString for C, ...).
fn attribute(ava: &str) -> Result<AttributeTypeAndValue, DnError> {
    let (key, value) = ava
        .split_once('=')
        .ok_or_else(|| DnError::NotAnAttribute(ava.to_string()))?;
    let oid = oid_of(key.trim()).ok_or_else(|| DnError::UnknownType(key.to_string()))?;
    if !escapes_ok(value) {
        return Err(DnError::BadValue(
            ava.to_string(),
            "a backslash escapes a special character, a space or two hex digits".into(),
        ));
    }
    let parsed = AttributeTypeAndValue::from_str(&format!("{oid}={value}"))
        .map_err(|e| DnError::BadValue(ava.to_string(), e.to_string()))?;
    // `x509-cert` tags C and serialNumber PrintableString, e-mail and DC
    // IA5String, without checking that the value fits the tag.
    let bytes = parsed.value.value();
    let fits = match der::Tagged::tag(&parsed.value) {
        Tag::PrintableString => PrintableStringRef::new(bytes).is_ok(),
        Tag::Ia5String => bytes.is_ascii(),
        _ => true,
    };
    if !fits {
        let kind = der::Tagged::tag(&parsed.value);
        return Err(DnError::BadValue(
            ava.to_string(),
            format!("not a valid {kind}"),
        ));
    }
    Ok(parsed)
}

/// A dotted OID, a name `x509-cert` knows, or one of OpenSSL's short or
/// long names.
fn oid_of(key: &str) -> Option<ObjectIdentifier> {
    if key.is_empty() {
        return None;
    }
    if key.starts_with(|c: char| c.is_ascii_digit()) {
        // Arcs without leading zeros (`1.02.3` is no OID).
        if key
            .split('.')
            .any(|arc| arc.len() > 1 && arc.starts_with('0'))
        {
            return None;
        }
        return ObjectIdentifier::new(key).ok();
    }
    if let Some(oid) = const_oid::db::DB.by_name(key) {
        return Some(*oid);
    }
    if !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return None;
    }
    let object = openssl::asn1::Asn1Object::from_str(key).ok()?;
    ObjectIdentifier::from_bytes(object.as_slice()).ok()
}

/// `text` split at every `sep` not escaped by a backslash.
fn split_unescaped(text: &str, sep: u8) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut parts = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b if b == sep => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&text[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_openssl_names_and_keeps_escapes() {
        let der = name_der("role=r,dmdName=d,GN=g,CN=a\\,b+OU=u").unwrap();
        let name = openssl::x509::X509Name::from_der(&der).unwrap();
        let texts: Vec<String> = name
            .entries()
            .map(|e| {
                format!(
                    "{}={}",
                    e.object().nid().short_name().unwrap(),
                    e.data().to_string().unwrap()
                )
            })
            .collect();
        assert_eq!(texts, ["OU=u", "CN=a,b", "GN=g", "dmdName=d", "role=r"]);
    }

    #[test]
    fn defaults_are_merged_by_type_as_certs_yml_merges_them() {
        let defaults = "OU=Kernel,O=MongoDB,L=New York City,ST=New York,C=US";
        assert_eq!(
            merged_subject("CN=client,OU=KernelUser", defaults).unwrap(),
            "CN=client,OU=KernelUser,O=MongoDB,L=New York City,ST=New York,C=US"
        );
        // certs.yml's OCSP certificates: L, ST and C set after CN.
        assert_eq!(
            merged_subject("L=OCSP-1,ST=NY,C=US,CN=localhost", defaults).unwrap(),
            "L=OCSP-1,ST=NY,C=US,CN=localhost,OU=Kernel,O=MongoDB"
        );
        // By OID, inside a multi-valued RDN too; escapes stay.
        assert_eq!(
            merged_subject(
                "commonName=a\\,b,organizationName=X+OU=y",
                "CN=z,O=MongoDB,C=US"
            )
            .unwrap(),
            "commonName=a\\,b,organizationName=X+OU=y,C=US"
        );
        assert!(merged_subject("nope=x", "CN=z").is_err());
    }

    #[test]
    fn printable_where_it_fits_and_utf8_elsewhere() {
        let der = name_der("CN=client,O=Zoë,C=US").unwrap();
        let out = printable_where_it_fits(&der).unwrap();
        let name = openssl::x509::X509Name::from_der(&out).unwrap();
        let tags: Vec<_> = name
            .entries()
            .map(|e| e.data().as_slice().to_vec())
            .collect();
        assert_eq!(tags.len(), 3);
        // CN and C PrintableString (0x13), O kept UTF8String (0x0c).
        let raw = |t: u8, v: &[u8]| [&[t, v.len() as u8][..], v].concat();
        assert!(out.windows(8).any(|w| w == raw(0x13, b"client").as_slice()));
        assert!(
            out.windows(6)
                .any(|w| w == raw(0x0c, "Zoë".as_bytes()).as_slice())
        );
    }

    #[test]
    fn names_what_is_wrong() {
        assert_eq!(name_der("nope=x"), Err(DnError::UnknownType("nope".into())));
        assert_eq!(name_der("CN"), Err(DnError::NotAnAttribute("CN".into())));
        assert!(matches!(name_der("C=ü"), Err(DnError::BadValue(..))));
        // What check used to pass and apply then failed on (issue 30).
        for bad in ["CN=x\\", "L=\\4", "CN=x,1.2.3=#0400", "1.02.3=x"] {
            assert!(name_der(bad).is_err(), "{bad}");
        }
        // Escapes RFC 4514 allows still read.
        for good in ["CN=a\\,b", "CN=\\23x", "CN=a\\ ", "CN=caf\\C3\\A9"] {
            assert!(name_der(good).is_ok(), "{good}");
        }
    }
}
