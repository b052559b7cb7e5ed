//! Regression (issue 11, defect 4): `Duration::MAX` panicked at poll time with
//! std's "overflow when adding duration to instant" in idle_timeout,
//! batch_timeout, space_out, debounce, throttle_first and sample, and at
//! construction in `interval`. Any duration up to `Duration::MAX` is valid and
//! means a deadline that may never come (API.md rule 7).
#![cfg(feature = "time")]

mod support;

use futures::poll;
use futures::stream::{self, StreamExt};
use std::time::Duration;
use stream_plus::StreamExtPlus;
use support::matrix_test;

const MAX: Duration = Duration::MAX;

matrix_test! {
    async fn duration_max_overflowed_on_poll_in_every_time_operator() {
        assert_eq!(stream::iter([1]).idle_timeout(MAX).collect::<Vec<_>>().await, [Ok(1)]);
        assert_eq!(stream::iter(0..3).batch_timeout(10, MAX).collect::<Vec<_>>().await, [vec![0, 1, 2]]);
        assert_eq!(stream::iter([1, 2]).space_out(MAX).take(1).collect::<Vec<_>>().await, [1]);
        assert_eq!(stream::iter([1, 2]).debounce(MAX).collect::<Vec<_>>().await, [2]);
        assert_eq!(stream::iter([1, 2]).debounce(MAX).max_wait(MAX).collect::<Vec<_>>().await, [2]);
        assert_eq!(stream::iter([1, 2, 3]).throttle_first(MAX).collect::<Vec<_>>().await, [1]);
        assert_eq!(stream::iter([1, 2]).sample(MAX).collect::<Vec<_>>().await, [2]);
        assert_eq!(stream::iter([1, 2]).rate_limit(1, MAX).take(1).collect::<Vec<_>>().await, [1]);
    }

    /// Waiting on such a deadline is `Pending`, not a panic or a spin.
    async fn duration_max_deadlines_wait_without_panicking() {
        let mut idle = Box::pin(stream::pending::<u8>().idle_timeout(MAX));
        assert!(poll!(idle.next()).is_pending());
        let mut batch = Box::pin(stream::iter([1]).chain(stream::pending()).batch_timeout(5, MAX));
        assert!(poll!(batch.next()).is_pending());
        let mut spaced = Box::pin(stream::iter([1, 2]).space_out(MAX));
        assert_eq!(poll!(spaced.next()), std::task::Poll::Ready(Some(1)));
        assert!(poll!(spaced.next()).is_pending());
        let mut ticks = stream_plus::interval(MAX);
        assert!(poll!(ticks.next()).is_pending());
        let mut sampled = Box::pin(stream::iter([1]).chain(stream::pending()).sample(MAX));
        assert!(poll!(sampled.next()).is_pending());
    }
}
