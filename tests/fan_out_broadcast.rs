//! `broadcast`: every consumer sees every item in order; the lead of the
//! fastest over the slowest never exceeds `capacity`.

mod support;

use futures::stream::{self, FusedStream, Stream, StreamExt};
use futures_test::stream::StreamTestExt;
use proptest::prelude::*;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use stream_plus::StreamExtPlus;
use support::{matrix_test, on_every_executor, Script};

/// A small deterministic RNG for per-item delays.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_consumer_sees_every_item(items in prop::collection::vec(any::<u16>(), 0..100), n in 1usize..5, cap in 1usize..6) {
        on_every_executor(|| {
            let items = items.clone();
            async move {
                let consumers = stream::iter(items.clone()).interleave_pending().broadcast(n, cap);
                let outs = futures::future::join_all(consumers.into_iter().map(|c| c.collect::<Vec<u16>>())).await;
                for out in outs {
                    assert_eq!(out, items);
                }
            }
        });
    }
}

/// Exact bound, polled by hand: the fast consumer gets exactly `capacity`
/// items ahead, then waits until the slow one moves.
#[test]
fn fast_consumer_waits_at_exactly_capacity() {
    let (waker, woken) = futures_test::task::new_count_waker();
    let mut cx = Context::from_waker(&waker);
    let mut consumers = stream::iter(0..100u32).broadcast(2, 3);
    let mut slow = consumers.pop().unwrap();
    let mut fast = consumers.pop().unwrap();
    for i in 0..3 {
        assert_eq!(fast.poll_next_unpin(&mut cx), Poll::Ready(Some(i)));
    }
    assert_eq!(fast.poll_next_unpin(&mut cx), Poll::Pending);
    let before = woken.get();
    assert_eq!(slow.poll_next_unpin(&mut cx), Poll::Ready(Some(0)));
    assert!(woken.get() > before, "the waiting fast consumer is woken");
    assert_eq!(fast.poll_next_unpin(&mut cx), Poll::Ready(Some(3)));
    assert_eq!(fast.poll_next_unpin(&mut cx), Poll::Pending);
    // The slow one goes: the fast one is free.
    drop(slow);
    for i in 4..100 {
        assert_eq!(fast.poll_next_unpin(&mut cx), Poll::Ready(Some(i)));
    }
    assert_eq!(fast.poll_next_unpin(&mut cx), Poll::Ready(None));
    assert!(fast.is_terminated());
}

/// Real parallelism: consumers on separate tasks of a 4-worker runtime,
/// random per-item delays, 100,000 items, several seeds; one consumer drops
/// out half-way.
#[test]
fn stress_on_a_multi_thread_runtime() {
    const N: u64 = 100_000;
    const CAP: usize = 16;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    for seed in 1..=4u64 {
        rt.block_on(async move {
            let consumers = stream::iter(0..N).broadcast(4, CAP);
            let counts: Arc<Vec<AtomicU64>> = Arc::new((0..4).map(|_| AtomicU64::new(0)).collect());
            let gone: Arc<Vec<AtomicBool>> =
                Arc::new((0..4).map(|_| AtomicBool::new(false)).collect());
            let tasks: Vec<_> = consumers
                .into_iter()
                .enumerate()
                .map(|(id, mut c)| {
                    let (counts, gone) = (counts.clone(), gone.clone());
                    tokio::spawn(async move {
                        let mut rng = seed * 7919 + id as u64;
                        let mut expected = 0;
                        while let Some(x) = c.next().await {
                            assert_eq!(x, expected, "consumer {id} out of order");
                            expected += 1;
                            counts[id].store(expected, SeqCst);
                            // Lead over every live consumer; +1 because a
                            // consumer's count is stored just after it took an item.
                            for other in 0..4 {
                                if !gone[other].load(SeqCst) {
                                    let lead = expected.saturating_sub(counts[other].load(SeqCst));
                                    assert!(
                                        lead <= CAP as u64 + 1,
                                        "lead {lead} over consumer {other}"
                                    );
                                }
                            }
                            let r = xorshift(&mut rng);
                            if r % 8 == 0 {
                                tokio::task::yield_now().await;
                            }
                            if id == 3 && expected == N / 2 {
                                gone[id].store(true, SeqCst);
                                return expected;
                            }
                        }
                        expected
                    })
                })
                .collect();
            let results = futures::future::join_all(tasks).await;
            let results: Vec<u64> = results.into_iter().map(Result::unwrap).collect();
            assert_eq!(results, [N, N, N, N / 2]);
        });
    }
}

matrix_test! {
    async fn dropped_consumer_does_not_stall_the_rest() {
        let mut consumers = Script::items(0..1000u32).broadcast(3, 2);
        drop(consumers.pop());
        let outs = futures::future::join_all(consumers.into_iter().map(|c| c.collect::<Vec<u32>>())).await;
        for out in outs {
            assert_eq!(out, (0..1000).collect::<Vec<_>>());
        }
    }

    async fn fused_after_end() {
        let mut consumers = Script::items([1u8]).broadcast(1, 1);
        let mut c = consumers.pop().unwrap();
        assert_eq!(c.next().await, Some(1));
        assert_eq!(c.next().await, None);
        assert!(c.is_terminated());
        assert_eq!(c.next().await, None);
    }

    async fn dropping_all_consumers_drops_the_source_and_buffer() {
        let a = Arc::new(());
        let consumers = stream::iter(vec![a.clone(); 3]).broadcast(2, 4);
        let mut consumers = consumers.into_iter();
        let mut first = consumers.next().unwrap();
        assert!(first.next().await.is_some());
        drop(first);
        drop(consumers);
        assert_eq!(Arc::strong_count(&a), 1);
    }

    #[should_panic(expected = "broadcast: consumers must be at least 1")]
    async fn zero_consumers_panics() {
        let _ = stream::iter([1]).broadcast(0, 1);
    }

    #[should_panic(expected = "broadcast: capacity must be at least 1")]
    async fn zero_capacity_panics() {
        let _ = stream::iter([1]).broadcast(1, 0);
    }
}

#[test]
fn broadcast_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<stream_plus::adapters::Broadcast<stream::Iter<std::vec::IntoIter<u32>>>>();
    let _ = |s: &dyn Stream<Item = u8>| s.size_hint();
}
