//! `restart`: each failure yielded then a new incarnation after the backoff,
//! `k` reset by an `Ok`, the end after `attempts` failures in a row or a
//! normal end, fused, drop, every executor.
#![cfg(feature = "time")]

mod support;

use futures::stream::{self, FusedStream, StreamExt};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stream_plus::{restart, Backoff};
use support::matrix_test;

const MS: Duration = Duration::from_millis(1);

/// A factory whose `n`-th incarnation (from 1) plays `script[n - 1]`:
/// `Ok(v)` items, `Err(e)` items, or, past the script, a normal end.
fn factory(
    script: Vec<Vec<Result<u32, char>>>,
    made: &Arc<AtomicU32>,
) -> impl FnMut() -> stream::Iter<std::vec::IntoIter<Result<u32, char>>> {
    let made = made.clone();
    let script = Arc::new(Mutex::new(script.into_iter()));
    move || {
        made.fetch_add(1, SeqCst);
        let items = script.lock().unwrap().next().unwrap_or_default();
        stream::iter(items)
    }
}

#[cfg(feature = "test-util")]
mod on_virtual_time {
    use super::*;
    use support::virt::Harness;

    #[test]
    fn restarts_after_each_delay_and_an_ok_resets_k() {
        let made = Arc::new(AtomicU32::new(0));
        let f = factory(
            vec![
                vec![Err('a')],        // k = 1: 100 ms
                vec![Err('b')],        // k = 2: 200 ms
                vec![Ok(1), Err('c')], // an Ok first: k = 1 again, 100 ms
                vec![Ok(2)],           // then the normal end
            ],
            &made,
        );
        let backoff = Backoff::exponential(100 * MS).attempts(5);
        let mut h = Harness::<(), _>::new(move |_| restart(backoff, f));
        assert_eq!(made.load(SeqCst), 0, "lazy");
        assert_eq!(h.ready(), [Err('a')]);
        assert_eq!(made.load(SeqCst), 1);
        h.at(99);
        assert_eq!(h.ready(), []);
        h.at(100);
        assert_eq!(h.ready(), [Err('b')]);
        assert_eq!(made.load(SeqCst), 2);
        h.at(299);
        assert_eq!(h.ready(), []);
        h.at(300);
        assert_eq!(h.ready(), [Ok(1), Err('c')]);
        h.at(399);
        assert_eq!(h.ready(), []);
        h.at(400);
        assert_eq!(h.ready(), [Ok(2)]);
        assert!(h.ended());
        assert_eq!(made.load(SeqCst), 4);
    }

    #[test]
    fn ends_after_attempts_failures_in_a_row() {
        let made = Arc::new(AtomicU32::new(0));
        let f = factory(vec![vec![Err('x')]; 10], &made);
        let mut h = Harness::<(), _>::new(move |_| restart(Backoff::fixed(10 * MS).attempts(3), f));
        assert_eq!(h.ready(), [Err('x')]);
        h.at(10);
        assert_eq!(h.ready(), [Err('x')]);
        h.at(20);
        assert_eq!(h.ready(), [Err('x')]);
        assert!(h.ended(), "the third failure in a row is the last");
        h.at(1000);
        assert_eq!(made.load(SeqCst), 3);
        assert_eq!(h.clock.armed_timers(), 0);
    }

    #[test]
    fn drop_while_backing_off_releases_the_timer() {
        let made = Arc::new(AtomicU32::new(0));
        let f = factory(vec![vec![Err('x')]; 10], &made);
        let mut h = Harness::<(), _>::new(move |_| restart(Backoff::fixed(10 * MS), f));
        assert_eq!(h.ready(), [Err('x')]);
        assert_eq!(h.clock.armed_timers(), 1);
        h.drop_stream();
        assert_eq!(h.clock.armed_timers(), 0);
    }
}

matrix_test! {
    async fn restarts_on_real_time_and_is_fused() {
        let made = Arc::new(AtomicU32::new(0));
        let f = factory(vec![vec![Ok(1), Err('e')], vec![Err('e')], vec![Ok(2)]], &made);
        let mut s = restart(Backoff::exponential(MS).attempts(3), f);
        let got: Vec<_> = s.by_ref().collect().await;
        assert_eq!(got, [Ok(1), Err('e'), Err('e'), Ok(2)]);
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
        assert_eq!(made.load(SeqCst), 3);
    }

    async fn size_hint_is_never_wrong() {
        let made = Arc::new(AtomicU32::new(0));
        let f = factory(vec![vec![Ok(1), Err('e'), Ok(99)], vec![Ok(2), Ok(3)]], &made);
        let mut s = restart(Backoff::fixed(MS), f);
        let got = support::collect_checking_hint(&mut s).await;
        assert_eq!(got, [Ok(1), Err('e'), Ok(2), Ok(3)]);
    }
}
