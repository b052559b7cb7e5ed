use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use futures_core::stream::{FusedStream, Stream};
use std::collections::VecDeque;
use std::task::Wake;

use crate::util::sync::{lock, Arc, AtomicBool, Mutex, Ordering, WakerSlot};

use crate::util::Budget;

/// Merges any number of streams of one type; see [`MergeAll`].
///
/// Each stream gets its own waker, which records that this stream woke, so a
/// poll touches only the streams that were woken since the last one: the cost
/// per item does not grow with the number of idle streams. Ready streams are
/// served round-robin (a stream that yielded goes to the back of the queue), so
/// no stream can starve the others. Streams are polled inside `poll_next`; no
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

/// The queue of woken streams, shared with their wakers.
#[derive(Debug)]
struct Shared {
    ready: Mutex<VecDeque<usize>>,
    // The task polling the `MergeAll`.
    parent: WakerSlot,
}

/// The waker of one inner stream.
#[derive(Debug)]
struct SlotWaker {
    index: usize,
    // True while the index is in the ready queue (so it is queued once).
    queued: AtomicBool,
    shared: Arc<Shared>,
}

impl SlotWaker {
    /// Queues the stream (once) and wakes the parent task.
    fn enqueue(&self) {
        if self.requeue() {
            self.shared.parent.wake();
        }
    }

    /// Queues the stream (once), without waking: for the parent task itself,
    /// which is running. Returns whether it was queued now.
    fn requeue(&self) -> bool {
        let newly = !self.queued.swap(true, Ordering::AcqRel);
        if newly {
            let mut ready = lock(&self.shared.ready);
            ready.push_back(self.index);
        }
        newly
    }
}

impl Wake for SlotWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.enqueue();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.enqueue();
    }
}

struct Slot<S> {
    stream: S,
    // std's `Arc`: it becomes the stream's `Waker`.
    notify: std::sync::Arc<SlotWaker>,
    waker: Waker,
}

/// Stream for the [`merge_all`] function.
#[must_use = "streams do nothing unless polled"]
pub struct MergeAll<S> {
    slots: Vec<Option<Slot<S>>>,
    free: Vec<usize>,
    live: usize,
    shared: Arc<Shared>,
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
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
            shared: Arc::new(Shared {
                ready: Mutex::new(VecDeque::new()),
                parent: WakerSlot::new(),
            }),
        }
    }

    /// Adds a stream; it is polled on the next poll. Also revives a merge that
    /// has ended.
    pub fn push(&mut self, stream: S) {
        let index = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        let notify = std::sync::Arc::new(SlotWaker {
            index,
            queued: AtomicBool::new(false),
            shared: self.shared.clone(),
        });
        let waker = Waker::from(notify.clone());
        // Polled on the next poll (the caller polls after pushing, or the
        // waker wakes a task already waiting on this merge).
        notify.enqueue();
        self.slots[index] = Some(Slot {
            stream,
            notify,
            waker,
        });
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
        self.slots.iter().flatten().map(|slot| &slot.stream)
    }
}

impl<S: Stream + Unpin> Stream for MergeAll<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = &mut *self;
        // Registered before the queue is read, so no wake-up can be missed.
        this.shared.parent.register(cx.waker());
        let mut budget = Budget::new();
        loop {
            if this.live == 0 {
                return Poll::Ready(None);
            }
            let next = lock(&this.shared.ready).pop_front();
            let Some(index) = next else {
                return Poll::Pending;
            };
            // A stale index (its stream ended) is skipped.
            let Some(slot) = this.slots[index].as_mut() else {
                continue;
            };
            // Cleared before the poll, so a wake during the poll queues it again.
            slot.notify.queued.store(false, Ordering::Release);
            let mut inner_cx = Context::from_waker(&slot.waker);
            match Pin::new(&mut slot.stream).poll_next(&mut inner_cx) {
                Poll::Ready(Some(item)) => {
                    // It may have more: back of the queue, behind the others.
                    slot.notify.requeue();
                    return Poll::Ready(Some(item));
                }
                Poll::Ready(None) => {
                    this.slots[index] = None;
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
