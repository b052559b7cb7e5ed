//! `sample`: on a fixed grid of ticks, the newest item since the previous
//! tick; upstream is drained between ticks.

use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;
use std::time::{Duration, Instant};

use super::check_duration;
use super::clock::{later, Clock, Timer};
use crate::util::POLL_BUDGET;

pin_project! {
    /// Stream for the [`sample`](crate::StreamExtPlus::sample) method.
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct Sample<St: Stream> {
        #[pin]
        stream: St,
        period: Duration,
        clock: Clock,
        timer: Timer,
        // The grid's origin: the first poll.
        origin: Option<Instant>,
        // The tick that will sample `latest`.
        next_tick: Option<Instant>,
        // The newest item received since the previous tick.
        latest: Option<St::Item>,
        upstream_done: bool,
        done: bool,
    }
}

impl<St: Stream> Sample<St> {
    #[track_caller]
    pub(crate) fn new(stream: St, period: Duration) -> Self {
        check_duration("sample", "period", period);
        let clock = Clock::current();
        let timer = clock.timer();
        Self {
            stream,
            period,
            clock,
            timer,
            origin: None,
            next_tick: None,
            latest: None,
            upstream_done: false,
            done: false,
        }
    }

    crate::util::stream_accessors!(stream: St, "Consumes the adapter and returns the underlying stream; an unsampled item is dropped.");
}

/// The first grid point `origin + k·period` (k >= 1) strictly after `now`.
fn tick_after(origin: Instant, period: Duration, now: Instant) -> Instant {
    let elapsed = now.saturating_duration_since(origin).as_nanos();
    let k = elapsed / period.as_nanos() + 1;
    // k·period fits a Duration for any realistic uptime; saturate otherwise.
    let offset = period
        .checked_mul(u32::try_from(k).unwrap_or(u32::MAX))
        .unwrap_or(Duration::MAX);
    origin.checked_add(offset).unwrap_or(later(now, period))
}

impl<St: Stream> Stream for Sample<St> {
    type Item = St::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<St::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        let origin = *this.origin.get_or_insert_with(|| this.clock.now());

        // Keep only the newest ready item. This loop is all that a ready
        // burst costs, so it is kept tight: the newest item in a local, the
        // budget a plain count, the tick set once after it.
        let mut spent = false;
        if !*this.upstream_done {
            let mut latest = this.latest.take();
            spent = true;
            for _ in 0..POLL_BUDGET {
                match this.stream.as_mut().poll_next(cx) {
                    Poll::Ready(Some(item)) => latest = Some(item),
                    Poll::Ready(None) => {
                        *this.upstream_done = true;
                        spent = false;
                        break;
                    }
                    Poll::Pending => {
                        spent = false;
                        break;
                    }
                }
            }
            *this.latest = latest;
        }
        if this.latest.is_some() && this.next_tick.is_none() {
            // The first item since the last tick: wait for the next grid point
            // (no timer runs while there is nothing to sample).
            *this.next_tick = Some(tick_after(origin, *this.period, this.clock.now()));
        }
        if spent {
            // Budget spent with upstream still ready: yield to the executor.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if *this.upstream_done {
            // Flush the unsampled item at once, then end.
            this.timer.clear();
            return super::flush_then_end(this.latest, this.done);
        }
        let Some(tick) = *this.next_tick else {
            return Poll::Pending; // nothing to sample; upstream will wake us
        };
        if this.timer.poll_until(tick, cx).is_pending() {
            return Poll::Pending;
        }
        // Ticks missed by a late consumer are skipped: the item is sampled once,
        // and the next tick is the next grid point after now.
        *this.next_tick = None;
        Poll::Ready(this.latest.take())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let held = self.latest.is_some();
        super::held_size_hint(self.done, self.upstream_done, held, self.stream.size_hint())
    }
}

impl<St: Stream> FusedStream for Sample<St> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}
