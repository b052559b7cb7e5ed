//! `broadcast`: every consumer sees every item, in order, within `capacity`
//! items of the slowest live one; whichever consumer needs the next item
//! pulls the source.
//!
//! One mutex holds everything: the source, the buffer of items some live
//! consumer has not taken, each consumer's cursor (the number of the next item
//! it takes) and its waker while it waits. Invariants: `base` is the number
//! of `buffer[0]` and the slowest live cursor is never below it; the buffer
//! holds at most `capacity` items, so a consumer that would pull past that
//! waits; the source is polled with the waker of the consumer that pulls, and
//! every consumer that waits has its waker stored under the same lock it
//! checked the state with. Whoever moves the state on (pulls an item, frees
//! room by moving the slowest cursor, ends the source, drops a consumer)
//! wakes every stored waker after the change, so no wait outlives the reason
//! for it. A panic in the source poisons the lock; the other consumers then
//! panic with a message saying so (`fan_out::lock_panicking_if_poisoned`).
//! The loom models `broadcast_*` check the hand-offs.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use futures_core::stream::{FusedStream, Stream};
use std::collections::VecDeque;

use super::lock_panicking_if_poisoned;
use crate::util::sync::{Arc, Mutex};

struct Shared<S: Stream> {
    source: Pin<Box<S>>,
    source_done: bool,
    // Items some live consumer has not taken yet; `buffer[0]` has number `base`.
    buffer: VecDeque<S::Item>,
    base: u64,
    // Per consumer: the number of the next item it takes; `None` once dropped.
    cursors: Vec<Option<u64>>,
    // Per consumer: its waker while it waits (for an item or for room).
    waiting: Vec<Option<Waker>>,
    capacity: usize,
}

impl<S: Stream> Shared<S> {
    /// Drops items every live consumer has taken.
    fn trim(&mut self) {
        let slowest = self.cursors.iter().flatten().min().copied();
        let slowest = slowest.unwrap_or(self.base + self.buffer.len() as u64);
        while self.base < slowest {
            self.buffer.pop_front();
            self.base += 1;
        }
    }

    fn wake_waiting(&mut self) {
        for waker in self.waiting.iter_mut().filter_map(Option::take) {
            waker.wake();
        }
    }
}

/// One consumer of the [`broadcast`](crate::StreamExtPlus::broadcast) method.
#[must_use = "streams do nothing unless polled"]
pub struct Broadcast<S: Stream> {
    shared: Arc<Mutex<Shared<S>>>,
    id: usize,
    done: bool,
}

impl<S: Stream> fmt::Debug for Broadcast<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Broadcast")
            .field("id", &self.id)
            .field("done", &self.done)
            .finish()
    }
}

#[track_caller]
pub(crate) fn broadcast<S: Stream>(
    source: S,
    consumers: usize,
    capacity: usize,
) -> Vec<Broadcast<S>> {
    assert!(consumers >= 1, "broadcast: consumers must be at least 1");
    assert!(capacity >= 1, "broadcast: capacity must be at least 1");
    let shared = Arc::new(Mutex::new(Shared {
        source: Box::pin(source),
        source_done: false,
        buffer: VecDeque::with_capacity(capacity.min(1024)),
        base: 0,
        cursors: vec![Some(0); consumers],
        waiting: (0..consumers).map(|_| None).collect(),
        capacity,
    }));
    (0..consumers)
        .map(|id| Broadcast {
            shared: shared.clone(),
            id,
            done: false,
        })
        .collect()
}

impl<S: Stream> Broadcast<S> {
    /// This consumer's index in the `Vec` that `broadcast` returned.
    pub fn id(&self) -> usize {
        self.id
    }
}

impl<S> Stream for Broadcast<S>
where
    S: Stream,
    S::Item: Clone,
{
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        let id = self.id;
        let mut guard = lock_panicking_if_poisoned(&self.shared, "broadcast");
        let shared = &mut *guard;
        let cursor = shared.cursors[id].expect("live consumer");
        let newest = shared.base + shared.buffer.len() as u64;

        if cursor < newest {
            // Someone already pulled it: take a copy.
            let item = shared.buffer[(cursor - shared.base) as usize].clone();
            shared.cursors[id] = Some(cursor + 1);
            if cursor == shared.base {
                // Possibly the slowest moved on: room for the fast ones.
                shared.trim();
                shared.wake_waiting();
            }
            return Poll::Ready(Some(item));
        }
        if shared.source_done {
            drop(guard);
            self.done = true;
            return Poll::Ready(None);
        }
        // This consumer needs a new item. Pulling it puts the puller one item
        // further ahead of the slowest; wait if that would exceed `capacity`.
        if shared.buffer.len() >= shared.capacity {
            shared.waiting[id] = Some(cx.waker().clone());
            return Poll::Pending;
        }
        match shared.source.as_mut().poll_next(cx) {
            Poll::Ready(Some(item)) => {
                shared.buffer.push_back(item.clone());
                shared.cursors[id] = Some(cursor + 1);
                shared.trim();
                shared.wake_waiting();
                Poll::Ready(Some(item))
            }
            Poll::Ready(None) => {
                shared.source_done = true;
                shared.wake_waiting();
                drop(guard);
                self.done = true;
                Poll::Ready(None)
            }
            Poll::Pending => {
                // The source holds our waker. Others waiting for the same item
                // are woken by whoever pulls it.
                shared.waiting[id] = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let shared = lock_panicking_if_poisoned(&self.shared, "broadcast");
        let cursor = shared.cursors[self.id].unwrap_or(shared.base);
        let buffered = (shared.base + shared.buffer.len() as u64 - cursor) as usize;
        let source = if shared.source_done {
            (0, Some(0))
        } else {
            shared.source.size_hint()
        };
        crate::util::size_hint::add(source, buffered)
    }
}

impl<S> FusedStream for Broadcast<S>
where
    S: Stream,
    S::Item: Clone,
{
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<S: Stream> Drop for Broadcast<S> {
    fn drop(&mut self) {
        // Not `lock`: never panic in drop, and a poisoned state needs no cleanup.
        let Ok(mut shared) = self.shared.lock() else {
            return;
        };
        shared.cursors[self.id] = None;
        shared.waiting[self.id] = None;
        shared.trim();
        // This consumer no longer holds the others back, and the source may
        // hold its waker: let the others look again.
        shared.wake_waiting();
    }
}
