//! Storage: the home's layout, the registry, the project CA files, the
//! ledger and atomic private files. It knows certificates only through
//! [`crate::pki`], and projects, users and credentials through
//! [`crate::model`].

pub(crate) mod ca;
pub(crate) mod files;
mod home;
pub(crate) mod ledger;
mod ledger_rows;
mod notes;
pub(crate) mod registry;
pub(crate) mod registry_edit;

pub use ca::{CaError, KeyFile, Passphrase};
pub use files::Refusal;
pub use home::{Home, default_root_why};
pub use ledger::{CertRecord, Holder, LedgerError};
pub use notes::{Note, Notes};
pub use registry::{Registry, RegistryError};
