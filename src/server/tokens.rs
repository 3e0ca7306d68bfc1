//! Live bearer tokens of service accounts: in memory only, bounded in all
//! and per account, each bound to the secret it was granted for.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::model::Credential;
use crate::pki::random_hex;
use crate::store::Registry;

/// Most live tokens in all; when they are all live and held by accounts
/// below their own bound, a new token is refused (never another account's
/// token dropped).
const MAX_TOKENS: usize = 10_000;
/// Most live tokens one service account holds (ours): its next token
/// replaces its own that expires first, so no account can log another out.
const MAX_TOKENS_PER_ACCOUNT: usize = 100;

/// One live token: whose, for which secret, until when.
struct Grant {
    client_id: String,
    /// SHA-256 of the client secret it was granted for: a changed secret
    /// (or an account deleted and made again) ends the token.
    secret: [u8; 32],
    until: Instant,
}

fn secret_digest(account: &Credential) -> [u8; 32] {
    Sha256::digest(account.secret.as_bytes()).into()
}

/// Why no token was issued.
pub(super) enum NoToken {
    /// The table is full of live tokens of other accounts.
    Full,
    /// No random bytes.
    Random(openssl::error::ErrorStack),
}

/// Live bearer tokens, in memory only.
pub(super) struct Tokens {
    /// How long a token lives.
    pub(super) ttl: Duration,
    live: Mutex<HashMap<String, Grant>>,
}

impl Tokens {
    /// A table of tokens that live `ttl`.
    pub(super) fn new(ttl: Duration) -> Tokens {
        Tokens {
            ttl,
            live: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Grant>> {
        // A poisoned lock only interrupted an insert or removal of a pair.
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new token for `account`, issued at `now`. Expired tokens go
    /// first; an account at its bound loses its own token that expires
    /// first.
    pub(super) fn issue(&self, account: &Credential, now: Instant) -> Result<String, NoToken> {
        let token = random_hex(32).map_err(NoToken::Random)?;
        let mut live = self.lock();
        live.retain(|_, g| g.until > now);
        let own: Vec<(&String, Instant)> = live
            .iter()
            .filter(|(_, g)| g.client_id == account.id)
            .map(|(t, g)| (t, g.until))
            .collect();
        if own.len() >= MAX_TOKENS_PER_ACCOUNT {
            if let Some(oldest) = own
                .iter()
                .min_by_key(|(_, until)| *until)
                .map(|(t, _)| (*t).clone())
            {
                live.remove(&oldest);
            }
        } else if live.len() >= MAX_TOKENS {
            return Err(NoToken::Full);
        }
        live.insert(
            token.clone(),
            Grant {
                client_id: account.id.clone(),
                secret: secret_digest(account),
                until: now + self.ttl,
            },
        );
        Ok(token)
    }

    /// The service account in `registry` that holds `token`, live at
    /// `now`: the account must still exist with the secret the token was
    /// granted for. A token whose account is gone or changed, or that has
    /// expired, ends here for good.
    pub(super) fn holder<'r>(
        &self,
        token: &str,
        registry: &'r Registry,
        now: Instant,
    ) -> Option<&'r Credential> {
        let mut live = self.lock();
        let grant = live.get(token)?;
        let account = registry
            .service_account(&grant.client_id)
            .filter(|a| grant.until > now && secret_digest(a) == grant.secret);
        if account.is_none() {
            live.remove(token);
        }
        account
    }

    /// Ends `token` if it is `client_id`'s.
    pub(super) fn revoke(&self, token: &str, client_id: &str) {
        let mut live = self.lock();
        if live.get(token).is_some_and(|g| g.client_id == client_id) {
            live.remove(token);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const ACCOUNT: &str =
        "[[serviceAccounts]]\nclientId = \"mdb_sa_id_1\"\nclientSecret = \"s1\"\n";

    #[test]
    fn a_token_lives_its_time_and_not_a_moment_more() {
        let registry = Registry::parse(ACCOUNT, Path::new("r.toml")).unwrap();
        let account = registry.service_account("mdb_sa_id_1").unwrap();
        let tokens = Tokens::new(Duration::from_secs(8));
        let t0 = Instant::now();
        let Ok(token) = tokens.issue(account, t0) else {
            panic!("no token")
        };
        let at = |secs: u64| t0 + Duration::from_secs(secs);
        assert!(tokens.holder(&token, &registry, at(7)).is_some());
        assert!(tokens.holder(&token, &registry, at(8)).is_none());
        // Gone for good, even asked about at an earlier time.
        assert!(tokens.holder(&token, &registry, t0).is_none());
        // A changed secret ends a live token.
        let Ok(other) = tokens.issue(account, t0) else {
            panic!("no token")
        };
        let changed = Registry::parse(&ACCOUNT.replace("s1", "s2"), Path::new("r.toml")).unwrap();
        assert!(tokens.holder(&other, &changed, t0).is_none());
    }
}
