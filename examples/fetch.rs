//! Fans out 200 simulated HTTP requests over 16 workers, in input order, and
//! compares the wall time with doing them one by one.
//!
//! Run: `cargo run --release --example fetch`

use futures::stream::{self, StreamExt};
use std::time::{Duration, Instant};
use stream_plus::StreamExtPlus;

/// A stand-in for an HTTP GET: waits 5-24 ms, returns a fake body length.
async fn fetch(id: u32) -> (u32, usize) {
    let latency = Duration::from_millis(5 + (id as u64 * 7919) % 20);
    async_io::Timer::after(latency).await;
    (id, 512 + (id as usize * 31) % 2048)
}

fn main() {
    smol::block_on(async {
        let ids = 0..200u32;

        let start = Instant::now();
        let mut total = 0;
        let mut responses = stream::iter(ids.clone()).map_concurrent(16, fetch);
        while let Some((id, len)) = responses.next().await {
            total += len;
            if id % 50 == 0 {
                println!(
                    "response {id:3}: {len} bytes ({} running)",
                    responses.in_flight()
                );
            }
        }
        let concurrent = start.elapsed();

        let start = Instant::now();
        let sequential_total: usize = stream::iter(ids)
            .then(fetch)
            .map(|(_, len)| len)
            .fold(0, |a, b| async move { a + b })
            .await;
        let sequential = start.elapsed();

        assert_eq!(total, sequential_total);
        println!("200 requests, {total} bytes");
        println!("  16 workers: {concurrent:?}");
        println!(
            "  one by one: {sequential:?} ({:.1}x slower)",
            sequential.as_secs_f64() / concurrent.as_secs_f64()
        );
    });
}
