//! `debounce`: an item once `quiet` has passed with no newer one (or once it
//! has waited `max_wait`).

use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;
use std::time::{Duration, Instant};

use super::check_duration;
use super::clock::{later, Clock, Timer};
use crate::util::Budget;

pin_project! {
    /// Stream for the [`debounce`](crate::StreamExtPlus::debounce) method.
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct Debounce<St: Stream> {
        #[pin]
        stream: St,
        quiet: Duration,
        max_wait: Option<Duration>,
        clock: Clock,
        timer: Timer,
        // The newest item, waiting for quiet.
        pending: Option<St::Item>,
        // When the pending item is due: `quiet` after the newest arrival, or
        // `max_wait` after the first arrival of this run, whichever is first.
        due: Option<Instant>,
        // When the current run of replaced items began (for `max_wait`).
        run_started: Option<Instant>,
        upstream_done: bool,
        done: bool,
    }
}

impl<St: Stream> Debounce<St> {
    #[track_caller]
    pub(crate) fn new(stream: St, quiet: Duration) -> Self {
        check_duration("debounce", "quiet", quiet);
        let clock = Clock::current();
        let timer = clock.timer();
        Self {
            stream,
            quiet,
            max_wait: None,
            clock,
            timer,
            pending: None,
            due: None,
            run_started: None,
            upstream_done: false,
            done: false,
        }
    }

    /// Also yields the pending item once it has waited `d` since the first item
    /// of its run, so that a source that is never quiet still makes progress.
    ///
    /// # Panics
    ///
    /// If `d` is shorter than `quiet`: `debounce: max_wait must be at least quiet`.
    #[track_caller]
    pub fn max_wait(mut self, d: Duration) -> Self {
        assert!(d >= self.quiet, "debounce: max_wait must be at least quiet");
        self.max_wait = Some(d);
        self
    }

    crate::util::stream_accessors!(stream: St, "Consumes the adapter and returns the underlying stream; a pending item is dropped.");
}

impl<St: Stream> Stream for Debounce<St> {
    type Item = St::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<St::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        // Drain upstream: each new item replaces the pending one. Items taken in
        // one poll count as arriving at the same instant (one clock read).
        let mut now = None;
        let mut budget = Budget::new();
        while !*this.upstream_done {
            match this.stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => {
                    let now = *now.get_or_insert_with(|| this.clock.now());
                    let run_started = *this.run_started.get_or_insert(now);
                    let mut due = later(now, *this.quiet);
                    if let Some(max_wait) = *this.max_wait {
                        due = due.min(later(run_started, max_wait));
                    }
                    *this.pending = Some(item);
                    *this.due = Some(due);
                    if !budget.spend(cx) {
                        return Poll::Pending;
                    }
                }
                Poll::Ready(None) => *this.upstream_done = true,
                Poll::Pending => break,
            }
        }
        if *this.upstream_done {
            // Flush the pending item at once, then end.
            this.timer.clear();
            return super::flush_then_end(this.pending, this.done);
        }
        let Some(due) = *this.due else {
            return Poll::Pending; // nothing pending; upstream will wake us
        };
        if this.timer.poll_until(due, cx).is_pending() {
            return Poll::Pending;
        }
        *this.due = None;
        *this.run_started = None;
        Poll::Ready(this.pending.take())
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let held = self.pending.is_some();
        super::held_size_hint(self.done, self.upstream_done, held, self.stream.size_hint())
    }
}

impl<St: Stream> FusedStream for Debounce<St> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}
