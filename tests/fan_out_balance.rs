//! `balance`: every item to exactly one clone; waiters are served in order.

mod support;

use futures::channel::mpsc;
use futures::stream::{self, FusedStream, StreamExt};
use futures_test::stream::StreamTestExt;
use proptest::prelude::*;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use stream_plus::StreamExtPlus;
use support::{matrix_test, on_every_executor, Script};

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

    /// The union of what the clones got is every item exactly once.
    #[test]
    fn every_item_exactly_once(n in 0u32..200, clones in 1usize..5) {
        on_every_executor(move || async move {
            let first = stream::iter(0..n).interleave_pending().balance();
            let handles: Vec<_> = (0..clones).map(|_| first.clone()).collect();
            drop(first);
            let outs = futures::future::join_all(handles.into_iter().map(|h| h.collect::<Vec<u32>>())).await;
            let mut all: Vec<u32> = outs.into_iter().flatten().collect();
            all.sort();
            assert_eq!(all, (0..n).collect::<Vec<_>>());
        });
    }
}

/// Records the order in which named wakers are woken.
#[derive(Clone, Default)]
struct WakeLog(Arc<Mutex<Vec<&'static str>>>);

struct Named(&'static str, WakeLog);

impl Wake for Named {
    fn wake(self: Arc<Self>) {
        self.1 .0.lock().unwrap().push(self.0);
    }
}

impl WakeLog {
    fn waker(&self, name: &'static str) -> Waker {
        Waker::from(Arc::new(Named(name, self.clone())))
    }
    fn take(&self) -> Vec<&'static str> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

fn poll_as<S: futures::Stream + Unpin>(s: &mut S, waker: &Waker) -> Poll<Option<S::Item>> {
    s.poll_next_unpin(&mut Context::from_waker(waker))
}

/// Waiting clones are woken in the order they began to wait, and the first to
/// poll takes the item.
#[test]
fn waiters_are_woken_in_line_order() {
    let log = WakeLog::default();
    let (wa, wb) = (log.waker("a"), log.waker("b"));
    let (tx, rx) = mpsc::unbounded::<u32>();
    let mut a = rx.balance();
    let mut b = a.clone();
    assert_eq!(poll_as(&mut b, &wb), Poll::Pending);
    assert_eq!(poll_as(&mut a, &wa), Poll::Pending);
    tx.unbounded_send(1).unwrap();
    assert_eq!(log.take(), ["b", "a"], "b waited first");
    assert_eq!(poll_as(&mut b, &wb), Poll::Ready(Some(1)));
    assert_eq!(poll_as(&mut a, &wa), Poll::Pending);
    drop(tx);
    assert_eq!(poll_as(&mut a, &wa), Poll::Ready(None));
    assert_eq!(poll_as(&mut b, &wb), Poll::Ready(None));
}

/// Regression (issue 11, defect 2): after b took item 1, the line was c, a, b
/// but a was woken first for item 2, because the wake-up passed on after the
/// take had popped c out of the line and c rejoined at the back.
#[test]
fn a_take_does_not_reorder_the_waiting_line() {
    let log = WakeLog::default();
    let (wa, wb, wc) = (log.waker("a"), log.waker("b"), log.waker("c"));
    let (tx, rx) = mpsc::unbounded::<u32>();
    let mut a = rx.balance();
    let (mut b, mut c) = (a.clone(), a.clone());
    assert_eq!(poll_as(&mut b, &wb), Poll::Pending);
    assert_eq!(poll_as(&mut c, &wc), Poll::Pending);
    assert_eq!(poll_as(&mut a, &wa), Poll::Pending);
    tx.unbounded_send(1).unwrap();
    assert_eq!(log.take().first(), Some(&"b"));
    assert_eq!(poll_as(&mut b, &wb), Poll::Ready(Some(1)));
    // c and a find nothing and wait again, in their places; b joins behind.
    assert_eq!(poll_as(&mut c, &wc), Poll::Pending);
    assert_eq!(poll_as(&mut a, &wa), Poll::Pending);
    assert_eq!(poll_as(&mut b, &wb), Poll::Pending);
    log.take();
    tx.unbounded_send(2).unwrap();
    assert_eq!(log.take(), ["c", "a", "b"], "c waited longest");
    assert_eq!(poll_as(&mut c, &wc), Poll::Ready(Some(2)));
}

/// Regression (issue 11, defect 3): when the source ended, only the first
/// waiting clone was woken, and the others learnt of the end only once that
/// one polled (a clone busy elsewhere held every other back).
#[test]
fn source_end_wakes_every_waiting_clone_at_once() {
    let log = WakeLog::default();
    let (wa, wb, wc) = (log.waker("a"), log.waker("b"), log.waker("c"));
    let (tx, rx) = mpsc::unbounded::<u32>();
    let mut a = rx.balance();
    let (mut b, mut c) = (a.clone(), a.clone());
    assert_eq!(poll_as(&mut a, &wa), Poll::Pending);
    assert_eq!(poll_as(&mut b, &wb), Poll::Pending);
    assert_eq!(poll_as(&mut c, &wc), Poll::Pending);
    drop(tx);
    assert_eq!(log.take(), ["a", "b", "c"], "all woken before anyone polls");
    // a is busy elsewhere and never polls; b and c see the end regardless.
    assert_eq!(poll_as(&mut c, &wc), Poll::Ready(None));
    assert_eq!(poll_as(&mut b, &wb), Poll::Ready(None));
    assert!(b.is_terminated() && c.is_terminated());
}

/// A woken clone that is dropped before it polls passes the wake-up on: the
/// item reaches the other clone.
#[test]
fn dropping_a_woken_waiter_loses_nothing() {
    let (tx, rx) = mpsc::unbounded::<u32>();
    let (wa, _) = futures_test::task::new_count_waker();
    let (wb, count_b) = futures_test::task::new_count_waker();
    let mut a = rx.balance();
    let mut b = a.clone();
    assert_eq!(
        a.poll_next_unpin(&mut Context::from_waker(&wa)),
        Poll::Pending
    );
    assert_eq!(
        b.poll_next_unpin(&mut Context::from_waker(&wb)),
        Poll::Pending
    );
    tx.unbounded_send(7).unwrap(); // wakes a
    drop(a);
    assert_eq!(count_b.get(), 1, "b is woken in a's place");
    assert_eq!(
        b.poll_next_unpin(&mut Context::from_waker(&wb)),
        Poll::Ready(Some(7))
    );
}

/// Real parallelism: 4 clones on a 4-worker runtime, random delays, 100,000
/// items, several seeds; one clone drops out early.
#[test]
fn stress_on_a_multi_thread_runtime() {
    const N: u64 = 100_000;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    for seed in 1..=4u64 {
        rt.block_on(async move {
            let first = stream::iter(0..N).balance();
            let tasks: Vec<_> = (0..4u64)
                .map(|id| {
                    let mut c = first.clone();
                    tokio::spawn(async move {
                        let mut rng = seed * 104_729 + id;
                        let mut got = Vec::new();
                        while let Some(x) = c.next().await {
                            got.push(x);
                            if xorshift(&mut rng) % 4 == 0 {
                                tokio::task::yield_now().await;
                            }
                            if id == 3 && got.len() == 1000 {
                                break; // drops the clone mid-way
                            }
                        }
                        got
                    })
                })
                .collect();
            drop(first);
            let mut seen = HashSet::new();
            let mut total = 0;
            for task in tasks {
                let got = task.await.unwrap();
                total += got.len();
                seen.extend(got);
            }
            assert_eq!(total as u64, N, "an item went to two clones or none");
            assert_eq!(seen.len() as u64, N);
        });
    }
}

matrix_test! {
    async fn all_clones_end_with_the_source() {
        let a = Script::items(0..10u32).balance();
        let b = a.clone();
        let (xa, xb) = futures::join!(a.collect::<Vec<_>>(), b.collect::<Vec<_>>());
        assert_eq!(xa.len() + xb.len(), 10);
    }

    async fn fused_after_end() {
        let mut a = Script::items([1u8]).balance();
        assert_eq!(a.next().await, Some(1));
        assert_eq!(a.next().await, None);
        assert!(a.is_terminated());
        assert_eq!(a.next().await, None);
        let mut late = a.clone();
        assert_eq!(late.next().await, None);
    }

    async fn dropping_every_clone_drops_the_source() {
        let token = std::sync::Arc::new(());
        let a = stream::iter(vec![token.clone()]).balance();
        let b = a.clone();
        drop(a);
        drop(b);
        assert_eq!(std::sync::Arc::strong_count(&token), 1);
    }
}

#[test]
fn balance_is_send() {
    fn check<T: Send>() {}
    check::<stream_plus::adapters::Balance<stream::Iter<std::vec::IntoIter<u32>>>>();
}
