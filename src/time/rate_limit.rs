//! `rate_limit`: a token bucket kept as one instant (GCRA). While it waits for
//! a token it holds at most one item taken ahead, so the end of upstream is
//! seen at once.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use futures_util::stream::{Peekable, StreamExt};
use pin_project_lite::pin_project;
use std::time::{Duration, Instant};

use super::clock::{later, Clock, Timer};
use super::{check_count, check_duration};

pin_project! {
    /// Stream for the [`rate_limit`](crate::StreamExtPlus::rate_limit) method.
    #[must_use = "streams do nothing unless polled"]
    pub struct RateLimit<St: Stream> {
        // Peekable: the one item taken ahead while waiting for a token.
        #[pin]
        stream: Peekable<St>,
        // Time to refill one token: `per / count`.
        interval: Duration,
        // How far ahead of now the bucket may be spent: `(count - 1) · interval`.
        burst: Duration,
        clock: Clock,
        timer: Timer,
        // The bucket as a "theoretical arrival time" (GCRA): the instant at which
        // the bucket would be full again. `None` until the first poll: full.
        full_at: Option<Instant>,
        done: bool,
    }
}

impl<St: Stream + fmt::Debug> fmt::Debug for RateLimit<St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimit")
            .field("stream", self.stream.get_ref())
            .field("interval", &self.interval)
            .field("burst", &self.burst)
            .field("full_at", &self.full_at)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<St: Stream> RateLimit<St> {
    #[track_caller]
    pub(crate) fn new(stream: St, count: usize, per: Duration) -> Self {
        check_count("rate_limit", "count", count);
        check_duration("rate_limit", "per", per);
        // `per / count` in nanoseconds, at least 1 ns so that time moves on.
        let interval_ns = (per.as_nanos() / count as u128).max(1);
        let interval = Duration::from_nanos(u64::try_from(interval_ns).unwrap_or(u64::MAX));
        let burst = burst_window(interval, count);
        let clock = Clock::current();
        let timer = clock.timer();
        Self {
            stream: stream.peekable(),
            interval,
            burst,
            clock,
            timer,
            full_at: None,
            done: false,
        }
    }

    /// Sets the bucket's size apart from the rate: it holds `b` tokens (full at
    /// the start) and still refills at `count` per `per`, so at most
    /// `b + count·T/per` items pass in any stretch of time T.
    /// `rate_limit(500, Duration::from_secs(1)).burst(1)` is 500 items a second
    /// with no burst.
    ///
    /// **Timer lateness and the bucket.** Every timer fires a little late
    /// (tens of microseconds with async-io, more on a loaded machine). The
    /// tokens that refill during that lateness go into the bucket, so with `b`
    /// of 2 or more a late wake-up is made up at the next one and the long-run
    /// rate holds. With `b = 1` there is no room to keep them: each late
    /// wake-up is lost for good, and since there is one wake-up per item the
    /// loss grows with the rate: the rate achieved is about
    /// `count/per × I / (I + L)`, with `I = per / count` and `L` the lateness
    /// of one wake-up. Measured on the project's 2-core CI machine
    /// (`futures::executor`, 2 × `count` items, release build):
    ///
    /// | `count` per second | `burst(1)` | `burst(2)` |
    /// |---|---|---|
    /// | 100 | 1.5 % under | |
    /// | 500 | 3.7 % under | |
    /// | 1,000 | 4.8 % under | |
    /// | 2,000 | 8.5 % under | |
    /// | 5,000 | 19.5 % under | 0.2 % under |
    /// | 10,000 | 28.3 % under | 0.6 % under |
    ///
    /// `b = 1` cannot carry the lateness over without breaking its promise
    /// (no two items closer than `per / count`). Pick it when that promise is
    /// what you need; otherwise a small `b` (2 to 8) keeps the rate with
    /// hardly any burst.
    ///
    /// # Panics
    ///
    /// If `b` is 0: `rate_limit: burst must be at least 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use std::time::{Duration, Instant};
    /// use stream_plus::StreamExtPlus;
    ///
    /// let start = Instant::now();
    /// // 100 a second, but never two at once: 5 items take at least 40 ms.
    /// let out: Vec<u32> = block_on(
    ///     stream::iter(1..=5)
    ///         .rate_limit(100, Duration::from_secs(1))
    ///         .burst(1)
    ///         .collect(),
    /// );
    /// assert_eq!(out, [1, 2, 3, 4, 5]);
    /// assert!(start.elapsed() >= Duration::from_millis(40));
    /// ```
    #[track_caller]
    pub fn burst(mut self, b: usize) -> Self {
        check_count("rate_limit", "burst", b);
        self.burst = burst_window(self.interval, b);
        self
    }

    crate::util::wrapped_stream_accessors!(stream: St, "Consumes the adapter and returns the underlying stream. An item taken ahead while waiting for a token is dropped.");
}

/// How far ahead of now a bucket of `tokens` may be spent: `(tokens - 1)` refills.
fn burst_window(interval: Duration, tokens: usize) -> Duration {
    interval.saturating_mul(u32::try_from(tokens - 1).unwrap_or(u32::MAX))
}

impl<St: Stream> Stream for RateLimit<St> {
    type Item = St::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<St::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        // The next item first (taken ahead if no token is free yet): the end
        // of upstream needs no token and ends the stream at once.
        if let Some(end) = super::peek_or_end(this.stream.as_mut(), this.done, this.timer, cx) {
            return end;
        }
        // A token is free once `full_at - burst` has come; until then the
        // item waits in hand and upstream is not pulled again.
        if let Some(full_at) = *this.full_at {
            if let Some(token_at) = full_at.checked_sub(*this.burst) {
                if this.timer.poll_until(token_at, cx).is_pending() {
                    return Poll::Pending;
                }
            }
        }
        let now = this.clock.now();
        let base = this.full_at.map_or(now, |full_at| full_at.max(now));
        *this.full_at = Some(later(base, *this.interval));
        // Peeked above, so this is the item.
        this.stream.poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            self.stream.size_hint()
        }
    }
}

impl<St: Stream> FusedStream for RateLimit<St> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}
