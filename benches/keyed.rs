//! Keyed concurrency beside what users write without it: N hash lanes, each
//! run one item at a time, merged with `select_all` (the lanes are handed over
//! pre-partitioned, for free).
//!
//! 2,000 items over 50 keys, each awaiting a 1 ms timer, 16 workers / lanes.
//! Efficiency = ideal / wall, ideal = max(N / W, busiest key) x 1 ms.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use futures::executor::block_on;
use futures::future::ready;
use futures::stream::{self, StreamExt};
use std::time::Duration;
use stream_plus::StreamExtPlus;

const N: u64 = 2_000;
const KEYS: u64 = 50;
const W: usize = 16;

/// Deterministic pseudo-random keys.
fn items() -> Vec<(u64, u64)> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    (0..N)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % KEYS, i)
        })
        .collect()
}

async fn handle((key, i): (u64, u64)) -> u64 {
    async_io::Timer::after(Duration::from_millis(1)).await;
    key ^ i
}

fn timers(c: &mut Criterion) {
    let items = items();
    let busiest = (0..KEYS)
        .map(|k| items.iter().filter(|(key, _)| *key == k).count())
        .max()
        .unwrap();
    println!(
        "keyed bench: ideal = max({} / {W}, busiest key {busiest}) x 1 ms = {} ms",
        N,
        (N as usize / W).max(busiest)
    );
    let mut g = c.benchmark_group("keyed_2000_items_50_keys_1ms_w16");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N));
    g.bench_function("stream_plus_map_concurrent_by_key_unordered", |b| {
        b.iter(|| {
            block_on(
                stream::iter(items.clone())
                    .map_concurrent_by_key_unordered(W, |(k, _)| *k, handle)
                    .fold(0u64, |a, x| ready(a ^ x)),
            )
        })
    });
    g.bench_function("stream_plus_map_concurrent_by_key", |b| {
        b.iter(|| {
            block_on(
                stream::iter(items.clone())
                    .map_concurrent_by_key(W, |(k, _)| *k, handle)
                    .fold(0u64, |a, x| ready(a ^ x)),
            )
        })
    });
    g.bench_function("hash_lanes_select_all", |b| {
        b.iter(|| {
            let mut lanes = vec![Vec::new(); W];
            for item in items.iter().copied() {
                lanes[(item.0 % W as u64) as usize].push(item);
            }
            let lanes = lanes
                .into_iter()
                .map(|lane| stream::iter(lane).then(handle).boxed());
            block_on(stream::select_all(lanes).fold(0u64, |a, x| ready(a ^ x)))
        })
    });
    g.finish();
}

/// Per-item cost on ready futures: the keyed engine against `map_concurrent`.
fn ready_futures(c: &mut Criterion) {
    const READY: u64 = 200_000;
    let mut g = c.benchmark_group("keyed_ready_200k_w16");
    g.throughput(Throughput::Elements(READY));
    g.sample_size(20);
    g.bench_function("stream_plus_map_concurrent", |b| {
        b.iter(|| {
            block_on(
                stream::iter(0..black_box(READY))
                    .map_concurrent(W, ready)
                    .fold(0u64, |a, x| ready(a.wrapping_add(x))),
            )
        })
    });
    g.bench_function("stream_plus_map_concurrent_by_key", |b| {
        b.iter(|| {
            block_on(
                stream::iter(0..black_box(READY))
                    .map_concurrent_by_key(W, |x| x % KEYS, ready)
                    .fold(0u64, |a, x| ready(a.wrapping_add(x))),
            )
        })
    });
    g.bench_function("stream_plus_map_concurrent_by_key_unordered", |b| {
        b.iter(|| {
            block_on(
                stream::iter(0..black_box(READY))
                    .map_concurrent_by_key_unordered(W, |x| x % KEYS, ready)
                    .fold(0u64, |a, x| ready(a.wrapping_add(x))),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, timers, ready_futures);
criterion_main!(benches);
