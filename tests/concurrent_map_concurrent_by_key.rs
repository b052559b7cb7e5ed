//! `map_concurrent_by_key` and `map_concurrent_by_key_unordered`: one at a time
//! and in input order per key, concurrent across keys.

mod support;

use futures::poll;
use futures::stream::{self, FusedStream, StreamExt};
use futures_test::stream::StreamTestExt;
use proptest::prelude::*;
use std::collections::HashSet;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use stream_plus::StreamExtPlus;
use support::{
    collect_checking_hint, matrix_test, on_every_executor, Gates, Script, Tracker, Wait,
};

/// What the futures did, checked as they start.
#[derive(Default)]
struct Log {
    keys: Vec<u8>,
    started: Vec<usize>,
    finished: HashSet<usize>,
    opened: HashSet<usize>,
    running: Vec<usize>,
    workers: usize,
}

impl Log {
    fn start(&mut self, i: usize) {
        let key = self.keys[i];
        for j in 0..i {
            if self.keys[j] == key {
                assert!(
                    self.finished.contains(&j),
                    "f called for {i} before {j} (same key) finished"
                );
            }
        }
        assert!(
            self.running.iter().all(|&r| self.keys[r] != key),
            "two items of key {key} running"
        );
        // Start order follows input order wherever the keys allow it: an
        // earlier item that has not started yet waits for its key, held by
        // a still earlier item of that key whose gate is still closed. (Gates
        // open between polls, and every woken future is polled before any
        // item starts, so an opened gate counts as a finished item.)
        for j in 0..i {
            if self.started.contains(&j) {
                continue;
            }
            assert!(
                (0..j).any(|k| self.keys[k] == self.keys[j] && !self.opened.contains(&k)),
                "{i} started before {j}, whose key {} was free",
                self.keys[j]
            );
        }
        self.running.push(i);
        assert!(
            self.running.len() <= self.workers,
            "more than {} running",
            self.workers
        );
        self.started.push(i);
    }

    fn finish(&mut self, i: usize) {
        self.running.retain(|&r| r != i);
        self.finished.insert(i);
    }
}

/// Runs the adapter over `keys`, opening the gate of a started item chosen by
/// `choices` whenever it returns `Pending`, and checks the bounds at each step.
async fn run_model(
    keys: Vec<u8>,
    workers: usize,
    ordered: bool,
    choices: Vec<usize>,
) -> Vec<(usize, u8)> {
    let n = keys.len();
    let gates = Gates::new(n);
    let log = Arc::new(Mutex::new(Log {
        keys: keys.clone(),
        workers,
        ..Log::default()
    }));
    let script = Script::items(keys.iter().copied().enumerate().collect::<Vec<_>>());
    let pulled = script.pulled();
    let (g, l) = (gates.clone(), log.clone());
    let f = move |(i, k): (usize, u8)| {
        l.lock().unwrap().start(i);
        let (wait, l) = (g.wait(i), l.clone());
        async move {
            wait.await;
            l.lock().unwrap().finish(i);
            (i, k)
        }
    };
    let key = |(_, k): &(usize, u8)| *k;
    let mut s: stream::BoxStream<'static, (usize, u8)> = if ordered {
        script
            .interleave_pending()
            .map_concurrent_by_key(workers, key, f)
            .boxed()
    } else {
        script
            .interleave_pending()
            .map_concurrent_by_key_unordered(workers, key, f)
            .boxed()
    };
    let mut out = Vec::new();
    let mut opened = HashSet::new();
    let mut choice = choices.iter().cycle();
    for _ in 0..100_000 {
        match poll!(s.next()) {
            Poll::Ready(Some(x)) => out.push(x),
            Poll::Ready(None) => break,
            Poll::Pending => {
                let candidates: Vec<usize> = {
                    let log = log.lock().unwrap();
                    log.started
                        .iter()
                        .copied()
                        .filter(|i| !opened.contains(i))
                        .collect()
                };
                // One to three gates at once: several futures that finish
                // between two polls must all count before any item starts.
                let c = choice.next().copied().unwrap_or(0);
                let mut candidates = candidates;
                for _ in 0..=(c / 7) % 3 {
                    if candidates.is_empty() {
                        break;
                    }
                    let pick = candidates.remove(c % candidates.len());
                    opened.insert(pick);
                    log.lock().unwrap().opened.insert(pick);
                    gates.open(pick);
                }
            }
        }
        let held = pulled.load(SeqCst) - out.len();
        assert!(held <= 2 * workers, "{held} taken and not yet yielded");
    }
    assert_eq!(out.len(), n, "the stream ended with every item");
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    /// Ordered: exactly the sequential map, whatever the completion order.
    #[test]
    fn ordered_equals_the_sequential_map(
        keys in prop::collection::vec(0u8..5, 0..40),
        workers in 1usize..5,
        choices in prop::collection::vec(any::<usize>(), 1..40),
    ) {
        on_every_executor(|| {
            let (keys, choices) = (keys.clone(), choices.clone());
            async move {
                let out = run_model(keys.clone(), workers, true, choices).await;
                let expected: Vec<(usize, u8)> = keys.into_iter().enumerate().collect();
                assert_eq!(out, expected);
            }
        });
    }

    /// Unordered: every item once, and each key's items in input order.
    #[test]
    fn unordered_keeps_each_keys_order(
        keys in prop::collection::vec(0u8..5, 0..40),
        workers in 1usize..5,
        choices in prop::collection::vec(any::<usize>(), 1..40),
    ) {
        on_every_executor(|| {
            let (keys, choices) = (keys.clone(), choices.clone());
            async move {
                let out = run_model(keys.clone(), workers, false, choices).await;
                for key in 0..5u8 {
                    let of_key: Vec<usize> = out.iter().filter(|(_, k)| *k == key).map(|(i, _)| *i).collect();
                    assert!(of_key.windows(2).all(|w| w[0] < w[1]), "key {key}: {of_key:?}");
                }
                let mut all: Vec<usize> = out.iter().map(|(i, _)| *i).collect();
                all.sort_unstable();
                assert_eq!(all, (0..keys.len()).collect::<Vec<_>>());
            }
        });
    }
}

/// Items as (index, key); a gated future per item; what `f` was called for.
struct Scenario {
    gates: Gates,
    calls: Arc<Mutex<Vec<usize>>>,
}

impl Scenario {
    fn new(n: usize) -> Self {
        Self {
            gates: Gates::new(n),
            calls: Arc::default(),
        }
    }
    fn f(
        &self,
    ) -> impl FnMut((usize, char)) -> std::pin::Pin<Box<dyn std::future::Future<Output = usize> + Send>>
    {
        let (gates, calls) = (self.gates.clone(), self.calls.clone());
        move |(i, _)| {
            calls.lock().unwrap().push(i);
            let wait = gates.wait(i);
            Box::pin(async move {
                wait.await;
                i
            })
        }
    }
    fn calls(&self) -> Vec<usize> {
        self.calls.lock().unwrap().clone()
    }
}

fn key((_, k): &(usize, char)) -> char {
    *k
}

matrix_test! {
    /// a1 starts only after a0 finished; a waiting a1 holds no worker, so b0
    /// starts around it.
    async fn per_key_serial_and_a_waiting_item_holds_no_worker() {
        let sc = Scenario::new(3);
        let script = Script::items([(0, 'a'), (1, 'a'), (2, 'b')]);
        let mut s = Box::pin(script.map_concurrent_by_key(2, key, sc.f()));
        assert!(poll!(s.next()).is_pending());
        assert_eq!(sc.calls(), [0, 2], "a1 waits for a0; b0 takes the other worker");
        assert_eq!(s.in_flight(), 2);
        assert_eq!(s.waiting_for_key(), 1);
        sc.gates.open(0);
        assert_eq!(poll!(s.next()), Poll::Ready(Some(0)));
        assert_eq!(sc.calls(), [0, 2, 1], "a1 started once a0 finished");
        sc.gates.open(1);
        sc.gates.open(2);
        assert_eq!(s.collect::<Vec<_>>().await, [1, 2]);
    }

    /// Regression: when several futures finished between two polls, the
    /// engine refilled after each one, in slot order, so 4 found its key B
    /// still busy (2 had completed but was not polled yet) and 5 started
    /// first: `f` was called 1, 2, 3, 5, 4. Every woken future is polled
    /// before any item starts.
    async fn keyed_start_order_follows_input_order_when_several_finish() {
        for ordered in [true, false] {
            let sc = Scenario::new(6);
            let items = [(1, 'A'), (2, 'B'), (3, 'C'), (4, 'B'), (5, 'D')];
            let mut s: stream::BoxStream<'static, usize> = if ordered {
                stream::iter(items).map_concurrent_by_key(2, key, sc.f()).boxed()
            } else {
                stream::iter(items).map_concurrent_by_key_unordered(2, key, sc.f()).boxed()
            };
            assert!(poll!(s.next()).is_pending());
            assert_eq!(sc.calls(), [1, 2]);
            sc.gates.open(1);
            assert_eq!(poll!(s.next()), Poll::Ready(Some(1)));
            assert_eq!(sc.calls(), [1, 2, 3]);
            sc.gates.open(2);
            sc.gates.open(3);
            let next = poll!(s.next());
            assert_eq!(sc.calls(), [1, 2, 3, 4, 5], "ordered: {ordered}");
            assert!(matches!(next, Poll::Ready(Some(2 | 3))));
            sc.gates.open(4);
            sc.gates.open(5);
            let mut rest = s.collect::<Vec<_>>().await;
            rest.sort_unstable();
            assert_eq!(rest.len(), 3);
        }
    }

    /// A free worker goes to the earliest waiting item whose key is free
    /// before any new upstream item.
    async fn a_free_worker_goes_to_a_waiting_item_first() {
        let sc = Scenario::new(4);
        let script = Script::items([(0, 'a'), (1, 'a'), (2, 'b'), (3, 'c')]);
        let pulled = script.pulled();
        let mut s = Box::pin(script.map_concurrent_by_key_unordered(2, key, sc.f()));
        assert!(poll!(s.next()).is_pending());
        assert_eq!(sc.calls(), [0, 2]);
        assert_eq!(pulled.load(SeqCst), 3, "c0 is not taken: no worker is free");
        sc.gates.open(0);
        assert_eq!(poll!(s.next()), Poll::Ready(Some(0)));
        assert_eq!(sc.calls(), [0, 2, 1], "a1, waiting, before c0, new");
        assert_eq!(pulled.load(SeqCst), 3);
        for i in 1..4 {
            sc.gates.open(i);
        }
        let mut rest = s.collect::<Vec<_>>().await;
        rest.sort_unstable();
        assert_eq!(rest, [1, 2, 3]);
    }

    /// Eager refill: before an output is handed out, the next ready item's
    /// future has been created and polled once.
    async fn refills_before_handing_out_an_output() {
        let tracker = Tracker::new();
        let t = tracker.clone();
        let mut s = stream::iter(0..10u32)
            .map_concurrent_by_key(1, |x| x % 3, move |x| t.future(Wait::Yields(1), x));
        assert_eq!(s.next().await, Some(0));
        assert_eq!(tracker.started(), 2, "item 1 started before item 0 was handed out");
    }

    /// Over an endless ready source, one poll does bounded work.
    async fn bounded_work_per_poll_over_an_endless_source() {
        let script = stream::repeat(1u32).enumerate();
        let (counted, polls, _) = support::Counted::new(script);
        let mut s = Box::pin(counted.map_concurrent_by_key(4, |(i, _)| i % 2, |(i, _)| async move { i }));
        for round in 0..5 {
            let before = polls.get();
            assert_eq!(poll!(s.next()), Poll::Ready(Some(round)));
            assert!(polls.get() - before <= 16, "one poll pulled {} items", polls.get() - before);
        }
    }

    /// With a stuck head, the bound holds: 2 x workers taken, no more.
    async fn stuck_head_stops_pulling_at_twice_workers() {
        let script = Script::items((0..100u32).collect::<Vec<_>>());
        let pulled = script.pulled();
        let mut s = Box::pin(script.map_concurrent_by_key(3, |x| *x, |x| async move {
            if x == 0 {
                futures::future::pending::<()>().await;
            }
            x
        }));
        for _ in 0..5 {
            assert!(poll!(s.next()).is_pending());
        }
        assert_eq!(pulled.load(SeqCst), 6);
    }

    /// Dropping the stream drops every running future and waiting item.
    async fn drop_cancels_everything() {
        let tracker = Tracker::new();
        let t = tracker.clone();
        let mut s = Box::pin(stream::iter(0..50u32).map_concurrent_by_key_unordered(4, |x| x % 2, move |x| t.future(Wait::Forever, x)));
        assert!(poll!(s.next()).is_pending());
        assert_eq!(tracker.running(), 2, "one per key");
        drop(s);
        assert_eq!(tracker.created(), tracker.dropped());
        assert_eq!(tracker.running(), 0);
    }

    /// Fused, with an honest size_hint throughout; spurious `Pending`s.
    async fn fused_and_size_hint() {
        for ordered in [true, false] {
            let src = Script::items((0..30u32).collect::<Vec<_>>()).interleave_pending();
            let mut s: stream::BoxStream<'static, u32> = if ordered {
                src.map_concurrent_by_key(3, |x| x % 4, |x| async move { support::yield_n((x % 3) as usize).await; x }).boxed()
            } else {
                src.map_concurrent_by_key_unordered(3, |x| x % 4, |x| async move { support::yield_n((x % 3) as usize).await; x }).boxed()
            };
            let mut out = collect_checking_hint(&mut s).await;
            if !ordered {
                out.sort_unstable();
            }
            assert_eq!(out, (0..30).collect::<Vec<_>>());
            assert_eq!(s.next().await, None);
        }
        let mut s = stream::iter([1u8]).map_concurrent_by_key(1, |x| *x, |x| async move { x });
        assert_eq!(s.next().await, Some(1));
        assert_eq!(s.next().await, None);
        assert!(s.is_terminated());
    }

    #[should_panic(expected = "map_concurrent_by_key: workers must be at least 1")]
    async fn zero_workers_panics() {
        let _ = stream::iter([1u8]).map_concurrent_by_key(0, |x| *x, |x| async move { x });
    }

    #[should_panic(expected = "map_concurrent_by_key_unordered: workers must be at least 1")]
    async fn zero_workers_panics_unordered() {
        let _ = stream::iter([1u8]).map_concurrent_by_key_unordered(0, |x| *x, |x| async move { x });
    }
}
