//! A certificate's extensions in an order its file names (`pki apply`'s
//! `extension_order`, as upstream's test files have them): the DER's
//! extensions are moved, the signed part signed again with the issuer's key
//! (ECDSA with RFC 6979 nonces, RSA PKCS#1 v1.5 and Ed25519 as they are:
//! every signature deterministic).

use openssl::hash::MessageDigest;
use openssl::pkey::{Id, PKeyRef, Private};
use openssl::sign::Signer;

use super::backend::Backend;
use super::der_build::{elements, header as element, tlv};
use super::seeded::ecdsa_sign;

/// The extensions an order may name, with their OIDs' DER bodies.
pub const NAMES: [(&str, &[u8]); 11] = [
    ("basicConstraints", &[0x55, 0x1d, 0x13]),
    ("keyUsage", &[0x55, 0x1d, 0x0f]),
    ("extendedKeyUsage", &[0x55, 0x1d, 0x25]),
    ("subjectAltName", &[0x55, 0x1d, 0x11]),
    ("subjectKeyIdentifier", &[0x55, 0x1d, 0x0e]),
    ("authorityKeyIdentifier", &[0x55, 0x1d, 0x23]),
    (
        "authorityInfoAccess",
        &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01],
    ),
    (
        "tlsFeature",
        &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x18],
    ),
    (
        "nsComment",
        &[0x60, 0x86, 0x48, 0x01, 0x86, 0xf8, 0x42, 0x01, 0x0d],
    ),
    (
        "mongoRoles",
        &[
            0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x8e, 0x29, 0x02, 0x01, 0x01,
        ],
    ),
    (
        "clusterMembership",
        &[
            0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x8e, 0x29, 0x02, 0x01, 0x02,
        ],
    ),
];

/// The certificate `der` with its extensions in `order` (names of
/// [`NAMES`]; the others after them, as they were), signed again by `key`.
pub fn reorder(der: &[u8], order: &[String], key: &PKeyRef<Private>) -> Result<Vec<u8>, Backend> {
    let malformed = || Backend::new(std::io::Error::other("not a certificate's DER"));
    let (h, _) = element(der).ok_or_else(malformed)?;
    let parts = elements(&der[h..]).ok_or_else(malformed)?;
    let [tbs, algorithm, _signature] = parts[..] else {
        return Err(malformed());
    };
    let (th, _) = element(tbs).ok_or_else(malformed)?;
    let fields = elements(&tbs[th..]).ok_or_else(malformed)?;
    let mut rebuilt = Vec::new();
    for field in fields {
        if field.first() != Some(&0xa3) {
            rebuilt.extend_from_slice(field);
            continue;
        }
        // [3] EXPLICIT SEQUENCE OF Extension.
        let (fh, _) = element(field).ok_or_else(malformed)?;
        let (sh, _) = element(&field[fh..]).ok_or_else(malformed)?;
        let mut extensions = elements(&field[fh + sh..]).ok_or_else(malformed)?;
        let rank = |ext: &[u8]| {
            let (eh, _) = element(ext)?;
            let (oh, ol) = element(&ext[eh..])?;
            let oid = &ext[eh + oh..eh + oh + ol];
            let name = NAMES.iter().find(|(_, body)| *body == oid)?.0;
            order.iter().position(|o| o == name)
        };
        extensions.sort_by_key(|e| rank(e).unwrap_or(usize::MAX));
        rebuilt.extend(tlv(0xa3, &tlv(0x30, &extensions.concat())));
    }
    let tbs = tlv(0x30, &rebuilt);
    let signature = match key.id() {
        Id::EC => ecdsa_sign(key, &tbs)?,
        Id::ED25519 | Id::ED448 => Signer::new_without_digest(key)?.sign_oneshot_to_vec(&tbs)?,
        _ => {
            let mut signer = Signer::new(MessageDigest::sha256(), key)?;
            signer.update(&tbs)?;
            signer.sign_to_vec()?
        }
    };
    let bits = [vec![0u8], signature].concat();
    Ok(tlv(
        0x30,
        &[tbs.as_slice(), algorithm, &tlv(0x03, &bits)].concat(),
    ))
}
