//! `map_concurrent_unordered`: completion order, the `workers` bound, eager
//! refill, drop, fuse, panics.

mod support;

use futures::stream::{self, FusedStream, StreamExt};
use futures_test::stream::StreamTestExt;
use proptest::prelude::*;
use std::sync::atomic::Ordering::SeqCst;
use stream_plus::StreamExtPlus;
use support::{matrix_test, on_every_executor, Script, Step, Tracker, Wait};

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Same multiset as the sequential model; with one worker, the same order.
    #[test]
    fn matches_sequential_model(
        items in prop::collection::vec((any::<u16>(), 0usize..6), 0..60),
        workers in 1usize..8,
    ) {
        let expected: Vec<u32> = items.iter().map(|&(v, _)| v as u32 + 1).collect();
        on_every_executor(|| {
            let (items, expected) = (items.clone(), expected.clone());
            async move {
                let tracker = Tracker::new();
                let t = tracker.clone();
                let mut s = stream::iter(items)
                    .interleave_pending()
                    .map_concurrent_unordered(workers, move |(v, yields)| {
                        t.future(Wait::Yields(yields), v as u32 + 1)
                    });
                let mut out = support::collect_checking_hint(&mut s).await;
                if workers == 1 {
                    assert_eq!(out, expected);
                }
                let mut sorted = expected;
                sorted.sort();
                out.sort();
                assert_eq!(out, sorted);
                assert!(tracker.max_running() <= workers);
                assert_eq!(tracker.created(), tracker.dropped());
            }
        });
    }
}

matrix_test! {
    /// Yields in completion order: a fast item overtakes a slow one.
    async fn completion_order() {
        let s = stream::iter([(0u32, 30usize), (1, 0), (2, 10)])
            .map_concurrent_unordered(3, |(v, yields)| async move {
                support::yield_n(yields).await;
                v
            });
        let out: Vec<u32> = s.collect().await;
        assert_eq!(out, [1, 2, 0]);
    }

    /// Never more than `workers` taken from upstream and not yet yielded.
    async fn respects_workers_bound() {
        for workers in [1, 2, 5, 16] {
            let script = Script::new((0..300u64).flat_map(|i| {
                if i % 5 == 0 { vec![Step::Pending, Step::Item(i)] } else { vec![Step::Item(i)] }
            }));
            let pulled = script.pulled();
            let tracker = Tracker::new();
            let t = tracker.clone();
            let mut s = script.map_concurrent_unordered(workers, move |i| {
                t.future(Wait::Yields((i * 13 % 7) as usize), i)
            });
            let mut yielded = 0;
            while s.next().await.is_some() {
                yielded += 1;
                let ahead = pulled.load(SeqCst) - yielded;
                assert!(ahead <= workers, "{ahead} taken ahead with {workers} workers");
                assert!(s.in_flight() <= workers);
            }
            assert_eq!(yielded, 300);
            assert!(tracker.max_running() <= workers);
        }
    }

    async fn refills_before_yielding() {
        let tracker = Tracker::new();
        let t = tracker.clone();
        let mut s = stream::iter(0..10u32).map_concurrent_unordered(3, move |i| {
            t.future(if i == 1 { Wait::None } else { Wait::Forever }, i)
        });
        assert_eq!(s.next().await, Some(1));
        assert_eq!(tracker.started(), 4);
        assert_eq!(s.in_flight(), 3);
    }

    async fn drop_cancels_everything() {
        let tracker = Tracker::new();
        let t = tracker.clone();
        let mut s = stream::iter(0..1000u32).map_concurrent_unordered(5, move |i| {
            t.future(if i % 3 == 0 { Wait::None } else { Wait::Forever }, i)
        });
        assert!(s.next().await.is_some());
        assert!(s.next().await.is_some());
        let created = tracker.created();
        assert!(created >= 5);
        drop(s);
        assert_eq!(tracker.dropped(), created);
        assert_eq!(tracker.running(), 0);
    }

    async fn fused_after_end() {
        let mut s = Script::items(0..4u8).map_concurrent_unordered(2, |x| async move { x });
        assert!(!s.is_terminated());
        let mut out: Vec<u8> = s.by_ref().collect().await;
        out.sort();
        assert_eq!(out, [0, 1, 2, 3]);
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
        assert_eq!(s.next().await, None);
    }

    #[should_panic(expected = "map_concurrent_unordered: workers must be at least 1")]
    async fn zero_workers_panics() {
        let _ = stream::iter(0..3).map_concurrent_unordered(0, |x| async move { x });
    }

    #[should_panic(expected = "worker 2 failed")]
    async fn panic_in_future_reaches_poller() {
        let s = stream::iter(0..10u32).map_concurrent_unordered(3, |i| async move {
            if i == 2 {
                panic!("worker {i} failed");
            }
            i
        });
        let _: Vec<u32> = s.collect().await;
    }
}
