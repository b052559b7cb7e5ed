//! `usize::MAX` as a count means "no limit" on every operator that takes one
//! (STYLE.md: bounds use saturating arithmetic), as it does for
//! `buffer_unordered`. Regression: `map_concurrent(usize::MAX, f)`,
//! `.reorder_capacity(usize::MAX)`, `try_map_concurrent(usize::MAX, ..)` and
//! `map_concurrent_by_key(_unordered)(usize::MAX, ..)` overflowed (a panic in
//! a debug build, which the tests run in).

mod support;

use futures::stream::{self, StreamExt, TryStreamExt};
use futures_test::stream::StreamTestExt;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::Poll;
use stream_plus::{Overflow, StreamExtPlus, TryStreamExtPlus};
use support::matrix_test;

const N: usize = 600;

/// A future that completes only once all `N` futures of its batch have
/// started: only an adapter that runs them all at once can finish.
fn all_at_once(started: &Arc<AtomicUsize>, value: usize) -> impl Future<Output = usize> + Send {
    let started = started.clone();
    let mut counted = false;
    futures::future::poll_fn(move |cx| {
        if !counted {
            counted = true;
            started.fetch_add(1, SeqCst);
        }
        if started.load(SeqCst) >= N {
            Poll::Ready(value)
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
}

fn model() -> Vec<usize> {
    (0..N).collect()
}

fn sorted(mut v: Vec<usize>) -> Vec<usize> {
    v.sort_unstable();
    v
}

matrix_test! {
    async fn map_concurrent_runs_every_item_at_once() {
        let started = Arc::new(AtomicUsize::new(0));
        let out: Vec<usize> = stream::iter(0..N)
            .interleave_pending()
            .map_concurrent(usize::MAX, |i| all_at_once(&started, i))
            .collect()
            .await;
        assert_eq!(out, model());
    }

    async fn map_concurrent_reorder_capacity_usize_max() {
        let started = Arc::new(AtomicUsize::new(0));
        let out: Vec<usize> = stream::iter(0..N)
            .map_concurrent(N, |i| all_at_once(&started, i))
            .reorder_capacity(usize::MAX)
            .collect()
            .await;
        assert_eq!(out, model());
        let out: Vec<usize> = stream::iter(0..N)
            .map_concurrent(usize::MAX, |i| async move { i })
            .reorder_capacity(usize::MAX)
            .collect()
            .await;
        assert_eq!(out, model());
    }

    async fn map_concurrent_unordered_runs_every_item_at_once() {
        let started = Arc::new(AtomicUsize::new(0));
        let out: Vec<usize> = stream::iter(0..N)
            .interleave_pending()
            .map_concurrent_unordered(usize::MAX, |i| all_at_once(&started, i))
            .collect()
            .await;
        assert_eq!(sorted(out), model());
    }

    async fn try_map_concurrent_runs_every_item_at_once() {
        let started = Arc::new(AtomicUsize::new(0));
        let out: Result<Vec<usize>, ()> = stream::iter((0..N).map(Ok::<usize, ()>))
            .interleave_pending()
            .try_map_concurrent(usize::MAX, |i| {
                let f = all_at_once(&started, i);
                async move { Ok(f.await) }
            })
            .try_collect()
            .await;
        assert_eq!(out, Ok(model()));
    }

    async fn try_map_concurrent_unordered_runs_every_item_at_once() {
        let started = Arc::new(AtomicUsize::new(0));
        let out: Result<Vec<usize>, ()> = stream::iter((0..N).map(Ok::<usize, ()>))
            .try_map_concurrent_unordered(usize::MAX, |i| {
                let f = all_at_once(&started, i);
                async move { Ok(f.await) }
            })
            .try_collect()
            .await;
        assert_eq!(out.map(sorted), Ok(model()));
    }

    async fn map_concurrent_by_key_runs_every_key_at_once() {
        let started = Arc::new(AtomicUsize::new(0));
        let out: Vec<usize> = stream::iter(0..N)
            .interleave_pending()
            .map_concurrent_by_key(usize::MAX, |i| *i, |i| all_at_once(&started, i))
            .collect()
            .await;
        assert_eq!(out, model());
    }

    async fn map_concurrent_by_key_unordered_runs_every_key_at_once() {
        let started = Arc::new(AtomicUsize::new(0));
        let out: Vec<usize> = stream::iter(0..N)
            .map_concurrent_by_key_unordered(usize::MAX, |i| *i, |i| all_at_once(&started, i))
            .collect()
            .await;
        assert_eq!(sorted(out), model());
    }

    async fn buffer_with_and_decouple_and_stage() {
        for overflow in [Overflow::Backpressure, Overflow::DropOldest, Overflow::DropNewest] {
            let out: Vec<usize> = stream::iter(0..N).buffer_with(usize::MAX, overflow).collect().await;
            assert_eq!(out, model());
        }
        let (rx, driver) = stream::iter(0..N).decouple(usize::MAX);
        let (out, ()) = futures::join!(rx.collect::<Vec<_>>(), driver);
        assert_eq!(out, model());
        let out: Vec<usize> = stream::iter(0..N).stage(usize::MAX, |s| s).collect().await;
        assert_eq!(out, model());
    }

    async fn broadcast_capacity_usize_max() {
        let mut consumers = stream::iter(0..N).broadcast(2, usize::MAX);
        let b = consumers.pop().unwrap();
        let a = consumers.pop().unwrap();
        // The first consumer runs to the end before the second starts.
        let first: Vec<usize> = a.collect().await;
        let second: Vec<usize> = b.collect().await;
        assert_eq!(first, model());
        assert_eq!(second, model());
    }
}

#[cfg(feature = "time")]
mod time {
    use super::*;
    use std::time::Duration;

    matrix_test! {
        async fn batch_timeout_max_usize_max() {
            let out: Vec<Vec<usize>> = stream::iter(0..N)
                .batch_timeout(usize::MAX, Duration::from_secs(3600))
                .collect()
                .await;
            assert_eq!(out, [model()]);
        }

        async fn rate_limit_count_and_burst_usize_max() {
            let out: Vec<usize> = stream::iter(0..N)
                .rate_limit(usize::MAX, Duration::from_secs(3600))
                .collect()
                .await;
            assert_eq!(out, model());
            let out: Vec<usize> = stream::iter(0..N)
                .rate_limit(1, Duration::from_secs(3600))
                .burst(usize::MAX)
                .collect()
                .await;
            assert_eq!(out, model());
        }
    }
}

#[cfg(feature = "blocking")]
mod blocking {
    use super::*;

    matrix_test! {
        async fn map_blocking_workers_usize_max() {
            let out: Vec<usize> = stream::iter(0..N).map_blocking(usize::MAX, |i| i).collect().await;
            assert_eq!(out, model());
            let out: Vec<usize> = stream::iter(0..N).map_blocking_unordered(usize::MAX, |i| i).collect().await;
            assert_eq!(sorted(out), model());
        }

        async fn try_map_blocking_workers_usize_max() {
            let out: Result<Vec<usize>, ()> = stream::iter((0..N).map(Ok::<usize, ()>))
                .try_map_blocking(usize::MAX, Ok)
                .try_collect()
                .await;
            assert_eq!(out, Ok(model()));
            let out: Result<Vec<usize>, ()> = stream::iter((0..N).map(Ok::<usize, ()>))
                .try_map_blocking_unordered(usize::MAX, Ok)
                .try_collect()
                .await;
            assert_eq!(out.map(sorted), Ok(model()));
        }
    }
}
