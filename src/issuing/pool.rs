//! Where subject keys come from: generated on demand, or taken from a warm
//! pool that background threads keep filled so that a server can answer
//! without waiting for RSA.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use openssl::error::ErrorStack;
use openssl::pkey::{PKey, Private};

use crate::pki::KeyType;
use crate::store::{Note, Notes};

/// Where issuing gets subject keys from.
pub trait KeySource: Sync {
    /// A key of `key_type`, never handed out before.
    fn key(&self, key_type: KeyType) -> Result<PKey<Private>, ErrorStack>;
}

/// Generates every key on demand.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fresh;

impl KeySource for Fresh {
    fn key(&self, key_type: KeyType) -> Result<PKey<Private>, ErrorStack> {
        key_type.generate()
    }
}

struct PoolState {
    keys: Mutex<Vec<PKey<Private>>>,
    wanted: Condvar,
    stop: AtomicBool,
    size: usize,
    notes: Notes,
}

/// A warm pool of RSA-4096 keys (Atlas's type), kept at `size` by `threads`
/// background threads of their own, each generating one key at a time.
/// Keys live only in memory and are handed out once; an empty pool falls
/// back to generating inline, other types always do.
///
/// Dropping the pool stops its fillers without waiting for them: a filler
/// finishes the key in hand (seconds for RSA-4096 on a busy machine),
/// discards it and exits, so a server stops at once.
pub struct KeyPool {
    state: Arc<PoolState>,
}

impl KeyPool {
    /// Starts `threads` fillers keeping `size` keys ready. They run in a
    /// rayon pool of their own so that key generation, which splits its work
    /// over the current pool, never spreads onto the cores left for requests.
    /// A filler that fails says so to `notes` and stops.
    pub fn start(
        size: usize,
        threads: usize,
        notes: &Notes,
    ) -> Result<KeyPool, rayon::ThreadPoolBuildError> {
        let threads = threads.max(1);
        let cores = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("key-pool-{i}"))
            .build()?;
        let state = Arc::new(PoolState {
            keys: Mutex::new(Vec::with_capacity(size)),
            wanted: Condvar::new(),
            stop: AtomicBool::new(false),
            size,
            notes: notes.clone(),
        });
        {
            let state = Arc::clone(&state);
            std::thread::spawn(move || {
                cores.scope(|scope| {
                    for _ in 0..threads {
                        scope.spawn(|_| fill(&state));
                    }
                });
            });
        }
        Ok(KeyPool { state })
    }

    /// How many keys are ready now.
    pub fn ready(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<PKey<Private>>> {
        // A poisoned lock only means a filler panicked between push and
        // unlock; the vector itself is intact.
        self.state.keys.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn fill(state: &PoolState) {
    loop {
        {
            let mut keys = state.keys.lock().unwrap_or_else(|p| p.into_inner());
            while keys.len() >= state.size && !state.stop.load(Ordering::Relaxed) {
                keys = state.wanted.wait(keys).unwrap_or_else(|p| p.into_inner());
            }
        }
        if state.stop.load(Ordering::Relaxed) {
            return;
        }
        match KeyType::Rsa4096.generate() {
            Ok(key) => {
                let mut keys = state.keys.lock().unwrap_or_else(|p| p.into_inner());
                if keys.len() < state.size {
                    keys.push(key);
                }
            }
            Err(e) => {
                state.notes.send(Note::KeyPoolStopped {
                    error: e.to_string(),
                });
                return;
            }
        }
    }
}

impl KeySource for KeyPool {
    fn key(&self, key_type: KeyType) -> Result<PKey<Private>, ErrorStack> {
        if key_type == KeyType::Rsa4096 {
            let taken = self.lock().pop();
            self.state.wanted.notify_all();
            if let Some(key) = taken {
                return Ok(key);
            }
        }
        key_type.generate()
    }
}

impl Drop for KeyPool {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::Relaxed);
        self.state.wanted.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::pkey::Id;

    #[test]
    fn pool_fills_hands_out_once_and_falls_back() {
        let pool = KeyPool::start(2, 1, &Notes::default()).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while pool.ready() < 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(pool.ready(), 2);
        let a = pool.key(KeyType::Rsa4096).unwrap();
        let b = pool.key(KeyType::Rsa4096).unwrap();
        assert!(!a.public_eq(&b));
        assert_eq!(a.bits(), 4096);
        // Other types never come from the pool, and leave it as it is.
        let before = pool.ready();
        assert_eq!(pool.key(KeyType::EcP256).unwrap().id(), Id::EC);
        assert!(pool.ready() >= before);
    }

    #[test]
    fn an_empty_pool_falls_back_to_fresh_keys() {
        // A pool of size 0 never fills: every RSA-4096 key is the fallback.
        let pool = KeyPool::start(0, 1, &Notes::default()).unwrap();
        let a = pool.key(KeyType::Rsa4096).unwrap();
        let b = pool.key(KeyType::Rsa4096).unwrap();
        assert_eq!(pool.ready(), 0);
        assert_eq!((a.bits(), b.bits()), (4096, 4096));
        assert!(!a.public_eq(&b));
        assert!(a.rsa().unwrap().check_key().unwrap());
    }
}
