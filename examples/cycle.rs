//! Pure-Rust twin of the benchmark's uncontended cycle: the same protocol
//! code (acquire + release on a free name) without the N-API boundary.
//!
//! `cargo run --release --example cycle -- <uri> <cycles>` prints one JSON
//! line with the median and p99 of a cycle in microseconds.

use std::time::Instant;

use mongoose_distributed_lock::client_options::ClientSpec;
use mongoose_distributed_lock::protocol::{Holding, Locks, Outcome, Target};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let uri = args.next().expect("usage: cycle <uri> [cycles]");
    let cycles: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(500);
    let target = Target {
        client: ClientSpec::from_uri(uri),
        ..Default::default()
    };
    let locks = Locks::open(&target).await.expect("connect");
    let name = format!("rust-cycle-{}", std::process::id());
    // Warm up: index, clock, pooled connection.
    for _ in 0..20 {
        cycle(&locks, &name).await;
    }
    let mut micros = Vec::with_capacity(cycles);
    for _ in 0..cycles {
        let started = Instant::now();
        cycle(&locks, &name).await;
        micros.push(started.elapsed().as_secs_f64() * 1e6);
    }
    micros.sort_by(f64::total_cmp);
    let at = |q: f64| micros[((micros.len() - 1) as f64 * q).round() as usize];
    println!(
        "{{\"cycles\":{cycles},\"medianUs\":{:.1},\"p99Us\":{:.1}}}",
        at(0.5),
        at(0.99)
    );
}

async fn cycle(locks: &Locks, name: &str) {
    let Outcome::Acquired(held) = locks.acquire(name, 60_000, &[], None).await.unwrap() else {
        panic!("the name is free");
    };
    let holding = Holding {
        lock_id: held.lock_id,
        name,
        expire_ms: Some(held.expire_ms),
    };
    locks.release(holding, false).await.unwrap();
}
