//! `map_blocking` and `map_blocking_unordered`: a CPU stage on the `blocking`
//! thread pool.
#![cfg(feature = "blocking")]

mod support;

use futures::stream::{self, FusedStream, Stream, StreamExt};
use futures_test::stream::StreamTestExt;
use proptest::prelude::*;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stream_plus::StreamExtPlus;
use support::{matrix_test, on_every_executor, Script};

/// A little CPU work whose duration varies with the input.
fn work(x: u32) -> u64 {
    (0..(x % 7) * 200).fold(u64::from(x), |h, i| {
        h.wrapping_mul(31).wrapping_add(u64::from(i))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn matches_the_sequential_model(items in prop::collection::vec(any::<u32>(), 0..200), workers in 1usize..6) {
        let expected: Vec<u64> = items.iter().copied().map(work).collect();
        on_every_executor(|| {
            let (items, expected) = (items.clone(), expected.clone());
            async move {
                let mut s = stream::iter(items.clone()).interleave_pending().map_blocking(workers, work);
                let out = support::collect_checking_hint(&mut s).await;
                assert_eq!(out, expected);
                let mut out: Vec<u64> =
                    stream::iter(items).interleave_pending().map_blocking_unordered(workers, work).collect().await;
                let mut expected = expected;
                out.sort();
                expected.sort();
                assert_eq!(out, expected);
            }
        });
    }
}

/// Calls that block until `target` of them run at once (or `patience` passes),
/// recording the most that ran together.
#[derive(Clone, Default)]
struct Rendezvous {
    state: Arc<(Mutex<(usize, usize)>, std::sync::Condvar)>,
}

impl Rendezvous {
    fn call(&self, target: usize, patience: Duration) -> usize {
        let (lock, cvar) = &*self.state;
        let mut g = lock.lock().unwrap();
        g.0 += 1;
        g.1 = g.1.max(g.0);
        cvar.notify_all();
        let deadline = std::time::Instant::now() + patience;
        while g.1 < target && std::time::Instant::now() < deadline {
            g = cvar.wait_timeout(g, Duration::from_millis(10)).unwrap().0;
        }
        g.0 -= 1;
        g.1
    }
    fn most(&self) -> usize {
        self.state.0.lock().unwrap().1
    }
}

matrix_test! {
    /// With `workers >= 2`, `f` really runs on several OS threads at once.
    async fn runs_on_several_threads() {
        let threads = Arc::new(Mutex::new(HashSet::new()));
        let running = Arc::new(AtomicUsize::new(0));
        let max_running = Arc::new(AtomicUsize::new(0));
        let (t, r, m) = (threads.clone(), running.clone(), max_running.clone());
        let out: Vec<u32> = stream::iter(0..40u32)
            .map_blocking(4, move |x| {
                t.lock().unwrap().insert(std::thread::current().id());
                let now = r.fetch_add(1, SeqCst) + 1;
                m.fetch_max(now, SeqCst);
                std::thread::sleep(Duration::from_millis(5));
                r.fetch_sub(1, SeqCst);
                x
            })
            .collect()
            .await;
        assert_eq!(out, (0..40).collect::<Vec<_>>());
        assert!(threads.lock().unwrap().len() >= 2, "ran on one thread only");
        let max = max_running.load(SeqCst);
        assert!((2..=4).contains(&max), "{max} calls at once with 4 workers");
    }

    /// At most 64 × workers items taken from upstream and not yet yielded.
    async fn bounded_read_ahead() {
        for workers in [1usize, 3] {
            let script = Script::items(0..2000u32);
            let pulled = script.pulled();
            let mut s = script.map_blocking(workers, |x| x);
            let mut yielded = 0;
            while s.next().await.is_some() {
                yielded += 1;
                let ahead = pulled.load(SeqCst) - yielded;
                assert!(ahead <= 64 * workers, "{ahead} taken ahead with {workers} workers");
            }
            assert_eq!(yielded, 2000);
        }
    }

    #[should_panic(expected = "cpu stage failed on 13")]
    async fn panic_payload_reaches_the_poller() {
        let s = stream::iter(0..100u32).map_blocking(2, |x| {
            if x == 13 {
                panic!("cpu stage failed on {x}");
            }
            x
        });
        let _: Vec<u32> = s.collect().await;
    }

    /// After a drop, calls stop within a short time and items not started are
    /// never processed.
    async fn drop_stops_the_workers() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let mut s = stream::iter(0..10_000u32).map_blocking_unordered(2, move |x| {
            c.fetch_add(1, SeqCst);
            std::thread::sleep(Duration::from_millis(1));
            x
        });
        for _ in 0..5 {
            assert!(s.next().await.is_some());
        }
        drop(s);
        async_io::Timer::after(Duration::from_millis(50)).await;
        let settled = calls.load(SeqCst);
        async_io::Timer::after(Duration::from_millis(100)).await;
        assert_eq!(calls.load(SeqCst), settled, "calls went on after the drop");
        assert!(settled <= 5 + 128 + 2);
    }

    async fn fused_after_end() {
        let mut s = Script::items([1u8, 2]).map_blocking(2, |x| x * 2);
        let out: Vec<u8> = s.by_ref().collect().await;
        assert_eq!(out, [2, 4]);
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
        let mut s = Script::items([1u8]).map_blocking_unordered(1, |x| x);
        assert_eq!(s.next().await, Some(1));
        assert_eq!(s.next().await, None);
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
    }

    /// Regression (issue 11, defect 1): with items arriving one by one, a new
    /// item waited behind a job blocked in a long call, so `workers = 4` ran only
    /// one or two calls at once when `f` sleeps. Each call here blocks until
    /// four run together (or 5 s pass): all four must start.
    async fn blocking_calls_ran_fewer_than_workers_at_once() {
        for unordered in [false, true] {
            let meet = Rendezvous::default();
            let m = meet.clone();
            let call = move |i: u32| (i, m.call(4, Duration::from_secs(5)));
            let arrivals = Script::new((0..4u32).flat_map(|i| {
                [support::Step::Delay(Duration::from_millis(20)), support::Step::Item(i)]
            }));
            let out: Vec<(u32, usize)> = if unordered {
                arrivals.map_blocking_unordered(4, call).collect().await
            } else {
                arrivals.map_blocking(4, call).collect().await
            };
            assert_eq!(out.len(), 4);
            assert_eq!(meet.most(), 4, "unordered: {unordered}; four calls ran at once");
        }
    }

    /// The sleeping calls of the defect report (300, 10, 160, 70 ms, items 20 ms
    /// apart) finish in the order their ends fall when all run at once: item 1
    /// (at ~30 ms), 3 (~130), 2 (~200), 0 (~300). Before the fix: 1, 2, 3, 0.
    async fn sleeping_calls_finish_in_the_order_of_their_ends() {
        let sleeps = [300u64, 10, 160, 70];
        let arrivals = Script::new((0..4usize).flat_map(|i| {
            let gap = if i == 0 { 0 } else { 20 };
            [support::Step::Delay(Duration::from_millis(gap)), support::Step::Item(i)]
        }));
        let out: Vec<usize> = arrivals
            .map_blocking_unordered(4, move |i| {
                std::thread::sleep(Duration::from_millis(sleeps[i]));
                i
            })
            .collect()
            .await;
        assert_eq!(out, [1, 3, 2, 0]);
    }

    #[should_panic(expected = "map_blocking: workers must be at least 1")]
    async fn zero_workers_panics() {
        let _ = stream::iter([1]).map_blocking(0, |x: i32| x);
    }

    #[should_panic(expected = "map_blocking_unordered: workers must be at least 1")]
    async fn zero_workers_panics_unordered() {
        let _ = stream::iter([1]).map_blocking_unordered(0, |x: i32| x);
    }
}

#[test]
fn adapters_are_send() {
    fn check<T: Send>(_: &T) {}
    let s = stream::iter(0..3u32).map_blocking(1, |x| x);
    check(&s);
    let _ = s.size_hint();
}
