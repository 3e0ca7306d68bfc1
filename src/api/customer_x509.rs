//! Customer-managed X.509 (Atlas's "self-managed" mode): the project trusts
//! the customer's own CAs, and Atlas-managed certificates are refused
//! (`CANNOT_GENERATE_CERT_IF_ADVANCED_X509`) while it is on. The CAs live in
//! the project's directory (`customer-cas.pem`); the registry's
//! `selfManagedX509` is the switch.

use openssl::asn1::Asn1Time;
use openssl::x509::X509;
use serde::Serialize;
use time::OffsetDateTime;
use x509_cert::der::Decode;
use x509_cert::ext::pkix::BasicConstraints;

use super::atlas_error::{ApiError, ErrorCode};
use super::error::Error;
use super::ldap::LdapSettings;
use super::manage::locate;
use super::project_state;
use super::request::SecurityPatch;
use crate::pki::asn1_time;
use crate::store::{Home, ca};

/// `GET /groups/{id}/userSecurity`, the parts that apply.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSecurity {
    customer_x509: CustomerX509,
    ldap: LdapSettings,
}

/// `customerX509`: `{}` when off, the CAs' PEM when on.
#[derive(Debug, Clone, Serialize)]
struct CustomerX509 {
    #[serde(skip_serializing_if = "Option::is_none")]
    cas: Option<String>,
}

impl UserSecurity {
    /// The customer CAs' PEM, when the mode is on.
    pub fn cas(&self) -> Option<&str> {
        self.customer_x509.cas.as_deref()
    }
}

/// The project's user security settings.
pub fn user_security(home: &Home, group_id: &str) -> Result<UserSecurity, Error> {
    let registry = home.registry()?;
    let project = super::users::project(&registry, group_id)?;
    let cas = if project.self_managed_x509 {
        ca::read_customer_cas(home.root(), &project.id)?
    } else {
        None
    };
    let ldap = project_state::load(home, group_id)?.ldap;
    Ok(UserSecurity {
        customer_x509: CustomerX509 { cas },
        ldap,
    })
}

/// `PATCH /groups/{id}/userSecurity`: the LDAP settings are checked first,
/// then the customer CAs (if given) switch customer X.509 on, then the
/// LDAP settings are stored; a refused body changes nothing.
pub fn patch(home: &Home, group_id: &str, patch: SecurityPatch) -> Result<UserSecurity, Error> {
    if let Some(ldap) = &patch.ldap {
        project_state::load(home, group_id)?
            .ldap
            .patch(ldap.clone())?;
    }
    if let Some(pem) = &patch.cas {
        enable(home, group_id, pem)?;
    }
    if let Some(ldap) = patch.ldap {
        project_state::update(home, group_id, |state| state.ldap.patch(ldap))?;
    }
    user_security(home, group_id)
}

/// `DELETE /groups/{id}/userSecurity/ldap/userToDNMapping`: 202.
pub fn clear_dn_mapping(home: &Home, group_id: &str) -> Result<UserSecurity, Error> {
    project_state::update(home, group_id, |state| {
        state.ldap.clear_mapping();
        Ok(())
    })?;
    user_security(home, group_id)
}

/// Turns customer X.509 on with the CAs in `pem`: every PEM block must be
/// a certificate with basicConstraints CA, valid now; otherwise nothing
/// changes. The CA file is read only while the registry's switch is on,
/// so it is written first: with the switch already on, its one atomic
/// rename is the whole change; with it off, a failed switch removes the
/// file again. All under the registry's lock.
pub fn enable(home: &Home, group_id: &str, pem: &str) -> Result<UserSecurity, Error> {
    let now = asn1_time(OffsetDateTime::now_utc())?;
    check_cas(pem, &now)?;
    let mut edit = home.edit_registry()?;
    let (index, project) = locate(&edit, group_id)?;
    ca::write_customer_cas(home.root(), &project.id, pem.as_bytes())?;
    if !project.self_managed_x509 {
        let switched = edit
            .set_self_managed_x509(index, true)
            .and_then(|()| edit.commit());
        if let Err(e) = switched {
            // The switch is still off, so the file is unused either way.
            let _ = ca::remove_customer_cas(home.root(), &project.id);
            return Err(e.into());
        }
    } else {
        drop(edit);
    }
    user_security(home, group_id)
}

/// Turns customer X.509 off: the switch first (the CA file is then
/// unused), then the file, still under the registry's lock so that a
/// concurrent `enable` cannot land in between.
pub fn disable(home: &Home, group_id: &str) -> Result<UserSecurity, Error> {
    let mut edit = home.edit_registry()?;
    let (index, project) = locate(&edit, group_id)?;
    edit.set_self_managed_x509(index, false)?;
    let (_, lock) = edit.commit_holding_lock()?;
    ca::remove_customer_cas(home.root(), &project.id)?;
    drop(lock);
    user_security(home, group_id)
}

/// Every PEM block of `pem` is a CA certificate valid at `now`, and there
/// is one at least.
fn check_cas(pem: &str, now: &Asn1Time) -> Result<(), ApiError> {
    let refuse = |why: &str| ApiError::new(ErrorCode::InvalidCustomerCa, &[why]);
    let blocks = pem.matches("-----BEGIN ").count();
    let certs = X509::stack_from_pem(pem.as_bytes())
        .map_err(|_| refuse("a PEM block is not a certificate"))?;
    if certs.is_empty() {
        return Err(refuse("no certificate in the PEM"));
    }
    if certs.len() != blocks {
        return Err(refuse("a PEM block is not a certificate"));
    }
    for cert in &certs {
        if !is_ca(cert) {
            return Err(refuse(
                "a certificate is not a CA (basicConstraints CA:TRUE)",
            ));
        }
        if cert.not_before() > now.as_ref() {
            return Err(refuse("a certificate is not valid yet (notBefore)"));
        }
        if cert.not_after() <= now.as_ref() {
            return Err(refuse("a certificate has expired (notAfter)"));
        }
    }
    Ok(())
}

/// Whether `cert` says it is a CA in its basicConstraints.
pub(crate) fn is_ca(cert: &X509) -> bool {
    let Ok(der) = cert.to_der() else {
        return false;
    };
    let Ok(parsed) = x509_cert::Certificate::from_der(&der) else {
        return false;
    };
    parsed
        .tbs_certificate()
        .get_extension::<BasicConstraints>()
        .ok()
        .flatten()
        .is_some_and(|(_, bc)| bc.ca)
}
