//! The CPU stage: `map_blocking` vs a serial loop, rayon (the limit), and the
//! naive `map(|x| unblock(..)).buffered(W)`, at three sizes of work per item.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use futures::executor::block_on;
use futures::future::ready;
use futures::stream::{self, StreamExt, TryStreamExt};
use rayon::prelude::*;
use std::time::{Duration, Instant};
use stream_plus::{StreamExtPlus, TryStreamExtPlus};

/// Spins the CPU for `d`, then returns something that depends on `x`.
fn spin(x: u64, d: Duration) -> u64 {
    let end = Instant::now() + d;
    let mut h = x;
    while Instant::now() < end {
        h = black_box(
            h.wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407),
        );
    }
    h
}

fn sizes(c: &mut Criterion) {
    for (label, d, n) in [
        ("10us", Duration::from_micros(10), 4000u64),
        ("100us", Duration::from_micros(100), 400),
        ("1ms", Duration::from_millis(1), 40),
    ] {
        let f = move |x: u64| spin(x, d);
        let mut g = c.benchmark_group(format!("cpu_{label}_x{n}"));
        g.throughput(Throughput::Elements(n));
        g.sample_size(10);
        g.bench_function("serial", |b| {
            b.iter(|| (0..n).map(f).fold(0u64, u64::wrapping_add))
        });
        g.bench_function("rayon_par_iter", |b| {
            b.iter(|| {
                (0..n)
                    .into_par_iter()
                    .map(f)
                    .reduce(|| 0, u64::wrapping_add)
            })
        });
        for w in [2usize, 8] {
            g.bench_function(format!("naive_unblock_buffered_{w}"), |b| {
                b.iter(|| {
                    block_on(
                        stream::iter(0..n)
                            .map(|x| blocking::unblock(move || f(x)))
                            .buffered(w)
                            .fold(0u64, |a, x| ready(a.wrapping_add(x))),
                    )
                })
            });
            g.bench_function(format!("stream_plus_map_blocking_{w}"), |b| {
                b.iter(|| {
                    block_on(
                        stream::iter(0..n)
                            .map_blocking(w, f)
                            .fold(0u64, |a, x| ready(a.wrapping_add(x))),
                    )
                })
            });
        }
        g.finish();
    }
}

/// Calls that block rather than compute: 200 items of a 5 ms `thread::sleep`.
/// The ideal wall time is 200 x 5 ms / workers (500, 125 and 31 ms); the naive
/// peer hands each call to the pool on its own.
fn sleeping(c: &mut Criterion) {
    const N: u64 = 200;
    let f = |x: u64| {
        std::thread::sleep(Duration::from_millis(5));
        x
    };
    for w in [2usize, 8, 32] {
        let mut g = c.benchmark_group(format!("sleep_5ms_x{N}_w{w}"));
        g.throughput(Throughput::Elements(N));
        g.sample_size(10);
        g.bench_function("stream_plus_map_blocking_unordered", |b| {
            b.iter(|| {
                block_on(
                    stream::iter(0..N)
                        .map_blocking_unordered(w, f)
                        .fold(0u64, |a, x| ready(a.wrapping_add(x))),
                )
            })
        });
        g.bench_function("naive_unblock_buffer_unordered", |b| {
            b.iter(|| {
                block_on(
                    stream::iter(0..N)
                        .map(|x| blocking::unblock(move || f(x)))
                        .buffer_unordered(w)
                        .fold(0u64, |a, x| ready(a.wrapping_add(x))),
                )
            })
        });
        g.finish();
    }
}

/// The fallible stage: `try_map_blocking` against the naive
/// `map(unblock).try_buffered(w)`, 100 µs of work per item, no error.
fn fallible(c: &mut Criterion) {
    const N: u64 = 400;
    let d = Duration::from_micros(100);
    let f = move |x: u64| -> Result<u64, ()> { Ok(spin(x, d)) };
    let mut g = c.benchmark_group(format!("try_cpu_100us_x{N}"));
    g.throughput(Throughput::Elements(N));
    g.sample_size(10);
    for w in [2usize, 8] {
        g.bench_function(format!("naive_unblock_try_buffered_{w}"), |b| {
            b.iter(|| {
                block_on(
                    stream::iter((0..N).map(Ok::<u64, ()>))
                        .map_ok(|x| blocking::unblock(move || f(x)))
                        .try_buffered(w)
                        .try_fold(0u64, |a, x| ready(Ok(a.wrapping_add(x)))),
                )
            })
        });
        g.bench_function(format!("stream_plus_try_map_blocking_{w}"), |b| {
            b.iter(|| {
                block_on(
                    stream::iter((0..N).map(Ok::<u64, ()>))
                        .try_map_blocking(w, f)
                        .try_fold(0u64, |a, x| ready(Ok(a.wrapping_add(x)))),
                )
            })
        });
    }
    g.finish();
}

criterion_group!(benches, sizes, sleeping, fallible);
criterion_main!(benches);
