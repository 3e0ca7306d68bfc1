//! Customer-managed X.509: the project's own CAs, stored beside its
//! atlas-ca CA as one PEM file.

use std::fs;
use std::path::Path;

use openssl::x509::X509;

use super::error::{CaError, crypto, io};
use super::layout::{dir, remove_beside, write_beside};

/// File name of the customer CAs (customer-managed X.509) in the project
/// directory.
const CUSTOMER_CAS_FILE: &str = "customer-cas.pem";

/// The project's customer CAs (PEM), if any are stored.
pub fn read_customer_cas(home: &Path, project_id: &str) -> Result<Option<String>, CaError> {
    let path = dir(home, project_id).join(CUSTOMER_CAS_FILE);
    match fs::read_to_string(&path) {
        Ok(pem) => Ok(Some(pem)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("cannot read", &path)(e)),
    }
}

/// The project's customer CAs as certificates (none when there are none).
pub fn customer_cas(home: &Path, project_id: &str) -> Result<Vec<X509>, CaError> {
    let Some(pem) = read_customer_cas(home, project_id)? else {
        return Ok(Vec::new());
    };
    X509::stack_from_pem(pem.as_bytes()).map_err(crypto(format!(
        "the customer CAs of project {project_id} are not PEM certificates"
    )))
}

/// Stores the project's customer CAs (0644, atomically).
pub fn write_customer_cas(home: &Path, project_id: &str, pem: &[u8]) -> Result<(), CaError> {
    write_beside(home, project_id, CUSTOMER_CAS_FILE, pem)
}

/// Removes the project's customer CAs, if stored.
pub fn remove_customer_cas(home: &Path, project_id: &str) -> Result<(), CaError> {
    remove_beside(home, project_id, CUSTOMER_CAS_FILE)
}
