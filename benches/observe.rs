//! The cost of an observed point (`observe`), beside the same pipeline
//! without one, in one criterion group per workload:
//!
//! - `observe_ready_1m`: one million ready items through one point (the
//!   per-item cost, each item through `black_box` on both sides so that
//!   neither loop is folded away; the clock is read for one item in 256 of a
//!   ready run);
//! - `observe_stage_3x1us_20k`: a three-stage `stage` pipeline whose stages
//!   each spend 1 µs of CPU per item, with a point after each stage;
//! - `observe_stall_40`: the stall workload of `benches/stage.rs` (timers),
//!   with a point after each stage.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use futures::future::ready;
use futures::stream::{self, StreamExt};
use std::time::{Duration, Instant};
use stream_plus::{Stats, StreamExtPlus};

fn ready_items(c: &mut Criterion) {
    const ITEMS: u64 = 1_000_000;
    let mut g = c.benchmark_group("observe_ready_1m");
    g.throughput(Throughput::Elements(ITEMS));
    g.sample_size(30);
    g.bench_function("without_a_point", |b| {
        b.iter(|| {
            futures::executor::block_on(
                stream::iter(0..black_box(ITEMS))
                    .map(black_box)
                    .fold(0u64, |a, x| ready(a.wrapping_add(x))),
            )
        })
    });
    g.bench_function("stream_plus_observe_one_point", |b| {
        let stats = Stats::new();
        b.iter(|| {
            futures::executor::block_on(
                stream::iter(0..black_box(ITEMS))
                    .map(black_box)
                    .observe(&stats, "ready")
                    .fold(0u64, |a, x| ready(a.wrapping_add(x))),
            )
        })
    });
    g.finish();
}

/// 1 µs of CPU.
fn spin(x: u64) -> u64 {
    let start = Instant::now();
    while start.elapsed() < Duration::from_micros(1) {
        std::hint::spin_loop();
    }
    x
}

fn three_stages(c: &mut Criterion) {
    const ITEMS: u64 = 20_000;
    let mut g = c.benchmark_group("observe_stage_3x1us_20k");
    g.throughput(Throughput::Elements(ITEMS));
    g.sample_size(20);
    g.bench_function("without_points", |b| {
        b.iter(|| {
            futures::executor::block_on(
                stream::iter(0..black_box(ITEMS))
                    .map(spin)
                    .stage(64, |s| s.map(spin).stage(64, |s| s.map(spin)))
                    .fold(0u64, |a, x| ready(a.wrapping_add(x))),
            )
        })
    });
    g.bench_function("stream_plus_observe_a_point_per_stage", |b| {
        let stats = Stats::new();
        b.iter(|| {
            futures::executor::block_on(
                stream::iter(0..black_box(ITEMS))
                    .map(spin)
                    .observe(&stats, "one")
                    .stage(64, |s| {
                        s.map(spin)
                            .observe(&stats, "two")
                            .stage(64, |s| s.map(spin).observe(&stats, "three"))
                    })
                    .fold(0u64, |a, x| ready(a.wrapping_add(x))),
            )
        })
    });
    g.finish();
}

#[path = "support/stall.rs"]
mod stall;
use stall::{fetch, parse, N};

fn stall(c: &mut Criterion) {
    let mut g = c.benchmark_group(format!("observe_stall_{N}"));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(6));
    g.warm_up_time(Duration::from_millis(500));
    g.bench_function("without_points", |b| {
        b.iter(|| {
            futures::executor::block_on(
                stream::iter(0..N)
                    .map_concurrent(2, fetch)
                    .stage(4, |s| s.map_concurrent(1, parse))
                    .fold(0, |a, x| ready(a + x)),
            )
        })
    });
    g.bench_function("stream_plus_observe_a_point_per_stage", |b| {
        let stats = Stats::new();
        b.iter(|| {
            futures::executor::block_on(
                stream::iter(0..N)
                    .map_concurrent(2, fetch)
                    .observe(&stats, "fetch")
                    .stage(4, |s| s.map_concurrent(1, parse).observe(&stats, "parse"))
                    .fold(0, |a, x| ready(a + x)),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, ready_items, three_stages, stall);
criterion_main!(benches);
