//! `merge_all`: any number of streams of one type, fairly, with a poll cost
//! that does not grow with the number of idle streams.
//!
//! Each stream sits in a slot with a waker of its own from a `util::WakeSet`
//! (made once per slot and kept for the slot's next stream). Waking it marks
//! the slot and wakes the task; `poll_next` registers the task's waker with
//! the set *before* it takes the marks, so a wake-up that lands after the
//! marks were read wakes the task again. Invariants: a live stream whose
//! waker was woken is polled in the next round (marks are never dropped,
//! only taken); a stream is polled at most once per round, so one that is
//! always ready cannot starve the others; an ended stream's slot is free for
//! `push`, and a late wake of its old waker polls nothing (the slot is
//! empty, or its new stream gets one spurious poll). The wake set's atomics
//! go through `util::sync`; the loom model `merge_all_wake_queue` checks them.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use futures_core::stream::{FusedStream, Stream};

use crate::util::{Budget, WakeSet};

/// Merges any number of streams of one type; see [`MergeAll`].
///
/// Each stream gets its own waker, which records that this stream woke, so a
/// poll touches only the streams that were woken since the last one: the cost
/// per item does not grow with the number of idle streams. Ready streams are
/// served in rounds: each stream woken since the last round is polled once in
/// the next, and a stream that yielded waits for the round after, so no stream
/// can starve the others. Streams are polled inside `poll_next`; no
/// task is spawned.
///
/// The streams must be `Unpin` (use `Box::pin` otherwise), as with futures'
/// `select_all`.
///
/// # Examples
///
/// ```
/// use futures::executor::block_on;
/// use futures::stream::{self, StreamExt};
///
/// let merged = stream_plus::merge_all([stream::iter(vec![1, 2]), stream::iter(vec![3])]);
/// let mut out: Vec<u32> = block_on(merged.collect());
/// out.sort();
/// assert_eq!(out, [1, 2, 3]);
/// ```
pub fn merge_all<S, I>(streams: I) -> MergeAll<S>
where
    I: IntoIterator<Item = S>,
    S: Stream + Unpin,
{
    let mut merged = MergeAll::new();
    for stream in streams {
        merged.push(stream);
    }
    merged
}

/// Stream for the [`merge_all`] function.
#[must_use = "streams do nothing unless polled"]
pub struct MergeAll<S> {
    streams: Vec<Option<S>>,
    // One per slot of `streams`, made once and kept when its stream ends.
    wakers: Vec<Waker>,
    free: Vec<usize>,
    live: usize,
    woken: WakeSet,
}

impl<S> fmt::Debug for MergeAll<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MergeAll").field("len", &self.live).finish()
    }
}

impl<S: Stream + Unpin> Default for MergeAll<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Stream + Unpin> MergeAll<S> {
    /// An empty merge (terminated until a stream is pushed).
    pub fn new() -> Self {
        Self {
            streams: Vec::new(),
            wakers: Vec::new(),
            free: Vec::new(),
            live: 0,
            woken: WakeSet::new(),
        }
    }

    /// Adds a stream; it is polled on the next poll. Also revives a merge that
    /// has ended.
    pub fn push(&mut self, stream: S) {
        let index = self.free.pop().unwrap_or_else(|| {
            let index = self.streams.len();
            self.wakers.push(self.woken.waker(index));
            self.streams.push(None);
            index
        });
        self.streams[index] = Some(stream);
        // Polled on the next poll (the caller polls after pushing, or the
        // waker wakes a task already waiting on this merge).
        self.wakers[index].wake_by_ref();
        self.live += 1;
    }

    /// How many streams have not ended.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Whether every stream has ended (or none was pushed).
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Iterates over the streams that have not ended.
    pub fn iter(&self) -> impl Iterator<Item = &S> {
        self.streams.iter().flatten()
    }
}

impl<S: Stream + Unpin> Stream for MergeAll<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = &mut *self;
        // Registered before the woken set is read, so no wake-up can be missed.
        this.woken.register(cx.waker());
        let mut budget = Budget::new();
        loop {
            if this.live == 0 {
                return Poll::Ready(None);
            }
            let Some(index) = this.woken.next() else {
                return Poll::Pending;
            };
            // A stale index (its stream ended) is skipped.
            let Some(stream) = this.streams[index].as_mut() else {
                continue;
            };
            let mut inner_cx = Context::from_waker(&this.wakers[index]);
            match Pin::new(stream).poll_next(&mut inner_cx) {
                Poll::Ready(Some(item)) => {
                    // It may have more: its turn comes again in the next round,
                    // after the others woken now.
                    this.woken.mark(index);
                    return Poll::Ready(Some(item));
                }
                Poll::Ready(None) => {
                    this.streams[index] = None;
                    this.free.push(index);
                    this.live -= 1;
                }
                Poll::Pending => {}
            }
            if !budget.spend(cx) {
                return Poll::Pending;
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter().fold((0, Some(0)), |acc, s| {
            crate::util::size_hint::sum(acc, s.size_hint())
        })
    }
}

impl<S: Stream + Unpin> FusedStream for MergeAll<S> {
    /// True whenever no stream is live, a fresh empty `MergeAll` included;
    /// `push` revives it. (Futures' `SelectAll` differs for the empty case: a
    /// fresh empty one reports `false` until it has yielded `None`.)
    fn is_terminated(&self) -> bool {
        self.live == 0
    }
}

impl<S: Stream + Unpin> Extend<S> for MergeAll<S> {
    fn extend<T: IntoIterator<Item = S>>(&mut self, iter: T) {
        for stream in iter {
            self.push(stream);
        }
    }
}

impl<S: Stream + Unpin> FromIterator<S> for MergeAll<S> {
    fn from_iter<T: IntoIterator<Item = S>>(iter: T) -> Self {
        merge_all(iter)
    }
}
