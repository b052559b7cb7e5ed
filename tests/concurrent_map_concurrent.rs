//! `map_concurrent`: ordered output, the worker and slot bounds, the slow head,
//! eager refill, drop, fuse, panics.

mod support;

use futures::stream::{self, FusedStream, Stream, StreamExt};
use futures_test::stream::StreamTestExt;
use proptest::prelude::*;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;
use stream_plus::StreamExtPlus;
use support::{matrix_test, on_every_executor, Script, Step, Tracker, Wait};

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Output equals the sequential model, whatever the completion order, with
    /// spurious `Pending`s from upstream.
    #[test]
    fn matches_sequential_model(
        items in prop::collection::vec((any::<u16>(), 0usize..6), 0..60),
        workers in 1usize..8,
        reorder in proptest::option::of(1usize..8),
    ) {
        let expected: Vec<u32> = items.iter().map(|&(v, _)| v as u32 * 3).collect();
        on_every_executor(|| {
            let (items, expected) = (items.clone(), expected.clone());
            async move {
                let tracker = Tracker::new();
                let t = tracker.clone();
                let mut s = stream::iter(items)
                    .interleave_pending()
                    .map_concurrent(workers, move |(v, yields)| {
                        t.future(Wait::Yields(yields), v as u32 * 3)
                    });
                if let Some(n) = reorder {
                    s = s.reorder_capacity(n);
                }
                let out = support::collect_checking_hint(&mut s).await;
                assert_eq!(out, expected);
                assert!(tracker.max_running() <= workers);
                assert_eq!(tracker.created(), tracker.dropped());
            }
        });
    }
}

matrix_test! {
    /// Never more than `workers` running, never more than
    /// `workers + reorder_capacity` taken and not yet yielded.
    async fn respects_both_bounds() {
        for (workers, reorder) in [(1, 1), (3, 3), (4, 9), (8, 2)] {
            let script = Script::new((0..200u64).flat_map(|i| {
                let step = Step::Item(i);
                if i % 7 == 0 { vec![Step::Pending, step] } else { vec![step] }
            }));
            let pulled = script.pulled();
            let tracker = Tracker::new();
            let t = tracker.clone();
            let mut s = script
                .map_concurrent(workers, move |i| t.future(Wait::Yields((i * 7 % 5) as usize), i))
                .reorder_capacity(reorder);
            let mut yielded = 0;
            while let Some(i) = s.next().await {
                assert_eq!(i, yielded as u64);
                yielded += 1;
                let ahead = pulled.load(SeqCst) - yielded;
                assert!(ahead <= workers + reorder, "{ahead} taken ahead, bound {}", workers + reorder);
                assert!(s.in_flight() <= workers);
            }
            assert_eq!(yielded, 200);
            assert!(tracker.max_running() <= workers);
        }
    }

    /// One slow head item does not cut concurrency: the other workers start
    /// 15 more items before it finishes.
    async fn slow_head_keeps_workers_busy() {
        let tracker = Tracker::new();
        let t = tracker.clone();
        let started_when_head_done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mark = started_when_head_done.clone();
        let s = stream::iter(0..100u32).map_concurrent(8, move |i| {
            let t2 = t.clone();
            let mark = mark.clone();
            let wait = if i == 0 { Wait::Sleep(Duration::from_millis(300)) } else { Wait::Sleep(Duration::from_millis(1)) };
            let fut = t.future(wait, i);
            async move {
                let v = fut.await;
                if v == 0 {
                    mark.store(t2.started(), SeqCst);
                }
                v
            }
        });
        let out: Vec<u32> = s.collect().await;
        assert_eq!(out, (0..100).collect::<Vec<_>>());
        let started = started_when_head_done.load(SeqCst);
        assert!(started >= 16, "only {} other items started while the head ran", started - 1);
        // And no more than the bound allows.
        assert!(started <= 16, "{started} items started, bound is 16");
    }

    /// When a poll yields an output, the next ready item's future has already
    /// started.
    async fn refills_before_yielding() {
        let tracker = Tracker::new();
        let t = tracker.clone();
        let mut s = stream::iter(0..10u32).map_concurrent(2, move |i| {
            t.future(if i == 0 { Wait::None } else { Wait::Forever }, i)
        });
        assert_eq!(s.next().await, Some(0));
        // 0 and 1 were taken first; 0's slot went to 2 before 0 was handed out.
        assert_eq!(tracker.started(), 3);
        assert_eq!(s.in_flight(), 2);
    }

    /// Dropping mid-stream drops every future it created; nothing is created after.
    async fn drop_cancels_everything() {
        let tracker = Tracker::new();
        let t = tracker.clone();
        let script = Script::items(0..1000u32);
        let pulled = script.pulled();
        let mut s = script.map_concurrent(4, move |i| {
            t.future(if i < 3 { Wait::None } else { Wait::Forever }, i)
        });
        assert_eq!(s.next().await, Some(0));
        assert_eq!(s.next().await, Some(1));
        assert_eq!(s.next().await, Some(2));
        let created = tracker.created();
        assert!(created > 3 && created <= 4 + 4 + 3);
        assert_eq!(pulled.load(SeqCst), created);
        drop(s);
        assert_eq!(tracker.dropped(), created);
        assert_eq!(tracker.running(), 0);
        assert_eq!(tracker.created(), created);
    }

    /// After `None`, `None` forever, and upstream is never polled again (the
    /// script panics if it is).
    async fn fused_after_end() {
        let mut s = Script::items(0..5u8).map_concurrent(2, |x| async move { x });
        assert!(!s.is_terminated());
        let out: Vec<u8> = s.by_ref().collect().await;
        assert_eq!(out, [0, 1, 2, 3, 4]);
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
        assert_eq!(s.next().await, None);
    }

    async fn empty_upstream_ends_at_once() {
        let mut s = stream::empty::<u8>().map_concurrent(3, |x| async move { x });
        assert_eq!(s.size_hint(), (0, Some(0)));
        assert_eq!(s.next().await, None);
        assert!(s.is_terminated());
    }

    #[should_panic(expected = "map_concurrent: workers must be at least 1")]
    async fn zero_workers_panics() {
        let _ = stream::iter(0..3).map_concurrent(0, |x| async move { x });
    }

    #[should_panic(expected = "reorder_capacity: n must be at least 1")]
    async fn zero_reorder_capacity_panics() {
        let _ = stream::iter(0..3).map_concurrent(2, |x| async move { x }).reorder_capacity(0);
    }

    #[should_panic(expected = "boom in item 3")]
    async fn panic_in_future_reaches_poller() {
        let s = stream::iter(0..10u32).map_concurrent(4, |i| async move {
            support::yield_n(i as usize).await;
            if i == 3 {
                panic!("boom in item {i}");
            }
            i
        });
        let _: Vec<u32> = s.collect().await;
    }
}
