//! `throttle_first`: an item, then a window of `period` in which later items
//! are discarded (upstream keeps being drained).

use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;
use std::time::{Duration, Instant};

use super::check_duration;
use super::clock::Clock;
use crate::util::{size_hint, Budget};

pin_project! {
    /// Stream for the [`throttle_first`](crate::StreamExtPlus::throttle_first) method.
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct ThrottleFirst<St> {
        #[pin]
        stream: St,
        period: Duration,
        clock: Clock,
        // End of the open window: items arriving before it are discarded.
        window_end: Option<Instant>,
        done: bool,
    }
}

impl<St: Stream> ThrottleFirst<St> {
    #[track_caller]
    pub(crate) fn new(stream: St, period: Duration) -> Self {
        check_duration("throttle_first", "period", period);
        Self {
            stream,
            period,
            clock: Clock::current(),
            window_end: None,
            done: false,
        }
    }

    crate::util::stream_accessors!(stream: St, "Consumes the adapter and returns the underlying stream.");
}

impl<St: Stream> Stream for ThrottleFirst<St> {
    type Item = St::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<St::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        // No timer is needed: an item is judged when it arrives, and only an
        // arrival (which wakes us through upstream) can change anything.
        // Items taken in one poll count as arriving at the same instant: the
        // clock is read once per poll (at the first item), not once per item.
        let mut window_open = None;
        let mut budget = Budget::new();
        loop {
            match this.stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => {
                    let open = *window_open.get_or_insert_with(|| {
                        let now = this.clock.now();
                        this.window_end.is_some_and(|end| now < end)
                    });
                    if !open {
                        *this.window_end = Some(this.clock.after(*this.period));
                        return Poll::Ready(Some(item));
                    }
                    // Inside the window: discarded.
                    if !budget.spend(cx) {
                        return Poll::Pending;
                    }
                }
                Poll::Ready(None) => {
                    *this.done = true;
                    return Poll::Ready(None);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        // Whether an item is discarded depends on when it arrives.
        size_hint::at_most(self.stream.size_hint())
    }
}

impl<St: Stream> FusedStream for ThrottleFirst<St> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}
