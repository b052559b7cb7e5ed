//! `retry`: a future that calls `f` again after each failure, waiting out a
//! [`Backoff`] between attempts, until one succeeds or the attempts run out.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{ready, Context, Poll};
use futures_core::TryFuture;
use pin_project_lite::pin_project;
use std::time::Instant;

use super::Backoff;
use crate::time::clock::{Clock, Timer};

/// Calls `f` and awaits its future; while the result is `Err` and attempts
/// remain, waits [`backoff.delay(k)`](Backoff::delay) and calls `f` again.
/// Resolves to the first `Ok`, or to the last `Err` after
/// [`attempts`](Backoff::attempts) tries.
///
/// Lazy: `f` is first called on the first poll. Timers are on the crate's
/// clock (async-io's timer on any runtime; virtual under
/// [`VirtualClock`](crate::test_util::VirtualClock)). With
/// [`retry_if`](Retry::retry_if), an error the predicate rejects is returned
/// at once. Dropping the future drops the running attempt or the timer.
///
/// Use it for one call, or inside any concurrent stage
/// (`map_concurrent_unordered`, `map_concurrent_by_key`, `switch_map`, ...);
/// there, an item waiting for its retry holds its worker.
///
/// # Examples
///
/// ```
/// use futures::executor::block_on;
/// use std::cell::Cell;
/// use std::time::Duration;
/// use stream_plus::{retry, Backoff};
///
/// let calls = Cell::new(0);
/// let flaky = || {
///     calls.set(calls.get() + 1);
///     let n = calls.get();
///     async move { if n < 3 { Err(format!("try {n} failed")) } else { Ok(n) } }
/// };
/// let backoff = Backoff::exponential(Duration::from_millis(1)).attempts(5);
/// assert_eq!(block_on(retry(backoff, flaky)), Ok(3));
/// assert_eq!(calls.get(), 3);
/// ```
pub fn retry<F, Fut>(backoff: Backoff, f: F) -> Retry<F, Fut, EveryError<Fut::Error>>
where
    F: FnMut() -> Fut,
    Fut: TryFuture,
{
    let clock = Clock::current();
    Retry {
        f,
        retry_if: |_| true,
        backoff,
        timer: clock.timer(),
        clock,
        attempts: 0,
        state: State::Idle,
    }
}

/// The predicate of a [`retry`](crate::retry) without
/// [`retry_if`](Retry::retry_if): every error is retried.
pub type EveryError<E> = fn(&E) -> bool;

pin_project! {
    /// Future for the [`retry`](crate::retry) function.
    #[must_use = "futures do nothing unless polled"]
    pub struct Retry<F, Fut, P> {
        f: F,
        retry_if: P,
        backoff: Backoff,
        clock: Clock,
        timer: Timer,
        // Attempts made so far (calls of `f`).
        attempts: u32,
        #[pin]
        state: State<Fut>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<Fut> {
        // The next attempt is due: `f` is called on the next poll.
        Idle,
        Running { #[pin] fut: Fut },
        // An attempt failed; the next one is due then.
        Waiting { until: Instant },
        Done,
    }
}

impl<F, Fut, P> fmt::Debug for Retry<F, Fut, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Idle => "idle",
            State::Running { .. } => "running",
            State::Waiting { .. } => "waiting",
            State::Done => "done",
        };
        f.debug_struct("Retry")
            .field("backoff", &self.backoff)
            .field("attempts", &self.attempts)
            .field("state", &state)
            .finish_non_exhaustive()
    }
}

impl<F, Fut, P> Retry<F, Fut, P>
where
    F: FnMut() -> Fut,
    Fut: TryFuture,
{
    /// Retries only the errors for which `pred` returns true; any other is
    /// returned at once, whatever attempts remain.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use std::time::Duration;
    /// use stream_plus::{retry, Backoff};
    ///
    /// #[derive(Debug, PartialEq)]
    /// enum E { Busy, NotFound }
    /// let backoff = Backoff::fixed(Duration::from_millis(1)).attempts(5);
    /// let mut calls = 0;
    /// let out = block_on(
    ///     retry(backoff, || { calls += 1; async { Err::<(), _>(E::NotFound) } })
    ///         .retry_if(|e| *e == E::Busy),
    /// );
    /// assert_eq!((out, calls), (Err(E::NotFound), 1));
    /// ```
    pub fn retry_if<P2>(self, pred: P2) -> Retry<F, Fut, P2>
    where
        P2: FnMut(&Fut::Error) -> bool,
    {
        Retry {
            f: self.f,
            retry_if: pred,
            backoff: self.backoff,
            clock: self.clock,
            timer: self.timer,
            attempts: self.attempts,
            state: self.state,
        }
    }

    /// How many attempts have been made so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }
}

impl<F, Fut, P> Future for Retry<F, Fut, P>
where
    F: FnMut() -> Fut,
    Fut: TryFuture,
    P: FnMut(&Fut::Error) -> bool,
{
    type Output = Result<Fut::Ok, Fut::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Idle => {
                    *this.attempts = this.attempts.saturating_add(1);
                    let fut = (this.f)();
                    this.state.set(State::Running { fut });
                }
                StateProj::Running { fut } => match ready!(fut.try_poll(cx)) {
                    Ok(out) => {
                        this.state.set(State::Done);
                        return Poll::Ready(Ok(out));
                    }
                    Err(e) => {
                        let delay = if (this.retry_if)(&e) {
                            this.backoff.delay(*this.attempts)
                        } else {
                            None
                        };
                        let Some(delay) = delay else {
                            this.state.set(State::Done);
                            return Poll::Ready(Err(e));
                        };
                        let until = this.clock.after(delay);
                        this.state.set(State::Waiting { until });
                    }
                },
                StateProj::Waiting { until } => {
                    ready!(this.timer.poll_until(*until, cx));
                    this.state.set(State::Idle);
                }
                StateProj::Done => panic!("`retry` polled after it completed"),
            }
        }
    }
}
