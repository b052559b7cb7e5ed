//! `try_map_blocking` and `try_map_blocking_unordered`: a fallible CPU stage on
//! the thread pool that stops at the first `Err`.
#![cfg(feature = "blocking")]

mod support;

use futures::stream::{self, FusedStream, StreamExt};
use futures_test::stream::StreamTestExt;
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;
use stream_plus::TryStreamExtPlus;
use support::{matrix_test, on_every_executor, Script};

/// `f` fails on multiples of 7; an upstream item `None` is an upstream `Err`.
fn call(x: u32) -> Result<u64, String> {
    if x % 7 == 6 {
        Err(format!("f failed on {x}"))
    } else {
        Ok(u64::from(x) * 3)
    }
}

fn upstream(items: &[Option<u32>]) -> Vec<Result<u32, String>> {
    items
        .iter()
        .enumerate()
        .map(|(i, x)| x.ok_or_else(|| format!("upstream failed at {i}")))
        .collect()
}

/// What the sequential loop yields: the `Ok`s up to the first `Err`, that `Err`.
fn model(items: &[Result<u32, String>]) -> Vec<Result<u64, String>> {
    let mut out = Vec::new();
    for item in items {
        let r = item.clone().and_then(call);
        let stop = r.is_err();
        out.push(r);
        if stop {
            break;
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn ordered_matches_the_sequential_loop(
        items in prop::collection::vec(prop::option::weighted(0.97, 0u32..1000), 0..120),
        workers in 1usize..5,
    ) {
        let items = upstream(&items);
        let expected = model(&items);
        on_every_executor(|| {
            let (items, expected) = (items.clone(), expected.clone());
            async move {
                let mut s = stream::iter(items).interleave_pending().try_map_blocking(workers, call);
                let out = support::collect_checking_hint(&mut s).await;
                assert_eq!(out, expected);
                assert!(s.is_terminated());
            }
        });
    }

    /// Completion order: every `Ok` is one the loop would make (before or after
    /// the first `Err` in input order), at most one `Err` and only last; with no
    /// `Err` anywhere, everything.
    #[test]
    fn unordered_stops_at_the_first_err_in_time(
        items in prop::collection::vec(prop::option::weighted(0.97, 0u32..1000), 0..120),
        workers in 1usize..5,
    ) {
        let items = upstream(&items);
        let all: Vec<Result<u64, String>> = items.iter().map(|r| r.clone().and_then(call)).collect();
        on_every_executor(|| {
            let (items, all) = (items.clone(), all.clone());
            async move {
                let out: Vec<Result<u64, String>> =
                    stream::iter(items).interleave_pending().try_map_blocking_unordered(workers, call).collect().await;
                let errs = out.iter().filter(|r| r.is_err()).count();
                assert!(errs <= 1);
                if errs == 1 {
                    assert!(out.last().unwrap().is_err());
                } else {
                    let mut out = out.clone();
                    out.sort();
                    let mut all = all.clone();
                    all.sort();
                    assert_eq!(out, all);
                }
                for r in &out {
                    assert!(all.contains(r), "{r:?} is not a result of the loop");
                }
            }
        });
    }
}

matrix_test! {
    /// With one worker the calls run one by one: once item 3 fails, items 4 on
    /// never start.
    async fn calls_after_the_err_never_start() {
        for unordered in [false, true] {
            let calls = Arc::new(AtomicUsize::new(0));
            let c = calls.clone();
            let f = move |x: u32| {
                c.fetch_add(1, SeqCst);
                if x == 3 { Err("three") } else { Ok(x) }
            };
            let items = stream::iter((0..50u32).map(Ok));
            let out: Vec<Result<u32, &str>> = if unordered {
                items.try_map_blocking_unordered(1, f).collect().await
            } else {
                items.try_map_blocking(1, f).collect().await
            };
            assert_eq!(out, [Ok(0), Ok(1), Ok(2), Err("three")]);
            assert_eq!(calls.load(SeqCst), 4, "unordered: {unordered}");
        }
    }

    /// The read-ahead bound of `map_blocking`: at most 64 x workers taken and
    /// not yet yielded.
    async fn bounded_read_ahead() {
        for (workers, unordered) in [(1usize, false), (3, false), (2, true)] {
            let script = Script::items((0..2000u32).map(Ok::<u32, ()>).collect::<Vec<_>>());
            let pulled = script.pulled();
            let mut s: stream::BoxStream<'static, Result<u32, ()>> = if unordered {
                script.try_map_blocking_unordered(workers, Ok).boxed()
            } else {
                script.try_map_blocking(workers, Ok).boxed()
            };
            let mut yielded = 0;
            while s.next().await.is_some() {
                yielded += 1;
                let ahead = pulled.load(SeqCst) - yielded;
                assert!(ahead <= 64 * workers, "{ahead} taken ahead with {workers} workers");
            }
            assert_eq!(yielded, 2000);
        }
    }

    /// An upstream `Err` stops the pulling: nothing after it is pulled or called.
    async fn upstream_err_stops_pulling() {
        let script = Script::items([Ok(1u32), Ok(2), Err("bad"), Ok(4), Ok(5)]);
        let pulled = script.pulled();
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let out: Vec<Result<u32, &str>> = script
            .try_map_blocking(4, move |x| {
                c.fetch_add(1, SeqCst);
                Ok(x * 10)
            })
            .collect()
            .await;
        assert_eq!(out, [Ok(10), Ok(20), Err("bad")]);
        assert_eq!(pulled.load(SeqCst), 3);
        assert_eq!(calls.load(SeqCst), 2);
    }

    /// Unordered: the first `Err` in time wins over a slow earlier `Ok`, whose
    /// result is then discarded.
    async fn unordered_yields_the_first_err_in_time() {
        let out: Vec<Result<u32, u32>> = stream::iter([Ok(0u32), Ok(1)])
            .try_map_blocking_unordered(2, |x| {
                if x == 0 {
                    std::thread::sleep(Duration::from_millis(100));
                    Ok(x)
                } else {
                    Err(x)
                }
            })
            .collect()
            .await;
        assert_eq!(out, [Err(1)]);
    }

    /// A panic in `f` reaches the poller with its payload.
    #[should_panic(expected = "try stage panicked on 2")]
    async fn panic_reaches_the_poller() {
        let _: Vec<Result<u32, ()>> = stream::iter((0..5u32).map(Ok))
            .try_map_blocking(2, |x| if x == 2 { panic!("try stage panicked on {x}") } else { Ok(x) })
            .collect()
            .await;
    }

    /// Fused: after the `Err`, `None` forever without polling upstream (Script
    /// panics if polled after its end).
    async fn fused_after_the_err() {
        let mut s = Script::items([Ok(1u32), Err(()), Ok(3)]).try_map_blocking(2, Ok);
        assert_eq!(s.next().await, Some(Ok(1)));
        assert_eq!(s.next().await, Some(Err(())));
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
        assert_eq!(s.next().await, None);
    }

    /// Dropped mid-run: queued items are dropped without a call.
    async fn drop_cancels_queued_calls() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let mut s = stream::iter((0..1000u32).map(Ok::<_, ()>)).try_map_blocking(1, move |x| {
            c.fetch_add(1, SeqCst);
            std::thread::sleep(Duration::from_millis(2));
            Ok(x)
        });
        assert_eq!(s.next().await, Some(Ok(0)));
        drop(s);
        async_io::Timer::after(Duration::from_millis(50)).await;
        let after = calls.load(SeqCst);
        async_io::Timer::after(Duration::from_millis(50)).await;
        assert_eq!(calls.load(SeqCst), after, "no call starts after the drop");
        assert!(after < 100);
    }

    #[should_panic(expected = "try_map_blocking: workers must be at least 1")]
    async fn zero_workers_panics() {
        let _ = stream::iter([Ok::<u8, ()>(1)]).try_map_blocking(0, Ok::<u8, ()>);
    }

    #[should_panic(expected = "try_map_blocking_unordered: workers must be at least 1")]
    async fn zero_workers_panics_unordered() {
        let _ = stream::iter([Ok::<u8, ()>(1)]).try_map_blocking_unordered(0, Ok::<u8, ()>);
    }
}
