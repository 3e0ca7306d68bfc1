//! Subject key types: what atlas-ca can issue for, by name, and how a fresh
//! key of each type is made.

use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};

use super::rsa;

/// A subject key type. Atlas issues RSA-4096 only; the others are for
/// fixtures and local set-ups (the CA still signs with RSA-4096/SHA-256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KeyType {
    /// RSA, 2048-bit modulus.
    Rsa2048,
    /// RSA, 3072-bit modulus.
    Rsa3072,
    /// RSA, 4096-bit modulus: what Atlas issues.
    #[default]
    Rsa4096,
    /// ECDSA on NIST P-256.
    EcP256,
    /// ECDSA on NIST P-384.
    EcP384,
    /// Ed25519.
    Ed25519,
}

/// A key type name that [`KeyType`] does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown key type {0:?}")]
pub struct UnknownKeyType(pub String);

impl KeyType {
    /// Every key type, in the order help texts list them.
    pub const ALL: [KeyType; 6] = [
        KeyType::Rsa2048,
        KeyType::Rsa3072,
        KeyType::Rsa4096,
        KeyType::EcP256,
        KeyType::EcP384,
        KeyType::Ed25519,
    ];

    /// The type's name, as `--key-type` and the documentation spell it.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::Rsa2048 => "rsa-2048",
            KeyType::Rsa3072 => "rsa-3072",
            KeyType::Rsa4096 => "rsa-4096",
            KeyType::EcP256 => "ec-p256",
            KeyType::EcP384 => "ec-p384",
            KeyType::Ed25519 => "ed25519",
        }
    }

    /// One line on what the type is.
    pub fn about(self) -> &'static str {
        match self {
            KeyType::Rsa2048 => "RSA, 2048-bit modulus",
            KeyType::Rsa3072 => "RSA, 3072-bit modulus",
            KeyType::Rsa4096 => "RSA, 4096-bit modulus: what Atlas issues",
            KeyType::EcP256 => "ECDSA on NIST P-256",
            KeyType::EcP384 => "ECDSA on NIST P-384",
            KeyType::Ed25519 => "Ed25519",
        }
    }

    /// The RSA modulus size, for RSA types.
    pub fn rsa_bits(self) -> Option<u32> {
        match self {
            KeyType::Rsa2048 => Some(2048),
            KeyType::Rsa3072 => Some(3072),
            KeyType::Rsa4096 => Some(4096),
            KeyType::EcP256 | KeyType::EcP384 | KeyType::Ed25519 => None,
        }
    }

    /// A fresh key of this type; RSA uses the current rayon pool's threads
    /// (see `rsa::generate`).
    pub(crate) fn generate(self) -> Result<PKey<Private>, ErrorStack> {
        let rsa = |bits| PKey::from_rsa(rsa::generate(bits)?);
        let ec = |nid| {
            let group = EcGroup::from_curve_name(nid)?;
            PKey::from_ec_key(EcKey::generate(&group)?)
        };
        match self {
            KeyType::Rsa2048 => rsa(2048),
            KeyType::Rsa3072 => rsa(3072),
            KeyType::Rsa4096 => rsa(4096),
            KeyType::EcP256 => ec(Nid::X9_62_PRIME256V1),
            KeyType::EcP384 => ec(Nid::SECP384R1),
            KeyType::Ed25519 => PKey::generate_ed25519(),
        }
    }
}

/// The one of `all` whose `name` is `s`, ignoring ASCII case.
pub(super) fn by_name<T: Copy, const N: usize>(
    all: [T; N],
    name: fn(T) -> &'static str,
    s: &str,
) -> Option<T> {
    all.into_iter().find(|t| name(*t).eq_ignore_ascii_case(s))
}

impl std::fmt::Display for KeyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for KeyType {
    type Err = UnknownKeyType;

    fn from_str(s: &str) -> Result<KeyType, UnknownKeyType> {
        by_name(KeyType::ALL, KeyType::name, s).ok_or_else(|| UnknownKeyType(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::pkey::Id;

    #[test]
    fn every_type_generates_its_kind() {
        for (t, id, bits) in [
            (KeyType::Rsa2048, Id::RSA, 2048),
            (KeyType::EcP256, Id::EC, 256),
            (KeyType::EcP384, Id::EC, 384),
            (KeyType::Ed25519, Id::ED25519, 256),
        ] {
            let key = t.generate().unwrap();
            assert_eq!((key.id(), key.bits()), (id, bits), "{t:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        for t in KeyType::ALL {
            assert_eq!(t.name().parse::<KeyType>(), Ok(t));
        }
        assert_eq!("EC-P256".parse::<KeyType>(), Ok(KeyType::EcP256));
        assert!("rsa-1024".parse::<KeyType>().is_err());
    }
}
