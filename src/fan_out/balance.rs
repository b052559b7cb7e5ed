use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use futures_core::stream::{FusedStream, Stream};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Wake;

use super::lock;

struct Source<S> {
    stream: Pin<Box<S>>,
    done: bool,
}

/// The clones waiting for an item, in the order they began to wait. It is its
/// own lock, apart from the source's, because the source may wake us while it
/// is being polled (under the source's lock).
#[derive(Default)]
struct Waiters {
    queue: VecDeque<(u64, Waker)>,
    // A wake-up that found no waiter; the next clone to start waiting takes it.
    unclaimed: bool,
}

struct Shared<S> {
    source: Mutex<Source<S>>,
    waiters: Arc<Mutex<Waiters>>,
    // The waker the source is polled with: it wakes the longest waiter.
    source_waker: Waker,
    next_id: AtomicU64,
}

/// Wakes the clone that has waited longest.
struct WakeFirst(Arc<Mutex<Waiters>>);

impl Wake for WakeFirst {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let waker = {
            let mut waiters = self.0.lock().unwrap_or_else(|e| e.into_inner());
            match waiters.queue.pop_front() {
                Some((_, waker)) => Some(waker),
                None => {
                    waiters.unclaimed = true;
                    None
                }
            }
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Stream for the [`balance`](crate::StreamExtPlus::balance) method: a `Clone`
/// handle; every item goes to exactly one clone.
#[must_use = "streams do nothing unless polled"]
pub struct Balance<S> {
    shared: Arc<Shared<S>>,
    id: u64,
    done: bool,
}

impl<S> fmt::Debug for Balance<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Balance")
            .field("id", &self.id)
            .field("done", &self.done)
            .finish()
    }
}

impl<S: Stream> Balance<S> {
    pub(crate) fn new(stream: S) -> Self {
        let waiters = Arc::new(Mutex::new(Waiters::default()));
        let source_waker = Waker::from(Arc::new(WakeFirst(waiters.clone())));
        let shared = Arc::new(Shared {
            source: Mutex::new(Source {
                stream: Box::pin(stream),
                done: false,
            }),
            waiters,
            source_waker,
            next_id: AtomicU64::new(1),
        });
        Self {
            shared,
            id: 0,
            done: false,
        }
    }
}

impl<S> Balance<S> {
    fn lock_waiters(&self) -> std::sync::MutexGuard<'_, Waiters> {
        self.shared
            .waiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Passes a wake-up on to the longest waiter (or leaves it unclaimed).
    fn wake_next(&self) {
        self.shared.source_waker.wake_by_ref();
    }
}

impl<S> Clone for Balance<S> {
    /// A new consumer of the same source.
    fn clone(&self) -> Self {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: self.shared.clone(),
            id,
            done: self.done,
        }
    }
}

impl<S: Stream> Stream for Balance<S> {
    type Item = S::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        let polled = {
            let mut source = lock(&self.shared.source, "balance");
            if source.done {
                Poll::Ready(None)
            } else {
                let mut source_cx = Context::from_waker(&self.shared.source_waker);
                let polled = source.stream.as_mut().poll_next(&mut source_cx);
                if let Poll::Ready(None) = polled {
                    source.done = true;
                }
                polled
            }
        };
        match polled {
            Poll::Ready(Some(item)) => {
                let id = self.id;
                let mut waiters = self.lock_waiters();
                waiters.queue.retain(|(waiter, _)| *waiter != id);
                drop(waiters);
                // The source may have more ready without waking again: let the
                // next waiter look.
                self.wake_next();
                Poll::Ready(Some(item))
            }
            Poll::Ready(None) => {
                self.done = true;
                // Every clone ends with the source.
                let waiters = std::mem::take(&mut self.lock_waiters().queue);
                waiters.into_iter().for_each(|(_, waker)| waker.wake());
                Poll::Ready(None)
            }
            Poll::Pending => {
                let id = self.id;
                let mut waiters = self.lock_waiters();
                if std::mem::take(&mut waiters.unclaimed) {
                    // The source woke while nobody waited: that wake-up is ours.
                    drop(waiters);
                    cx.waker().wake_by_ref();
                } else if let Some(entry) =
                    waiters.queue.iter_mut().find(|(waiter, _)| *waiter == id)
                {
                    // Already waiting: keep its place in line.
                    entry.1 = cx.waker().clone();
                } else {
                    waiters.queue.push_back((id, cx.waker().clone()));
                }
                Poll::Pending
            }
        }
    }
}

impl<S: Stream> FusedStream for Balance<S> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<S> Drop for Balance<S> {
    fn drop(&mut self) {
        let id = self.id;
        let was_waiting = {
            let mut waiters = self.lock_waiters();
            let before = waiters.queue.len();
            waiters.queue.retain(|(waiter, _)| *waiter != id);
            waiters.queue.len() != before
        };
        // It may have been woken and not yet polled: pass the wake-up on so an
        // available item reaches another clone. (Items are never held by a
        // clone, so none is lost.)
        if !was_waiting {
            self.wake_next();
        }
    }
}
