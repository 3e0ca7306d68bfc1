//! The certificate profiles: what goes into a certificate, field by field.
//!
//! - `atlas` (the default) is exactly what Atlas issues to a database user:
//!   v3, random positive 63-bit serial, sha256WithRSAEncryption, issuer
//!   copied from the CA, subject a single `CN=<username>` (PrintableString
//!   where it can be), and exactly keyUsage (critical, digitalSignature) then
//!   extendedKeyUsage (critical, clientAuth).
//! - `strict` adds subjectKeyIdentifier and authorityKeyIdentifier, which
//!   RFC 5280 asks for and strict verifiers and linters check.
//! - Server certificates (not an Atlas thing) carry the hosts as
//!   subjectAltNames, serverAuth + clientAuth, and a subject whose O and OU
//!   no client certificate has, so MongoDB never takes a user for a member.

use std::net::IpAddr;

use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509, X509Builder};

use super::authority::Authority;
use super::custom::{Extras, append_extras};
use super::validity::Validity;
use super::x509::{asn1_time, name, rfc2253_subject, serial_integer};
use crate::model::names::atlas_enum;

atlas_enum! {
    /// Which extensions a client certificate carries (names read without
    /// regard to case).
    #[derive(Default)]
    #[non_exhaustive]
    pub enum Profile("profile", Insensitive) {
        /// Exactly what Atlas issues.
        #[default]
        Atlas = "atlas", "exactly what Atlas issues";
        /// Atlas's profile plus subject and authority key identifiers (RFC 5280).
        Strict = "strict", "Atlas's profile plus subject and authority key identifiers (RFC 5280)";
    }
}

/// Organizational unit of server certificates (client certificates have none).
const SERVER_OU: &str = "Atlas Local Servers";
/// Organization of server certificates.
const SERVER_O: &str = "atlas-ca";

/// A host a server certificate is for: a DNS name or an IP address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Host {
    /// A DNS name (`localhost`, `db.example.test`, `*.example.test`).
    Dns(String),
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
}

impl Host {
    /// Parses a host name or address; names must be ASCII letters, digits,
    /// hyphens and dots, with an optional leading `*.` wildcard label over
    /// at least two labels. A name that resolvers could read as a number
    /// (`127.1`, `0x7f.0.0.1`, `999.1.1.1`: its last label all digits, or
    /// hex) is refused: its SAN would never match the address meant.
    pub fn parse(s: &str) -> Result<Host, String> {
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Host::Ip(ip));
        }
        let name = s.strip_prefix("*.").unwrap_or(s);
        let last = name.rsplit('.').next().unwrap_or("");
        let numeric = !last.is_empty()
            && (last.bytes().all(|b| b.is_ascii_digit())
                || last
                    .strip_prefix("0x")
                    .or_else(|| last.strip_prefix("0X"))
                    .is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit())));
        if numeric {
            return Err(format!(
                "{s:?} reads as a number to resolvers but is no IP address; write the address itself"
            ));
        }
        if s.starts_with("*.") && !name.contains('.') {
            return Err(format!(
                "{s:?}: a wildcard covers one label under a name of two or more (*.example.test)"
            ));
        }
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if s.len() <= 253 && name.split('.').all(label_ok) {
            Ok(Host::Dns(s.to_ascii_lowercase()))
        } else {
            Err(format!(
                "{s:?} is neither an IP address nor a valid DNS name"
            ))
        }
    }
}

impl std::fmt::Display for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Host::Dns(name) => f.write_str(name),
            Host::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// Who a certificate is for.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// A database user's client certificate, `CN=<username>`.
    Client(&'a str),
    /// A server certificate for these hosts (at least one).
    Server(&'a [Host]),
}

/// The subject as the ledger and the list report it (RFC 2253).
pub fn subject_text(subject: Subject<'_>) -> String {
    match subject {
        Subject::Client(cn) => rfc2253_subject(cn),
        Subject::Server(hosts) => format!(
            "O={SERVER_O},OU={SERVER_OU},{}",
            rfc2253_subject(&first_host(hosts))
        ),
    }
}

fn first_host(hosts: &[Host]) -> String {
    hosts.first().map(Host::to_string).unwrap_or_default()
}

/// Builds and signs a certificate for `subject` with `key`, in `profile`.
pub fn certificate(
    ca: &Authority,
    key: &PKey<Private>,
    subject: Subject<'_>,
    validity: &Validity,
    serial: u64,
    profile: Profile,
    extras: &Extras,
) -> Result<X509, ErrorStack> {
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let serial = serial_integer(serial)?;
    b.set_serial_number(&serial)?;
    b.set_issuer_name(ca.name())?;
    let (not_before, not_after) = (
        asn1_time(validity.not_before)?,
        asn1_time(validity.not_after)?,
    );
    b.set_not_before(&not_before)?;
    b.set_not_after(&not_after)?;
    match subject {
        Subject::Client(cn) => client_extensions(&mut b, ca, key, cn, profile)?,
        Subject::Server(hosts) => server_extensions(&mut b, ca, key, hosts)?,
    }
    append_extras(&mut b, extras)?;
    b.sign(ca.key(), MessageDigest::sha256())?;
    Ok(b.build())
}

/// `CN=<cn>`, then exactly Atlas's two extensions (plus the key
/// identifiers in the strict profile).
fn client_extensions(
    b: &mut X509Builder,
    ca: &Authority,
    key: &PKey<Private>,
    cn: &str,
    profile: Profile,
) -> Result<(), ErrorStack> {
    let subject = name(&[(Nid::COMMONNAME, cn)])?;
    b.set_subject_name(&subject)?;
    b.set_pubkey(key)?;
    b.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
    b.append_extension(ExtendedKeyUsage::new().critical().client_auth().build()?)?;
    if profile == Profile::Strict {
        key_identifiers(b, ca)?;
    }
    Ok(())
}

/// The server subject, then basicConstraints, keyUsage, serverAuth and
/// clientAuth, the hosts as subjectAltNames and the key identifiers.
fn server_extensions(
    b: &mut X509Builder,
    ca: &Authority,
    key: &PKey<Private>,
    hosts: &[Host],
) -> Result<(), ErrorStack> {
    let cn = first_host(hosts);
    let subject = name(&[
        (Nid::COMMONNAME, &cn),
        (Nid::ORGANIZATIONALUNITNAME, SERVER_OU),
        (Nid::ORGANIZATIONNAME, SERVER_O),
    ])?;
    b.set_subject_name(&subject)?;
    b.set_pubkey(key)?;
    b.append_extension(BasicConstraints::new().critical().build()?)?;
    let mut usage = KeyUsage::new();
    usage.critical().digital_signature();
    if key.id() == Id::RSA {
        usage.key_encipherment();
    }
    b.append_extension(usage.build()?)?;
    let eku = ExtendedKeyUsage::new()
        .server_auth()
        .client_auth()
        .build()?;
    b.append_extension(eku)?;
    let mut san = SubjectAlternativeName::new();
    for host in hosts {
        match host {
            Host::Dns(d) => san.dns(d),
            Host::Ip(ip) => san.ip(&ip.to_string()),
        };
    }
    let san = san.build(&b.x509v3_context(Some(ca.cert()), None))?;
    b.append_extension(san)?;
    key_identifiers(b, ca)
}

fn key_identifiers(b: &mut X509Builder, ca: &Authority) -> Result<(), ErrorStack> {
    let ski = SubjectKeyIdentifier::new().build(&b.x509v3_context(Some(ca.cert()), None))?;
    b.append_extension(ski)?;
    let aki = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&b.x509v3_context(Some(ca.cert()), None))?;
    b.append_extension(aki)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_round_trip() {
        for &p in Profile::ALL {
            assert_eq!(p.name().parse::<Profile>(), Ok(p));
        }
        assert!("lax".parse::<Profile>().is_err());
    }

    #[test]
    fn hosts() {
        assert_eq!(
            Host::parse("127.0.0.1"),
            Ok(Host::Ip("127.0.0.1".parse().unwrap()))
        );
        assert_eq!(Host::parse("::1"), Ok(Host::Ip("::1".parse().unwrap())));
        assert_eq!(
            Host::parse("DB.Example.test"),
            Ok(Host::Dns("db.example.test".into()))
        );
        assert_eq!(
            Host::parse("*.example.test"),
            Ok(Host::Dns("*.example.test".into()))
        );
        for bad in [
            "",
            "a..b",
            "-a.b",
            "a b",
            "a/b",
            "*",
            "x.*.y",
            "é.test",
            "127.1",
            "0177.0.0.1",
            "0x7f.0.0.1",
            "999.999.999.999",
            "1",
            "*.com",
        ] {
            assert!(Host::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn server_subject_text() {
        let hosts = [Host::parse("db.test").unwrap()];
        assert_eq!(
            subject_text(Subject::Server(&hosts)),
            "O=atlas-ca,OU=Atlas Local Servers,CN=db.test"
        );
    }
}
