//! `batch_timeout`: batches of at most `max` items, cut early once the first
//! item of a batch has waited `timeout`.

use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;
use std::time::{Duration, Instant};

use super::clock::{Clock, Timer};
use super::{check_count, check_duration};
use crate::util::{Budget, POLL_BUDGET};

pin_project! {
    /// Stream for the [`batch_timeout`](crate::StreamExtPlus::batch_timeout) method.
    #[must_use = "streams do nothing unless polled"]
    #[project = BatchTimeoutProj]
    #[derive(Debug)]
    pub struct BatchTimeout<St: Stream> {
        #[pin]
        stream: St,
        max: usize,
        timeout: Duration,
        clock: Clock,
        timer: Timer,
        batch: Vec<St::Item>,
        // When the current batch is due: `timeout` after its first item.
        due: Option<Instant>,
        upstream_done: bool,
        done: bool,
    }
}

impl<St: Stream> BatchTimeout<St> {
    #[track_caller]
    pub(crate) fn new(stream: St, max: usize, timeout: Duration) -> Self {
        check_count("batch_timeout", "max", max);
        check_duration("batch_timeout", "timeout", timeout);
        let clock = Clock::current();
        let timer = clock.timer();
        Self {
            stream,
            max,
            timeout,
            clock,
            timer,
            batch: Vec::new(),
            due: None,
            upstream_done: false,
            done: false,
        }
    }

    crate::util::stream_accessors!(stream: St, "Consumes the adapter and returns the underlying stream; a partial batch is dropped.");
}

impl<St: Stream> BatchTimeoutProj<'_, St> {
    fn take_batch(&mut self) -> Vec<St::Item> {
        *self.due = None;
        let capacity = (*self.max).min(1024);
        std::mem::replace(self.batch, Vec::with_capacity(capacity))
    }
}

impl<St: Stream> Stream for BatchTimeout<St> {
    type Item = Vec<St::Item>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        // A full batch ends the loop, so the poll budget only matters when
        // batches are larger than it.
        let mut budget = (*this.max > POLL_BUDGET as usize).then(Budget::new);
        if !*this.upstream_done {
            loop {
                match this.stream.as_mut().poll_next(cx) {
                    Poll::Ready(Some(item)) => {
                        if this.batch.is_empty() {
                            // The timeout runs from the batch's first item. Reading
                            // the clock once per batch is all a ready burst costs.
                            *this.due = Some(this.clock.after(*this.timeout));
                        }
                        this.batch.push(item);
                        if this.batch.len() >= *this.max {
                            return Poll::Ready(Some(this.take_batch()));
                        }
                        if let Some(budget) = budget.as_mut() {
                            if !budget.spend(cx) {
                                return Poll::Pending;
                            }
                        }
                    }
                    Poll::Ready(None) => {
                        *this.upstream_done = true;
                        break;
                    }
                    Poll::Pending => break,
                }
            }
        }
        if *this.upstream_done {
            this.timer.clear();
            if this.batch.is_empty() {
                *this.done = true;
                return Poll::Ready(None);
            }
            return Poll::Ready(Some(this.take_batch()));
        }
        let Some(due) = *this.due else {
            return Poll::Pending; // empty batch; upstream will wake us
        };
        if this.timer.poll_until(due, cx).is_pending() {
            return Poll::Pending;
        }
        Poll::Ready(Some(this.take_batch()))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let (lo, hi) = self.stream.size_hint();
        let held = self.batch.len();
        if self.upstream_done {
            let n = usize::from(held > 0);
            return (n, Some(n));
        }
        // Fewest batches: everything fills whole batches; most: one item each.
        let lo = lo.saturating_add(held).div_ceil(self.max);
        let hi = hi.and_then(|hi| hi.checked_add(usize::from(held > 0)));
        (lo, hi)
    }
}

impl<St: Stream> FusedStream for BatchTimeout<St> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}
