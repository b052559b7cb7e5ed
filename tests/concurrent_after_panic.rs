//! The six concurrent maps after a panic in a future or in `f` that the
//! caller caught: a poll after it yields `None`, drops the other running
//! futures, and never polls the future that panicked again. Regression: the
//! panicked future stayed in its slot and could be polled again.

mod support;

use futures::stream::{self, BoxStream, FusedStream, StreamExt};
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use stream_plus::{StreamExtPlus, TryStreamExtPlus};
use support::{matrix_test, yield_n, Tracker, Wait};

/// Where the panic happens.
#[derive(Clone, Copy, Debug)]
enum Where {
    /// In the future of item 3, on its second poll.
    Future,
    /// In `f`, for item 3.
    Closure,
}

type Fut = futures::future::BoxFuture<'static, u32>;

/// A function for items 0..10: item 3 panics as told, the others run until
/// the test ends (tracked, so the test sees them dropped).
fn make(tracker: &Tracker, at: Where, panicked_polls: &Arc<AtomicUsize>) -> impl FnMut(u32) -> Fut {
    let (tracker, polls) = (tracker.clone(), panicked_polls.clone());
    move |i| {
        if i == 3 {
            if let Where::Closure = at {
                panic!("boom in f for item 3");
            }
            let polls = polls.clone();
            return async move {
                yield_n(1).await;
                polls.fetch_add(1, SeqCst);
                panic!("boom in the future of item 3");
            }
            .boxed();
        }
        tracker.future(Wait::Forever, i).boxed()
    }
}

fn adapters(
    tracker: &Tracker,
    at: Where,
    polls: &Arc<AtomicUsize>,
) -> Vec<BoxStream<'static, u32>> {
    let items = || stream::iter(0..10u32);
    let ok = |r: Result<u32, ()>| r.unwrap_or(u32::MAX);
    let try_f = |mut f: Box<dyn FnMut(u32) -> Fut + Send>| move |i: u32| f(i).map(Ok::<u32, ()>);
    vec![
        items().map_concurrent(4, make(tracker, at, polls)).boxed(),
        items()
            .map_concurrent_unordered(4, make(tracker, at, polls))
            .boxed(),
        items()
            .map_concurrent_by_key(4, |i| i % 5, make(tracker, at, polls))
            .boxed(),
        items()
            .map_concurrent_by_key_unordered(4, |i| i % 5, make(tracker, at, polls))
            .boxed(),
        items()
            .map(Ok::<u32, ()>)
            .try_map_concurrent(4, try_f(Box::new(make(tracker, at, polls))))
            .map(ok)
            .boxed(),
        items()
            .map(Ok::<u32, ()>)
            .try_map_concurrent_unordered(4, try_f(Box::new(make(tracker, at, polls))))
            .map(ok)
            .boxed(),
    ]
}

matrix_test! {
    async fn a_poll_after_a_caught_panic_ends_the_stream() {
        for at in [Where::Future, Where::Closure] {
            let tracker = Tracker::new();
            let polls = Arc::new(AtomicUsize::new(0));
            for (n, mut s) in adapters(&tracker, at, &polls).into_iter().enumerate() {
                let caught = AssertUnwindSafe(s.next()).catch_unwind().await;
                assert!(caught.is_err(), "adapter {n} ({at:?}): the panic reached the poller");
                assert_eq!(s.next().await, None, "adapter {n} ({at:?})");
                assert_eq!(s.next().await, None, "adapter {n} ({at:?})");
                drop(s);
                assert_eq!(tracker.created(), tracker.dropped(), "adapter {n} ({at:?})");
            }
            // Each panicking future was polled to its panic once, never again.
            let expected = match at {
                Where::Future => 6,
                Where::Closure => 0,
            };
            assert_eq!(polls.load(SeqCst), expected);
        }
    }

    async fn terminated_after_a_caught_panic() {
        let tracker = Tracker::new();
        let polls = Arc::new(AtomicUsize::new(0));
        let mut s = stream::iter(0..10u32).map_concurrent(4, make(&tracker, Where::Future, &polls));
        assert!(AssertUnwindSafe(s.next()).catch_unwind().await.is_err());
        assert!(!s.is_terminated());
        assert_eq!(s.next().await, None);
        assert!(s.is_terminated());
        assert_eq!(s.in_flight(), 0, "the other running futures were dropped");
        assert_eq!(tracker.running(), 0);
    }
}
