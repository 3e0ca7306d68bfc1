//! What test environments need beyond Atlas, built on the API model: the
//! local TLS kit, batch fixtures and bundle verification.

pub(crate) mod fixtures;
pub(crate) mod kit;
mod kit_files;
mod names;
mod outputs;
pub(crate) mod verify;
