use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;
use std::time::{Duration, Instant};

use super::clock::{later, Clock, Timer};
use super::{check_count, check_duration};

pin_project! {
    /// Stream for the [`rate_limit`](crate::StreamExtPlus::rate_limit) method.
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct RateLimit<St> {
        #[pin]
        stream: St,
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
            stream,
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
    /// of a few tokens a late wake-up is made up at the next one and the
    /// long-run rate holds. With `b = 1` there is no room to keep them: each
    /// late wake-up is lost for good and the rate runs a little under `count`
    /// per `per` (about 3-4 % at 500 a second). Pick `b = 1` when no two items
    /// may ever pass closer than `per / count`; otherwise a small `b` (2 to 8)
    /// keeps the rate with hardly any burst.
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

    crate::util::stream_accessors!(stream: St, "Consumes the adapter and returns the underlying stream.");
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
        // A token is free once `full_at - burst` has come. Until then upstream
        // is not pulled.
        if let Some(full_at) = *this.full_at {
            if let Some(token_at) = full_at.checked_sub(*this.burst) {
                if this.timer.poll_until(token_at, cx).is_pending() {
                    return Poll::Pending;
                }
            }
        }
        match this.stream.as_mut().poll_next(cx) {
            Poll::Ready(Some(item)) => {
                let now = this.clock.now();
                let base = this.full_at.map_or(now, |full_at| full_at.max(now));
                *this.full_at = Some(later(base, *this.interval));
                Poll::Ready(Some(item))
            }
            Poll::Ready(None) => {
                *this.done = true;
                this.timer.clear();
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
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
