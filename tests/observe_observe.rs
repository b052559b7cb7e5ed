//! `observe`, `Stats` and `StageStats`: exact figures on virtual time (busy,
//! backpressured, idle, which point is upstream, fan-in, stage boundaries,
//! names that add up, dropped points), the gauges of concurrent stages, the
//! adapter's own contract on the executor matrix, and busy ratios measured on
//! real time on every runtime.

mod support;

use futures::stream::{self, StreamExt};
#[allow(unused_imports)]
use std::time::Duration;
use stream_plus::{StageStats, Stats, StreamExtPlus, TryStreamExtPlus};
use support::{matrix_test, Counted, Script};

#[cfg(feature = "time")]
const MS: Duration = Duration::from_millis(1);

#[cfg(feature = "test-util")]
fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn stage(stats: &Stats, name: &str) -> StageStats {
    stats
        .snapshot()
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no stage {name}"))
}

/// (busy, backpressured, idle) in milliseconds.
#[cfg(feature = "test-util")]
fn times(s: &StageStats) -> (u128, u128, u128) {
    (
        s.busy.as_millis(),
        s.backpressured.as_millis(),
        s.idle.as_millis(),
    )
}

#[cfg(feature = "test-util")]
mod on_virtual_time {
    use super::*;
    use futures::channel::mpsc;
    use futures::task::noop_waker_ref;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use stream_plus::sleep;
    use stream_plus::test_util::VirtualClock;

    thread_local! {
        static CLOCK: std::cell::RefCell<Option<VirtualClock>> = const { std::cell::RefCell::new(None) };
    }

    /// A fresh virtual clock, also entered around every `poll` of this test
    /// (the calls' `sleep`s are made inside polls).
    fn new_clock() -> VirtualClock {
        let clock = VirtualClock::new();
        CLOCK.with(|c| *c.borrow_mut() = Some(clock.clone()));
        clock
    }

    fn poll<S: futures::Stream + Unpin>(s: &mut S) -> Poll<Option<S::Item>> {
        let clock = CLOCK.with(|c| c.borrow().clone()).expect("no clock");
        clock.enter(|| Pin::new(s).poll_next(&mut Context::from_waker(noop_waker_ref())))
    }

    #[test]
    fn backpressured_while_the_next_stage_does_not_ask() {
        let clock = new_clock();
        let stats = Stats::new();
        let mut s = clock.enter(|| stream::iter(0..3).observe(&stats, "source"));
        assert_eq!(poll(&mut s), Poll::Ready(Some(0)));
        clock.advance(7 * MS);
        assert_eq!(times(&stage(&stats, "source")), (0, 7, 0));
        assert_eq!(poll(&mut s), Poll::Ready(Some(1)));
        clock.advance(5 * MS);
        assert_eq!(poll(&mut s), Poll::Ready(Some(2)));
        clock.advance(3 * MS);
        assert_eq!(poll(&mut s), Poll::Ready(None));
        clock.advance(100 * MS);
        let src = stage(&stats, "source");
        // Ended: it stops counting and keeps its totals.
        assert_eq!(times(&src), (0, 15, 0));
        assert_eq!(src.items, 3);
        assert_eq!((src.in_flight, src.workers), (0, 0));
    }

    /// A source waiting for its input has no observed point upstream: busy.
    /// A `map_concurrent` whose futures run while its input waits: idle.
    /// A `map_concurrent` whose futures run while its input has an item it
    /// cannot take: busy.
    #[test]
    fn waiting_is_idle_when_upstream_waits_and_busy_otherwise() {
        let clock = new_clock();
        let stats = Stats::new();
        let (tx, rx) = mpsc::unbounded::<u64>();
        let mut s = clock.enter(|| {
            rx.observe(&stats, "source")
                .map_concurrent(1, |x| async move {
                    sleep(ms(x)).await;
                    x
                })
                .observe(&stats, "work")
        });
        assert!(poll(&mut s).is_pending());
        clock.advance(10 * MS);
        // Both wait; the source has no upstream, the work waits for it.
        assert_eq!(times(&stage(&stats, "source")), (10, 0, 0));
        assert_eq!(times(&stage(&stats, "work")), (0, 0, 10));

        tx.unbounded_send(20).unwrap();
        tx.unbounded_send(5).unwrap();
        // t=10: the work starts 20 ms; its one worker is taken, so the source
        // is not asked again: it holds item 5 (backpressured), and the work is
        // busy.
        assert!(poll(&mut s).is_pending());
        clock.advance(20 * MS);
        assert_eq!(poll(&mut s), Poll::Ready(Some(20)));
        // t=30: the work yields 20; nobody asks for 8 ms.
        clock.advance(8 * MS);
        let work = stage(&stats, "work");
        assert_eq!(times(&work), (20, 8, 10));
        let source = stage(&stats, "source");
        assert_eq!(times(&source), (10, 28, 0));

        // The work took 5 at t=30 (its worker was free again) and its call
        // ran while nobody asked: at t=38 it is ready at once.
        assert_eq!(poll(&mut s), Poll::Ready(Some(5)));
        // Now both wait: the work for its input (idle), the source for its
        // channel (busy).
        assert!(poll(&mut s).is_pending());
        clock.advance(5 * MS);
        let work = stage(&stats, "work");
        assert_eq!(times(&work), (20, 8, 15));
        assert_eq!(work.items, 2);
        assert_eq!(times(&stage(&stats, "source")), (15, 28, 0));
        assert_eq!(stats.bottleneck().as_deref(), Some("work"));
    }

    #[test]
    fn a_concurrent_stage_reports_its_running_futures_and_workers() {
        let clock = new_clock();
        let stats = Stats::new();
        let mut s = clock.enter(|| {
            stream::iter([30u64, 10, 20, 40])
                .map_concurrent_unordered(3, |x| async move {
                    sleep(ms(x)).await;
                    x
                })
                .observe(&stats, "work")
        });
        assert!(poll(&mut s).is_pending());
        let work = stage(&stats, "work");
        assert_eq!((work.in_flight, work.workers), (3, 3));
        clock.advance(10 * MS);
        assert_eq!(poll(&mut s), Poll::Ready(Some(10)));
        assert!(poll(&mut s).is_pending());
        assert_eq!(stage(&stats, "work").in_flight, 3);
        clock.advance(20 * MS);
        // 20 (started at 10) and 30 both finish at 30.
        let mut two = [poll(&mut s), poll(&mut s)].map(|p| match p {
            Poll::Ready(Some(x)) => x,
            other => panic!("{other:?}"),
        });
        two.sort();
        assert_eq!(two, [20, 30]);
        assert!(poll(&mut s).is_pending());
        assert_eq!(stage(&stats, "work").in_flight, 1);
        drop(s);
        let work = stage(&stats, "work");
        // A dropped point keeps its totals and its workers; nothing runs.
        assert_eq!(work.items, 3);
        assert_eq!((work.in_flight, work.workers), (0, 3));
        assert_eq!(times(&work), (30, 0, 0));
    }

    /// A point over several observed points (fan-in) counts its waiting as
    /// busy, like one with none.
    #[test]
    fn fan_in_counts_waiting_as_busy() {
        let clock = new_clock();
        let stats = Stats::new();
        let (_tx_a, a) = mpsc::unbounded::<u32>();
        let (_tx_b, b) = mpsc::unbounded::<u32>();
        let mut s = clock.enter(|| {
            a.observe(&stats, "a")
                .merge_with(b.observe(&stats, "b"))
                .observe(&stats, "merged")
        });
        assert!(poll(&mut s).is_pending());
        clock.advance(10 * MS);
        assert_eq!(times(&stage(&stats, "merged")), (10, 0, 0));
        assert_eq!(times(&stage(&stats, "a")), (10, 0, 0));
        assert_eq!(times(&stage(&stats, "b")), (10, 0, 0));
        // With one observed input it is idle.
        let (_tx, c) = mpsc::unbounded::<u32>();
        let mut one = clock.enter(|| c.observe(&stats, "c").observe(&stats, "after c"));
        assert!(poll(&mut one).is_pending());
        clock.advance(10 * MS);
        assert_eq!(times(&stage(&stats, "after c")), (0, 0, 10));
    }

    /// Across a `stage` boundary the upstream is the point created just before
    /// (the last point of the stage before). Its driver runs while the next
    /// stage waits: the wait is idle only while the upstream waits too.
    #[test]
    fn across_a_stage_boundary_the_upstream_is_the_stage_before() {
        let clock = new_clock();
        let stats = Stats::new();
        let (tx, rx) = mpsc::unbounded::<u64>();
        let mut s = clock.enter(|| {
            rx.observe(&stats, "source")
                .map_concurrent(1, |x| async move {
                    sleep(ms(x)).await;
                    x
                })
                .observe(&stats, "fetch")
                .stage(4, |input| input.observe(&stats, "sink"))
                .observe(&stats, "out")
        });
        assert!(poll(&mut s).is_pending());
        clock.advance(10 * MS);
        tx.unbounded_send(10).unwrap();
        // t=10: fetch starts a 10 ms call; fetch and the sink wait on it.
        assert!(poll(&mut s).is_pending());
        clock.advance(10 * MS);
        // t=20.
        assert_eq!(poll(&mut s), Poll::Ready(Some(10)));
        let fetch = stage(&stats, "fetch");
        // 0..10 waiting for the source (idle); 10..20 its call, with the
        // source not asked again (its one worker is taken): busy.
        assert_eq!(times(&fetch), (10, 0, 10));
        let sink = stage(&stats, "sink");
        assert_eq!(times(&sink), (0, 0, 20));
        assert_eq!(sink.items, 1);
        // "out" wraps `Staged`: its one observed input is the sink, not the
        // drivers' points.
        assert_eq!(times(&stage(&stats, "out")), (0, 0, 20));
    }

    #[test]
    fn names_add_up_and_keep_the_order_they_were_first_registered_in() {
        let clock = new_clock();
        let stats = Stats::new();
        assert_eq!(stats.bottleneck(), None);
        let mut a = clock.enter(|| stream::iter(0..2).observe(&stats, "x"));
        let mut b = clock.enter(|| stream::iter(0..3).observe(&stats, "y"));
        let mut c = clock.enter(|| stream::iter(0..4).observe(&stats.clone(), "x"));
        let names: Vec<_> = stats.snapshot().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["x", "y"]);
        // Nothing polled yet.
        assert_eq!(stats.bottleneck(), None);
        while let Poll::Ready(Some(_)) = poll(&mut a) {}
        while let Poll::Ready(Some(_)) = poll(&mut c) {}
        clock.advance(3 * MS);
        let x = stage(&stats, "x");
        assert_eq!(x.items, 6);
        assert_eq!(stage(&stats, "y").items, 0);
        assert_eq!(stats.bottleneck().as_deref(), Some("x"));
        let _ = poll(&mut b);
        clock.advance(2 * MS);
        // `b` is backpressured since its first item: 2 ms, 0 busy. Both at 0
        // busy: the tie goes to the earlier name.
        assert_eq!(times(&stage(&stats, "y")), (0, 2, 0));
        assert_eq!(stats.bottleneck().as_deref(), Some("x"));
    }

    #[test]
    fn since_gives_the_figures_of_a_window() {
        let clock = new_clock();
        let stats = Stats::new();
        let (tx, rx) = mpsc::unbounded::<u32>();
        let mut s = clock.enter(|| rx.observe(&stats, "source"));
        assert!(poll(&mut s).is_pending());
        clock.advance(10 * MS);
        let earlier = stage(&stats, "source");
        tx.unbounded_send(1).unwrap();
        assert_eq!(poll(&mut s), Poll::Ready(Some(1)));
        clock.advance(4 * MS);
        let window = stage(&stats, "source").since(&earlier);
        assert_eq!(window.items, 1);
        assert_eq!(times(&window), (0, 4, 0));
        assert_eq!(window.backpressured_ratio(), 1.0);
        assert_eq!(window.busy_ratio(), 0.0);
        assert_eq!(StageStats::default().idle_ratio(), 0.0);
    }

    /// A long run of ready items is timed on one item in 64; on virtual time
    /// no time passes inside a poll, so the figures stay exact.
    #[test]
    fn a_run_of_ready_items_is_still_exact() {
        let clock = new_clock();
        let stats = Stats::new();
        let mut s = clock.enter(|| stream::iter(0..1000u32).observe(&stats, "source"));
        for i in 0..1000 {
            assert_eq!(poll(&mut s), Poll::Ready(Some(i)));
            clock.advance(MS);
        }
        let src = stage(&stats, "source");
        assert_eq!(times(&src), (0, 1000, 0));
        assert_eq!(src.items, 1000);
    }
}

matrix_test! {
    /// Every concurrent stage's inherent `observe` reports its workers, and
    /// `in_flight` once it waits with calls running.
    async fn every_concurrent_stage_reports_its_workers() {
        use futures::future::ready;
        let stats = Stats::new();
        let items = || stream::iter(0..20u32);
        let oks = || stream::iter((0..20u32).map(Ok::<u32, ()>));
        let counts = [
            items().map_concurrent(3, ready).observe(&stats, "a").count().await,
            items().map_concurrent_unordered(3, ready).observe(&stats, "b").count().await,
            items().map_concurrent_by_key(3, |x| x % 4, ready).observe(&stats, "c").count().await,
            items().map_concurrent_by_key_unordered(3, |x| x % 4, ready).observe(&stats, "d").count().await,
            oks().try_map_concurrent(3, |x| ready(Ok(x))).observe(&stats, "e").count().await,
            oks().try_map_concurrent_unordered(3, |x| ready(Ok(x))).observe(&stats, "f").count().await,
        ];
        assert_eq!(counts, [20; 6]);
        #[cfg(feature = "time")]
        {
            let backoff = stream_plus::Backoff::fixed(MS);
            let n = items().map_concurrent_retry(3, backoff.clone(), |&x| ready(Ok::<_, ()>(x))).observe(&stats, "g").count().await;
            let m = items().map_concurrent_retry_unordered(3, backoff, |&x| ready(Ok::<_, ()>(x))).observe(&stats, "h").count().await;
            assert_eq!((n, m), (20, 20));
        }
        #[cfg(feature = "blocking")]
        {
            let n = items().map_blocking(3, |x| x).observe(&stats, "i").count().await;
            let m = items().map_blocking_unordered(3, |x| x).observe(&stats, "j").count().await;
            let o = oks().try_map_blocking(3, Ok).observe(&stats, "k").count().await;
            let p = oks().try_map_blocking_unordered(3, Ok).observe(&stats, "l").count().await;
            assert_eq!((n, m, o, p), (20, 20, 20, 20));
        }
        for s in stats.snapshot() {
            assert_eq!((s.items, s.workers, s.in_flight), (20, 3, 0), "{s:?}");
        }
    }

    async fn yields_the_same_items_and_counts_them() {
        let stats = Stats::new();
        let items: Vec<u32> = (0..500).collect();
        let out: Vec<u32> = Script::items(items.clone())
            .observe(&stats, "source")
            .map_concurrent(8, |x| async move { x + 1 })
            .observe(&stats, "plus one")
            .collect()
            .await;
        assert_eq!(out, items.iter().map(|x| x + 1).collect::<Vec<_>>());
        let snap = stats.snapshot();
        assert_eq!(snap.len(), 2);
        assert!(snap.iter().all(|s| s.items == 500), "{snap:?}");
        assert_eq!(snap[1].workers, 8);
    }

    async fn survives_interleaved_pending() {
        use futures_test::stream::StreamTestExt;
        let stats = Stats::new();
        let out: Vec<u32> = stream::iter(0..50u32)
            .interleave_pending()
            .observe(&stats, "source")
            .interleave_pending()
            .collect()
            .await;
        assert_eq!(out, (0..50).collect::<Vec<_>>());
        assert_eq!(stage(&stats, "source").items, 50);
    }

    async fn fused_it_never_polls_upstream_after_the_end() {
        use futures::stream::FusedStream;
        let stats = Stats::new();
        let (inner, polls, _drops) = Counted::new(stream::iter([1u8, 2]));
        let mut s = inner.observe(&stats, "s");
        assert_eq!(s.next().await, Some(1));
        assert_eq!(s.next().await, Some(2));
        assert_eq!(s.next().await, None);
        assert!(s.is_terminated());
        let polled = polls.get();
        assert_eq!(s.next().await, None);
        assert_eq!(futures::Stream::size_hint(&s), (0, Some(0)));
        assert_eq!(polls.get(), polled);
    }

    async fn dropping_it_drops_the_stream_at_once() {
        let stats = Stats::new();
        let (inner, _polls, drops) = Counted::new(stream::pending::<u8>());
        let mut s = inner.observe(&stats, "s");
        assert!(futures::poll!(s.next()).is_pending());
        drop(s);
        assert_eq!(drops.get(), 1);
    }

    async fn it_adds_no_buffer() {
        // `observe` pulls exactly as far as its consumer asks.
        let stats = Stats::new();
        let script = Script::items(0..100u32);
        let pulled = script.pulled();
        let mut s = script.observe(&stats, "s");
        for _ in 0..3 {
            s.next().await;
        }
        assert_eq!(pulled.load(std::sync::atomic::Ordering::SeqCst), 3);
    }
}

/// Real time, every runtime, on pipelines with known timings: each stage's
/// own work is a `then` (it starts when polled), the consumer sleeps.
#[cfg(feature = "time")]
mod on_real_time {
    use super::*;
    use stream_plus::sleep;

    /// A source that takes 4 ms per item, a pass-through stage, a consumer
    /// that takes 12 ms per item.
    async fn slow_source() -> Stats {
        let stats = Stats::new();
        let mut s = Box::pin(
            stream::iter(0..25u32)
                .then(|x| async move {
                    sleep(4 * MS).await;
                    x
                })
                .observe(&stats, "source")
                .map(|x| x + 1)
                .observe(&stats, "parse"),
        );
        while s.next().await.is_some() {
            sleep(12 * MS).await;
        }
        stats
    }

    /// A ready source, a stage that takes 8 ms per item, a consumer that takes
    /// 2 ms per item.
    async fn slow_stage() -> Stats {
        let stats = Stats::new();
        let mut s = Box::pin(
            stream::iter(0..25u32)
                .observe(&stats, "source")
                .then(|x| async move {
                    sleep(8 * MS).await;
                    x
                })
                .observe(&stats, "call"),
        );
        while s.next().await.is_some() {
            sleep(2 * MS).await;
        }
        stats
    }

    #[track_caller]
    fn near(stage: &StageStats, busy: f64, backpressured: f64, idle: f64) {
        // Timers fire late by a little, never early: 5 percentage points.
        let got = (
            stage.busy_ratio(),
            stage.backpressured_ratio(),
            stage.idle_ratio(),
        );
        let ok = (got.0 - busy).abs() <= 0.05
            && (got.1 - backpressured).abs() <= 0.05
            && (got.2 - idle).abs() <= 0.05;
        assert!(
            ok,
            "expected ({busy}, {backpressured}, {idle}), got {got:.3?}: {stage:?}"
        );
    }

    matrix_test! {
        async fn busy_ratios_match_known_timings_with_a_slow_source() {
            let stats = slow_source().await;
            near(&stage(&stats, "source"), 0.25, 0.75, 0.0);
            near(&stage(&stats, "parse"), 0.0, 0.75, 0.25);
            assert_eq!(stats.bottleneck().as_deref(), Some("source"));
        }

        async fn busy_ratios_match_known_timings_with_a_slow_stage() {
            let stats = slow_stage().await;
            near(&stage(&stats, "source"), 0.0, 1.0, 0.0);
            near(&stage(&stats, "call"), 0.8, 0.2, 0.0);
            assert_eq!(stats.bottleneck().as_deref(), Some("call"));
        }
    }
}
