//! The OCSP responder (RFC 6960): `POST /ocsp` with a DER request, or
//! `GET /ocsp/<base64 request>`. Unauthenticated, as OCSP is; a request is
//! at most 16 KiB and its answer is computed on a blocking thread.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::Response;
use base64::Engine;

use super::call::blocking;
use super::respond::respond;
use super::state::AppState;
use crate::pki::ocsp::Refused;

/// Largest OCSP request read (a request about 16 certificates is ~2 KiB).
const MAX_REQUEST: usize = 16 * 1024;

/// `POST /ocsp`: the body is the DER request.
pub(super) async fn post(State(state): State<Arc<AppState>>, body: Body) -> Response {
    let read = tokio::time::timeout(
        state.client_timeout,
        axum::body::to_bytes(body, MAX_REQUEST),
    );
    match read.await {
        Ok(Ok(der)) => answer(state, der.to_vec()).await,
        _ => refused(Refused::Malformed),
    }
}

/// `GET /ocsp/<request>`: the DER request in base64, URL-encoded
/// (RFC 6960 appendix A.1).
pub(super) async fn get(
    State(state): State<Arc<AppState>>,
    Path(encoded): Path<String>,
) -> Response {
    if encoded.len() > MAX_REQUEST * 2 {
        return refused(Refused::Malformed);
    }
    // axum has already percent-decoded the path segment.
    match base64::engine::general_purpose::STANDARD.decode(encoded.as_bytes()) {
        Ok(der) => answer(state, der).await,
        Err(_) => refused(Refused::Malformed),
    }
}

async fn answer(state: Arc<AppState>, der: Vec<u8>) -> Response {
    let work = Arc::clone(&state);
    let answered = blocking(move || {
        let registry = work.registry.current();
        work.ocsp.answer(&work.home, &registry, &der)
    })
    .await;
    match answered {
        Ok(bytes) => respond(200, "application/ocsp-response", bytes),
        Err(e) => {
            eprintln!(
                "atlas-ca: OCSP answer failed: {}",
                crate::model::escape_hidden(&e.to_string())
            );
            // internalError (2), unsigned.
            respond(
                200,
                "application/ocsp-response",
                vec![0x30, 0x03, 0x0a, 0x01, 0x02],
            )
        }
    }
}

fn refused(why: Refused) -> Response {
    match why.response() {
        Ok(bytes) => respond(200, "application/ocsp-response", bytes),
        Err(_) => respond(500, "text/plain", "OCSP encoding failed\n"),
    }
}
