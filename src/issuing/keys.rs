//! Subject keys: the types atlas-ca can issue for, and where keys come from
//! (generated on demand, or taken from a warm pool that background threads
//! keep filled so that a server can answer without waiting for RSA).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};

use crate::keygen;

/// A subject key type. Atlas issues RSA-4096 only; the others are for
/// fixtures and local set-ups (the CA still signs with RSA-4096/SHA-256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum KeyType {
    /// RSA, 2048-bit modulus.
    #[value(name = "rsa-2048")]
    Rsa2048,
    /// RSA, 3072-bit modulus.
    #[value(name = "rsa-3072")]
    Rsa3072,
    /// RSA, 4096-bit modulus: what Atlas issues.
    #[default]
    #[value(name = "rsa-4096")]
    Rsa4096,
    /// ECDSA on NIST P-256.
    #[value(name = "ec-p256")]
    EcP256,
    /// ECDSA on NIST P-384.
    #[value(name = "ec-p384")]
    EcP384,
    /// Ed25519.
    #[value(name = "ed25519")]
    Ed25519,
}

impl KeyType {
    /// A fresh key of this type; RSA uses the current rayon pool's threads
    /// (see [`keygen`]).
    pub fn generate(self) -> Result<PKey<Private>, ErrorStack> {
        let rsa = |bits| PKey::from_rsa(keygen::rsa(bits)?);
        let ec = |nid| {
            let group = EcGroup::from_curve_name(nid)?;
            PKey::from_ec_key(EcKey::generate(&group)?)
        };
        match self {
            KeyType::Rsa2048 => rsa(2048),
            KeyType::Rsa3072 => rsa(3072),
            KeyType::Rsa4096 => rsa(4096),
            KeyType::EcP256 => ec(Nid::X9_62_PRIME256V1),
            KeyType::EcP384 => ec(Nid::SECP384R1),
            KeyType::Ed25519 => PKey::generate_ed25519(),
        }
    }
}

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
}

/// A warm pool of RSA-4096 keys (Atlas's type), kept at `size` by `threads`
/// background threads of their own, each generating one key at a time.
/// Keys live only in memory and are handed out once; an empty pool falls
/// back to generating inline, other types always do.
pub struct KeyPool {
    state: Arc<PoolState>,
    filler: Option<JoinHandle<()>>,
}

impl KeyPool {
    /// Starts `threads` fillers keeping `size` keys ready. They run in a
    /// rayon pool of their own so that key generation, which splits its work
    /// over the current pool, never spreads onto the cores left for requests.
    pub fn start(size: usize, threads: usize) -> Result<KeyPool, rayon::ThreadPoolBuildError> {
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
        });
        let filler = {
            let state = Arc::clone(&state);
            std::thread::spawn(move || {
                cores.scope(|scope| {
                    for _ in 0..threads {
                        scope.spawn(|_| fill(&state));
                    }
                });
            })
        };
        Ok(KeyPool {
            state,
            filler: Some(filler),
        })
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
                eprintln!("atlas-ca: key pool filler stopped: {e}");
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
        if let Some(filler) = self.filler.take() {
            let _ = filler.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::pkey::Id;

    #[test]
    fn every_type_generates_its_kind() {
        for (t, id, bits) in [
            (KeyType::Rsa2048, Id::RSA, 2048),
            (KeyType::EcP256, Id::EC, 256),
            (KeyType::EcP384, Id::EC, 384),
            (KeyType::Ed25519, Id::ED25519, 256),
        ] {
            let key = t.generate().unwrap();
            assert_eq!((key.id(), key.bits()), (id, bits), "{t:?}");
        }
    }

    #[test]
    fn pool_fills_hands_out_once_and_falls_back() {
        let pool = KeyPool::start(2, 1).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while pool.ready() < 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_eq!(pool.ready(), 2);
        let a = pool.key(KeyType::Rsa4096).unwrap();
        let b = pool.key(KeyType::Rsa4096).unwrap();
        assert!(!a.public_eq(&b));
        assert_eq!(a.bits(), 4096);
        assert_eq!(pool.key(KeyType::EcP256).unwrap().id(), Id::EC);
    }
}
