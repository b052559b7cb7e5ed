//! `buffer_with` and `conflate`: a bounded queue with an overflow policy.

mod support;

use futures::stream::{self, FusedStream, Stream, StreamExt};
use futures_test::stream::StreamTestExt;
use proptest::prelude::*;
use std::sync::atomic::Ordering::SeqCst;
use stream_plus::{Overflow, StreamExtPlus};
use support::{matrix_test, on_every_executor, Script, Step};

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Backpressure loses nothing and keeps order, whatever the `Pending`s.
    #[test]
    fn backpressure_is_lossless(items in prop::collection::vec(any::<u16>(), 0..100), cap in 1usize..10) {
        on_every_executor(|| {
            let items = items.clone();
            async move {
                let mut s = stream::iter(items.clone()).interleave_pending().buffer_with(cap, Overflow::Backpressure);
                let mut out = Vec::new();
                while let Some(x) = s.next().await {
                    assert!(s.len() <= cap);
                    out.push(x);
                }
                assert_eq!(out, items);
                assert_eq!(s.dropped(), 0);
            }
        });
    }

    /// The drop policies against a model that replays the same polls: the
    /// output is a subsequence of the input, `dropped()` counts the rest, and
    /// the queue never exceeds `cap`.
    #[test]
    fn drop_policies_lose_only_what_they_count(
        items in prop::collection::vec(any::<u16>(), 0..100),
        cap in 1usize..6,
        oldest in any::<bool>(),
    ) {
        let policy = if oldest { Overflow::DropOldest } else { Overflow::DropNewest };
        on_every_executor(|| {
            let items = items.clone();
            async move {
                let indexed: Vec<(usize, u16)> = items.iter().copied().enumerate().collect();
                let mut s = stream::iter(indexed).interleave_pending().buffer_with(cap, policy);
                let mut out = Vec::new();
                while let Some(x) = s.next().await {
                    assert!(s.len() <= cap);
                    out.push(x);
                }
                assert!(out.windows(2).all(|w| w[0].0 < w[1].0), "order kept");
                assert_eq!(out.len() as u64 + s.dropped(), items.len() as u64);
                if let Some(last) = items.len().checked_sub(1) {
                    if policy == Overflow::DropOldest {
                        assert_eq!(out.last().unwrap().0, last, "the newest item always survives DropOldest");
                    } else {
                        assert_eq!(out[0].0, 0, "the first item always survives DropNewest");
                    }
                }
            }
        });
    }
}

matrix_test! {
    /// Each poll drains what is ready, then yields the oldest.
    async fn drop_oldest_keeps_the_newest() {
        let script = Script::new((1..=5).map(Step::Item).chain([Step::Pending]).chain((6..=7).map(Step::Item)));
        let mut s = script.buffer_with(2, Overflow::DropOldest);
        // First poll: 1..=5 ready, then `Pending`: [4, 5] kept, 4 yielded.
        assert_eq!(s.next().await, Some(4));
        // Second poll: 6 and 7 arrive into [5]: 5 is evicted for 7.
        assert_eq!(s.next().await, Some(6));
        assert_eq!(s.next().await, Some(7));
        assert_eq!(s.next().await, None);
        assert_eq!(s.dropped(), 4);
    }

    async fn drop_newest_keeps_the_oldest() {
        let mut s = stream::iter(1..=5).buffer_with(2, Overflow::DropNewest);
        assert_eq!(s.next().await, Some(1));
        assert_eq!(s.next().await, Some(2));
        assert_eq!(s.next().await, None);
        assert_eq!(s.dropped(), 3);
    }

    /// Backpressure: never more than `capacity` pulled ahead of the consumer.
    async fn backpressure_bounds_the_pull() {
        let script = Script::items(0..100u32);
        let pulled = script.pulled();
        let mut s = script.buffer_with(4, Overflow::Backpressure);
        let mut yielded = 0;
        while s.next().await.is_some() {
            yielded += 1;
            assert!(pulled.load(SeqCst) - yielded <= 4);
        }
        assert_eq!(yielded, 100);
    }

    /// An always-ready endless source does not make a drop policy spin: each
    /// poll takes at most the budget, then yields.
    async fn endless_ready_source_still_yields() {
        let mut s = stream::iter(0u64..).buffer_with(3, Overflow::DropOldest);
        let a = s.next().await.unwrap();
        let b = s.next().await.unwrap();
        assert!(b > a);
        assert!(s.dropped() > 0);
    }

    async fn conflate_gives_the_latest() {
        let script = Script::new([Step::Item(1), Step::Item(2), Step::Item(3), Step::Pending, Step::Item(4)]);
        let mut s = script.conflate();
        assert_eq!(s.next().await, Some(3));
        assert_eq!(s.next().await, Some(4));
        assert_eq!(s.next().await, None);
        assert!(s.is_terminated());
        assert_eq!(s.dropped(), 2);
    }

    async fn fused_and_size_hint() {
        let mut s = Script::items([1u8, 2, 3]).buffer_with(2, Overflow::Backpressure);
        assert_eq!(s.size_hint(), (3, Some(3)));
        let out: Vec<u8> = s.by_ref().collect().await;
        assert_eq!(out, [1, 2, 3]);
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
    }

    async fn drop_releases_queued_items() {
        let item = std::sync::Arc::new(());
        let mut s = stream::iter(vec![item.clone(); 5]).chain(stream::pending()).buffer_with(8, Overflow::Backpressure);
        assert!(s.next().await.is_some());
        assert_eq!(s.len(), 4);
        drop(s);
        assert_eq!(std::sync::Arc::strong_count(&item), 1);
    }

    #[should_panic(expected = "buffer_with: capacity must be at least 1")]
    async fn zero_capacity_panics() {
        let _ = stream::iter([1]).buffer_with(0, Overflow::Backpressure);
    }
}
