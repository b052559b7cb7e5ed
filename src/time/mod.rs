//! Time operators (feature `time`). Timers come from `async-io` through the one
//! seam in `clock.rs`.

mod batch_timeout;
pub(crate) mod clock;
mod debounce;
mod idle_timeout;
mod interval;
mod rate_limit;
mod sample;
mod sleep;
mod space_out;
mod throttle_first;

pub use batch_timeout::BatchTimeout;
pub use debounce::Debounce;
pub use idle_timeout::IdleTimeout;
pub use interval::{interval, Interval};
pub use rate_limit::RateLimit;
pub use sample::Sample;
pub use sleep::{sleep, timeout, Sleep, Timeout};
pub use space_out::SpaceOut;
pub use throttle_first::ThrottleFirst;

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::Stream;
use futures_util::stream::Peekable;
use std::time::Duration;

/// The error of [`idle_timeout`](crate::StreamExtPlus::idle_timeout) (no item
/// came within the limit) and of [`timeout`](crate::timeout) (the future did
/// not complete in time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Elapsed;

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timeout elapsed")
    }
}

impl std::error::Error for Elapsed {}

/// Panics with the message of API.md rule 7 unless `d > 0`.
#[track_caller]
pub(crate) fn check_duration(method: &str, arg: &str, d: Duration) {
    assert!(!d.is_zero(), "{method}: {arg} must be greater than zero");
}

/// Panics with the message of API.md rule 7 unless `n >= 1`.
#[track_caller]
pub(crate) fn check_count(method: &str, arg: &str, n: usize) {
    assert!(n >= 1, "{method}: {arg} must be at least 1");
}

/// The end of debounce and sample: upstream has ended, so the one held item
/// (if any) is yielded at once, then the stream ends.
pub(crate) fn flush_then_end<T>(held: &mut Option<T>, done: &mut bool) -> Poll<Option<T>> {
    match held.take() {
        Some(item) => Poll::Ready(Some(item)),
        None => {
            *done = true;
            Poll::Ready(None)
        }
    }
}

/// `size_hint` of an operator that holds at most one item and may replace it
/// with newer ones: the held item is certain to come out; upstream's items
/// only bound the rest from above.
pub(crate) fn held_size_hint(
    done: bool,
    upstream_done: bool,
    held: bool,
    upstream: (usize, Option<usize>),
) -> (usize, Option<usize>) {
    if done {
        return (0, Some(0));
    }
    let held = usize::from(held);
    if upstream_done {
        return (held, Some(held));
    }
    (held, crate::util::size_hint::add(upstream, held).1)
}

/// The start of `space_out` and `rate_limit`, which wait with at most one
/// item taken ahead: makes sure the next item is in hand. `None`: it is, go
/// on. `Some(poll)`: return that (`Pending`, upstream has our waker; or the
/// end, which waits for nothing: `done` is set and the timer released).
pub(crate) fn peek_or_end<St: Stream, T>(
    stream: Pin<&mut Peekable<St>>,
    done: &mut bool,
    timer: &mut clock::Timer,
    cx: &mut Context<'_>,
) -> Option<Poll<Option<T>>> {
    match stream.poll_peek(cx) {
        Poll::Ready(Some(_)) => None,
        Poll::Ready(None) => {
            *done = true;
            timer.clear();
            Some(Poll::Ready(None))
        }
        Poll::Pending => Some(Poll::Pending),
    }
}
