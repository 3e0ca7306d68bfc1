//! The `pki apply` file as TOML has it: every table and field, before
//! any check. Unknown fields are errors at their place.

use serde::Deserialize;
use toml::Spanned;

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    #[serde(default)]
    pub(super) defaults: RawDefaults,
    #[serde(default, rename = "cert")]
    pub(super) certs: Vec<RawCert>,
    #[serde(default, rename = "crl")]
    pub(super) crls: Vec<RawCrl>,
    #[serde(default, rename = "bundle")]
    pub(super) bundles: Vec<RawBundle>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBundle {
    pub(super) name: Spanned<String>,
    pub(super) file: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) certs: Vec<Spanned<String>>,
    pub(super) key: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) key_first: bool,
    pub(super) key_format: Option<Spanned<String>>,
    pub(super) key_password: Option<String>,
    pub(super) key_encryption: Option<Spanned<String>>,
    pub(super) key_prf: Option<Spanned<String>>,
    pub(super) key_salt_bytes: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCrl {
    pub(super) name: Spanned<String>,
    pub(super) file: Option<Spanned<String>>,
    pub(super) issuer: Spanned<String>,
    #[serde(default)]
    pub(super) revoked: Vec<Spanned<String>>,
    pub(super) this_update: Option<Spanned<String>>,
    pub(super) next_update: Option<Spanned<String>>,
    pub(super) crl_number: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDefaults {
    pub(super) seed: Option<Spanned<String>>,
    pub(super) now: Option<Spanned<String>>,
    pub(super) subject: Option<Spanned<String>>,
    pub(super) key: Option<Spanned<String>>,
    pub(super) not_before: Option<Spanned<String>>,
    pub(super) not_after: Option<Spanned<String>>,
    pub(super) string_type: Option<Spanned<String>>,
    pub(super) extension_order: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub(super) digests: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCert {
    pub(super) name: Spanned<String>,
    pub(super) file: Option<Spanned<String>>,
    pub(super) issuer: Spanned<String>,
    #[serde(default)]
    pub(super) subject: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) explicit_subject: bool,
    pub(super) string_type: Option<Spanned<String>>,
    pub(super) key: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) ca: bool,
    pub(super) pathlen: Option<u32>,
    pub(super) basic_constraints: Option<bool>,
    #[serde(default)]
    pub(super) basic_constraints_critical: Option<bool>,
    pub(super) key_usage: Option<Spanned<Vec<String>>>,
    pub(super) key_usage_critical: Option<bool>,
    pub(super) extended_key_usage: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub(super) san: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) san_critical: bool,
    pub(super) subject_key_id: Option<bool>,
    pub(super) authority_key_id: Option<bool>,
    #[serde(default)]
    pub(super) authority_key_issuer: bool,
    #[serde(default)]
    pub(super) authority_key_hash: bool,
    #[serde(default)]
    pub(super) mongo_roles: Vec<RawGrant>,
    pub(super) cluster_membership: Option<String>,
    #[serde(default)]
    pub(super) ocsp: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) must_staple: bool,
    pub(super) comment: Option<Spanned<String>>,
    pub(super) extension_order: Option<Spanned<Vec<String>>>,
    pub(super) serial: Option<u64>,
    pub(super) not_before: Option<Spanned<String>>,
    pub(super) not_after: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) files: Option<Spanned<String>>,
    pub(super) key_password: Option<String>,
    pub(super) key_encryption: Option<Spanned<String>>,
    pub(super) key_prf: Option<Spanned<String>>,
    pub(super) key_salt_bytes: Option<Spanned<u32>>,
    pub(super) key_format: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) key_first: bool,
    pub(super) pkcs12: Option<RawPkcs12>,
    #[serde(default)]
    pub(super) public_key: bool,
    #[serde(default)]
    pub(super) append: Vec<Spanned<String>>,
    #[serde(default)]
    pub(super) append_after_key: bool,
    pub(super) project: Option<Spanned<String>>,
    pub(super) username: Option<Spanned<String>>,
    pub(super) months: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGrant {
    pub(super) role: String,
    pub(super) db: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPkcs12 {
    pub(super) password: String,
    pub(super) friendly_name: Option<String>,
    pub(super) chain: Option<Vec<Spanned<String>>>,
    pub(super) iterations: Option<Spanned<u32>>,
}
