//! What planning a `pki apply` file yields: the certificates, Atlas's,
//! the CRLs and the bundles, resolved; the steps share these types.

use time::OffsetDateTime;

use crate::api::Error;
use crate::model::names::atlas_enum;
use crate::pki::KeyType;
use crate::pki::custom::Spec;
use crate::pki::seeded::Seed;
use crate::tools::pki_keys::KeyForm;

/// Reports a problem at a byte offset of the file.
pub(super) type Fail<'a> = &'a dyn Fn(usize, String) -> Error;

/// A certificate exactly as `certs create` issues it (`issuer = "atlas"`):
/// signed by the project's CA and recorded in its ledger.
#[derive(Debug)]
pub(crate) struct AtlasLeaf {
    /// `<name>.pem`: Atlas's body, certificate then key.
    pub(crate) name: String,
    pub(crate) project: String,
    pub(crate) username: String,
    /// monthsUntilExpiration (Atlas's default 3).
    pub(crate) months: i64,
    /// Atlas's RSA-4096 unless the table says otherwise.
    pub(crate) key_type: KeyType,
}

/// The whole plan: certificates (issuers first), Atlas's certificates, CRLs
/// and bundles.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) certs: Vec<Planned>,
    pub(crate) atlas: Vec<AtlasLeaf>,
    pub(crate) crls: Vec<PlannedCrl>,
    pub(crate) bundles: Vec<PlannedBundle>,
    /// The seed every random choice comes from, when the file has one.
    pub(crate) seed: Option<Seed>,
    /// The time relative dates count from.
    pub(crate) now: OffsetDateTime,
    /// Whether `now` is fixed by the file or the command line (else it is
    /// the clock's).
    pub(crate) now_fixed: bool,
    /// Whether mongod's digest files are written (`[defaults] digests`).
    pub(crate) digests: bool,
}

impl Plan {
    /// The files that get `.digest.sha1` and `.digest.sha256` beside them
    /// (none unless the file asks): every `.pem` holding a certificate or
    /// a CRL, as mongod's `mkcert.py` digests every entry it writes.
    pub(crate) fn digested(&self) -> Vec<String> {
        if !self.digests {
            return Vec::new();
        }
        let certs = self
            .certs
            .iter()
            .filter(|p| matches!(p.files, Files::Pem | Files::PemAndSplit | Files::CertOnly))
            .map(|p| format!("{}.pem", p.file));
        let crls = self.crls.iter().map(|c| format!("{}.pem", c.file));
        let bundles = self
            .bundles
            .iter()
            .filter(|b| !b.certs.is_empty())
            .map(|b| format!("{}.pem", b.file));
        certs.chain(crls).chain(bundles).collect()
    }

    /// The digest files' own names.
    pub(crate) fn digest_names(&self) -> Vec<String> {
        self.digested()
            .iter()
            .flat_map(|f| [format!("{f}.digest.sha1"), format!("{f}.digest.sha256")])
            .collect()
    }
}

/// One bundle of the plan: `<file>.pem` holding the named certificates,
/// in order, and one certificate's key before or after them.
#[derive(Debug)]
pub(crate) struct PlannedBundle {
    /// The base of its file name, relative to the output directory.
    pub(crate) file: String,
    pub(crate) certs: Vec<usize>,
    /// The certificate whose key the file holds, and how.
    pub(crate) key: Option<(usize, KeyForm)>,
}

/// One CRL of the plan, resolved.
#[derive(Debug)]
pub(crate) struct PlannedCrl {
    /// Its name.
    pub(crate) name: String,
    /// The base of its file name (`<file>.pem`).
    pub(crate) file: String,
    /// The index of its issuer among the planned certificates.
    pub(crate) issuer: usize,
    /// The indexes of the certificates it revokes.
    pub(crate) revoked: Vec<usize>,
    pub(crate) this_update: OffsetDateTime,
    pub(crate) next_update: OffsetDateTime,
    /// Whether it carries a CRL number (`crl_number`, default true).
    pub(crate) numbered: bool,
}

atlas_enum! {
    /// How a certificate's files are laid out (a table's `files`).
    pub(crate) enum Files("files", Exact) {
        /// `<name>.pem`: the certificate (and appended ones), then the key.
        Pem = "pem", "the certificate (and appended ones), then the key";
        /// `<name>.crt` and `<name>.key`.
        Split = "split", "<name>.crt and <name>.key";
        /// `<name>.pem` as [`Files::Pem`], and `<name>.crt` and `<name>.key`
        /// too (as certs.yml's `keyfile`/`crtfile` beside the PEM).
        PemAndSplit = "pem+split", "pem, and split beside it";
        /// `<name>.pem` with the certificate only; the key is not written.
        CertOnly = "cert-only", "the certificate only";
        /// No file of its own: its certificate and key go into bundles.
        None = "none", "no file of its own (bundles hold it)";
    }
}

/// A certificate's PKCS#12 file (`<name>.pfx`).
#[derive(Debug)]
pub(crate) struct PlannedPkcs12 {
    pub(crate) password: String,
    pub(crate) friendly_name: Option<String>,
    /// Indexes of the certificates after the leaf (`chain`, else the
    /// table's `append`).
    pub(crate) chain: Vec<usize>,
    /// PBKDF2's rounds for the key and the certificates (`iterations`).
    pub(crate) iterations: u32,
}

/// One certificate of the plan, resolved.
#[derive(Debug)]
pub(crate) struct Planned {
    /// Its name: how others name it.
    pub(crate) name: String,
    /// The base of its file names, relative to the output directory (its
    /// name unless the table says `file`).
    pub(crate) file: String,
    /// The index of its issuer among the planned ones; `None`: self-signed.
    pub(crate) issuer: Option<usize>,
    pub(crate) key_type: KeyType,
    /// The index of the planned certificate whose key it shares (its
    /// table's `key` names that table); `None`: a key of its own.
    pub(crate) key_from: Option<usize>,
    pub(crate) spec: Spec,
    pub(crate) files: Files,
    /// How its own files hold the key.
    pub(crate) key_form: KeyForm,
    /// A PKCS#12 file.
    pub(crate) pkcs12: Option<PlannedPkcs12>,
    /// `<name>-public.pem` with the public key.
    pub(crate) public_key: bool,
    /// Indexes of the certificates appended after it in its PEM file.
    pub(crate) append: Vec<usize>,
    /// The appended certificates after the key rather than before it (as
    /// mkcert.py's `append_cert` writes them).
    pub(crate) append_after_key: bool,
    /// The order of its extensions, when the table gives one.
    pub(crate) extension_order: Vec<String>,
}
