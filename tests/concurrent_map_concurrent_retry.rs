//! `map_concurrent_retry` and `map_concurrent_retry_unordered`: exact delays
//! and attempt counts on virtual time, an item backing off holds no worker
//! and keeps its place, dead letters, `retry_if`, a due retry before a new
//! item, the bounds, drop, fuse, panics, and a model on every executor.
#![cfg(feature = "time")]

mod support;

use futures::future::{ready, Ready};
use futures::stream::{self, FusedStream, StreamExt};
use futures_test::stream::StreamTestExt;
use std::collections::HashMap;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stream_plus::{Backoff, Failed, StreamExtPlus};
use support::{matrix_test, Script, Tracker, Wait};

const MS: Duration = Duration::from_millis(1);

/// Calls of `f`, in order, as (item, attempt).
#[derive(Clone, Default)]
struct Calls(Arc<Mutex<Vec<(u32, u32)>>>);

impl Calls {
    /// `f` for items that fail their first `fails(item)` attempts with the
    /// attempt's number, then succeed with `item * 10`.
    fn f(&self, fails: impl Fn(u32) -> u32) -> impl FnMut(&u32) -> Ready<Result<u32, u32>> {
        let calls = self.0.clone();
        let mut attempts: HashMap<u32, u32> = HashMap::new();
        move |&item| {
            let n = attempts.entry(item).or_insert(0);
            *n += 1;
            calls.lock().unwrap().push((item, *n));
            ready(if *n <= fails(item) {
                Err(*n)
            } else {
                Ok(item * 10)
            })
        }
    }

    fn get(&self) -> Vec<(u32, u32)> {
        self.0.lock().unwrap().clone()
    }
}

#[cfg(feature = "test-util")]
mod on_virtual_time {
    use super::*;
    use support::virt::Harness;

    #[test]
    fn exact_delays_and_the_order_kept() {
        let calls = Calls::default();
        let f = calls.f(|i| if i == 0 { 2 } else { 0 });
        let backoff = Backoff::exponential(100 * MS).attempts(5);
        let mut h = Harness::new(move |up| up.map_concurrent_retry(2, backoff, f));
        h.send(0).send(1).send(2).send(3);
        // Item 0 fails and backs off; 1, 2, 3 run meanwhile and wait behind it.
        assert_eq!(h.ready(), []);
        assert_eq!(calls.get(), [(0, 1), (1, 1), (2, 1), (3, 1)]);
        h.at(99);
        assert_eq!(h.ready(), []);
        h.at(100);
        assert_eq!(h.ready(), []);
        assert_eq!(calls.get().last(), Some(&(0, 2)), "the retry at 100 ms");
        h.at(299);
        assert_eq!(h.ready(), []);
        h.at(300);
        assert_eq!(
            h.ready(),
            [Ok(0), Ok(10), Ok(20), Ok(30)],
            "at 100 + 200 ms, in input order"
        );
        assert_eq!(calls.get().len(), 6);
    }

    #[test]
    fn unordered_yields_around_the_item_backing_off() {
        let calls = Calls::default();
        let f = calls.f(|i| if i == 0 { 1 } else { 0 });
        let backoff = Backoff::fixed(50 * MS);
        let mut h = Harness::new(move |up| up.map_concurrent_retry_unordered(2, backoff, f));
        h.send(0).send(1).send(2);
        assert_eq!(h.ready(), [Ok(10), Ok(20)]);
        h.at(50);
        assert_eq!(h.ready(), [Ok(0)]);
    }

    /// With one worker: item 0 backs off for an hour, and items 1 and 2 run
    /// and come out meanwhile (unordered), so the backoff holds no worker.
    #[test]
    fn an_item_backing_off_holds_no_worker() {
        let calls = Calls::default();
        let f = calls.f(|i| if i == 0 { 1 } else { 0 });
        let backoff = Backoff::fixed(Duration::from_secs(3600));
        let mut h = Harness::new(move |up| up.map_concurrent_retry_unordered(1, backoff, f));
        h.send(0).send(1);
        assert_eq!(h.ready(), [Ok(10)]);
        assert_eq!(h.stream().backing_off(), 1);
        assert_eq!(h.stream().in_flight(), 0);
        h.at(3_600_000);
        assert_eq!(h.ready(), [Ok(0)]);
        assert_eq!(calls.get(), [(0, 1), (1, 1), (0, 2)]);
    }

    #[test]
    fn a_dead_letter_carries_item_error_and_attempts_and_the_stream_goes_on() {
        let calls = Calls::default();
        let f = calls.f(|i| if i == 1 { u32::MAX } else { 0 });
        let backoff = Backoff::fixed(10 * MS).attempts(3);
        let mut h = Harness::new(move |up| up.map_concurrent_retry(4, backoff, f));
        h.send(0).send(1).send(2);
        assert_eq!(h.ready(), [Ok(0)]);
        h.at(10);
        assert_eq!(h.ready(), []);
        h.at(20);
        assert_eq!(
            h.ready(),
            [
                Err(Failed {
                    item: 1,
                    error: 3,
                    attempts: 3
                }),
                Ok(20)
            ]
        );
        h.send(3).end();
        assert_eq!(h.ready(), [Ok(30)]);
        assert!(h.ended());
        assert_eq!(h.clock.armed_timers(), 0);
    }

    #[test]
    fn retry_if_rejects_at_once() {
        let calls = Calls::default();
        // Errors are attempt numbers: only the first attempt's error is retried.
        let f = calls.f(|_| u32::MAX);
        let backoff = Backoff::fixed(10 * MS).attempts(10);
        let mut h = Harness::new(move |up| {
            up.map_concurrent_retry(2, backoff, f)
                .retry_if(|e: &u32| *e < 2)
        });
        h.send(5);
        assert_eq!(h.ready(), []);
        h.at(10);
        assert_eq!(
            h.ready(),
            [Err(Failed {
                item: 5,
                error: 2,
                attempts: 2
            })]
        );
    }

    /// One worker: item 0 backs off, item 1 runs (gated); when 1 finishes,
    /// the due retry of 0 gets the worker before the new item 2.
    #[test]
    fn a_due_retry_goes_before_a_new_item() {
        let gates = support::Gates::new(3);
        let order = Arc::new(Mutex::new(Vec::new()));
        let (g, o) = (gates.clone(), order.clone());
        let mut attempts = HashMap::new();
        let f = move |&i: &u32| {
            let n = attempts.entry(i).or_insert(0u32);
            *n += 1;
            o.lock().unwrap().push((i, *n));
            let first_of_0 = i == 0 && *n == 1;
            let wait = (i == 1).then(|| g.wait(1));
            async move {
                if let Some(wait) = wait {
                    wait.await;
                }
                if first_of_0 {
                    Err(())
                } else {
                    Ok(i)
                }
            }
        };
        let mut h = Harness::new(move |up| {
            up.map_concurrent_retry_unordered(1, Backoff::fixed(10 * MS), f)
        });
        h.send(0).send(1).send(2);
        assert_eq!(h.ready(), []);
        assert_eq!(*order.lock().unwrap(), [(0, 1), (1, 1)]);
        h.at(10); // 0's retry is due, but the one worker is busy with 1.
        assert_eq!(h.ready(), []);
        gates.open(1);
        assert_eq!(h.ready(), [Ok(1), Ok(0), Ok(2)]);
        assert_eq!(*order.lock().unwrap(), [(0, 1), (1, 1), (0, 2), (2, 1)]);
    }

    #[test]
    fn drop_releases_attempts_items_and_the_timer() {
        let tracker = Tracker::new();
        let t = tracker.clone();
        let mut h = Harness::new(move |up| {
            up.map_concurrent_retry(2, Backoff::fixed(10 * MS), move |&i: &u32| {
                let fut = t.future(Wait::Forever, i);
                async move {
                    if i == 0 {
                        Err(())
                    } else {
                        Ok(fut.await)
                    }
                }
            })
        });
        h.send(0).send(1);
        assert_eq!(h.ready(), []);
        assert_eq!((h.stream().in_flight(), h.stream().backing_off()), (1, 1));
        assert_eq!(h.clock.armed_timers(), 1);
        h.drop_stream();
        assert_eq!(h.clock.armed_timers(), 0);
        assert_eq!(tracker.created(), tracker.dropped());
    }
}

/// The sequential model: each item fails its first `fails(i)` attempts.
fn model(
    items: &[u32],
    attempts: u32,
    fails: impl Fn(u32) -> u32,
) -> Vec<Result<u32, Failed<u32, u32>>> {
    items
        .iter()
        .map(|&i| {
            if fails(i) < attempts {
                Ok(i * 10)
            } else {
                Err(Failed {
                    item: i,
                    error: attempts,
                    attempts,
                })
            }
        })
        .collect()
}

fn fails(i: u32) -> u32 {
    i % 4
}

matrix_test! {
    async fn ordered_matches_the_model() {
        let items: Vec<u32> = (0..40).collect();
        let calls = Calls::default();
        let mut s = stream::iter(items.clone())
            .interleave_pending()
            .map_concurrent_retry(4, Backoff::exponential(MS).attempts(3), calls.f(fails));
        let out = support::collect_checking_hint(&mut s).await;
        assert_eq!(out, model(&items, 3, fails));
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
        let per_item = |i: u32| fails(i).min(2) + 1;
        assert_eq!(calls.get().len() as u32, items.iter().map(|&i| per_item(i)).sum::<u32>());
    }

    async fn unordered_matches_the_model() {
        let items: Vec<u32> = (0..40).collect();
        let calls = Calls::default();
        let mut s = stream::iter(items.clone())
            .interleave_pending()
            .map_concurrent_retry_unordered(4, Backoff::fixed(MS).attempts(3), calls.f(fails));
        let mut out = support::collect_checking_hint(&mut s).await;
        let key = |r: &Result<u32, Failed<u32, u32>>| match r {
            Ok(v) => *v / 10,
            Err(f) => f.item,
        };
        out.sort_by_key(key);
        assert_eq!(out, model(&items, 3, fails));
    }

    /// Never more than `workers` attempts at once, never more than
    /// `2 x workers` items taken and not yet yielded, whatever fails.
    async fn respects_both_bounds() {
        for workers in [1usize, 3, 8] {
            let script = Script::items(0..120u32);
            let pulled = script.pulled();
            let tracker = Tracker::new();
            let t = tracker.clone();
            let mut s = script.map_concurrent_retry(workers, Backoff::fixed(MS).attempts(2), move |&i: &u32| {
                let fut = t.future(Wait::Yields((i % 3) as usize), i);
                async move {
                    let v = fut.await;
                    if v % 5 == 0 { Err(v) } else { Ok(v) }
                }
            });
            let mut yielded = 0;
            while let Some(_out) = s.next().await {
                yielded += 1;
                let held = pulled.load(SeqCst) - yielded;
                assert!(held <= 2 * workers, "{held} held at {workers} workers");
                assert!(s.in_flight() <= workers);
            }
            assert_eq!(yielded, 120);
            assert!(tracker.max_running() <= workers);
            assert_eq!(tracker.created(), tracker.dropped());
        }
    }

    #[should_panic(expected = "map_concurrent_retry: workers must be at least 1")]
    async fn zero_workers_panics() {
        let _s = stream::iter([1u32]).map_concurrent_retry(0, Backoff::fixed(MS), |&x| ready(Ok::<u32, ()>(x)));
    }

    #[should_panic(expected = "map_concurrent_retry_unordered: workers must be at least 1")]
    async fn zero_workers_panics_unordered() {
        let _s = stream::iter([1u32]).map_concurrent_retry_unordered(0, Backoff::fixed(MS), |&x| ready(Ok::<u32, ()>(x)));
    }
}
