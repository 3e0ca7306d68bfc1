//! Subject key types: what atlas-ca can issue for, by name, and how a fresh
//! key of each type is made.

use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};

use super::rsa;

use crate::model::names::atlas_enum;

atlas_enum! {
    /// A subject key type. Atlas issues RSA-4096 only; the others are for
    /// fixtures and local set-ups (the CA still signs with RSA-4096/SHA-256).
    /// Names are read without regard to case.
    #[derive(Default)]
    #[non_exhaustive]
    pub enum KeyType("key type", Insensitive) {
        /// RSA, 2048-bit modulus.
        Rsa2048 = "rsa-2048", "RSA, 2048-bit modulus";
        /// RSA, 3072-bit modulus.
        Rsa3072 = "rsa-3072", "RSA, 3072-bit modulus";
        /// RSA, 4096-bit modulus: what Atlas issues.
        #[default]
        Rsa4096 = "rsa-4096", "RSA, 4096-bit modulus: what Atlas issues";
        /// ECDSA on NIST P-256.
        EcP256 = "ec-p256", "ECDSA on NIST P-256";
        /// ECDSA on NIST P-384.
        EcP384 = "ec-p384", "ECDSA on NIST P-384";
        /// Ed25519.
        Ed25519 = "ed25519", "Ed25519";
    }
}

impl KeyType {
    /// The RSA modulus size, for RSA types.
    pub fn rsa_bits(self) -> Option<u32> {
        match self {
            KeyType::Rsa2048 => Some(2048),
            KeyType::Rsa3072 => Some(3072),
            KeyType::Rsa4096 => Some(4096),
            KeyType::EcP256 | KeyType::EcP384 | KeyType::Ed25519 => None,
        }
    }

    /// The type of `key`, when it is one of these.
    pub fn of<T: openssl::pkey::HasPublic>(key: &openssl::pkey::PKeyRef<T>) -> Option<KeyType> {
        use openssl::pkey::Id;
        match key.id() {
            Id::RSA => KeyType::ALL
                .iter()
                .copied()
                .find(|t| t.rsa_bits() == Some(key.bits())),
            Id::EC => match key.ec_key().ok()?.group().curve_name()? {
                Nid::X9_62_PRIME256V1 => Some(KeyType::EcP256),
                Nid::SECP384R1 => Some(KeyType::EcP384),
                _ => None,
            },
            Id::ED25519 => Some(KeyType::Ed25519),
            _ => None,
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
            assert_eq!(KeyType::of(&key), Some(t), "{t:?}");
        }
    }

    #[test]
    fn names_round_trip() {
        for &t in KeyType::ALL {
            assert_eq!(t.name().parse::<KeyType>(), Ok(t));
        }
        assert_eq!("EC-P256".parse::<KeyType>(), Ok(KeyType::EcP256));
        assert!("rsa-1024".parse::<KeyType>().is_err());
    }
}
