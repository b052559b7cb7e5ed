use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;
use std::time::{Duration, Instant};

use super::check_duration;
use super::clock::{Clock, Timer};

pin_project! {
    /// Stream for the [`space_out`](crate::StreamExtPlus::space_out) method.
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct SpaceOut<St> {
        #[pin]
        stream: St,
        period: Duration,
        clock: Clock,
        // Armed while the next item may not be yielded yet.
        timer: Timer,
        // When the next item may be yielded.
        next_at: Option<Instant>,
        done: bool,
    }
}

impl<St: Stream> SpaceOut<St> {
    #[track_caller]
    pub(crate) fn new(stream: St, period: Duration) -> Self {
        check_duration("space_out", "period", period);
        let clock = Clock::current();
        let timer = clock.timer();
        Self {
            stream,
            period,
            clock,
            timer,
            next_at: None,
            done: false,
        }
    }

    crate::util::stream_accessors!(stream: St, "Consumes the adapter and returns the underlying stream.");
}

impl<St: Stream> Stream for SpaceOut<St> {
    type Item = St::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<St::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        // Waiting: upstream is not pulled until the gap has passed.
        if let Some(next_at) = *this.next_at {
            if this.timer.poll_until(next_at, cx).is_pending() {
                return Poll::Pending;
            }
            *this.next_at = None;
        }
        match this.stream.as_mut().poll_next(cx) {
            Poll::Ready(Some(item)) => {
                *this.next_at = Some(this.clock.after(*this.period));
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

impl<St: Stream> FusedStream for SpaceOut<St> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}
