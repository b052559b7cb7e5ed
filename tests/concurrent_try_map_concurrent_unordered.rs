//! `try_map_concurrent_unordered`: completion order, the first `Err` in time
//! ends it and drops every other running future.

mod support;

use futures::stream::{self, FusedStream, StreamExt};
use futures_test::stream::StreamTestExt;
use proptest::prelude::*;
use std::collections::HashSet;
use std::sync::atomic::Ordering::SeqCst;
use stream_plus::TryStreamExtPlus;
use support::{matrix_test, on_every_executor, Script, Tracker, Wait};

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    /// Oks of distinct successful inputs, then at most one `Err` (required
    /// when some input fails), then `None`; without failures, every input.
    #[test]
    fn oks_then_one_err(
        inputs in prop::collection::vec((0usize..6, prop::bool::weighted(0.1)), 0..50),
        workers in 1usize..7,
    ) {
        on_every_executor(|| {
            let inputs = inputs.clone();
            async move {
                let tracker = Tracker::new();
                let t = tracker.clone();
                let any_fails = inputs.iter().any(|&(_, fails)| fails);
                let n = inputs.len();
                let out: Vec<Result<usize, usize>> = stream::iter(inputs.clone().into_iter().enumerate().map(Ok))
                    .interleave_pending()
                    .try_map_concurrent_unordered(workers, move |(i, (yields, fails))| {
                        let fut = t.future(Wait::Yields(yields), i);
                        async move {
                            let i = fut.await;
                            if fails { Err(i) } else { Ok(i) }
                        }
                    })
                    .collect()
                    .await;
                let mut seen = HashSet::new();
                for (k, r) in out.iter().enumerate() {
                    match r {
                        Ok(i) => {
                            assert!(!inputs[*i].1 && seen.insert(*i));
                        }
                        Err(i) => {
                            assert!(inputs[*i].1);
                            assert_eq!(k, out.len() - 1, "items after the Err");
                        }
                    }
                }
                if any_fails {
                    assert!(matches!(out.last(), Some(Err(_))));
                } else {
                    assert_eq!(seen.len(), n);
                }
                assert!(tracker.max_running() <= workers);
                assert_eq!(tracker.created(), tracker.dropped());
            }
        });
    }
}

matrix_test! {
    /// The first `Err` in time wins and drops every other running future.
    async fn first_err_in_time_drops_the_rest() {
        let tracker = Tracker::new();
        let t = tracker.clone();
        let script = Script::items((0..50u32).map(Ok::<u32, u32>));
        let pulled = script.pulled();
        let mut s = script.try_map_concurrent_unordered(4, move |i| {
            let wait = match i {
                2 => Wait::Yields(3),
                3 => Wait::None,
                _ => Wait::Forever,
            };
            let fut = t.future(wait, i);
            async move {
                let i = fut.await;
                if i == 2 { Err(i) } else { Ok(i) }
            }
        });
        assert_eq!(s.next().await, Some(Ok(3)));
        assert_eq!(s.next().await, Some(Err(2)));
        assert_eq!(tracker.running(), 0, "running futures not dropped at the Err");
        assert_eq!(s.next().await, None);
        assert!(s.is_terminated());
        let pulled_at_end = pulled.load(SeqCst);
        assert!(pulled_at_end <= 5, "{pulled_at_end} pulled");
        assert_eq!(tracker.created(), tracker.dropped());
    }

    async fn upstream_err_ends_it() {
        let script = Script::items(vec![Ok(1u8), Err("up"), Ok(3)]);
        let pulled = script.pulled();
        let out: Vec<Result<u8, &str>> = script
            .try_map_concurrent_unordered(1, |x| async move { Ok(x) })
            .collect()
            .await;
        assert_eq!(out, [Ok(1), Err("up")]);
        assert_eq!(pulled.load(SeqCst), 2);
    }

    async fn respects_workers_bound() {
        let workers = 4;
        let script = Script::items((0..200u64).map(Ok::<u64, ()>));
        let pulled = script.pulled();
        let mut s = script.try_map_concurrent_unordered(workers, |i| async move {
            support::yield_n((i % 5) as usize).await;
            Ok(i)
        });
        let mut yielded = 0;
        while s.next().await.is_some() {
            yielded += 1;
            assert!(pulled.load(SeqCst) - yielded <= workers);
            assert!(s.in_flight() <= workers);
        }
        assert_eq!(yielded, 200);
    }

    async fn drop_cancels_everything() {
        let tracker = Tracker::new();
        let t = tracker.clone();
        let mut s = stream::iter((0..100u32).map(Ok::<u32, ()>)).try_map_concurrent_unordered(4, move |i| {
            let fut = t.future(if i == 1 { Wait::None } else { Wait::Forever }, i);
            async move { Ok(fut.await) }
        });
        assert_eq!(s.next().await, Some(Ok(1)));
        let created = tracker.created();
        drop(s);
        assert_eq!(tracker.dropped(), created);
    }

    #[should_panic(expected = "try_map_concurrent_unordered: workers must be at least 1")]
    async fn zero_workers_panics() {
        let _ = stream::iter([Ok::<u8, ()>(1)]).try_map_concurrent_unordered(0, |x| async move { Ok(x) });
    }

    #[should_panic(expected = "unordered boom")]
    async fn panic_in_future_reaches_poller() {
        let s = stream::iter((0..5u8).map(Ok::<u8, ()>)).try_map_concurrent_unordered(2, |x| async move {
            if x == 1 {
                panic!("unordered boom");
            }
            Ok(x)
        });
        let _: Vec<_> = s.collect().await;
    }
}
