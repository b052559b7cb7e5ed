//! `restart`: a source that survives its failures: on an error the stream is
//! dropped and, after a [`Backoff`] delay, made anew by its factory.

use core::fmt;
use core::pin::Pin;
use core::task::{ready, Context, Poll};
use futures_core::stream::{FusedStream, Stream, TryStream};
use pin_project_lite::pin_project;
use std::time::Instant;

use super::Backoff;
use crate::time::clock::{Clock, Timer};

/// A stream of the items of `factory()` that makes the stream anew after it
/// fails: for sources that must survive failures (a subscription, a broker
/// consumer, a socket).
///
/// - Yields the items of `factory()`, `Ok` or `Err`, as they come.
/// - When that stream yields an `Err`, the `Err` is yielded (to log it), the
///   stream is dropped, and after [`backoff.delay(k)`](Backoff::delay)
///   `factory()` is called again, `k` counting the consecutive failures. An
///   incarnation that yields at least one `Ok` resets `k` to 1.
/// - After [`attempts`](Backoff::attempts) consecutive failures without an
///   `Ok` in between, it yields that last `Err` and ends.
/// - When a stream ends normally (`None`), `restart` ends.
///
/// Lazy: `factory` is first called on the first poll. Timers are on the
/// crate's clock (async-io's, on any runtime; virtual under
/// [`VirtualClock`](crate::test_util::VirtualClock)). Dropping it drops the
/// current stream or the timer. Nothing is buffered: it holds at most one
/// stream and no items.
///
/// # Examples
///
/// ```
/// use futures::executor::block_on;
/// use futures::stream::{self, StreamExt};
/// use std::time::Duration;
/// use stream_plus::{restart, Backoff};
///
/// // A subscription that drops after two messages, three times, then ends.
/// let mut connects = 0;
/// let subscribe = || {
///     connects += 1;
///     let last = if connects < 3 { Err("connection reset") } else { Ok(0) };
///     stream::iter([Ok(connects * 10), Ok(connects * 10 + 1), last])
/// };
/// let backoff = Backoff::exponential(Duration::from_millis(1)).attempts(3);
/// let got: Vec<Result<u32, &str>> = block_on(restart(backoff, subscribe).collect());
/// assert_eq!(
///     got,
///     [Ok(10), Ok(11), Err("connection reset"), Ok(20), Ok(21), Err("connection reset"), Ok(30), Ok(31), Ok(0)]
/// );
/// ```
pub fn restart<F, S>(backoff: Backoff, factory: F) -> Restart<F, S>
where
    F: FnMut() -> S,
    S: TryStream,
{
    let clock = Clock::current();
    Restart {
        factory,
        backoff,
        timer: clock.timer(),
        clock,
        failures: 0,
        waiting: None,
        done: false,
        stream: None,
    }
}

pin_project! {
    /// Stream for the [`restart`](crate::restart) function.
    #[must_use = "streams do nothing unless polled"]
    pub struct Restart<F, S> {
        factory: F,
        backoff: Backoff,
        clock: Clock,
        timer: Timer,
        // Consecutive failures since the last `Ok`.
        failures: u32,
        // After a failure: when the next stream is made.
        waiting: Option<Instant>,
        done: bool,
        // The current incarnation; `None` before the first poll and between
        // a failure and the next one.
        #[pin]
        stream: Option<S>,
    }
}

impl<F, S> fmt::Debug for Restart<F, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Restart")
            .field("backoff", &self.backoff)
            .field("failures", &self.failures)
            .field("waiting", &self.waiting.is_some())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<F, S> Restart<F, S> {
    /// Consecutive failures since the last `Ok` (or the start).
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

impl<F, S> Stream for Restart<F, S>
where
    F: FnMut() -> S,
    S: TryStream,
{
    type Item = Result<S::Ok, S::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        // Backing off after a failure.
        if let Some(until) = *this.waiting {
            ready!(this.timer.poll_until(until, cx));
            *this.waiting = None;
        }
        if this.stream.is_none() {
            this.stream.set(Some((this.factory)()));
        }
        let stream = this.stream.as_mut().as_pin_mut().expect("made above");
        match ready!(stream.try_poll_next(cx)) {
            Some(Ok(item)) => {
                *this.failures = 0;
                Poll::Ready(Some(Ok(item)))
            }
            Some(Err(e)) => {
                this.stream.set(None);
                *this.failures = this.failures.saturating_add(1);
                match this.backoff.delay(*this.failures) {
                    Some(delay) => *this.waiting = Some(this.clock.after(delay)),
                    None => *this.done = true,
                }
                Poll::Ready(Some(Err(e)))
            }
            None => {
                this.stream.set(None);
                *this.done = true;
                Poll::Ready(None)
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        // A restart may always bring more. Of the current stream's items only
        // the next is certain to come out: an `Err` drops the rest.
        match &self.stream {
            Some(s) => (s.size_hint().0.min(1), None),
            None => (0, None),
        }
    }
}

impl<F, S> FusedStream for Restart<F, S>
where
    F: FnMut() -> S,
    S: TryStream,
{
    fn is_terminated(&self) -> bool {
        self.done
    }
}
