//! What every request shares: the home, the registry in force, the Digest
//! nonces, the rate counts, the key pool, the bearer tokens and the OCSP
//! responder.

use std::time::Duration;

use super::digest::DigestAuth;
use super::rate::RateWindow;
use super::registry_cache::RegistryCache;
use super::tokens::Tokens;
use crate::api::Responder;
use crate::issuing::KeyPool;
use crate::pki::KeyType;
use crate::store::Home;

/// Shared by every request.
pub(super) struct AppState {
    pub(super) home: Home,
    pub(super) registry: RegistryCache,
    pub(super) digest: DigestAuth,
    pub(super) rate: RateWindow,
    pub(super) keys: Option<KeyPool>,
    pub(super) client_timeout: Duration,
    pub(super) tokens: Tokens,
    /// `https` with `--tls`, else `http`: the scheme of `self` links.
    pub(super) scheme: &'static str,
    /// The subject key type of created certificates.
    pub(super) key_type: KeyType,
    /// What the OCSP responder answers for.
    pub(super) ocsp: Responder,
}
