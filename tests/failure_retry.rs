//! `retry` and `Backoff`: exact delays and attempt counts on virtual time,
//! `retry_if`, laziness, drop, and every executor.
#![cfg(feature = "time")]

mod support;

use futures::stream::{self, StreamExt};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;
use stream_plus::{retry, Backoff, StreamExtPlus};
use support::matrix_test;

const MS: Duration = Duration::from_millis(1);

/// A call that fails its first `fails` attempts with the attempt's number,
/// then succeeds with it; `calls` counts the attempts.
fn flaky(
    fails: u32,
    calls: &Arc<AtomicU32>,
) -> impl FnMut() -> futures::future::Ready<Result<u32, u32>> {
    let calls = calls.clone();
    move || {
        let n = calls.fetch_add(1, SeqCst) + 1;
        futures::future::ready(if n <= fails { Err(n) } else { Ok(n) })
    }
}

#[cfg(feature = "test-util")]
mod on_virtual_time {
    use super::*;
    use support::virt::Harness;

    #[test]
    fn waits_each_delay_exactly_then_succeeds() {
        let calls = Arc::new(AtomicU32::new(0));
        let backoff = Backoff::exponential(100 * MS).attempts(5);
        let c = calls.clone();
        let mut h = Harness::<(), _>::new(move |_| stream::once(retry(backoff, flaky(2, &c))));
        assert_eq!(calls.load(SeqCst), 0, "lazy: nothing before the first poll");
        assert_eq!(h.ready(), []);
        assert_eq!(calls.load(SeqCst), 1);
        h.at(99);
        assert_eq!(h.ready(), []);
        assert_eq!(calls.load(SeqCst), 1);
        h.at(100);
        assert_eq!(h.ready(), []);
        assert_eq!(calls.load(SeqCst), 2, "the second attempt at 100 ms");
        h.at(299);
        assert_eq!(h.ready(), []);
        h.at(300);
        assert_eq!(h.ready(), [Ok(3)], "the third at 100 + 200 ms");
        assert_eq!(calls.load(SeqCst), 3);
        assert_eq!(h.clock.armed_timers(), 0);
    }

    #[test]
    fn returns_the_last_error_after_its_attempts() {
        let calls = Arc::new(AtomicU32::new(0));
        let backoff = Backoff::fixed(10 * MS).attempts(3);
        let c = calls.clone();
        let mut h =
            Harness::<(), _>::new(move |_| stream::once(retry(backoff, flaky(u32::MAX, &c))));
        assert_eq!(h.ready(), []);
        h.at(10);
        assert_eq!(h.ready(), []);
        h.at(20);
        assert_eq!(h.ready(), [Err(3)]);
        assert_eq!(calls.load(SeqCst), 3);
        h.at(1000);
        assert_eq!(calls.load(SeqCst), 3);
    }

    #[test]
    fn an_error_retry_if_rejects_is_returned_at_once() {
        let calls = Arc::new(AtomicU32::new(0));
        let backoff = Backoff::fixed(10 * MS).attempts(10);
        let c = calls.clone();
        // Odd attempts are worth retrying; the second fails for good.
        let mut h = Harness::<(), _>::new(move |_| {
            stream::once(retry(backoff, flaky(u32::MAX, &c)).retry_if(|e: &u32| e % 2 == 1))
        });
        assert_eq!(h.ready(), []);
        h.at(10);
        assert_eq!(h.ready(), [Err(2)]);
        assert_eq!(calls.load(SeqCst), 2);
    }

    #[test]
    fn jitter_and_caps_on_the_clock() {
        let calls = Arc::new(AtomicU32::new(0));
        let backoff = Backoff::exponential(40 * MS)
            .max_delay(50 * MS)
            .jitter(0.5)
            .seed(3)
            .attempts(3);
        let expected: Vec<u64> = (1..=2)
            .map(|k| backoff.delay(k).unwrap().as_millis() as u64)
            .collect();
        assert!(
            expected.iter().all(|&d| (20..=50).contains(&d)),
            "{expected:?}"
        );
        let c = calls.clone();
        let b = backoff.clone();
        let mut h = Harness::<(), _>::new(move |_| stream::once(retry(b, flaky(2, &c))));
        assert_eq!(h.ready(), []);
        // The timer is due at the jittered delay, to the nanosecond.
        let first = backoff.delay(1).unwrap();
        assert_eq!(h.clock.next_deadline(), Some(h.clock.now() + first));
        h.clock.advance(first);
        assert_eq!(h.ready(), []);
        assert_eq!(calls.load(SeqCst), 2);
        h.clock.advance(backoff.delay(2).unwrap());
        assert_eq!(h.ready(), [Ok(3)]);
    }

    #[test]
    fn drop_releases_the_timer_and_the_attempt() {
        let calls = Arc::new(AtomicU32::new(0));
        let c = calls.clone();
        let mut h = Harness::<(), _>::new(move |_| {
            stream::once(retry(Backoff::fixed(MS * 10), flaky(u32::MAX, &c)))
        });
        assert_eq!(h.ready(), []);
        assert_eq!(h.clock.armed_timers(), 1);
        h.drop_stream();
        assert_eq!(h.clock.armed_timers(), 0);
        h.at(100);
        assert_eq!(calls.load(SeqCst), 1);
    }
}

matrix_test! {
    async fn retries_on_real_time() {
        let calls = Arc::new(AtomicU32::new(0));
        let out = retry(Backoff::exponential(MS).attempts(4), flaky(3, &calls)).await;
        assert_eq!(out, Ok(4));
        assert_eq!(calls.load(SeqCst), 4);
    }

    /// Inside a concurrent stage: each item's retry holds its worker (the
    /// retrying maps, not this, free it).
    async fn inside_a_concurrent_stage() {
        let out: Vec<Result<u32, u32>> = stream::iter(0..8u32)
            .map_concurrent(4, |i| {
                let calls = Arc::new(AtomicU32::new(0));
                let f = flaky(i % 3, &calls);
                async move { retry(Backoff::fixed(MS).attempts(3), f).await.map(|n| n * 100 + i) }
            })
            .collect()
            .await;
        let expected: Vec<Result<u32, u32>> = (0..8).map(|i| Ok((i % 3 + 1) * 100 + i)).collect();
        assert_eq!(out, expected);
    }
}
