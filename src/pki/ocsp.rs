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
    /// Its place in the request, which holds its OpenSSL id.
    index: usize,
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
    // One request, and nothing after it (two concatenated are malformed).
    if raw.to_der().map_err(|_| Refused::Malformed)? != der {
        return Err(Refused::Malformed);
    }
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

/// The id of the request's `i`th query; `None` past its end.
fn certid(raw: &OcspRequest, i: usize) -> Option<*mut OCSP_CERTID> {
    let i = c_int::try_from(i).ok()?;
    // SAFETY: `raw` is a live request; the count is read from it, and an
    // entry is asked for only below it, then checked for null before use.
    // The id belongs to the request, which outlives its use.
    unsafe {
        if i >= OCSP_request_onereq_count(raw.as_ptr()) {
            return None;
        }
        let one = OCSP_request_onereq_get0(raw.as_ptr(), i);
        if one.is_null() {
            return None;
        }
        let id = OCSP_onereq_get0_id(one);
        (!id.is_null()).then_some(id)
    }
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
            index: i,
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

/// The signed response answering `request`: each of `answers` pairs one of
/// its queries with the status to give, current from `now` until
/// `next_update`; the request's nonce, if any, is copied into it. A query
/// of another request is an error.
pub fn respond(
    request: &Request,
    answers: &[(&Query, Status)],
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
    for (query, status) in answers {
        let ours = request
            .queries
            .get(query.index)
            .is_some_and(|q| std::ptr::eq(q, *query));
        let Some(id) = certid(&request.raw, query.index).filter(|_| ours) else {
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

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::ocsp::{OcspCertId, OcspRequest};
    use openssl::pkey::PKey;
    use openssl::x509::{X509, X509NameBuilder};

    /// A self-signed EC certificate with this serial, and its key.
    fn cert(serial: u32) -> (X509, PKey<Private>) {
        let key = PKey::from_ec_key(
            EcKey::generate(&EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap()).unwrap(),
        )
        .unwrap();
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", "t").unwrap();
        let name = name.build();
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        let serial = openssl::bn::BigNum::from_u32(serial).unwrap();
        b.set_serial_number(&serial.to_asn1_integer().unwrap())
            .unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_issuer_name(&name).unwrap();
        b.set_pubkey(&key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::days_from_now(1).unwrap())
            .unwrap();
        b.sign(&key, MessageDigest::sha256()).unwrap();
        (b.build(), key)
    }

    fn request_for(certs: &[&X509], issuer: &X509) -> Request {
        let mut req = OcspRequest::new().unwrap();
        for c in certs {
            let id = OcspCertId::from_cert(MessageDigest::sha1(), c, issuer).unwrap();
            req.add_id(id).unwrap();
        }
        parse_request(&req.to_der().unwrap()).unwrap()
    }

    #[test]
    fn answers_pair_a_request_s_own_queries_with_their_statuses() {
        let (ca, key) = cert(1);
        let (a, _) = cert(7);
        let (b, _) = cert(8);
        let two = request_for(&[&a, &b], &ca);
        let one = request_for(&[&a], &ca);
        assert_eq!(two.queries[1].serial, Some(8));
        let signer = Signer {
            cert: &ca,
            key: &key,
        };
        let now = OffsetDateTime::now_utc();
        let next = now + time::Duration::hours(1);
        let answers: Vec<(&Query, Status)> =
            two.queries.iter().map(|q| (q, Status::Good)).collect();
        let der = respond(&two, &answers, &signer, now, next).unwrap();
        let basic = openssl::ocsp::OcspResponse::from_der(&der)
            .unwrap()
            .basic()
            .unwrap();
        let id = OcspCertId::from_cert(MessageDigest::sha1(), &b, &ca).unwrap();
        assert!(
            basic.find_status(&id).is_some(),
            "the second query is answered"
        );
        // The second query of a longer request, given with a shorter one:
        // refused, never read past the shorter request's end.
        let foreign = [(&two.queries[1], Status::Good)];
        assert!(respond(&one, &foreign, &signer, now, next).is_err());
        let borrowed = [(&two.queries[0], Status::Good)];
        assert!(respond(&one, &borrowed, &signer, now, next).is_err());
    }
}
