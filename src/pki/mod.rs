//! Certificate mechanics, pure: serials, times, names, key types and RSA
//! generation, validity periods, the certificate profiles and CRLs. Nothing
//! here touches the file system or the ledger.

mod authority;
pub(crate) mod crl;
mod keys;
mod pkcs8;
mod profile;
mod rsa;
mod validity;
mod x509;

pub use authority::{Authority, CA_MONTHS};
pub use keys::{KeyType, UnknownKeyType};
pub use profile::{Host, Profile, Subject, UnknownProfile, certificate, subject_text};
pub use validity::{OutOfRange, Validity};
pub use x509::{
    Backend, asn1_time, escape_hidden, fingerprint, is_valid_username, pem_bundle, random_hex,
    random_letters, random_serial, rfc2253_subject, serial_of,
};
