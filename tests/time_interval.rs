//! `interval`: endless ticks on a grid; a late consumer gets no burst.
#![cfg(feature = "time")]

mod support;

use futures::stream::{FusedStream, Stream, StreamExt};
use std::time::{Duration, Instant};
use support::matrix_test;

const MS: Duration = Duration::from_millis(1);

#[cfg(feature = "test-util")]
mod on_virtual_time {
    use super::*;
    use std::task::Poll;
    use stream_plus::test_util::VirtualClock;

    #[test]
    fn ticks_on_the_grid_and_skips_missed_ones() {
        let clock = VirtualClock::new();
        let start = clock.now();
        let mut ticks = clock.enter(|| stream_plus::interval(10 * MS));
        let (waker, woken) = futures_test::task::new_count_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        let mut poll = || ticks.poll_next_unpin(&mut cx);
        assert_eq!(poll(), Poll::Pending);
        clock.advance(10 * MS);
        assert_eq!(woken.get(), 1);
        assert_eq!(poll(), Poll::Ready(Some(start + 10 * MS)));
        assert_eq!(poll(), Poll::Pending);
        clock.advance(5 * MS);
        assert_eq!(poll(), Poll::Pending);
        clock.advance(5 * MS);
        assert_eq!(poll(), Poll::Ready(Some(start + 20 * MS)));
        // The consumer is away until 55: ticks 30, 40 and 50 are missed.
        clock.advance(35 * MS);
        assert_eq!(
            poll(),
            Poll::Ready(Some(start + 30 * MS)),
            "the late tick, once"
        );
        assert_eq!(poll(), Poll::Pending, "no burst");
        clock.advance(9 * MS);
        assert_eq!(poll(), Poll::Pending);
        clock.advance(MS);
        assert_eq!(
            poll(),
            Poll::Ready(Some(start + 65 * MS)),
            "period after the late delivery"
        );
    }
}

matrix_test! {
    async fn ticks_are_spaced_and_never_end() {
        let start = Instant::now();
        let mut ticks = stream_plus::interval(20 * MS);
        assert_eq!(ticks.size_hint(), (usize::MAX, None));
        let mut last = start;
        for _ in 0..5 {
            let due = ticks.next().await.unwrap();
            assert!(due >= last + 20 * MS);
            assert!(Instant::now() >= due);
            last = due;
        }
        assert!(start.elapsed() >= 100 * MS);
        assert!(!ticks.is_terminated());
    }

    #[should_panic(expected = "interval: period must be greater than zero")]
    async fn zero_period_panics() {
        let _ = stream_plus::interval(Duration::ZERO);
    }
}
