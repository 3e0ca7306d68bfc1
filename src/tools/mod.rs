//! What test environments need beyond Atlas, built on the API model: the
//! local TLS kit, batch fixtures, whole test PKIs from one file
//! (`pki apply`) and bundle verification.

pub(crate) mod fixtures;
pub(crate) mod kit;
pub(crate) mod mongod_check;
mod names;
pub(crate) mod ocsp_dir;
mod outputs;
mod pem_dir;
pub(crate) mod pki_against;
pub mod pki_apply;
mod pki_keys;
mod pki_make;
mod pki_renew;
pub(crate) mod pki_spec;
pub(crate) mod pki_status;
pub(crate) mod verify;
