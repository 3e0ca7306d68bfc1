//! X.509 building blocks shared by every certificate and CRL: serial
//! numbers, times, names, fingerprints, the PEM body, and the opaque error
//! of the libraries underneath.

use openssl::asn1::{Asn1Integer, Asn1Time, Asn1Type};
use openssl::bn::BigNum;
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::{X509, X509Name, X509NameBuilder};
use time::OffsetDateTime;

/// A failure of a library underneath (OpenSSL, SQLite, DER encoding), kept
/// opaque so that the crate's errors expose no other crate's types. Its
/// message is the library's own.
#[derive(Debug)]
pub struct Backend(Box<dyn std::error::Error + Send + Sync>);

impl Backend {
    /// Wraps a library's error.
    pub(crate) fn new(e: impl std::error::Error + Send + Sync + 'static) -> Backend {
        Backend(Box::new(e))
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Backend {}

impl From<ErrorStack> for Backend {
    fn from(e: ErrorStack) -> Backend {
        Backend::new(e)
    }
}

/// Longest username (in characters) accepted as a certificate subject.
pub const MAX_USERNAME_CHARS: usize = 1024;

/// A random serial number as Atlas makes them: positive, 63 bits, always
/// eight content bytes in DER (so at least 2^55).
pub fn random_serial() -> Result<u64, ErrorStack> {
    loop {
        let mut bytes = [0u8; 8];
        openssl::rand::rand_bytes(&mut bytes)?;
        let serial = u64::from_be_bytes(bytes) & (u64::MAX >> 1);
        if serial >= 1 << 55 {
            return Ok(serial);
        }
    }
}

/// `bytes` random bytes as lowercase hex (ids, secrets).
pub fn random_hex(bytes: usize) -> Result<String, ErrorStack> {
    let mut buf = vec![0u8; bytes];
    openssl::rand::rand_bytes(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// `n` random lowercase ASCII letters, uniformly drawn.
pub fn random_letters(n: usize) -> Result<String, ErrorStack> {
    let mut out = String::with_capacity(n);
    while out.len() < n {
        let mut b = [0u8; 1];
        openssl::rand::rand_bytes(&mut b)?;
        // 234 = 9 * 26: rejecting the rest keeps every letter equally likely.
        if b[0] < 234 {
            out.push(char::from(b'a' + b[0] % 26));
        }
    }
    Ok(out)
}

/// `serial` as an ASN.1 INTEGER.
pub(crate) fn serial_integer(serial: u64) -> Result<Asn1Integer, ErrorStack> {
    BigNum::from_slice(&serial.to_be_bytes())?.to_asn1_integer()
}

/// The certificate's serial number, if it fits 64 bits.
pub fn serial_of(cert: &X509) -> Option<u64> {
    let bytes = cert.serial_number().to_bn().ok()?.to_vec();
    (bytes.len() <= 8).then(|| bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// `t` as an ASN.1 time (UTCTime up to 2049, GeneralizedTime after).
pub fn asn1_time(t: OffsetDateTime) -> Result<Asn1Time, ErrorStack> {
    // Years are limited to 1950..=9999 by `Validity`, so this fits time_t.
    Asn1Time::from_unix(t.unix_timestamp())
}

/// Lowercase hex SHA-256 of the certificate's DER.
pub fn fingerprint(cert: &X509) -> Result<String, ErrorStack> {
    let digest = cert.digest(MessageDigest::sha256())?;
    Ok(digest.iter().map(|b| format!("{b:02x}")).collect())
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

/// True when `username` can be a managed X.509 subject: not empty, at most
/// [`MAX_USERNAME_CHARS`], and nothing that does not show as itself:
/// control, format, separator-line/paragraph, private-use, surrogate and
/// unassigned code points (general categories Cc, Cf, Zl, Zp, Co, Cs, Cn),
/// variation selectors and the other default-ignorable code points.
pub fn is_valid_username(username: &str) -> bool {
    !username.is_empty()
        && !username.chars().any(is_hidden)
        && username.chars().count() <= MAX_USERNAME_CHARS
}

/// Whether `c` would not show as itself in a name: see [`is_valid_username`].
pub fn is_hidden(c: char) -> bool {
    use unicode_properties::{GeneralCategory as G, UnicodeGeneralCategory};
    matches!(
        c.general_category(),
        G::Control
            | G::Format
            | G::LineSeparator
            | G::ParagraphSeparator
            | G::PrivateUse
            | G::Surrogate
            | G::Unassigned
    ) || is_default_ignorable(c)
}

/// Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt),
/// which includes the variation selectors.
fn is_default_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

/// `s` with every character that would not show as itself written as
/// `\u{..}`, so that user-supplied text cannot steer a terminal or hide in
/// a log.
pub fn escape_hidden(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_hidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_rules() {
        assert!(is_valid_username("a,b"));
        assert!(!is_valid_username(""));
        assert!(!is_valid_username("a\0b"));
        assert!(!is_valid_username("a\nb"));
        assert!(!is_valid_username("a\u{202e}b"));
        assert!(!is_valid_username("a\u{200b}b"));
        assert!(is_valid_username("ａｌｉｃｅ"));
        assert!(is_valid_username(&"x".repeat(MAX_USERNAME_CHARS)));
        assert!(!is_valid_username(&"x".repeat(MAX_USERNAME_CHARS + 1)));
    }

    #[test]
    fn every_hidden_character_is_refused() {
        let listed = [
            '\u{00AD}',
            '\u{061C}',
            '\u{180E}',
            '\u{206A}',
            '\u{FFF9}',
            '\u{2028}',
            '\u{2029}',
            '\u{034F}',
            '\u{17B4}',
            '\u{E0041}',
            '\u{FE0F}',
            '\u{E000}',
            '\u{0378}',
            '\u{1b}',
        ];
        for c in listed {
            assert!(
                !is_valid_username(&format!("a{c}b")),
                "U+{:04X}",
                u32::from(c)
            );
            assert!(
                !is_valid_username(&c.to_string()),
                "U+{:04X} alone",
                u32::from(c)
            );
        }
        assert!(is_valid_username("zoë ñandú 日本"));
    }

    #[test]
    fn hidden_characters_are_escaped() {
        assert_eq!(
            escape_hidden("a\u{1b}[31mb\u{202e}c"),
            "a\\u{1b}[31mb\\u{202e}c"
        );
        assert_eq!(escape_hidden("zoë"), "zoë");
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
    fn serials_are_63_bit_with_eight_bytes() {
        for _ in 0..64 {
            let s = random_serial().unwrap();
            assert!((1 << 55..1 << 63).contains(&s), "{s}");
        }
    }
}
