//! `interval`: endless ticks on the crate's clock; a late consumer gets the
//! next tick a period after the late one, not a burst.

use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use std::time::{Duration, Instant};

use super::check_duration;
use super::clock::{later, Clock, Timer};

/// Stream for the [`interval`] function.
#[must_use = "streams do nothing unless polled"]
#[derive(Debug)]
pub struct Interval {
    period: Duration,
    clock: Clock,
    timer: Timer,
    next_due: Instant,
}

/// Endless ticks, the first one `period` after this call; each yields the instant
/// it was due.
///
/// Ticks stay on the grid `start + k·period` while the consumer keeps up. A
/// consumer so late that the next tick is already due when it takes a tick does
/// not get a burst of the missed ones: the next tick is then due `period` after
/// the late one was delivered. The stream never ends (`is_terminated()` is
/// always false).
///
/// The timer is `async-io`'s, so it runs on any executor. A tick is delivered
/// when the timer fires, typically within tens of microseconds of its due
/// instant on an idle machine (it is never early).
///
/// # Panics
///
/// If `period` is zero: `interval: period must be greater than zero`.
///
/// # Examples
///
/// ```
/// use futures::executor::block_on;
/// use futures::stream::StreamExt;
/// use std::time::{Duration, Instant};
///
/// let start = Instant::now();
/// let ticks: Vec<Instant> = block_on(stream_plus::interval(Duration::from_millis(5)).take(3).collect());
/// assert!(ticks[0] >= start + Duration::from_millis(5));
/// assert!(ticks[1] - ticks[0] >= Duration::from_millis(5));
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    check_duration("interval", "period", period);
    let clock = Clock::current();
    let timer = clock.timer();
    let next_due = clock.after(period);
    Interval {
        period,
        clock,
        timer,
        next_due,
    }
}

impl Interval {
    /// The period between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }
}

impl Stream for Interval {
    type Item = Instant;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        let this = &mut *self;
        let due = this.next_due;
        if this.timer.poll_until(due, cx).is_pending() {
            return Poll::Pending;
        }
        let now = this.clock.now();
        let on_grid = later(due, this.period);
        // Missed a tick: restart the grid from this delivery instead of bursting.
        this.next_due = if on_grid <= now {
            later(now, this.period)
        } else {
            on_grid
        };
        Poll::Ready(Some(due))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

impl FusedStream for Interval {
    fn is_terminated(&self) -> bool {
        false
    }
}
