//! OCSP (RFC 6960) mechanics: reading a request's certificate ids and
//! signing the answer, with OpenSSL's own OCSP functions (the `openssl`
//! crate parses requests and wraps responses; the few functions it lacks
//! are declared here). Which certificate is good or revoked is the
//! caller's to say.

use std::os::raw::{c_int, c_ulong};
use std::ptr;

use foreign_types::{ForeignType, ForeignTypeRef};
use openssl::asn1::{Asn1IntegerRef, Asn1ObjectRef, Asn1OctetStringRef, Asn1Time};
use openssl::error::ErrorStack;
use openssl::hash::{MessageDigest, hash};
use openssl::ocsp::{OcspBasicResponse, OcspRequest, OcspResponse, OcspResponseStatus};
use openssl::pkey::{PKeyRef, Private};
use openssl::stack::Stack;
use openssl::x509::{X509, X509Ref};
use openssl_sys::{
    ASN1_INTEGER, ASN1_OBJECT, ASN1_OCTET_STRING, ASN1_TIME, EVP_MD, EVP_PKEY, OCSP_BASICRESP,
    OCSP_CERTID, OCSP_ONEREQ, OCSP_REQUEST, X509 as RawX509, stack_st_X509,
};
use time::OffsetDateTime;
use x509_cert::der::Decode;

use super::x509::{asn1_time, integer_u64};

/// Most certificates one request may ask about (ours: OpenSSL's client
/// and mongod ask about one).
pub const MAX_QUERIES: usize = 16;

unsafe extern "C" {
    fn OCSP_request_onereq_count(req: *mut OCSP_REQUEST) -> c_int;
    fn OCSP_request_onereq_get0(req: *mut OCSP_REQUEST, i: c_int) -> *mut OCSP_ONEREQ;
    fn OCSP_onereq_get0_id(one: *mut OCSP_ONEREQ) -> *mut OCSP_CERTID;
    fn OCSP_id_get0_info(
        name_hash: *mut *mut ASN1_OCTET_STRING,
        md: *mut *mut ASN1_OBJECT,
        key_hash: *mut *mut ASN1_OCTET_STRING,
        serial: *mut *mut ASN1_INTEGER,
        id: *mut OCSP_CERTID,
    ) -> c_int;
    fn OCSP_basic_add1_status(
        rsp: *mut OCSP_BASICRESP,
        id: *mut OCSP_CERTID,
        status: c_int,
        reason: c_int,
        revoked_at: *mut ASN1_TIME,
        this_update: *mut ASN1_TIME,
        next_update: *mut ASN1_TIME,
    ) -> *mut std::ffi::c_void;
    fn OCSP_basic_sign(
        rsp: *mut OCSP_BASICRESP,
        signer: *mut RawX509,
        key: *mut EVP_PKEY,
        md: *const EVP_MD,
        certs: *mut stack_st_X509,
        flags: c_ulong,
    ) -> c_int;
    fn OCSP_copy_nonce(rsp: *mut OCSP_BASICRESP, req: *mut OCSP_REQUEST) -> c_int;
}

/// Why a request cannot be answered with statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Not an OCSP request, or one asking about nothing or too much.
    #[error("malformed OCSP request")]
    Malformed,
    /// A request about certificates of issuers this responder does not serve.
    #[error("no CA here issued the certificates asked about")]
    Unauthorized,
}

impl Refused {
    /// The unsigned OCSP response that says so.
    pub fn response(self) -> Result<Vec<u8>, ErrorStack> {
        let status = match self {
            Refused::Malformed => OcspResponseStatus::MALFORMED_REQUEST,
            Refused::Unauthorized => OcspResponseStatus::UNAUTHORIZED,
        };
        OcspResponse::create(status, None)?.to_der()
    }
}

/// One certificate a request asks about: its issuer's hashes and its serial.
pub struct Query {
    digest: MessageDigest,
    name_hash: Vec<u8>,
    key_hash: Vec<u8>,
    /// The serial, when it fits in 64 bits (no certificate here has another).
    pub serial: Option<u64>,
}

impl Query {
    /// Whether `issuer` is the CA the query names (its subject's and its
    /// public key's hashes, with the query's own hash algorithm).
    pub fn is_issued_by(&self, issuer: &X509Ref) -> bool {
        let name = issuer.subject_name().to_der();
        let key = public_key_bits(issuer);
        match (name, key) {
            (Ok(name), Some(key)) => {
                hash(self.digest, &name).is_ok_and(|h| *h == *self.name_hash)
                    && hash(self.digest, &key).is_ok_and(|h| *h == *self.key_hash)
            }
            _ => false,
        }
    }
}

/// The subjectPublicKey bits, which an OCSP issuer key hash covers.
fn public_key_bits(cert: &X509Ref) -> Option<Vec<u8>> {
    let der = cert.to_der().ok()?;
    let parsed = x509_cert::Certificate::from_der(&der).ok()?;
    let bits = &parsed
        .tbs_certificate()
        .subject_public_key_info()
        .subject_public_key;
    Some(bits.raw_bytes().to_vec())
}

/// A parsed request and what it asks.
pub struct Request {
    raw: OcspRequest,
    /// One query per certificate asked about, in the request's order.
    pub queries: Vec<Query>,
}

/// Parses a DER OCSP request of 1 to [`MAX_QUERIES`] certificates.
pub fn parse_request(der: &[u8]) -> Result<Request, Refused> {
    let raw = OcspRequest::from_der(der).map_err(|_| Refused::Malformed)?;
    // SAFETY: `raw` is a live request owned here; the count and the
    // entries are read, never kept past it.
    let count = unsafe { OCSP_request_onereq_count(raw.as_ptr()) };
    let count = usize::try_from(count).map_err(|_| Refused::Malformed)?;
    if !(1..=MAX_QUERIES).contains(&count) {
        return Err(Refused::Malformed);
    }
    let mut queries = Vec::with_capacity(count);
    for i in 0..count {
        queries.push(query(&raw, i).ok_or(Refused::Malformed)?);
    }
    Ok(Request { raw, queries })
}

fn certid(raw: &OcspRequest, i: usize) -> Option<*mut OCSP_CERTID> {
    let i = c_int::try_from(i).ok()?;
    // SAFETY: `i` is below the request's count; the id belongs to the
    // request, which outlives its use.
    let id = unsafe { OCSP_onereq_get0_id(OCSP_request_onereq_get0(raw.as_ptr(), i)) };
    (!id.is_null()).then_some(id)
}

fn query(raw: &OcspRequest, i: usize) -> Option<Query> {
    let id = certid(raw, i)?;
    let (mut name, mut md, mut key, mut serial) = (
        ptr::null_mut(),
        ptr::null_mut(),
        ptr::null_mut(),
        ptr::null_mut(),
    );
    // SAFETY: `id` is live (see `certid`); OpenSSL points the four
    // out-parameters into it, and they are copied out before it goes.
    unsafe {
        if OCSP_id_get0_info(&mut name, &mut md, &mut key, &mut serial, id) != 1
            || [
                name.is_null(),
                md.is_null(),
                key.is_null(),
                serial.is_null(),
            ]
            .contains(&true)
        {
            return None;
        }
        let digest = MessageDigest::from_nid(Asn1ObjectRef::from_ptr(md).nid())?;
        let serial = integer_u64(Asn1IntegerRef::from_ptr(serial));
        Some(Query {
            digest,
            name_hash: Asn1OctetStringRef::from_ptr(name).as_slice().to_vec(),
            key_hash: Asn1OctetStringRef::from_ptr(key).as_slice().to_vec(),
            serial,
        })
    }
}

/// What the responder says of one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Issued here and not revoked.
    Good,
    /// Revoked at this time (reason: unspecified, as the ledger keeps none).
    Revoked(OffsetDateTime),
    /// Not a certificate this CA issued.
    Unknown,
}

/// Who signs a response: the CA itself, or a delegated responder (a
/// certificate with id-kp-OCSPSigning that the CA issued), whose
/// certificate goes into the response.
pub struct Signer<'a> {
    /// The signing certificate.
    pub cert: &'a X509Ref,
    /// Its key.
    pub key: &'a PKeyRef<Private>,
}

/// The signed response answering `request` with one status per query,
/// current from `now` until `next_update`; the request's nonce, if any, is
/// copied into it.
pub fn respond(
    request: &Request,
    statuses: &[Status],
    signer: &Signer<'_>,
    now: OffsetDateTime,
    next_update: OffsetDateTime,
) -> Result<Vec<u8>, ErrorStack> {
    // SAFETY: a fresh, empty response, owned by the wrapper at once.
    let basic = unsafe {
        let raw = openssl_sys::OCSP_BASICRESP_new();
        if raw.is_null() {
            return Err(ErrorStack::get());
        }
        OcspBasicResponse::from_ptr(raw)
    };
    let (this, next) = (asn1_time(now)?, asn1_time(next_update)?);
    for (i, status) in statuses.iter().enumerate() {
        let Some(id) = certid(&request.raw, i) else {
            return Err(ErrorStack::get());
        };
        let revoked: Option<Asn1Time> = match status {
            Status::Revoked(at) => Some(asn1_time(*at)?),
            _ => None,
        };
        let (code, reason) = match status {
            Status::Good => (openssl_sys::V_OCSP_CERTSTATUS_GOOD, -1),
            Status::Revoked(_) => (openssl_sys::V_OCSP_CERTSTATUS_REVOKED, 0),
            Status::Unknown => (openssl_sys::V_OCSP_CERTSTATUS_UNKNOWN, -1),
        };
        // SAFETY: every pointer is live for the call; OpenSSL copies the id
        // and the times into the response.
        let added = unsafe {
            OCSP_basic_add1_status(
                basic.as_ptr(),
                id,
                code,
                reason,
                revoked.as_ref().map_or(ptr::null_mut(), |t| t.as_ptr()),
                this.as_ptr(),
                next.as_ptr(),
            )
        };
        if added.is_null() {
            return Err(ErrorStack::get());
        }
    }
    let certs: Stack<X509> = Stack::new()?;
    // SAFETY: the response, request, signer, key and empty stack are live;
    // OpenSSL copies what it keeps (the nonce, the signer's certificate).
    unsafe {
        if OCSP_copy_nonce(basic.as_ptr(), request.raw.as_ptr()) <= 0 {
            return Err(ErrorStack::get());
        }
        let md = MessageDigest::sha256().as_ptr();
        if OCSP_basic_sign(
            basic.as_ptr(),
            signer.cert.as_ptr(),
            signer.key.as_ptr(),
            md,
            certs.as_ptr(),
            0,
        ) != 1
        {
            return Err(ErrorStack::get());
        }
    }
    OcspResponse::create(OcspResponseStatus::SUCCESSFUL, Some(&basic))?.to_der()
}
