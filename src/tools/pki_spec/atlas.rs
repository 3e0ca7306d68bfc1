//! Atlas's own certificates in a `pki apply` file (`issuer = "atlas"`):
//! exactly what `certs create` issues, so a table takes nothing else.

use super::planned::{AtlasLeaf, Fail};
use super::raw::RawCert;
use crate::api::Error;
use crate::pki::KeyType;

/// The issuer that marks a certificate as Atlas's own.
pub(super) const ATLAS: &str = "atlas";

/// An Atlas certificate's table: `project`, `username`, `months` and `key`
/// only, since it is exactly what `certs create` issues. The table is
/// taken apart field by field, so a field added to [`RawCert`] does not
/// compile until this says whether Atlas's certificates may set it.
pub(super) fn atlas_leaf(c: &RawCert, fail: Fail<'_>) -> Result<AtlasLeaf, Error> {
    let RawCert {
        name,
        issuer: _,
        key,
        project,
        username,
        months,
        file,
        subject,
        explicit_subject,
        string_type,
        ca,
        pathlen,
        basic_constraints,
        basic_constraints_critical,
        key_usage,
        key_usage_critical,
        extended_key_usage,
        san,
        san_critical,
        subject_key_id,
        authority_key_id,
        authority_key_issuer,
        authority_key_hash,
        mongo_roles,
        cluster_membership,
        ocsp,
        must_staple,
        comment,
        extension_order,
        serial,
        not_before,
        not_after,
        files,
        key_password,
        key_encryption,
        key_prf,
        key_salt_bytes,
        key_format,
        key_first,
        pkcs12,
        public_key,
        append,
        append_after_key,
    } = c;
    let others = [
        ("file", file.is_some()),
        ("subject", subject.is_some()),
        ("explicit_subject", *explicit_subject),
        ("string_type", string_type.is_some()),
        ("ca", *ca),
        ("pathlen", pathlen.is_some()),
        ("basic_constraints", basic_constraints.is_some()),
        (
            "basic_constraints_critical",
            basic_constraints_critical.is_some(),
        ),
        ("key_usage", key_usage.is_some()),
        ("key_usage_critical", key_usage_critical.is_some()),
        ("extended_key_usage", extended_key_usage.is_some()),
        ("san", !san.is_empty()),
        ("san_critical", *san_critical),
        ("subject_key_id", subject_key_id.is_some()),
        ("authority_key_id", authority_key_id.is_some()),
        ("authority_key_issuer", *authority_key_issuer),
        ("authority_key_hash", *authority_key_hash),
        ("mongo_roles", !mongo_roles.is_empty()),
        ("cluster_membership", cluster_membership.is_some()),
        ("ocsp", !ocsp.is_empty()),
        ("must_staple", *must_staple),
        ("comment", comment.is_some()),
        ("extension_order", extension_order.is_some()),
        ("serial", serial.is_some()),
        ("not_before", not_before.is_some()),
        ("not_after", not_after.is_some()),
        ("files", files.is_some()),
        ("key_password", key_password.is_some()),
        ("key_encryption", key_encryption.is_some()),
        ("key_prf", key_prf.is_some()),
        ("key_salt_bytes", key_salt_bytes.is_some()),
        ("key_format", key_format.is_some()),
        ("key_first", *key_first),
        ("pkcs12", pkcs12.is_some()),
        ("public_key", *public_key),
        ("append", !append.is_empty()),
        ("append_after_key", *append_after_key),
    ];
    let at = name.span().start;
    if let Some((field, _)) = others.iter().find(|(_, set)| *set) {
        return Err(fail(
            at,
            format!(
                "an Atlas certificate (issuer = \"atlas\") is exactly what certs create issues: it takes project, username, months and key only, not {field}"
            ),
        ));
    }
    let (Some(project), Some(username)) = (project, username) else {
        return Err(fail(
            at,
            "an Atlas certificate needs project and username".into(),
        ));
    };
    // Atlas's key unless the table names one: the defaults' key is for the
    // test PKI's own certificates.
    let key_type = match key {
        None => KeyType::Rsa4096,
        Some(k) => k
            .get_ref()
            .parse::<KeyType>()
            .map_err(|e| fail(k.span().start, e.to_string()))?,
    };
    Ok(AtlasLeaf {
        name: name.get_ref().clone(),
        project: project.get_ref().clone(),
        username: username.get_ref().clone(),
        months: months.unwrap_or(crate::api::DEFAULT_MONTHS),
        key_type,
    })
}
