//! `idle_timeout`: the items as `Ok`, then one `Err(Elapsed)` and the end
//! once `limit` passes with no item.

use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;
use std::time::{Duration, Instant};

use super::check_duration;
use super::clock::{Clock, Timer};
use super::Elapsed;
use crate::util::size_hint;

pin_project! {
    /// Stream for the [`idle_timeout`](crate::StreamExtPlus::idle_timeout) method.
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct IdleTimeout<St> {
        #[pin]
        stream: St,
        limit: Duration,
        clock: Clock,
        timer: Timer,
        // `limit` after the first poll, then after each item.
        due: Option<Instant>,
        done: bool,
    }
}

impl<St: Stream> IdleTimeout<St> {
    #[track_caller]
    pub(crate) fn new(stream: St, limit: Duration) -> Self {
        check_duration("idle_timeout", "limit", limit);
        let clock = Clock::current();
        let timer = clock.timer();
        Self {
            stream,
            limit,
            clock,
            timer,
            due: None,
            done: false,
        }
    }

    crate::util::stream_accessors!(stream: St, "Consumes the adapter and returns the underlying stream.");
}

impl<St: Stream> Stream for IdleTimeout<St> {
    type Item = Result<St::Item, Elapsed>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        let due = *this
            .due
            .get_or_insert_with(|| this.clock.after(*this.limit));
        match this.stream.as_mut().poll_next(cx) {
            Poll::Ready(Some(item)) => {
                // Moving the deadline is free: the timer is only re-armed when it
                // fires early (see `Timer::poll_until`).
                *this.due = Some(this.clock.after(*this.limit));
                return Poll::Ready(Some(Ok(item)));
            }
            Poll::Ready(None) => {
                *this.done = true;
                this.timer.clear();
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        if this.timer.poll_until(due, cx).is_pending() {
            return Poll::Pending;
        }
        *this.done = true;
        this.timer.clear();
        Poll::Ready(Some(Err(Elapsed)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        // An `Err(Elapsed)` may cut the stream short, or add one item.
        let (_, hi) = size_hint::at_most(self.stream.size_hint());
        (0, hi.and_then(|hi| hi.checked_add(1)))
    }
}

impl<St: Stream> FusedStream for IdleTimeout<St> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}
