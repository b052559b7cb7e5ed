//! `buffer_with` and `conflate`: a queue of at most `capacity` items in front
//! of the consumer, with a choice of what happens when it is full.

use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;
use std::collections::VecDeque;

use crate::util::Budget;

/// What [`buffer_with`](crate::StreamExtPlus::buffer_with) does when its queue
/// is full and upstream has another item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Overflow {
    /// Stop pulling upstream until the consumer takes an item (nothing is lost).
    Backpressure,
    /// Keep pulling; evict the oldest queued item to make room.
    DropOldest,
    /// Keep pulling; discard the incoming item.
    DropNewest,
}

pin_project! {
    /// Stream for the [`buffer_with`](crate::StreamExtPlus::buffer_with) and
    /// [`conflate`](crate::StreamExtPlus::conflate) methods.
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct BufferWith<St: Stream> {
        #[pin]
        stream: St,
        queue: VecDeque<St::Item>,
        capacity: usize,
        overflow: Overflow,
        dropped: u64,
        upstream_done: bool,
        done: bool,
    }
}

impl<St: Stream> BufferWith<St> {
    #[track_caller]
    pub(crate) fn new(stream: St, capacity: usize, overflow: Overflow, method: &str) -> Self {
        assert!(capacity >= 1, "{method}: capacity must be at least 1");
        Self {
            stream,
            queue: VecDeque::with_capacity(capacity.min(1024)),
            capacity,
            overflow,
            dropped: 0,
            upstream_done: false,
            done: false,
        }
    }

    /// How many items were discarded so far (always 0 with
    /// [`Overflow::Backpressure`]).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// How many items are queued now.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether no item is queued now.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    crate::util::stream_accessors!(stream: St, "Consumes the adapter and returns the underlying stream; queued items are dropped.");
}

impl<St: Stream> Stream for BufferWith<St> {
    type Item = St::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<St::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        // Move what upstream has ready into the queue, up to the poll budget.
        let mut budget = Budget::new();
        while !*this.upstream_done {
            let full = this.queue.len() >= *this.capacity;
            if full && *this.overflow == Overflow::Backpressure {
                break;
            }
            match this.stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => {
                    if full {
                        *this.dropped += 1;
                        if *this.overflow == Overflow::DropNewest {
                            drop(item);
                        } else {
                            this.queue.pop_front();
                            this.queue.push_back(item);
                        }
                    } else {
                        this.queue.push_back(item);
                    }
                    // The queue is not empty now, so stopping early still yields.
                    if !budget.spend_quietly() {
                        break;
                    }
                }
                Poll::Ready(None) => *this.upstream_done = true,
                Poll::Pending => break,
            }
        }
        match this.queue.pop_front() {
            Some(item) => Poll::Ready(Some(item)),
            None if *this.upstream_done => {
                *this.done = true;
                Poll::Ready(None)
            }
            // Empty queue: the loop ended on upstream's `Pending`.
            None => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let queued = self.queue.len();
        let (lo, hi) = if self.upstream_done {
            (0, Some(0))
        } else {
            self.stream.size_hint()
        };
        let hi = hi.and_then(|hi| hi.checked_add(queued));
        match self.overflow {
            Overflow::Backpressure => (lo.saturating_add(queued), hi),
            // Items may be dropped, but the next poll yields one if any exists.
            _ => (lo.saturating_add(queued).min(1), hi),
        }
    }
}

impl<St: Stream> FusedStream for BufferWith<St> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}
