//! The concurrent family beside its peers, in one criterion group per
//! workload so that the report shows them side by side: futures-util's
//! `buffered` / `buffer_unordered` (`futures_*`) and, for the ready and
//! self-waking workloads, the futures-buffered crate's `buffered_ordered` /
//! `buffered_unordered` (`fb_*`), which allocates nothing per item either.

use criterion::measurement::WallTime;
use criterion::{
    black_box, criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use futures::executor::block_on;
use futures::future::{ready, Future};
use futures::stream::{self, StreamExt};
use futures_buffered::BufferedStreamExt;
use std::pin::Pin;
use std::time::Duration;
use stream_plus::StreamExtPlus;

#[path = "support/counting.rs"]
mod counting;
#[path = "support/self_waking.rs"]
mod self_waking;
use counting::allocations;
use self_waking::self_waking;

#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

const READY_N: u64 = 1_000_000;
const SELF_WAKING_N: u64 = 300_000;

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

/// One workload, ordered and unordered, each in a criterion group of its own
/// beside its two peers (`{order}_{workload}_w64`), over `n` items mapped by
/// `job`. First prints the allocations per item of each side (one untimed run
/// each), next to criterion's timings.
fn map_workload<Fut>(c: &mut Criterion, workload: &str, n: u64, job: fn(u64) -> Fut)
where
    Fut: Future<Output = u64>,
{
    let items = move || stream::iter(0..black_box(n));
    let ordered_peer = || sum(items().map(job).buffered(64));
    let ordered_ours = || sum(items().map_concurrent(64, job));
    let unordered_peer = || sum(items().map(job).buffer_unordered(64));
    let unordered_ours = || sum(items().map_concurrent_unordered(64, job));
    let ordered_fb = || sum(items().map(job).buffered_ordered(64));
    let unordered_fb = || sum(items().map(job).buffered_unordered(64));

    let sides: [(&str, &str, &dyn Fn() -> u64); 6] = [
        ("ordered", "futures_buffered", &ordered_peer),
        ("ordered", "fb_buffered_ordered", &ordered_fb),
        ("ordered", "stream_plus_map_concurrent", &ordered_ours),
        ("unordered", "futures_buffer_unordered", &unordered_peer),
        ("unordered", "fb_buffered_unordered", &unordered_fb),
        (
            "unordered",
            "stream_plus_map_concurrent_unordered",
            &unordered_ours,
        ),
    ];
    for (order, name, run) in sides {
        let (_, count) = allocations(run);
        println!(
            "{order}_{workload}_w64/{name}: allocations per item {:.3}",
            count as f64 / n as f64
        );
    }

    let mut g = c.benchmark_group(format!("ordered_{workload}_w64"));
    g.throughput(Throughput::Elements(n));
    g.sample_size(20);
    g.bench_function("futures_buffered", |b| b.iter(ordered_peer));
    g.bench_function("fb_buffered_ordered", |b| b.iter(ordered_fb));
    g.bench_function("stream_plus_map_concurrent", |b| b.iter(ordered_ours));
    g.finish();

    let mut g = c.benchmark_group(format!("unordered_{workload}_w64"));
    g.throughput(Throughput::Elements(n));
    g.sample_size(20);
    g.bench_function("stream_plus_map_concurrent_unordered", |b| {
        b.iter(unordered_ours)
    });
    g.bench_function("futures_buffer_unordered", |b| b.iter(unordered_peer));
    g.bench_function("fb_buffered_unordered", |b| b.iter(unordered_fb));
    g.finish();
}

/// 1M futures that are ready on their first poll: pure adapter overhead.
fn ready_futures(c: &mut Criterion) {
    map_workload(c, "ready_1M", READY_N, ready);
}

/// 300k futures that return `Pending` 0-2 times before they finish, waking
/// themselves: the wake-up path (waker, ready queue, re-poll) per item.
fn self_waking_futures(c: &mut Criterion) {
    map_workload(c, "self_waking_300k", SELF_WAKING_N, self_waking);
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

/// Where I/O dominates: 1,000 futures that each wait 10 ms on a timer, 50 at
/// once; ideal 200 ms, efficiency = 200 ms / wall. Timers from async-io (the
/// crate's own time source) on every executor: tokio's `sleep` rounds each
/// 10 ms up to about 11 ms, for ours and the peer alike, which would hide the
/// adapter's share.
fn timers(c: &mut Criterion) {
    const N: u64 = 1000;
    const W: usize = 50;
    async fn wait(i: u64) -> u64 {
        async_io::Timer::after(Duration::from_millis(10)).await;
        i
    }
    fn on<F: Future<Output = u64>>(rt: &str, f: F) -> u64 {
        match rt {
            "futures" => block_on(f),
            "smol" => smol::block_on(f),
            _ => tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(f),
        }
    }
    let total = |s: futures::stream::BoxStream<'static, u64>| s.fold(0u64, |a, x| ready(a + x));
    for rt in ["futures", "smol", "tokio_current_thread"] {
        for order in ["ordered", "unordered"] {
            let mut g = c.benchmark_group(format!("{order}_timers_1000x10ms_w50_{rt}"));
            g.throughput(Throughput::Elements(N));
            g.sample_size(10);
            g.warm_up_time(Duration::from_millis(500));
            g.measurement_time(Duration::from_secs(3));
            let items = move || stream::iter(0..N);
            if order == "ordered" {
                g.bench_function("stream_plus_map_concurrent", |b| {
                    b.iter(|| on(rt, total(items().map_concurrent(W, wait).boxed())))
                });
                g.bench_function("futures_buffered", |b| {
                    b.iter(|| on(rt, total(items().map(wait).buffered(W).boxed())))
                });
            } else {
                g.bench_function("stream_plus_map_concurrent_unordered", |b| {
                    b.iter(|| on(rt, total(items().map_concurrent_unordered(W, wait).boxed())))
                });
                g.bench_function("futures_buffer_unordered", |b| {
                    b.iter(|| on(rt, total(items().map(wait).buffer_unordered(W).boxed())))
                });
            }
            g.finish();
        }
    }
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

/// Ready and self-waking futures again, across worker counts, beside both
/// peers: does the overhead per item grow with the number of slots?
fn sweep_ready(c: &mut Criterion) {
    sweep(c, "ready", ready);
    sweep(c, "self_waking", self_waking);
}

fn sweep<Fut: Future<Output = u64>>(c: &mut Criterion, workload: &str, job: fn(u64) -> Fut) {
    const N: u64 = 200_000;
    for (order, ours, peer) in SWEPT {
        let mut g = sweep_group(c, format!("sweep_{workload}_{order}_200k"));
        g.throughput(Throughput::Elements(N));
        let fb = if order == "ordered" {
            "fb_buffered_ordered"
        } else {
            "fb_buffered_unordered"
        };
        for w in [1usize, 8, 64, 256, 1024] {
            let items = || stream::iter(0..black_box(N));
            g.bench_with_input(BenchmarkId::new(peer, w), &w, |b, &w| match order {
                "ordered" => b.iter(|| sum(items().map(job).buffered(w))),
                _ => b.iter(|| sum(items().map(job).buffer_unordered(w))),
            });
            g.bench_with_input(BenchmarkId::new(fb, w), &w, |b, &w| match order {
                "ordered" => b.iter(|| sum(items().map(job).buffered_ordered(w))),
                _ => b.iter(|| sum(items().map(job).buffered_unordered(w))),
            });
            g.bench_with_input(BenchmarkId::new(ours, w), &w, |b, &w| match order {
                "ordered" => b.iter(|| sum(items().map_concurrent(w, job))),
                _ => b.iter(|| sum(items().map_concurrent_unordered(w, job))),
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
    self_waking_futures,
    slow_head,
    timers,
    sweep_ready,
    sweep_latency
);
criterion_main!(benches);
