//! PKCS#12 (RFC 7292) with every salt and IV given, for seeded test PKIs:
//! OpenSSL's builder draws its own, so the file is assembled here as
//! OpenSSL 3 lays it out (certificates in an encrypted SafeContents, the
//! key in a shrouded key bag, PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC,
//! an HMAC-SHA256 MAC), with OpenSSL deriving keys and encrypting.

use openssl::hash::{MessageDigest, hash};
use openssl::pkey::{PKey, PKeyRef, Private};
use openssl::sign::Signer;
use openssl::x509::{X509, X509Ref};
use pkcs8::der::Encode;

use super::backend::Backend;
use super::der_build::{integer, octets, oid, seq, tlv};
use super::pkcs8::{Aes, seal};
use super::seeded::Stream;
use super::x509::PKCS12_ITERATIONS;

const DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
const ENCRYPTED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x06];
const SHROUDED_KEY_BAG: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x02,
];
const CERT_BAG: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x03,
];
const X509_CERTIFICATE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x16, 0x01];
const FRIENDLY_NAME: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x14];
const LOCAL_KEY_ID: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x15];
const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];

/// `[0] EXPLICIT` around `inner`.
fn explicit0(inner: &[u8]) -> Vec<u8> {
    tlv(0xa0, inner)
}

/// A ContentInfo of type data holding `content`.
fn data_info(content: &[u8]) -> Vec<u8> {
    seq(&[&oid(DATA), &explicit0(&octets(content))])
}

/// The leaf's bag attributes: its friendly name, if any, and its local key
/// id (the SHA-1 of the certificate, as OpenSSL sets it).
fn attributes(cert: &X509Ref, name: Option<&str>) -> Result<Vec<u8>, Backend> {
    let id = cert.digest(MessageDigest::sha1())?;
    let mut set = Vec::new();
    if let Some(name) = name {
        let bmp: Vec<u8> = name.encode_utf16().flat_map(u16::to_be_bytes).collect();
        set.push(seq(&[&oid(FRIENDLY_NAME), &tlv(0x31, &tlv(0x1e, &bmp))]));
    }
    set.push(seq(&[&oid(LOCAL_KEY_ID), &tlv(0x31, &octets(&id))]));
    // DER orders a SET OF by the elements' encodings, the shorter padded
    // with zeros at their end.
    set.sort_by(|a, b| {
        let n = a.len().max(b.len());
        let pad = |v: &Vec<u8>| {
            v.iter()
                .copied()
                .chain(std::iter::repeat(0))
                .take(n)
                .collect::<Vec<u8>>()
        };
        pad(a).cmp(&pad(b))
    });
    Ok(tlv(0x31, &set.concat()))
}

/// RFC 7292 B.2's key derivation with SHA-256 (u = 32, v = 64) for `id`
/// (3: the MAC key), over the password as a BMPString with its two zero
/// bytes.
fn kdf(password: &str, salt: &[u8], id: u8, iterations: u32) -> Result<Vec<u8>, Backend> {
    const U: usize = 32;
    const V: usize = 64;
    let mut pass: Vec<u8> = password.encode_utf16().flat_map(u16::to_be_bytes).collect();
    pass.extend([0, 0]);
    let fill = |x: &[u8]| -> Vec<u8> {
        if x.is_empty() {
            return Vec::new();
        }
        let len = V * x.len().div_ceil(V);
        x.iter().copied().cycle().take(len).collect()
    };
    // One block of U bytes is the whole 32-byte MAC key, so I (salt then
    // password, each repeated to a multiple of V) is hashed once, with no
    // further block to update it for.
    let i = [fill(salt), fill(&pass)].concat();
    let mut a = [vec![id; V], i].concat();
    for _ in 0..iterations {
        a = hash(MessageDigest::sha256(), &a)?.to_vec();
    }
    Ok(a[..U].to_vec())
}

/// The PKCS#12 DER of `key`, its certificate `cert` (named `name`) and the
/// `chain` after it, under `password` (PBKDF2 with `iterations` rounds,
/// the MAC with [`PKCS12_ITERATIONS`]), every salt and IV from `stream`.
pub fn pkcs12_der_seeded(
    key: &PKeyRef<Private>,
    cert: &X509Ref,
    chain: &[X509],
    name: Option<&str>,
    password: &str,
    iterations: u32,
    stream: &mut Stream,
) -> Result<Vec<u8>, Backend> {
    let attrs = attributes(cert, name)?;
    let mut bags = Vec::new();
    for (i, c) in std::iter::once(cert)
        .chain(chain.iter().map(|c| &**c))
        .enumerate()
    {
        let value = seq(&[&oid(X509_CERTIFICATE), &explicit0(&octets(&c.to_der()?))]);
        let bag_attrs: &[u8] = if i == 0 { &attrs } else { &[] };
        bags.push(seq(&[&oid(CERT_BAG), &explicit0(&value), bag_attrs]));
    }
    let certs_plain = seq(&bags.iter().map(Vec::as_slice).collect::<Vec<_>>());
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    stream.fill(&mut salt)?;
    stream.fill(&mut iv)?;
    let sealed = seal(
        &certs_plain,
        password.as_bytes(),
        iterations,
        &salt,
        iv,
        Aes::Aes256,
    )?;
    let algorithm = sealed.encryption_algorithm.to_der()?;
    let encrypted_content = seq(&[
        &oid(DATA),
        &algorithm,
        &tlv(0x80, sealed.encrypted_data.as_bytes()),
    ]);
    let encrypted_data = seq(&[&integer(0), &encrypted_content]);
    let certs_info = seq(&[&oid(ENCRYPTED_DATA), &explicit0(&encrypted_data)]);

    stream.fill(&mut salt)?;
    stream.fill(&mut iv)?;
    let pkcs8 = PKey::private_key_from_der(&key.private_key_to_der()?)?.private_key_to_pkcs8()?;
    let shrouded = seal(
        &pkcs8,
        password.as_bytes(),
        iterations,
        &salt,
        iv,
        Aes::Aes256,
    )?
    .to_der()?;
    let key_bag = seq(&[&oid(SHROUDED_KEY_BAG), &explicit0(&shrouded), &attrs]);
    let key_info = data_info(&seq(&[&key_bag]));

    let auth_safe = seq(&[&certs_info, &key_info]);
    let mut mac_salt = [0u8; 8];
    stream.fill(&mut mac_salt)?;
    let mac_key = kdf(password, &mac_salt, 3, PKCS12_ITERATIONS)?;
    let hmac = PKey::hmac(&mac_key)?;
    let mut signer = Signer::new(MessageDigest::sha256(), &hmac)?;
    signer.update(&auth_safe)?;
    let mac = signer.sign_to_vec()?;
    let digest_info = seq(&[&seq(&[&oid(SHA256), &[0x05, 0x00]]), &octets(&mac)]);
    let mac_iterations = integer(u64::from(PKCS12_ITERATIONS));
    let mac_data = seq(&[&digest_info, &octets(&mac_salt), &mac_iterations]);
    Ok(seq(&[&integer(3), &data_info(&auth_safe), &mac_data]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::KeyType;
    use crate::pki::seeded::Seed;

    /// An EC key and a self-signed certificate for it (`CN=p12`, a day).
    fn key_and_cert() -> (PKey<Private>, X509) {
        let key = KeyType::EcP256.generate().unwrap();
        let mut name = openssl::x509::X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "p12").unwrap();
        let name = name.build();
        let mut b = X509::builder().unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&openssl::asn1::Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&openssl::asn1::Asn1Time::days_from_now(1).unwrap())
            .unwrap();
        b.sign(&key, MessageDigest::sha256()).unwrap();
        (key, b.build())
    }

    #[test]
    fn openssl_reads_it_and_it_is_the_same_each_time() {
        let (key, cert) = key_and_cert();
        let seed = Seed::new("p12").unwrap();
        let make = || {
            let mut stream = seed.stream("t", "pkcs12").unwrap();
            pkcs12_der_seeded(
                &key,
                &cert,
                std::slice::from_ref(&cert),
                Some("alice"),
                "pw",
                PKCS12_ITERATIONS,
                &mut stream,
            )
            .unwrap()
        };
        let der = make();
        assert_eq!(der, make());
        let parsed = openssl::pkcs12::Pkcs12::from_der(&der)
            .unwrap()
            .parse2("pw")
            .unwrap();
        assert!(parsed.pkey.unwrap().public_eq(&key));
        assert_eq!(
            parsed.cert.unwrap().to_der().unwrap(),
            cert.to_der().unwrap()
        );
        assert_eq!(parsed.ca.unwrap().len(), 1);
        assert!(
            openssl::pkcs12::Pkcs12::from_der(&der)
                .unwrap()
                .parse2("wrong")
                .is_err()
        );
    }

    #[test]
    fn bag_attributes_are_in_der_set_order() {
        let (_, cert) = key_and_cert();
        let position = |haystack: &[u8], needle: &[u8]| {
            haystack
                .windows(needle.len())
                .position(|w| w == needle)
                .unwrap()
        };
        // A short name encodes shorter than the key id: it comes first; a
        // long one after it.
        for (friendly, name_first) in [("ab", true), ("a friendly name of some length", false)] {
            let set = attributes(&cert, Some(friendly)).unwrap();
            let at_name = position(&set, FRIENDLY_NAME);
            let at_id = position(&set, LOCAL_KEY_ID);
            assert_eq!(at_name < at_id, name_first, "{friendly}");
        }
    }
}
