//! Fan-in and fan-out beside their peers, one criterion group per workload.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use futures::executor::block_on;
use futures::future::ready;
use futures::stream::{self, BoxStream, Stream, StreamExt};
use stream_plus::StreamExtPlus;

fn count<S: Stream>(s: S) -> impl std::future::Future<Output = u64> {
    s.fold(0u64, |n, _| ready(n + 1))
}

/// 1,024 streams of 100 ready items each.
fn many_ready(c: &mut Criterion) {
    let make = || (0..1024u32).map(|_| stream::iter(0..100u32));
    let mut g = c.benchmark_group("merge_1024_ready_streams");
    g.throughput(Throughput::Elements(102_400));
    g.bench_function("futures_select_all", |b| {
        b.iter(|| block_on(count(stream::select_all(make()))))
    });
    g.bench_function("stream_plus_merge_all", |b| {
        b.iter(|| block_on(count(stream_plus::merge_all(make()))))
    });
    g.finish();
}

/// `idle` streams that never yield, plus one that yields 10,000 items. The
/// first poll (which must poll every new stream once) happens in the setup;
/// what is timed is the cost of the active stream's items.
fn idle_plus_one(c: &mut Criterion) {
    for idle in [100usize, 10_000] {
        let make = move || {
            let mut v: Vec<BoxStream<'static, u32>> =
                (0..idle).map(|_| stream::pending().boxed()).collect();
            v.push(stream::iter(0..10_001u32).boxed());
            v
        };
        let mut g = c.benchmark_group(format!("merge_{idle}_idle_plus_1_active"));
        g.throughput(Throughput::Elements(10_000));
        g.bench_function("futures_select_all", |b| {
            b.iter_batched(
                || {
                    let mut s = stream::select_all(make());
                    block_on(s.next());
                    s
                },
                // Returned, so that dropping 10,000 streams is not timed.
                |mut s| {
                    block_on(count(s.by_ref().take(10_000)));
                    s
                },
                BatchSize::LargeInput,
            )
        });
        g.bench_function("stream_plus_merge_all", |b| {
            b.iter_batched(
                || {
                    let mut s = stream_plus::merge_all(make());
                    block_on(s.next());
                    s
                },
                // Returned, so that dropping 10,000 streams is not timed.
                |mut s| {
                    block_on(count(s.by_ref().take(10_000)));
                    s
                },
                BatchSize::LargeInput,
            )
        });
        g.finish();
    }
}

const ITEMS: u64 = 100_000;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// The same 100,000 items to two consumer tasks, 64 items of slack.
fn broadcast(c: &mut Criterion) {
    let rt = rt();
    let mut g = c.benchmark_group("broadcast_2_consumers_100k");
    g.throughput(Throughput::Elements(ITEMS));
    g.bench_function("tokio_sync_broadcast", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (tx, _) = tokio::sync::broadcast::channel::<u64>(64);
                let consumers: Vec<_> = (0..2)
                    .map(|_| {
                        let mut rx = tx.subscribe();
                        tokio::spawn(async move {
                            let mut n = 0u64;
                            while rx.recv().await.is_ok() {
                                n += 1;
                            }
                            n
                        })
                    })
                    .collect();
                for i in 0..ITEMS {
                    tx.send(i).unwrap();
                    // Let the consumers catch up before the channel would lag.
                    if i % 32 == 31 {
                        tokio::task::yield_now().await;
                    }
                }
                drop(tx);
                for c in consumers {
                    assert_eq!(c.await.unwrap(), ITEMS);
                }
            })
        })
    });
    g.bench_function("stream_plus_broadcast", |b| {
        b.iter(|| {
            rt.block_on(async {
                let consumers: Vec<_> = stream::iter(0..ITEMS)
                    .broadcast(2, 64)
                    .into_iter()
                    .map(|c| tokio::spawn(count(c)))
                    .collect();
                for c in consumers {
                    assert_eq!(c.await.unwrap(), ITEMS);
                }
            })
        })
    });
    g.finish();
}

/// 100,000 items shared out to 4 consumer tasks.
fn balance(c: &mut Criterion) {
    let rt = rt();
    let mut g = c.benchmark_group("balance_4_consumers_100k");
    g.throughput(Throughput::Elements(ITEMS));
    g.bench_function("async_channel_mpmc", |b| {
        b.iter(|| {
            rt.block_on(async {
                let (tx, rx) = async_channel::bounded::<u64>(64);
                let consumers: Vec<_> = (0..4).map(|_| tokio::spawn(count(rx.clone()))).collect();
                drop(rx);
                tokio::spawn(async move {
                    for i in 0..ITEMS {
                        tx.send(i).await.unwrap();
                    }
                });
                let mut total = 0;
                for c in consumers {
                    total += c.await.unwrap();
                }
                assert_eq!(total, ITEMS);
            })
        })
    });
    g.bench_function("stream_plus_balance", |b| {
        b.iter(|| {
            rt.block_on(async {
                let first = stream::iter(0..ITEMS).balance();
                let consumers: Vec<_> =
                    (0..4).map(|_| tokio::spawn(count(first.clone()))).collect();
                drop(first);
                let mut total = 0;
                for c in consumers {
                    total += c.await.unwrap();
                }
                assert_eq!(total, ITEMS);
            })
        })
    });
    g.finish();
}

/// A channel fed by a task, read by 4 consumers: through one `balance` of
/// one receiver, or (the peer) by 4 clones of the receiver. Counted once with
/// a probe on this 2-core machine, the channel is seldom empty: 261 wake-ups
/// of the source for 100,000 items, so what this measures is the cost per
/// item (`balance` receives from the same channel the peer does, plus one
/// lock), not the wake-ups of waiting clones.
fn balance_waiting(c: &mut Criterion) {
    let rt = rt();
    let mut g = c.benchmark_group("balance_4_waiting_consumers_100k");
    g.throughput(Throughput::Elements(ITEMS));
    let fed = || {
        let (tx, rx) = async_channel::bounded::<u64>(64);
        tokio::spawn(async move {
            for i in 0..ITEMS {
                tx.send(i).await.unwrap();
            }
        });
        rx
    };
    g.bench_function("async_channel_4_receivers", |b| {
        b.iter(|| {
            rt.block_on(async {
                let rx = fed();
                let consumers: Vec<_> = (0..4).map(|_| tokio::spawn(count(rx.clone()))).collect();
                drop(rx);
                let mut total = 0;
                for c in consumers {
                    total += c.await.unwrap();
                }
                assert_eq!(total, ITEMS);
            })
        })
    });
    g.bench_function("stream_plus_balance_of_the_channel", |b| {
        b.iter(|| {
            rt.block_on(async {
                let first = fed().balance();
                let consumers: Vec<_> =
                    (0..4).map(|_| tokio::spawn(count(first.clone()))).collect();
                drop(first);
                let mut total = 0;
                for c in consumers {
                    total += c.await.unwrap();
                }
                assert_eq!(total, ITEMS);
            })
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    many_ready,
    idle_plus_one,
    broadcast,
    balance,
    balance_waiting
);
criterion_main!(benches);
