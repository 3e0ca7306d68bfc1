//! The floor: generating the same keys atlas-ca generates, in one process,
//! with nothing else. `bench/compare.sh` runs it beside atlas-ca and other
//! tools; atlas-ca's overhead is its time over this.
//!
//! Usage: `cargo bench --bench keygen -- <key-type> <count> [threads] [mode]`
//! on a pool of `threads` threads; prints the wall-clock seconds. Modes:
//! `parallel` (default) generates the keys side by side, as `fixtures`
//! does; `serial` one at a time, each spread over the pool, as one
//! `atlas-ca` process does; `openssl` one at a time with OpenSSL's own
//! `RSA_generate_key` (RSA types only), the reference atlas-ca's RSA
//! generator is measured against.

use std::time::Instant;

use atlas_ca::__private::generate_key;
use atlas_ca::KeyType;
use openssl::rsa::Rsa;
use rayon::prelude::*;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let key_type = args
        .first()
        .and_then(|t| t.parse::<KeyType>().ok())
        .unwrap_or(KeyType::Rsa4096);
    let count: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(10);
    let threads: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    let mode = args.get(3).map_or("parallel", String::as_str);
    let generate = || match mode {
        "openssl" => {
            let bits = key_type
                .rsa_bits()
                .expect("the openssl mode is for RSA key types");
            Rsa::generate(bits).expect("key generation");
        }
        _ => {
            generate_key(key_type).expect("key generation");
        }
    };
    let started = Instant::now();
    pool.install(|| match mode {
        "parallel" => (0..count).into_par_iter().for_each(|_| generate()),
        _ => (0..count).for_each(|_| generate()),
    });
    println!("{:.4}", started.elapsed().as_secs_f64());
}
