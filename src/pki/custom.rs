//! Free-form certificates for test PKIs (`pki apply`): any subject, any
//! issuer, any set of the extensions MongoDB's test suites use, MongoDB's
//! own (`mongoRoles`, `mongoClusterMembership`), must-staple and OCSP
//! addresses included. Atlas's profile lives apart, in `profile`.

use std::net::IpAddr;

use der::{Encode, Sequence, ValueOrd};
use openssl::asn1::{Asn1Object, Asn1OctetString};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::pkey::{Id, PKey, PKeyRef, Private};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509, X509Builder, X509Extension, X509Name, X509NameRef, X509Ref};
use time::OffsetDateTime;
use x509_cert::der::asn1::{Ia5StringRef, SetOfVec, Utf8StringRef};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{AccessDescription, AuthorityInfoAccessSyntax};

use super::x509::{asn1_time, serial_integer};

/// MongoDB's roles extension (`mongoRoles`).
pub const MONGO_ROLES_OID: &str = "1.3.6.1.4.1.34601.2.1.1";
/// MongoDB's cluster-membership extension (`mongoClusterMembership`).
pub const MONGO_MEMBERSHIP_OID: &str = "1.3.6.1.4.1.34601.2.1.2";
/// The TLS feature extension, whose `status_request` is must-staple.
const TLS_FEATURE_OID: &str = "1.3.6.1.5.5.7.1.24";
/// Netscape's comment (`nsComment`).
const NS_COMMENT_OID: &str = "2.16.840.1.113730.1.13";
/// authorityKeyIdentifier.
const AKI_OID: &str = "2.5.29.35";
/// id-ad-ocsp, the access method of an OCSP address.
const OCSP_METHOD: x509_cert::der::oid::ObjectIdentifier =
    x509_cert::der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");

/// One entry of a subjectAltName.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AltName {
    /// A DNS name, any IA5 string (mongod's tests use ones no resolver
    /// accepts).
    Dns(String),
    /// An IPv4 or IPv6 address.
    Ip(IpAddr),
    /// An e-mail address.
    Email(String),
    /// A URI.
    Uri(String),
}

/// A MongoDB role grant, `role` on `db`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The role's name.
    pub role: String,
    /// The database it is granted on.
    pub db: String,
}

/// MongoDB's roles and cluster-membership extensions and OCSP addresses:
/// what a free-form certificate may carry, and what local deployments add
/// to Atlas's profile (`local-kit --roles-in-cert`, `--ocsp-url`). Empty by
/// default, and then nothing is added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extras {
    /// MongoDB's roles extension; empty leaves it out.
    pub mongo_roles: Vec<Grant>,
    /// MongoDB's cluster-membership extension.
    pub cluster_membership: Option<String>,
    /// authorityInfoAccess OCSP addresses (IA5: ASCII); empty leaves it out.
    pub ocsp: Vec<String>,
}

/// Longest OCSP address accepted.
const MAX_URL: usize = 2048;

/// An OCSP responder address as authorityInfoAccess holds it: `http://`
/// or `https://`, printable ASCII without spaces, at most 2048 bytes.
pub fn ocsp_url(s: &str) -> Result<String, String> {
    let scheme = s.starts_with("http://") || s.starts_with("https://");
    let printable = s.bytes().all(|b| b.is_ascii_graphic());
    if scheme && printable && s.len() <= MAX_URL && s.len() > "https://".len() {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?} is not an OCSP address: http:// or https://, printable ASCII, no spaces"
        ))
    }
}

/// Appends the extensions `extras` asks for.
pub(super) fn append_extras(b: &mut X509Builder, extras: &Extras) -> Result<(), ErrorStack> {
    if !extras.mongo_roles.is_empty() {
        b.append_extension(custom(MONGO_ROLES_OID, &roles_der(&extras.mongo_roles)?)?)?;
    }
    if let Some(cluster) = &extras.cluster_membership {
        b.append_extension(custom(MONGO_MEMBERSHIP_OID, &utf8_der(cluster)?)?)?;
    }
    if !extras.ocsp.is_empty() {
        b.append_extension(authority_info_access(&extras.ocsp)?)?;
    }
    Ok(())
}

/// Everything a free-form certificate says, resolved (no defaults left).
#[derive(Debug, Clone, Default)]
pub struct Spec {
    /// The subject's DER (an RDNSequence; empty for an empty subject).
    pub subject_der: Vec<u8>,
    /// The serial number.
    pub serial: u64,
    /// The validity, as given (it may lie in the past or the future).
    pub not_before: Option<OffsetDateTime>,
    /// End of the validity.
    pub not_after: Option<OffsetDateTime>,
    /// basicConstraints: `None` leaves it out; `Some(ca, pathlen, critical)`.
    pub basic_constraints: Option<(bool, Option<u32>, bool)>,
    /// keyUsage bits by name; `None` leaves it out.
    pub key_usage: Option<Vec<String>>,
    /// Whether keyUsage is critical.
    pub key_usage_critical: bool,
    /// extendedKeyUsage purposes by name; `None` leaves it out.
    pub extended_key_usage: Option<Vec<String>>,
    /// subjectAltName entries; empty leaves it out.
    pub alt_names: Vec<AltName>,
    /// Whether subjectAltName is critical.
    pub alt_names_critical: bool,
    /// subjectKeyIdentifier (hash of the key).
    pub subject_key_id: bool,
    /// authorityKeyIdentifier (the issuer's key id).
    pub authority_key_id: bool,
    /// authorityKeyIdentifier by the issuer's name and serial (as
    /// mongod's certs.yml asks with `issuer`).
    pub authority_key_issuer: bool,
    /// authorityKeyIdentifier by the hash of the issuer's public key alone
    /// (as mongod's current mkcert.py writes it), in place of the two
    /// above.
    pub authority_key_hash: bool,
    /// MongoDB's roles and cluster-membership extensions, OCSP addresses.
    pub extras: Extras,
    /// The must-staple TLS feature.
    pub must_staple: bool,
    /// nsComment.
    pub comment: Option<String>,
}

/// The key usage names `key_usage` accepts, as OpenSSL spells them.
pub const KEY_USAGES: [&str; 9] = [
    "digitalSignature",
    "nonRepudiation",
    "keyEncipherment",
    "dataEncipherment",
    "keyAgreement",
    "keyCertSign",
    "cRLSign",
    "encipherOnly",
    "decipherOnly",
];

/// The extended key usage names `extended_key_usage` accepts.
pub const EXTENDED_KEY_USAGES: [&str; 6] = [
    "serverAuth",
    "clientAuth",
    "codeSigning",
    "emailProtection",
    "timeStamping",
    "OCSPSigning",
];

/// Who signs: the issuer's name and key (the subject's own when
/// self-signed), and its certificate unless self-signed.
pub struct Issuer<'a> {
    /// The issuer's subject name.
    pub name: &'a X509NameRef,
    /// The key that signs.
    pub key: &'a PKeyRef<Private>,
    /// The issuer's certificate (for the authority key id), unless self-signed.
    pub cert: Option<&'a X509Ref>,
}

/// The certificate `spec` describes, for `key`, signed by `issuer`
/// (`None`: self-signed).
pub fn build(
    spec: &Spec,
    key: &PKey<Private>,
    issuer: Option<Issuer<'_>>,
) -> Result<X509, ErrorStack> {
    let subject = X509Name::from_der(&empty_or(&spec.subject_der))?;
    let mut b = X509::builder()?;
    b.set_version(2)?;
    let serial = serial_integer(spec.serial)?;
    b.set_serial_number(&serial)?;
    b.set_subject_name(&subject)?;
    let (issuer_name, signer, issuer_cert) = match &issuer {
        Some(i) => (i.name, i.key, i.cert),
        None => (subject.as_ref(), key.as_ref(), None),
    };
    b.set_issuer_name(issuer_name)?;
    if let Some(t) = spec.not_before {
        let t = asn1_time(t)?;
        b.set_not_before(&t)?;
    }
    if let Some(t) = spec.not_after {
        let t = asn1_time(t)?;
        b.set_not_after(&t)?;
    }
    b.set_pubkey(key)?;
    extensions(&mut b, spec, issuer_cert, signer)?;
    // Ed25519 signs without a separate digest.
    let digest = match signer.id() {
        Id::ED25519 | Id::ED448 => MessageDigest::null(),
        _ => MessageDigest::sha256(),
    };
    b.sign(signer, digest)?;
    Ok(b.build())
}

/// An empty subject's DER (an empty SEQUENCE) when `der` is empty.
/// `der`, or the DER of the empty name when it is empty (a table without
/// a subject).
pub fn empty_or(der: &[u8]) -> Vec<u8> {
    if der.is_empty() {
        vec![0x30, 0x00]
    } else {
        der.to_vec()
    }
}

fn extensions(
    b: &mut X509Builder,
    spec: &Spec,
    issuer: Option<&X509Ref>,
    signer: &PKeyRef<Private>,
) -> Result<(), ErrorStack> {
    if let Some((ca, pathlen, critical)) = spec.basic_constraints {
        let mut bc = BasicConstraints::new();
        if critical {
            bc.critical();
        }
        if ca {
            bc.ca();
        }
        if let Some(n) = pathlen {
            bc.pathlen(n);
        }
        b.append_extension(bc.build()?)?;
    }
    if let Some(usages) = &spec.key_usage {
        let mut ku = KeyUsage::new();
        if spec.key_usage_critical {
            ku.critical();
        }
        for usage in usages {
            match usage.as_str() {
                "digitalSignature" => ku.digital_signature(),
                "nonRepudiation" => ku.non_repudiation(),
                "keyEncipherment" => ku.key_encipherment(),
                "dataEncipherment" => ku.data_encipherment(),
                "keyAgreement" => ku.key_agreement(),
                "keyCertSign" => ku.key_cert_sign(),
                "cRLSign" => ku.crl_sign(),
                "encipherOnly" => ku.encipher_only(),
                _ => ku.decipher_only(),
            };
        }
        b.append_extension(ku.build()?)?;
    }
    if let Some(purposes) = &spec.extended_key_usage {
        let mut eku = ExtendedKeyUsage::new();
        for purpose in purposes {
            match purpose.as_str() {
                "serverAuth" => eku.server_auth(),
                "clientAuth" => eku.client_auth(),
                "codeSigning" => eku.code_signing(),
                "emailProtection" => eku.email_protection(),
                "timeStamping" => eku.time_stamping(),
                _ => eku.other("OCSPSigning"),
            };
        }
        b.append_extension(eku.build()?)?;
    }
    if !spec.alt_names.is_empty() {
        let mut san = SubjectAlternativeName::new();
        if spec.alt_names_critical {
            san.critical();
        }
        for name in &spec.alt_names {
            match name {
                AltName::Dns(d) => san.dns(d),
                AltName::Ip(ip) => san.ip(&ip.to_string()),
                AltName::Email(e) => san.email(e),
                AltName::Uri(u) => san.uri(u),
            };
        }
        let ext = san.build(&b.x509v3_context(issuer, None))?;
        b.append_extension(ext)?;
    }
    if spec.subject_key_id {
        let ext = SubjectKeyIdentifier::new().build(&b.x509v3_context(issuer, None))?;
        b.append_extension(ext)?;
    }
    if spec.authority_key_hash {
        b.append_extension(key_id_by_hash(signer)?)?;
    }
    // The issuer's key id, when it has one: an issuer without a subject
    // key identifier (as drivers-evergreen-tools' CA) gives none.
    let keyid = spec.authority_key_id
        && !spec.authority_key_hash
        && issuer.is_some_and(|c| c.subject_key_id().is_some());
    let by_issuer = spec.authority_key_issuer && !spec.authority_key_hash && issuer.is_some();
    if keyid || by_issuer {
        let mut aki = AuthorityKeyIdentifier::new();
        if keyid {
            aki.keyid(true);
        }
        if by_issuer {
            aki.issuer(true);
        }
        let ext = aki.build(&b.x509v3_context(issuer, None))?;
        b.append_extension(ext)?;
    }
    append_extras(b, &spec.extras)?;
    if spec.must_staple {
        // TLSFeature ::= SEQUENCE OF INTEGER { status_request (5) }.
        b.append_extension(custom(TLS_FEATURE_OID, &[0x30, 0x03, 0x02, 0x01, 0x05])?)?;
    }
    if let Some(comment) = &spec.comment {
        let der = Ia5StringRef::new(comment)
            .and_then(|s| s.to_der())
            .map_err(der_error)?;
        b.append_extension(custom(NS_COMMENT_OID, &der)?)?;
    }
    Ok(())
}

/// An authorityKeyIdentifier holding only the key id of `signer`'s public
/// key: SHA-1 of its subjectPublicKey (RFC 5280 4.2.1.2's first method),
/// whether or not the issuer's certificate carries that id.
fn key_id_by_hash(signer: &PKeyRef<Private>) -> Result<X509Extension, ErrorStack> {
    use x509_cert::der::Decode;
    let spki = signer.public_key_to_der()?;
    let info = x509_cert::spki::SubjectPublicKeyInfoRef::from_der(&spki).map_err(der_error)?;
    let id = openssl::sha::sha1(info.subject_public_key.raw_bytes());
    let aki = x509_cert::ext::pkix::AuthorityKeyIdentifier {
        key_identifier: Some(x509_cert::der::asn1::OctetString::new(id).map_err(der_error)?),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    };
    custom(AKI_OID, &aki.to_der().map_err(der_error)?)
}

/// A non-critical extension `oid` whose value is `der`.
fn custom(oid: &str, der: &[u8]) -> Result<X509Extension, ErrorStack> {
    let oid = Asn1Object::from_str(oid)?;
    let value = Asn1OctetString::new_from_bytes(der)?;
    X509Extension::new_from_der(&oid, false, &value)
}

/// MongoDB's `MongoDBRole ::= SEQUENCE { role UTF8String, database UTF8String }`.
#[derive(Sequence, ValueOrd)]
struct Role<'a> {
    role: Utf8StringRef<'a>,
    database: Utf8StringRef<'a>,
}

/// `SET OF MongoDBRole`, in DER's order.
fn roles_der(grants: &[Grant]) -> Result<Vec<u8>, ErrorStack> {
    let mut set = SetOfVec::new();
    for g in grants {
        let role = Role {
            role: Utf8StringRef::new(&g.role).map_err(der_error)?,
            database: Utf8StringRef::new(&g.db).map_err(der_error)?,
        };
        set.insert(role).map_err(der_error)?;
    }
    set.to_der().map_err(der_error)
}

fn utf8_der(s: &str) -> Result<Vec<u8>, ErrorStack> {
    Utf8StringRef::new(s)
        .and_then(|u| u.to_der())
        .map_err(der_error)
}

/// authorityInfoAccess with one OCSP access description per URL.
fn authority_info_access(urls: &[String]) -> Result<X509Extension, ErrorStack> {
    let mut descriptions = Vec::new();
    for url in urls {
        let uri = x509_cert::der::asn1::Ia5String::new(url).map_err(der_error)?;
        descriptions.push(AccessDescription {
            access_method: OCSP_METHOD,
            access_location: GeneralName::UniformResourceIdentifier(uri),
        });
    }
    let der = AuthorityInfoAccessSyntax(descriptions)
        .to_der()
        .map_err(der_error)?;
    let oid = Asn1Object::from_str("1.3.6.1.5.5.7.1.1")?;
    let value = Asn1OctetString::new_from_bytes(&der)?;
    X509Extension::new_from_der(&oid, false, &value)
}

/// A DER encoding failure. The spec layer only lets through strings the
/// types hold (UTF-8 anywhere, ASCII for IA5), so none is expected; OpenSSL's
/// error stack (empty) stands for it.
fn der_error(_: der::Error) -> ErrorStack {
    ErrorStack::get()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mongo_roles_are_mongods_own_encoding() {
        let der = roles_der(&[
            Grant {
                role: "readAnyDatabase".into(),
                db: "admin".into(),
            },
            Grant {
                role: "backup".into(),
                db: "admin".into(),
            },
        ])
        .unwrap();
        // mongod's jstests/libs/client_roles.pem carries exactly this value.
        let mut expected = vec![0x31, 0x2B, 0x30, 0x0F, 0x0C, 0x06];
        expected.extend(b"backup");
        expected.extend([0x0C, 0x05]);
        expected.extend(b"admin");
        expected.extend([0x30, 0x18, 0x0C, 0x0F]);
        expected.extend(b"readAnyDatabase");
        expected.extend([0x0C, 0x05]);
        expected.extend(b"admin");
        assert_eq!(der, expected);
        assert_eq!(utf8_der("foo").unwrap(), [0x0C, 0x03, b'f', b'o', b'o']);
    }
}
