//! Certificate mechanics, pure: serials, times, names, key types and RSA
//! generation, validity periods, the certificate profiles and CRLs; with
//! them random ids and secrets (`random`) and the opaque library error (`backend`). Nothing
//! here touches the file system or the ledger.

mod authority;
mod backend;
pub(crate) mod crl;
pub mod custom;
mod der_build;
mod dn;
mod ext_order;
mod fermat_x8;
pub(crate) use ext_order::{NAMES as EXTENSION_NAMES, reorder as reorder_extensions};
mod keys;
pub mod ocsp;
pub(crate) mod pkcs12;
pub(crate) mod pkcs8;
mod prime;
mod probable_prime;
mod profile;
mod random;
mod rsa;
pub mod seeded;
mod validity;
mod x509;

pub use authority::{Authority, CA_MONTHS};
pub use backend::Backend;
pub use dn::{merged_subject, name_der, printable_where_it_fits};
pub use keys::KeyType;
pub use profile::{Host, Profile, Subject, certificate, subject_text};
pub use random::{random_hex, random_letters};
pub(crate) use rsa::openssl_rsa;
pub use validity::{OutOfRange, Validity};
pub use x509::{
    PKCS12_ITERATIONS, asn1_time, fingerprint, integer_u64, mongod_name, mongod_subject,
    pem_bundle, pkcs12_der, random_serial, serial_hex, serial_of, time_of,
};
