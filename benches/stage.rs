//! `stage` beside what it replaces: the plain futures-util chain, the same
//! boundary written by hand (a channel and a `join`), and stage 1 spawned on
//! the runtime behind a bounded channel.
//!
//! The stall workload: stage 1 runs 2 at once and each item awaits three 5 ms
//! timers; stage 2 runs 1 at once and each item awaits one 10 ms timer. Stage 2
//! is the bottleneck, so the ideal is N x 10 ms; efficiency = ideal / wall.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use futures::future::{join, ready};
use futures::stream::{self, StreamExt};
use futures::SinkExt;
use std::future::Future;
use std::time::Duration;
use stream_plus::StreamExtPlus;

#[path = "support/stall.rs"]
mod stall;
use stall::{fetch, parse, N};

async fn plain_chain() -> u64 {
    stream::iter(0..N)
        .map(fetch)
        .buffered(2)
        .map(parse)
        .buffered(1)
        .fold(0, |a, x| ready(a + x))
        .await
}

async fn staged() -> u64 {
    stream::iter(0..N)
        .map_concurrent(2, fetch)
        .stage(4, |s| s.map_concurrent(1, parse))
        .fold(0, |a, x| ready(a + x))
        .await
}

async fn decouple_join() -> u64 {
    let (rx, driver) = stream::iter(0..N).map_concurrent(2, fetch).decouple(4);
    let consume = rx.map_concurrent(1, parse).fold(0, |a, x| ready(a + x));
    join(consume, driver).await.0
}

fn on<F: Future<Output = u64>>(rt: &str, f: impl Fn() -> F) -> u64 {
    match rt {
        "futures" => futures::executor::block_on(f()),
        "smol" => smol::block_on(f()),
        _ => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f()),
    }
}

fn stall(c: &mut Criterion) {
    for rt in ["futures", "smol", "tokio_current_thread"] {
        let mut g = c.benchmark_group(format!("stall_{N}_items_{rt}"));
        g.sample_size(10);
        g.measurement_time(Duration::from_secs(6));
        g.warm_up_time(Duration::from_millis(500));
        g.bench_function("stream_plus_stage", |b| b.iter(|| on(rt, staged)));
        g.bench_function("futures_plain_chain", |b| b.iter(|| on(rt, plain_chain)));
        g.bench_function("decouple_join_by_hand", |b| {
            b.iter(|| on(rt, decouple_join))
        });
        match rt {
            "smol" => g.bench_function("smol_spawn_async_channel_4", |b| {
                b.iter(|| {
                    smol::block_on(async {
                        let (tx, rx) = async_channel::bounded(4);
                        let task = smol::spawn(async move {
                            let mut s = std::pin::pin!(stream::iter(0..N).map(fetch).buffered(2));
                            while let Some(x) = s.next().await {
                                tx.send(x).await.unwrap();
                            }
                        });
                        let sum = rx.map(parse).buffered(1).fold(0, |a, x| ready(a + x)).await;
                        task.await;
                        sum
                    })
                })
            }),
            "tokio_current_thread" => g.bench_function("tokio_spawn_mpsc_4", |b| {
                b.iter(|| {
                    on(rt, || async {
                        let (tx, rx) = tokio::sync::mpsc::channel(4);
                        let task = tokio::spawn(async move {
                            let mut s = std::pin::pin!(stream::iter(0..N).map(fetch).buffered(2));
                            while let Some(x) = s.next().await {
                                tx.send(x).await.unwrap();
                            }
                        });
                        let sum = tokio_stream::wrappers::ReceiverStream::new(rx)
                            .map(parse)
                            .buffered(1)
                            .fold(0, |a, x| ready(a + x))
                            .await;
                        task.await.unwrap();
                        sum
                    })
                })
            }),
            _ => &mut g,
        };
        g.finish();
    }
}

/// Per-item cost of one boundary over ready items, on futures::executor.
fn ready_items(c: &mut Criterion) {
    const ITEMS: u64 = 200_000;
    let mut g = c.benchmark_group("boundary_ready_200k_buffer64");
    g.throughput(Throughput::Elements(ITEMS));
    g.sample_size(20);
    g.bench_function("stream_plus_stage", |b| {
        b.iter(|| {
            futures::executor::block_on(
                stream::iter(0..black_box(ITEMS))
                    .map(|x| x + 1)
                    .stage(64, |s| s.map(|x| x * 2))
                    .fold(0u64, |a, x| ready(a.wrapping_add(x))),
            )
        })
    });
    g.bench_function("futures_mpsc_channel_join", |b| {
        b.iter(|| {
            futures::executor::block_on(async {
                let (mut tx, rx) = futures::channel::mpsc::channel(64);
                let forward = async move {
                    let mut items = stream::iter(0..black_box(ITEMS)).map(|x| Ok(x + 1));
                    tx.send_all(&mut items).await.unwrap();
                };
                let consume = rx
                    .map(|x: u64| x * 2)
                    .fold(0u64, |a, x| ready(a.wrapping_add(x)));
                join(forward, consume).await.1
            })
        })
    });
    g.finish();
}

criterion_group!(benches, ready_items, stall);
criterion_main!(benches);
