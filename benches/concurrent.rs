//! The concurrent family beside its futures-util peers, in one criterion group
//! per workload so that the report shows the two side by side.

use criterion::measurement::WallTime;
use criterion::{
    black_box, criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use futures::executor::block_on;
use futures::future::{ready, Future};
use futures::stream::{self, StreamExt};
use std::pin::Pin;
use std::time::Duration;
use stream_plus::StreamExtPlus;

const READY_N: u64 = 1_000_000;

fn sum<S: futures::Stream<Item = u64>>(s: S) -> u64 {
    block_on(s.fold(0u64, |acc, x| ready(acc.wrapping_add(x))))
}

/// The first benchmark of a process measured consistently slower here,
/// whichever it was; this burns that in before anything is compared.
fn warm_up(c: &mut Criterion) {
    let mut g = c.benchmark_group("warm_up");
    g.sample_size(10);
    g.bench_function("both", |b| {
        b.iter(|| {
            sum(stream::iter(0..black_box(READY_N)).map(ready).buffered(64))
                + sum(stream::iter(0..black_box(READY_N)).map_concurrent(64, ready))
        })
    });
    g.finish();
}

/// 1M futures that are ready on their first poll: pure adapter overhead.
fn ready_futures(c: &mut Criterion) {
    let mut g = c.benchmark_group("ordered_ready_1M_w64");
    g.throughput(Throughput::Elements(READY_N));
    g.sample_size(20);
    g.bench_function("futures_buffered", |b| {
        b.iter(|| sum(stream::iter(0..black_box(READY_N)).map(ready).buffered(64)))
    });
    g.bench_function("stream_plus_map_concurrent", |b| {
        b.iter(|| sum(stream::iter(0..black_box(READY_N)).map_concurrent(64, ready)))
    });
    g.finish();

    let mut g = c.benchmark_group("unordered_ready_1M_w64");
    g.throughput(Throughput::Elements(READY_N));
    g.sample_size(20);
    g.bench_function("stream_plus_map_concurrent_unordered", |b| {
        b.iter(|| sum(stream::iter(0..black_box(READY_N)).map_concurrent_unordered(64, ready)))
    });
    g.bench_function("futures_buffer_unordered", |b| {
        b.iter(|| {
            sum(stream::iter(0..black_box(READY_N))
                .map(ready)
                .buffer_unordered(64))
        })
    });
    g.finish();
}

type BoxFut = Pin<Box<dyn Future<Output = u64> + Send>>;

/// Item 0 takes 50 ms, the other 399 take 1 ms; 8 workers.
fn slow_head_job(i: u64) -> BoxFut {
    let d = if i == 0 {
        Duration::from_millis(50)
    } else {
        Duration::from_millis(1)
    };
    Box::pin(async move {
        async_io::Timer::after(d).await;
        i
    })
}

fn slow_head(c: &mut Criterion) {
    const N: u64 = 400;
    let mut g = c.benchmark_group("slow_head_n400_w8");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(4));
    g.bench_function("stream_plus_map_concurrent_default", |b| {
        b.iter(|| sum(stream::iter(0..N).map_concurrent(8, slow_head_job)))
    });
    g.bench_function("stream_plus_map_concurrent_reorder_512", |b| {
        b.iter(|| {
            sum(stream::iter(0..N)
                .map_concurrent(8, slow_head_job)
                .reorder_capacity(512))
        })
    });
    g.bench_function("futures_buffered", |b| {
        b.iter(|| sum(stream::iter(0..N).map(slow_head_job).buffered(8)))
    });
    g.finish();
}

/// The sweeps' (order, ours, peer): one criterion group per order.
const SWEPT: [(&str, &str, &str); 2] = [
    ("ordered", "stream_plus_map_concurrent", "futures_buffered"),
    (
        "unordered",
        "stream_plus_map_concurrent_unordered",
        "futures_buffer_unordered",
    ),
];

/// A group for a sweep: many points, so fewer and shorter samples per point.
fn sweep_group(c: &mut Criterion, name: String) -> BenchmarkGroup<'_, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    g
}

/// Ready futures again, across worker counts: does the overhead per item grow
/// with the number of slots?
fn sweep_ready(c: &mut Criterion) {
    const N: u64 = 200_000;
    for (order, ours, peer) in SWEPT {
        let mut g = sweep_group(c, format!("sweep_ready_{order}_200k"));
        g.throughput(Throughput::Elements(N));
        for w in [1usize, 4, 16, 64, 256, 1024] {
            let items = || stream::iter(0..black_box(N));
            g.bench_with_input(BenchmarkId::new(peer, w), &w, |b, &w| match order {
                "ordered" => b.iter(|| sum(items().map(ready).buffered(w))),
                _ => b.iter(|| sum(items().map(ready).buffer_unordered(w))),
            });
            g.bench_with_input(BenchmarkId::new(ours, w), &w, |b, &w| match order {
                "ordered" => b.iter(|| sum(items().map_concurrent(w, ready))),
                _ => b.iter(|| sum(items().map_concurrent_unordered(w, ready))),
            });
        }
        g.finish();
    }
}

/// A future that waits 0.5-1.5 ms on an async-io timer (a stand-in for a
/// network call), so completion order differs from input order.
fn io_job(i: u64) -> BoxFut {
    let d = Duration::from_micros(500 + (i * 7919) % 1000);
    Box::pin(async move {
        async_io::Timer::after(d).await;
        i
    })
}

/// Throughput against the number of workers when every item waits ~1 ms:
/// the scaling curve of BENCHMARKS.md. 40 items per worker, so each run is
/// about 40 waits long whatever the worker count.
fn sweep_latency(c: &mut Criterion) {
    for (order, ours, peer) in SWEPT {
        let mut g = sweep_group(c, format!("sweep_latency_1ms_{order}"));
        for w in [1usize, 4, 16, 64, 256] {
            let n = 40 * w as u64;
            g.throughput(Throughput::Elements(n));
            let run = |s| async_io::block_on(sum_async(s));
            g.bench_with_input(BenchmarkId::new(peer, w), &w, |b, &w| match order {
                "ordered" => b.iter(|| run(stream::iter(0..n).map(io_job).buffered(w).boxed())),
                _ => b.iter(|| run(stream::iter(0..n).map(io_job).buffer_unordered(w).boxed())),
            });
            g.bench_with_input(BenchmarkId::new(ours, w), &w, |b, &w| match order {
                "ordered" => b.iter(|| run(stream::iter(0..n).map_concurrent(w, io_job).boxed())),
                _ => b.iter(|| {
                    run(stream::iter(0..n)
                        .map_concurrent_unordered(w, io_job)
                        .boxed())
                }),
            });
        }
        g.finish();
    }
}

async fn sum_async(s: futures::stream::BoxStream<'static, u64>) -> u64 {
    s.fold(0u64, |acc, x| ready(acc.wrapping_add(x))).await
}

criterion_group!(
    benches,
    warm_up,
    ready_futures,
    slow_head,
    sweep_ready,
    sweep_latency
);
criterion_main!(benches);
