//! The floor: generating the same keys atlas-ca generates, in one process,
//! with nothing else. `bench/compare.sh` runs it beside atlas-ca and other
//! tools; atlas-ca's overhead is its time over this.
//!
//! Usage: `cargo bench --bench keygen -- <key-type> <count> [threads]`;
//! prints the wall-clock seconds.

use std::time::Instant;

use atlas_ca::issuing::KeyType;
use clap::ValueEnum;
use rayon::prelude::*;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let key_type = args
        .first()
        .and_then(|t| KeyType::from_str(t, true).ok())
        .unwrap_or(KeyType::Rsa4096);
    let count: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(10);
    let threads: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    let started = Instant::now();
    pool.install(|| {
        (0..count).into_par_iter().for_each(|_| {
            key_type.generate().expect("key generation");
        });
    });
    println!("{:.4}", started.elapsed().as_secs_f64());
}
