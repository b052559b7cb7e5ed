//! `sleep` and `timeout`: exact on virtual time, counted from the call,
//! `Duration::MAX`, the future dropped at the deadline, every executor.
#![cfg(feature = "time")]

mod support;

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::Arc;
use std::time::{Duration, Instant};
use stream_plus::{sleep, timeout, Elapsed};
use support::matrix_test;

const MS: Duration = Duration::from_millis(1);

#[cfg(feature = "test-util")]
mod on_virtual_time {
    use super::*;
    use futures::stream;
    use support::virt::Harness;

    #[test]
    fn sleep_completes_at_its_deadline_counted_from_the_call() {
        let mut h = Harness::<(), _>::new(|_| stream::once(sleep(10 * MS)));
        h.at(4);
        assert_eq!(h.ready(), []);
        h.at(9);
        assert_eq!(h.ready(), []);
        h.at(10);
        assert_eq!(h.ready(), [()]);
        // Made at 0, first polled at 12: already due.
        let mut h = Harness::<(), _>::new(|_| stream::once(sleep(10 * MS)));
        h.at(12);
        assert_eq!(h.ready(), [()]);
    }

    #[test]
    fn sleep_duration_max_never_completes_and_never_panics() {
        let mut h = Harness::<(), _>::new(|_| stream::once(sleep(Duration::MAX)));
        assert_eq!(h.ready(), []);
        h.clock.advance(Duration::from_secs(100 * 365 * 24 * 3600));
        assert_eq!(h.ready(), []);
        h.drop_stream();
        assert_eq!(h.clock.armed_timers(), 0);
    }

    #[test]
    fn timeout_in_time_and_late() {
        let mut h = Harness::<(), _>::new(|_| stream::once(timeout(10 * MS, sleep(5 * MS))));
        assert_eq!(h.ready(), []);
        h.at(5);
        assert_eq!(h.ready(), [Ok(())]);
        assert_eq!(h.clock.armed_timers(), 0);

        let dropped = Arc::new(AtomicBool::new(false));
        let d = dropped.clone();
        let mut h = Harness::<(), _>::new(move |_| {
            let guard = DropFlag(d);
            stream::once(timeout(10 * MS, async move {
                let _guard = guard;
                sleep(Duration::from_secs(60)).await
            }))
        });
        assert_eq!(h.ready(), []);
        h.at(9);
        assert_eq!(h.ready(), []);
        assert!(!dropped.load(SeqCst));
        h.at(10);
        assert_eq!(h.ready(), [Err(Elapsed)]);
        assert!(
            dropped.load(SeqCst),
            "the future is dropped at the deadline"
        );
        assert_eq!(h.clock.armed_timers(), 0);
    }

    #[test]
    fn a_future_ready_at_the_deadline_is_in_time() {
        let mut h = Harness::<(), _>::new(|_| stream::once(timeout(10 * MS, sleep(10 * MS))));
        assert_eq!(h.ready(), []);
        h.at(10);
        assert_eq!(h.ready(), [Ok(())]);
    }
}

struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

matrix_test! {
    async fn sleep_on_real_time() {
        let start = Instant::now();
        sleep(10 * MS).await;
        assert!(start.elapsed() >= 10 * MS);
    }

    async fn timeout_on_real_time() {
        assert_eq!(timeout(5 * MS, sleep(Duration::from_secs(60))).await, Err(Elapsed));
        assert_eq!(timeout(Duration::from_secs(60), async { 3 }).await, Ok(3));
    }

    #[should_panic(expected = "sleep: d must be greater than zero")]
    async fn zero_sleep_panics() {
        drop(sleep(Duration::ZERO));
    }
}
