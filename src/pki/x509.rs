//! X.509 building blocks shared by every certificate and CRL: serial
//! numbers, times, names, fingerprints and the PEM body.

use openssl::asn1::{Asn1Integer, Asn1IntegerRef, Asn1Time, Asn1TimeRef, Asn1Type};
use openssl::bn::BigNum;
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, PKeyRef, Private};
use openssl::x509::{X509, X509Name, X509NameBuilder, X509Ref};
use time::OffsetDateTime;

use super::backend::Backend;

/// A random serial number as Atlas makes them: uniform over the positive
/// 63-bit integers (so about one in 256 has seven DER content bytes or
/// fewer, as real Atlas certificates do), never 0.
pub fn random_serial() -> Result<u64, ErrorStack> {
    loop {
        let mut bytes = [0u8; 8];
        openssl::rand::rand_bytes(&mut bytes)?;
        let serial = u64::from_be_bytes(bytes) & (u64::MAX >> 1);
        if serial != 0 {
            return Ok(serial);
        }
    }
}

/// `serial` as an ASN.1 INTEGER.
pub(crate) fn serial_integer(serial: u64) -> Result<Asn1Integer, ErrorStack> {
    BigNum::from_slice(&serial.to_be_bytes())?.to_asn1_integer()
}

/// The certificate's serial number, if it fits 64 bits.
pub fn serial_of(cert: &X509Ref) -> Option<u64> {
    integer_u64(cert.serial_number())
}

/// An ASN.1 INTEGER (a serial) as a `u64`, if it is not negative and fits.
pub fn integer_u64(i: &Asn1IntegerRef) -> Option<u64> {
    let n = i.to_bn().ok()?;
    let bytes = n.to_vec();
    (!n.is_negative() && bytes.len() <= 8)
        .then(|| bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// An ASN.1 time as an instant.
pub fn time_of(t: &Asn1TimeRef) -> Option<OffsetDateTime> {
    let diff = Asn1Time::from_unix(0).ok()?.diff(t).ok()?;
    OffsetDateTime::from_unix_timestamp(i64::from(diff.days) * 86_400 + i64::from(diff.secs)).ok()
}

/// `t` as an ASN.1 time (UTCTime up to 2049, GeneralizedTime after).
pub fn asn1_time(t: OffsetDateTime) -> Result<Asn1Time, ErrorStack> {
    // Years are limited to 1950..=9999 by `Validity`, so this fits time_t.
    Asn1Time::from_unix(t.unix_timestamp())
}

/// Lowercase hex SHA-256 of the certificate's DER.
pub fn fingerprint(cert: &X509) -> Result<String, ErrorStack> {
    let digest = cert.digest(MessageDigest::sha256())?;
    Ok(crate::model::hex(&digest))
}

/// The Atlas response body: certificate PEM then PKCS#8 key PEM, LF line
/// endings, one trailing newline, no blank line between.
pub fn pem_bundle(cert: &X509, key: &PKey<Private>) -> Result<String, ErrorStack> {
    let mut pem = cert.to_pem()?;
    pem.extend(key.private_key_to_pem_pkcs8()?);
    // OpenSSL's PEM writer emits ASCII only.
    Ok(String::from_utf8_lossy(&pem).into_owned())
}

/// True when every character fits ASN.1 PrintableString.
pub(crate) fn is_printable(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || " '()+,-./:=?".contains(c))
}

/// A name of `entries` in order, each a PrintableString where it can be
/// and a UTF8String otherwise (as Atlas's Java stack does).
pub(crate) fn name(entries: &[(Nid, &str)]) -> Result<X509Name, ErrorStack> {
    let mut b = X509NameBuilder::new()?;
    for (nid, value) in entries {
        let kind = if is_printable(value) {
            Asn1Type::PRINTABLESTRING
        } else {
            Asn1Type::UTF8STRING
        };
        b.append_entry_by_nid_with_type(*nid, value, kind)?;
    }
    Ok(b.build())
}

/// The subject `CN=<cn>` in RFC 2253 form, escaped as OpenSSL (and so
/// MongoDB, which derives the X.509 user name with OpenSSL) prints it.
pub fn rfc2253_subject(cn: &str) -> String {
    let mut out = String::with_capacity(cn.len() + 4);
    out.push_str("CN=");
    let last = cn.chars().count().saturating_sub(1);
    for (i, c) in cn.chars().enumerate() {
        let edge_space = c == ' ' && (i == 0 || i == last);
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || edge_space
            || (i == 0 && c == '#')
        {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// OpenSSL's `PKCS12_DEFAULT_ITER`: PBKDF2's rounds in a PKCS#12 file
/// unless a pki file asks for others, and always its MAC's.
pub const PKCS12_ITERATIONS: u32 = 2048;

/// A PKCS#12 file (OpenSSL's defaults: PBES2 with AES-256 and a SHA-256
/// MAC, which Java 11+ and .NET read) of `key`, `cert` and `chain`, under
/// `password`, with the friendly name `name`; PBKDF2 runs `iterations`
/// rounds for the key and the certificates, the MAC
/// [`PKCS12_ITERATIONS`].
pub fn pkcs12_der(
    key: &PKeyRef<Private>,
    cert: &X509Ref,
    chain: &[X509],
    name: Option<&str>,
    password: &str,
    iterations: u32,
) -> Result<Vec<u8>, ErrorStack> {
    let mut stack = openssl::stack::Stack::new()?;
    for c in chain {
        stack.push(c.clone())?;
    }
    let mut builder = openssl::pkcs12::Pkcs12::builder();
    builder
        .pkey(key)
        .cert(cert)
        .ca(stack)
        .key_iter(iterations)
        .mac_iter(PKCS12_ITERATIONS);
    if let Some(name) = name {
        builder.name(name);
    }
    builder.build2(password)?.to_der()
}

/// The user name mongod derives from the subject `CN=<cn>`, by mongod's
/// own RFC 2253 rules (`escapeRfc2253` in its `ssl_manager.cpp`): a
/// leading space or `#` and any of `,+"\<>;` get a backslash, every byte
/// from 0x80 up is written `\XX`, and a trailing space gets a backslash
/// when the escaped value is longer than two bytes (so `a ` stays as it
/// is, where OpenSSL's `-nameopt RFC2253` prints `a\ `).
pub fn mongod_subject(cn: &str) -> String {
    format!("CN={}", mongod_value(cn))
}

/// One attribute value escaped by mongod's rules ([`mongod_subject`]),
/// byte by byte: every byte from 0x80 up is `\XX`, whatever encoding the
/// value's bytes are in.
fn mongod_value(text: &str) -> String {
    mongod_bytes(text.as_bytes())
}

fn mongod_bytes(bytes: &[u8]) -> String {
    let mut value = String::new();
    let mut start = 0;
    if let Some(&first @ (b' ' | b'#')) = bytes.first() {
        value.push('\\');
        value.push(char::from(first));
        start = 1;
    }
    for &b in &bytes[start..] {
        if b.is_ascii() {
            if matches!(b, b',' | b'+' | b'"' | b'\\' | b'<' | b'>' | b';') {
                value.push('\\');
            }
            value.push(char::from(b));
        } else {
            value.push_str(&format!("\\{b:02X}"));
        }
    }
    if value.len() > 2 && value.ends_with(' ') {
        value.pop();
        value.push_str("\\ ");
    }
    value
}

/// The `$external` user name mongod derives from a whole subject (`der`,
/// a DER Name): RFC 2253, the most specific RDN first, a multi-valued
/// RDN's values joined by `+` in reverse (mongod walks OpenSSL's entries
/// from the last), OpenSSL's short attribute names (the dotted OID for one
/// it has no name for), each value's bytes escaped by mongod's rules
/// (mongod versions that apply NFKC to the value first may differ for
/// names that NFKC changes).
pub fn mongod_name(der: &[u8]) -> Result<String, Backend> {
    use x509_cert::der::{Decode, Tag, Tagged};
    let name = x509_cert::name::Name::from_der(der)?;
    let all: Vec<_> = name.iter_rdn().collect();
    let mut rdns = Vec::new();
    for rdn in all.into_iter().rev() {
        let mut avas = Vec::new();
        for ava in rdn.iter().collect::<Vec<_>>().into_iter().rev() {
            let dotted = ava.oid.to_string();
            let short = openssl::asn1::Asn1Object::from_str(&dotted)
                .ok()
                .and_then(|o| o.nid().short_name().ok().map(String::from))
                .filter(|n| !n.is_empty() && *n != "UNDEF")
                .unwrap_or(dotted);
            let value = match ava.value.tag() {
                Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::TeletexString => {
                    mongod_bytes(ava.value.value())
                }
                // Anything else as RFC 2253 writes it: `#` and its DER in hex.
                _ => format!(
                    "#{}",
                    crate::model::hex(&x509_cert::der::Encode::to_der(&ava.value)?)
                ),
            };
            avas.push(format!("{short}={value}"));
        }
        rdns.push(avas.join("+"));
    }
    Ok(rdns.join(","))
}

/// `serial` in lowercase hex with an even number of digits.
pub fn serial_hex(serial: u64) -> String {
    let hex = format!("{serial:x}");
    if hex.len() % 2 == 1 {
        format!("0{hex}")
    } else {
        hex
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_hex_is_what_openssl_prints() {
        assert_eq!(serial_hex(1 << 55), "80000000000000");
        assert_eq!(serial_hex((1 << 56) + 1), "0100000000000001");
        assert_eq!(serial_hex((1 << 63) - 1), "7fffffffffffffff");
    }

    #[test]
    fn mongod_escapes_every_high_byte() {
        assert_eq!(
            mongod_subject("Калоян"),
            "CN=\\D0\\9A\\D0\\B0\\D0\\BB\\D0\\BE\\D1\\8F\\D0\\BD"
        );
        assert_eq!(mongod_subject("a,é "), "CN=a\\,\\C3\\A9\\ ");
        assert_eq!(mongod_subject("# x "), "CN=\\# x\\ ");
        assert_eq!(mongod_subject(" "), "CN=\\ ");
        // mongod's quirk: a two-byte value keeps its trailing space bare.
        assert_eq!(mongod_subject("a "), "CN=a ");
    }

    #[test]
    fn whole_names_as_mongod_derives_them() {
        let mut b = openssl::x509::X509NameBuilder::new().unwrap();
        b.append_entry_by_text("C", "US").unwrap();
        b.append_entry_by_text("O", "MongoDB").unwrap();
        b.append_entry_by_text("OU", "Kernel").unwrap();
        b.append_entry_by_text("CN", "Zoë, Jr").unwrap();
        let der = b.build().to_der().unwrap();
        assert_eq!(
            mongod_name(&der).unwrap(),
            "CN=Zo\\C3\\AB\\, Jr,OU=Kernel,O=MongoDB,C=US"
        );
        // A multi-valued RDN as OpenSSL's RFC 2253 printing (and mongod)
        // gives it: its values from the last.
        let der = crate::pki::name_der("CN=alice+UID=b,O=x").unwrap();
        // OpenSSL's own RFC 2253 printing, which mongod's derivation follows.
        let cert_name = openssl::x509::X509Name::from_der(&der).unwrap();
        let stored: Vec<String> = cert_name
            .entries()
            .map(|e| e.data().as_slice().iter().map(|&b| char::from(b)).collect())
            .collect();
        assert_eq!(stored, ["x", "alice", "b"], "UID is stored after CN");
        assert_eq!(mongod_name(&der).unwrap(), "UID=b+CN=alice,O=x");
    }

    #[test]
    fn escapes_like_openssl_rfc2253() {
        assert_eq!(rfc2253_subject("alice"), "CN=alice");
        assert_eq!(rfc2253_subject("a,b+c=d"), "CN=a\\,b\\+c=d");
        assert_eq!(rfc2253_subject("#x# "), "CN=\\#x#\\ ");
        assert_eq!(rfc2253_subject(" a b"), "CN=\\ a b");
        assert_eq!(rfc2253_subject("q\"<>;\\"), "CN=q\\\"\\<\\>\\;\\\\");
        assert_eq!(rfc2253_subject("zoë"), "CN=zoë");
    }

    #[test]
    fn printable_string_charset() {
        assert!(is_printable("user389 (a'b)+,-./:=?"));
        assert!(!is_printable("a@b"));
        assert!(!is_printable("a_b"));
        assert!(!is_printable("zoë"));
    }

    #[test]
    fn serials_are_uniform_positive_63_bit() {
        let serials: Vec<u64> = (0..4096).map(|_| random_serial().unwrap()).collect();
        assert!(serials.iter().all(|s| (1..1 << 63).contains(s)));
        // About 16 of 4,096 are below 2^55 (seven bytes or fewer); none
        // would happen by chance about once in ten million runs.
        assert!(serials.iter().any(|s| *s < 1 << 55));
        assert!(serials.iter().any(|s| *s >= 1 << 62));
    }
}
