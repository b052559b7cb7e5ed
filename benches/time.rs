//! Time operators beside their peers (tokio-stream, futures-time), in one
//! criterion group per workload.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use futures::executor::block_on;
use futures::future::ready;
use futures::stream::{self, Stream, StreamExt};
use std::time::Duration;
use stream_plus::StreamExtPlus;

const BURST: u64 = 1_000_000;
const FAST: u64 = 100_000;

fn count<S: Stream>(s: S) -> impl std::future::Future<Output = u64> {
    s.fold(0u64, |n, _| ready(n + 1))
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A ready burst of 1M items into batches of 100 (the timeout never fires).
fn batch(c: &mut Criterion) {
    let rt = tokio_rt();
    let mut g = c.benchmark_group("batch_100_10ms_ready_1M");
    g.throughput(Throughput::Elements(BURST));
    g.sample_size(20);
    g.bench_function("tokio_stream_chunks_timeout", |b| {
        b.iter(|| {
            rt.block_on(async {
                let s = tokio_stream::StreamExt::chunks_timeout(
                    stream::iter(0..black_box(BURST)),
                    100,
                    Duration::from_millis(10),
                );
                count(Box::pin(s)).await
            })
        })
    });
    g.bench_function("stream_plus_batch_timeout", |b| {
        b.iter(|| {
            let s = stream::iter(0..black_box(BURST)).batch_timeout(100, Duration::from_millis(10));
            rt.block_on(count(s))
        })
    });
    g.finish();
}

/// 50 items spaced 1 ms apart: the wall time shows the timer's overshoot
/// (mean overshoot per gap = time / 49 - 1 ms).
fn spacing(c: &mut Criterion) {
    let rt = tokio_rt();
    let mut g = c.benchmark_group("space_1ms_x50");
    g.sample_size(20);
    g.bench_function("tokio_stream_throttle", |b| {
        b.iter(|| {
            rt.block_on(async {
                let s = tokio_stream::StreamExt::throttle(
                    stream::iter(0..50u32),
                    Duration::from_millis(1),
                );
                count(Box::pin(s)).await
            })
        })
    });
    g.bench_function("stream_plus_space_out", |b| {
        b.iter(|| {
            rt.block_on(count(
                stream::iter(0..50u32).space_out(Duration::from_millis(1)),
            ))
        })
    });
    g.bench_function("stream_plus_space_out_on_block_on", |b| {
        b.iter(|| {
            block_on(count(
                stream::iter(0..50u32).space_out(Duration::from_millis(1)),
            ))
        })
    });
    g.finish();
}

/// A fast source (100k ready items) through operators that drain it: the cost
/// per discarded item.
fn fast_source(c: &mut Criterion) {
    let ft = |ms| futures_time::time::Duration::from_millis(ms);
    let d = Duration::from_millis(10);

    // futures-time's debounce and sample are left out: their semantics differ
    // on this workload (its debounce waits out the window for each item instead
    // of draining, 10 ms per item here; its sample drops the last item when the
    // source ends), so there is no like-for-like number. Ours are measured
    // alone, as the cost per drained item.
    let mut g = c.benchmark_group("debounce_10ms_fast_100k");
    g.throughput(Throughput::Elements(FAST));
    g.bench_function("stream_plus_debounce", |b| {
        b.iter(|| block_on(count(stream::iter(0..black_box(FAST)).debounce(d))))
    });
    g.finish();

    let mut g = c.benchmark_group("throttle_first_10ms_fast_100k");
    g.throughput(Throughput::Elements(FAST));
    g.bench_function("futures_time_throttle", |b| {
        b.iter(|| {
            block_on(count(futures_time::stream::StreamExt::throttle(
                stream::iter(0..black_box(FAST)),
                ft(10),
            )))
        })
    });
    g.bench_function("stream_plus_throttle_first", |b| {
        b.iter(|| block_on(count(stream::iter(0..black_box(FAST)).throttle_first(d))))
    });
    g.finish();

    let mut g = c.benchmark_group("sample_10ms_fast_100k");
    g.throughput(Throughput::Elements(FAST));
    g.bench_function("stream_plus_sample", |b| {
        b.iter(|| block_on(count(stream::iter(0..black_box(FAST)).sample(d))))
    });
    g.finish();
}

/// `sample` draining a ready burst: 1M items at once, then the end. The
/// period is 1 ns, so that futures-time's interval (which has no flush at the
/// end) is due as soon as the burst is drained and both sides measure the
/// drain, not a wait for the tick. Each yields the last item. Every item
/// goes through `black_box`, or the compiler skips futures-time's drain loop
/// over a plain range altogether.
fn sample_burst(c: &mut Criterion) {
    const BURST: u64 = 1_000_000;
    let period = Duration::from_nanos(1);
    let mut g = c.benchmark_group("sample_ready_burst_1M");
    g.throughput(Throughput::Elements(BURST));
    g.sample_size(50);
    g.bench_function("futures_time_sample", |b| {
        b.iter(|| {
            let interval = futures_time::stream::interval(period.into());
            let s = futures_time::stream::StreamExt::sample(
                stream::iter(0..black_box(BURST)).map(std::hint::black_box),
                interval,
            );
            block_on(count(s))
        })
    });
    g.bench_function("stream_plus_sample", |b| {
        b.iter(|| {
            block_on(count(
                stream::iter(0..black_box(BURST))
                    .map(std::hint::black_box)
                    .sample(period),
            ))
        })
    });
    g.finish();
}

criterion_group!(benches, batch, spacing, fast_source, sample_burst);
criterion_main!(benches);
