//! `space_out`: every item, at least `period` apart. While it waits it holds
//! at most one item taken ahead, so the end of upstream is seen at once.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use futures_util::stream::{Peekable, StreamExt};
use pin_project_lite::pin_project;
use std::time::{Duration, Instant};

use super::check_duration;
use super::clock::{Clock, Timer};

pin_project! {
    /// Stream for the [`space_out`](crate::StreamExtPlus::space_out) method.
    #[must_use = "streams do nothing unless polled"]
    pub struct SpaceOut<St: Stream> {
        // Peekable: the one item taken ahead while waiting.
        #[pin]
        stream: Peekable<St>,
        period: Duration,
        clock: Clock,
        // Armed while the next item may not be yielded yet.
        timer: Timer,
        // When the next item may be yielded.
        next_at: Option<Instant>,
        done: bool,
    }
}

impl<St: Stream + fmt::Debug> fmt::Debug for SpaceOut<St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpaceOut")
            .field("stream", self.stream.get_ref())
            .field("period", &self.period)
            .field("next_at", &self.next_at)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<St: Stream> SpaceOut<St> {
    #[track_caller]
    pub(crate) fn new(stream: St, period: Duration) -> Self {
        check_duration("space_out", "period", period);
        let clock = Clock::current();
        let timer = clock.timer();
        Self {
            stream: stream.peekable(),
            period,
            clock,
            timer,
            next_at: None,
            done: false,
        }
    }

    crate::util::wrapped_stream_accessors!(stream: St, "Consumes the adapter and returns the underlying stream. An item taken ahead while waiting is dropped.");
}

impl<St: Stream> Stream for SpaceOut<St> {
    type Item = St::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<St::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        // The next item first (taken ahead while the gap runs): the end of
        // upstream waits for no slot and ends the stream at once.
        if let Some(end) = super::peek_or_end(this.stream.as_mut(), this.done, this.timer, cx) {
            return end;
        }
        // Waiting: the item stays in hand and upstream is not pulled again
        // until the gap has passed.
        if let Some(next_at) = *this.next_at {
            if this.timer.poll_until(next_at, cx).is_pending() {
                return Poll::Pending;
            }
        }
        *this.next_at = Some(this.clock.after(*this.period));
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

impl<St: Stream> FusedStream for SpaceOut<St> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}
