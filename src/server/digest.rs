//! HTTP Digest authentication (RFC 7616) as Atlas challenges: realm
//! `MMS Public API`, MD5 offered, `qop="auth"`. Responses computed with MD5
//! (or no `algorithm`, which means MD5) and SHA-256 are accepted.
//!
//! Nonces carry their issue time and a keyed hash, so they need no storage
//! until used; a used nonce remembers its highest `nc`, and a request must
//! raise it (a replay is refused). Nonces expire after a TTL and are then
//! answered with `stale=true`, as are nonces from before a restart, so that
//! clients retry transparently. Every comparison of secrets is constant-time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::Md5;
use sha2::{Digest as _, Sha256};

use crate::model::{Credential, hex};
use crate::store::Registry;

/// The realm Atlas uses.
pub const REALM: &str = "MMS Public API";

/// Remembered nonces beyond which expired ones are first pruned.
const PRUNE_AT: usize = 4096;
/// Most nonces remembered at all: past it the older half is forgotten (their
/// clients are answered `stale=true` and simply take a new nonce).
const MAX_NONCES: usize = 65_536;

/// Why a request was not authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No usable credentials: challenge afresh.
    Denied(Why),
    /// The credentials were right but the nonce is expired or unknown.
    Stale,
}

/// Why credentials were refused, for the server's log (never a secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// No Digest credentials at all: the first leg of every Digest exchange.
    Missing,
    /// A header that is not Digest as Atlas speaks it (realm, qop, uri,
    /// algorithm).
    Malformed,
    /// A public key the registry does not have.
    UnknownKey,
    /// A response that the key's secret does not give (a wrong secret).
    WrongResponse,
    /// A nonce count that did not rise: a replay.
    Replayed,
}

impl Why {
    /// The reason, worded for the log.
    pub fn text(self) -> &'static str {
        match self {
            Why::Missing => "no credentials",
            Why::Malformed => "malformed Digest header",
            Why::UnknownKey => "unknown API key",
            Why::WrongResponse => "bad digest (wrong secret?)",
            Why::Replayed => "replayed nonce count",
        }
    }
}

/// Issues and checks nonces, and verifies Digest responses.
pub struct DigestAuth {
    secret: [u8; 32],
    ttl: Duration,
    next: AtomicU64,
    used: Mutex<HashMap<String, (u32, u64)>>,
    /// Nonces issued at or before this time were forgotten while still
    /// valid: they are answered `stale=true`, so that none can be replayed.
    floor: AtomicU64,
    /// The table size at which expired nonces are pruned next: twice what
    /// was left by the last pruning (from `PRUNE_AT` to `MAX_NONCES`), so that a table
    /// of live nonces is not scanned again on every request.
    prune_at: AtomicUsize,
}

impl DigestAuth {
    /// A verifier with a fresh random secret; nonces live `ttl`.
    pub fn new(ttl: Duration) -> Result<DigestAuth, openssl::error::ErrorStack> {
        let mut secret = [0u8; 32];
        openssl::rand::rand_bytes(&mut secret)?;
        Ok(DigestAuth {
            secret,
            ttl,
            next: AtomicU64::new(0),
            used: Mutex::new(HashMap::new()),
            floor: AtomicU64::new(0),
            prune_at: AtomicUsize::new(PRUNE_AT),
        })
    }

    /// The `WWW-Authenticate` value for a 401.
    pub fn challenge(&self, stale: bool) -> String {
        format!(
            "Digest realm=\"{REALM}\", domain=\"\", nonce=\"{}\", algorithm=MD5, qop=\"auth\", stale={stale}",
            self.nonce_at(now_secs())
        )
    }

    fn mac(&self, issued: u64, serial: u64) -> [u8; 8] {
        let mut h = Sha256::new();
        h.update(self.secret);
        h.update(issued.to_be_bytes());
        h.update(serial.to_be_bytes());
        let mut mac = [0u8; 8];
        mac.copy_from_slice(&h.finalize()[..8]);
        mac
    }

    /// A new nonce, 32 characters of the base64 alphabet as Atlas's are:
    /// the issue time, a per-process serial (so no two nonces are alike)
    /// and a keyed hash of both, 8 bytes each.
    fn nonce_at(&self, issued: u64) -> String {
        let serial = self.next.fetch_add(1, Ordering::Relaxed);
        let mut raw = [0u8; 24];
        raw[..8].copy_from_slice(&issued.to_be_bytes());
        raw[8..16].copy_from_slice(&serial.to_be_bytes());
        raw[16..].copy_from_slice(&self.mac(issued, serial));
        STANDARD.encode(raw)
    }

    /// When a nonce of ours was issued; `None` for a forged or foreign one.
    fn issued(&self, nonce: &str) -> Option<u64> {
        if nonce.len() != 32 {
            return None;
        }
        let raw: [u8; 24] = STANDARD.decode(nonce).ok()?.try_into().ok()?;
        let word = |at: usize| -> Option<u64> {
            Some(u64::from_be_bytes(raw[at..at + 8].try_into().ok()?))
        };
        let (issued, serial) = (word(0)?, word(8)?);
        openssl::memcmp::eq(&raw[16..], &self.mac(issued, serial)).then_some(issued)
    }

    /// Checks an `Authorization` header for `method` on `uri` (path and
    /// query as received; a response signed over the path alone is accepted
    /// too) and returns the authenticated API key.
    pub fn verify<'r>(
        &self,
        header: Option<&str>,
        method: &str,
        uri: &str,
        registry: &'r Registry,
    ) -> Result<&'r Credential, Failure> {
        let params = header.ok_or(Failure::Denied(Why::Missing))?;
        let params = parse(params).ok_or(Failure::Denied(Why::Malformed))?;
        let get = |k: &str| params.get(k).map(String::as_str);
        let field = |k: &str| get(k).ok_or(Failure::Denied(Why::Malformed));
        let (username, nonce, response) = (field("username")?, field("nonce")?, field("response")?);
        // The signed `uri` is the request's path and query; some clients
        // (an npm Axios Digest client; Apache's AuthDigestEnableQueryStringHack)
        // sign the path alone, which is accepted when there is a query.
        let signed = field("uri")?;
        let path_only = uri.split_once('?').is_some_and(|(path, _)| signed == path);
        if field("realm")? != REALM || (signed != uri && !path_only) || field("qop")? != "auth" {
            return Err(Failure::Denied(Why::Malformed));
        }
        let nc_text = field("nc")?;
        let nc = u32::from_str_radix(nc_text, 16).map_err(|_| Failure::Denied(Why::Malformed))?;
        let cnonce = field("cnonce")?;
        let hash: fn(&str) -> String = match get("algorithm") {
            None => md5_hex,
            Some(a) if a.eq_ignore_ascii_case("MD5") => md5_hex,
            Some(a) if a.eq_ignore_ascii_case("SHA-256") => sha256_hex,
            Some(_) => return Err(Failure::Denied(Why::Malformed)),
        };
        let key = registry
            .api_key(username)
            .ok_or(Failure::Denied(Why::UnknownKey))?;
        let ha1 = hash(&format!("{username}:{REALM}:{}", key.secret));
        let ha2 = hash(&format!("{method}:{signed}"));
        let expected = hash(&format!("{ha1}:{nonce}:{nc_text}:{cnonce}:auth:{ha2}"));
        let matches = expected.len() == response.len()
            && openssl::memcmp::eq(
                expected.as_bytes(),
                response.to_ascii_lowercase().as_bytes(),
            );
        if !matches {
            return Err(Failure::Denied(Why::WrongResponse));
        }
        let now = now_secs();
        let issued = self.issued(nonce).ok_or(Failure::Stale)?;
        if now.saturating_sub(issued) > self.ttl.as_secs() || issued > now + 5 {
            return Err(Failure::Stale);
        }
        self.use_nc(nonce, nc, issued, now)?;
        Ok(key)
    }

    /// Records `nc` for `nonce`; it must exceed every earlier one.
    fn use_nc(&self, nonce: &str, nc: u32, issued: u64, now: u64) -> Result<(), Failure> {
        // A poisoned lock only means another request panicked mid-update of
        // a plain map; its contents are still usable.
        let mut used = self.used.lock().unwrap_or_else(|p| p.into_inner());
        if used.len() >= self.prune_at.load(Ordering::Relaxed) {
            let ttl = self.ttl.as_secs();
            used.retain(|_, (_, at)| now.saturating_sub(*at) <= ttl);
            // Under the table's lock: no other pruning runs in between.
            let next = (2 * used.len()).clamp(PRUNE_AT, MAX_NONCES);
            self.prune_at.store(next, Ordering::Relaxed);
        }
        if used.len() >= MAX_NONCES {
            let mut issued: Vec<u64> = used.values().map(|(_, at)| *at).collect();
            issued.sort_unstable();
            let mut cutoff = issued[issued.len() / 2];
            used.retain(|_, (_, at)| *at > cutoff);
            if used.len() >= MAX_NONCES {
                cutoff = now;
                used.clear();
            }
            self.floor.fetch_max(cutoff, Ordering::Relaxed);
        }
        match used.get_mut(nonce) {
            Some((last, _)) if nc <= *last => Err(Failure::Denied(Why::Replayed)),
            Some((last, _)) => {
                *last = nc;
                Ok(())
            }
            None if issued <= self.floor.load(Ordering::Relaxed) => Err(Failure::Stale),
            None => {
                used.insert(nonce.to_string(), (nc, issued));
                Ok(())
            }
        }
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn md5_hex(s: &str) -> String {
    hex(&Md5::digest(s.as_bytes()))
}

fn sha256_hex(s: &str) -> String {
    hex(&Sha256::digest(s.as_bytes()))
}

/// Parses `Digest k=v, k="v", ...`; `None` if it is not Digest, is
/// malformed, or repeats a parameter.
fn parse(header: &str) -> Option<HashMap<String, String>> {
    let (scheme, rest) = header.trim_start().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("Digest") {
        return None;
    }
    let mut out = HashMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace() || *c == ',').is_some() {}
        if chars.peek().is_none() {
            break;
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        chars.next_if_eq(&'=')?;
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            loop {
                match chars.next()? {
                    '"' => break,
                    '\\' => value.push(chars.next()?),
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',' && !c.is_whitespace()) {
                value.push(c);
            }
        }
        if key.is_empty() || out.insert(key.to_ascii_lowercase(), value).is_some() {
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn registry() -> Registry {
        Registry::parse(
            "[[apiKeys]]\npublicKey = \"pub\"\nprivateKey = \"secret\"\n",
            Path::new("r.toml"),
        )
        .unwrap()
    }

    fn header(nonce: &str, nc: &str, password: &str, alg: Option<&str>) -> String {
        let hash = if alg == Some("SHA-256") {
            sha256_hex
        } else {
            md5_hex
        };
        let uri = "/api/atlas/v1.0/x?pretty=true";
        let ha1 = hash(&format!("pub:{REALM}:{password}"));
        let ha2 = hash(&format!("GET:{uri}"));
        let response = hash(&format!("{ha1}:{nonce}:{nc}:abc:auth:{ha2}"));
        let alg = alg.map(|a| format!(", algorithm={a}")).unwrap_or_default();
        format!(
            "Digest username=\"pub\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"{uri}\", \
             cnonce=\"abc\", nc={nc}, qop=auth, response=\"{response}\"{alg}"
        )
    }

    const URI: &str = "/api/atlas/v1.0/x?pretty=true";

    #[test]
    fn accepts_md5_sha256_and_rising_nc() {
        let auth = DigestAuth::new(Duration::from_secs(60)).unwrap();
        let reg = registry();
        let nonce = auth.nonce_at(now_secs());
        let ok = |h: &str| auth.verify(Some(h), "GET", URI, &reg).map(|k| k.id.clone());
        assert_eq!(
            ok(&header(&nonce, "00000001", "secret", Some("MD5"))),
            Ok("pub".into())
        );
        assert_eq!(
            ok(&header(&nonce, "00000002", "secret", None)),
            Ok("pub".into())
        );
        assert_eq!(
            ok(&header(&nonce, "00000003", "secret", Some("SHA-256"))),
            Ok("pub".into())
        );
        // Replays and lower counts are refused.
        assert!(matches!(
            ok(&header(&nonce, "00000003", "secret", None)),
            Err(Failure::Denied(Why::Replayed))
        ));
        assert!(matches!(
            ok(&header(&nonce, "00000002", "secret", None)),
            Err(Failure::Denied(Why::Replayed))
        ));
    }

    #[test]
    fn refuses_wrong_password_uri_method_and_realm() {
        let auth = DigestAuth::new(Duration::from_secs(60)).unwrap();
        let reg = registry();
        let nonce = auth.nonce_at(now_secs());
        let h = header(&nonce, "00000001", "wrong", None);
        assert!(matches!(
            auth.verify(Some(&h), "GET", URI, &reg).err(),
            Some(Failure::Denied(Why::WrongResponse))
        ));
        let h = header(&nonce, "00000001", "secret", None);
        assert!(matches!(
            auth.verify(Some(&h), "GET", "/other", &reg).err(),
            Some(Failure::Denied(Why::Malformed))
        ));
        assert!(matches!(
            auth.verify(Some(&h), "POST", URI, &reg).err(),
            Some(Failure::Denied(Why::WrongResponse))
        ));
        let wrong_realm = h.replace(REALM, "Other");
        assert!(matches!(
            auth.verify(Some(&wrong_realm), "GET", URI, &reg).err(),
            Some(Failure::Denied(Why::Malformed))
        ));
        assert!(matches!(
            auth.verify(None, "GET", URI, &reg).err(),
            Some(Failure::Denied(Why::Missing))
        ));
        assert!(matches!(
            auth.verify(Some("Basic cHViOnNlY3JldA=="), "GET", URI, &reg)
                .err(),
            Some(Failure::Denied(Why::Malformed))
        ));
    }

    #[test]
    fn stale_expired_and_foreign_nonces() {
        let auth = DigestAuth::new(Duration::from_secs(60)).unwrap();
        let reg = registry();
        let old = auth.nonce_at(now_secs() - 120);
        let h = header(&old, "00000001", "secret", None);
        assert_eq!(
            auth.verify(Some(&h), "GET", URI, &reg).err(),
            Some(Failure::Stale)
        );
        // A nonce from another process (a restart) is stale, not an attack...
        let other = DigestAuth::new(Duration::from_secs(60)).unwrap();
        let foreign = other.nonce_at(now_secs());
        let h = header(&foreign, "00000001", "secret", None);
        assert_eq!(
            auth.verify(Some(&h), "GET", URI, &reg).err(),
            Some(Failure::Stale)
        );
        // ...but only with the right password.
        let h = header(&foreign, "00000001", "nope", None);
        assert!(matches!(
            auth.verify(Some(&h), "GET", URI, &reg).err(),
            Some(Failure::Denied(_))
        ));
    }

    #[test]
    fn nonces_are_unique_and_bound_to_the_secret() {
        let auth = DigestAuth::new(Duration::from_secs(60)).unwrap();
        let (a, b) = (auth.nonce_at(1000), auth.nonce_at(1000));
        assert_ne!(a, b);
        assert_eq!(auth.issued(&a), Some(1000));
        assert_eq!(a.len(), 32);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
        );
        // Another issue time under the same hash is refused.
        let mut raw = STANDARD.decode(&a).unwrap();
        raw[..8].copy_from_slice(&2000u64.to_be_bytes());
        assert_eq!(auth.issued(&STANDARD.encode(&raw)), None);
        assert_eq!(auth.issued("short"), None);
    }

    #[test]
    fn parser_handles_quotes_and_rejects_repeats() {
        let p = parse(r#"Digest a="x, \"y\"", b=c,c = "d""#).unwrap();
        assert_eq!(p["a"], "x, \"y\"");
        assert_eq!(p["b"], "c");
        assert_eq!(p["c"], "d");
        assert!(parse(r#"Digest a="1", a="2""#).is_none());
        assert!(parse(r#"Digest a="unterminated"#).is_none());
        assert!(parse("Digest =x").is_none());
        assert!(parse("Basic x").is_none());
    }

    #[test]
    fn expired_nonces_are_pruned_and_live_ones_kept() {
        let auth = DigestAuth::new(Duration::from_secs(600)).unwrap();
        let now = now_secs();
        for i in 0..PRUNE_AT as u64 + 10 {
            let issued = if i < 100 { now } else { now - 1000 };
            assert_eq!(auth.use_nc(&format!("n{i}"), 1, issued, now), Ok(()));
        }
        let used = auth.used.lock().unwrap();
        assert!(used.len() < 200, "{}", used.len());
        assert!((0..100).all(|i| used.contains_key(&format!("n{i}"))));
    }

    #[test]
    fn the_nonce_table_is_bounded_and_forgets_safely() {
        let auth = DigestAuth::new(Duration::from_secs(600)).unwrap();
        let now = now_secs();
        // The first nonce, then enough later ones to fill the table.
        let first = auth.nonce_at(now - 100);
        assert_eq!(auth.use_nc(&first, 1, now - 100, now), Ok(()));
        for i in 1..=MAX_NONCES as u64 {
            let nonce = format!("n{i}");
            let issued = now - 60 + i / 2048;
            assert_eq!(auth.use_nc(&nonce, 1, issued, now), Ok(()));
        }
        let size = auth.used.lock().unwrap().len();
        assert!(size < MAX_NONCES, "{size}");
        // The forgotten nonce cannot start again at a count it used.
        assert_eq!(auth.use_nc(&first, 1, now - 100, now), Err(Failure::Stale));
        assert_eq!(auth.use_nc("fresh", 1, now, now), Ok(()));
    }
}
