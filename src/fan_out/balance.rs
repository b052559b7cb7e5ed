//! `balance`: a `Clone` handle over one source; every item goes to exactly
//! one clone, and waiting clones are served in the order they began to wait.
//!
//! Two locks: the source's, held while a clone polls it, and the waiting
//! line's (with a count of the source's wake-ups), which the source's waker
//! takes, so it must not be the source's (the source may wake while it is
//! polled). The source is always polled with one waker, `WakeAll`, which
//! wakes every waiting clone in line order: a wake-up cannot say whether an
//! item or the end came, so the first to poll takes the item and the others
//! find nothing and wait again in their places, and the end reaches every
//! one at once. (Waking only the first would let a clone busy elsewhere hold
//! back every other, for items and for the end.) Invariants: a clone that
//! polled the source and found nothing joins the line only if the wake-up
//! count did not change since it read it before polling, or else polls again
//! (no wake-up is slept through); a clone keeps its place in line until it
//! takes an item, ends or is dropped. So every clone in line either was woken
//! by the source's latest wake-up or polled the source after it and found
//! nothing (and the source then has our waker): an item is never stranded
//! while a clone waits, and a clone that takes an item wakes nobody and,
//! unless it was in line, takes no lock but the source's. A clone dropped
//! while woken passes its wake-up on to the first clone not woken yet.
//! Clones hold no items, so none is lost. The loom models `balance_*` check
//! the hand-offs.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use futures_core::stream::{FusedStream, Stream};
use std::collections::VecDeque;
use std::task::Wake;

use crate::util::sync::{lock_ignoring_poison, Arc, AtomicU64, Mutex, MutexGuard, Ordering};

struct Source<S> {
    stream: Pin<Box<S>>,
    done: bool,
}

/// A clone waiting for an item.
struct Waiter {
    id: u64,
    waker: Waker,
    // Woken and not yet polled since. It keeps its place in the line: only
    // taking an item, ending or dropping leaves it.
    notified: bool,
}

/// The clones waiting for an item, in the order they began to wait. It is its
/// own lock, apart from the source's, because the source may wake us while it
/// is being polled (under the source's lock).
#[derive(Default)]
struct Waiters {
    line: VecDeque<Waiter>,
}

impl Waiters {
    /// Marks every clone in line not woken yet as woken; their wakers, in line
    /// order.
    fn notify_all(&mut self) -> Vec<Waker> {
        self.line
            .iter_mut()
            .filter(|w| !w.notified)
            .map(|w| {
                w.notified = true;
                w.waker.clone()
            })
            .collect()
    }

    /// Marks the first clone in line not woken yet as woken; its waker.
    fn notify_first(&mut self) -> Option<Waker> {
        let waiter = self.line.iter_mut().find(|w| !w.notified)?;
        waiter.notified = true;
        Some(waiter.waker.clone())
    }
}

struct Shared<S> {
    source: Mutex<Source<S>>,
    waiters: Arc<Mutex<Waiters>>,
    // The waker the source is polled with: it wakes every waiting clone.
    source_waker: Waker,
    next_id: AtomicU64,
    // How many times the source has woken; it changes only under the lock of
    // `waiters`. A clone that saw it change between its poll of the source
    // and taking its place in line polls again rather than sleep through that
    // wake-up.
    wakes: Arc<AtomicU64>,
}

/// The source's waker. A wake-up cannot say whether an item or the end came,
/// so every waiting clone is woken, in line order: the first to poll takes the
/// item, the others find nothing and wait again in their places, and if it was
/// the end, every one of them learns it at once.
struct WakeAll {
    waiters: Arc<Mutex<Waiters>>,
    wakes: Arc<AtomicU64>,
}

impl Wake for WakeAll {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        let woken = {
            let mut waiters = lock_ignoring_poison(&self.waiters);
            self.wakes.fetch_add(1, Ordering::AcqRel);
            waiters.notify_all()
        };
        woken.into_iter().for_each(Waker::wake);
    }
}

/// Stream for the [`balance`](crate::StreamExtPlus::balance) method: a `Clone`
/// handle; every item goes to exactly one clone.
#[must_use = "streams do nothing unless polled"]
pub struct Balance<S> {
    shared: Arc<Shared<S>>,
    id: u64,
    // Whether this clone may be in the line (false: it is not), so a clone
    // that takes item after item never searches the line.
    queued: bool,
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
        let wakes = Arc::new(AtomicU64::new(0));
        let source_waker = Waker::from(std::sync::Arc::new(WakeAll {
            waiters: waiters.clone(),
            wakes: wakes.clone(),
        }));
        let shared = Arc::new(Shared {
            source: Mutex::new(Source {
                stream: Box::pin(stream),
                done: false,
            }),
            waiters,
            source_waker,
            next_id: AtomicU64::new(1),
            wakes,
        });
        Self {
            shared,
            id: 0,
            queued: false,
            done: false,
        }
    }
}

impl<S> Balance<S> {
    fn lock_waiters(&self) -> MutexGuard<'_, Waiters> {
        lock_ignoring_poison(&self.shared.waiters)
    }

    /// The source may have more ready without waking again: let the first
    /// waiter not woken yet look.
    fn pass_on(&self) {
        let woken = self.lock_waiters().notify_first();
        if let Some(waker) = woken {
            waker.wake();
        }
    }
}

impl<S> Clone for Balance<S> {
    /// A new consumer of the same source.
    fn clone(&self) -> Self {
        let id = self.shared.next_id.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: self.shared.clone(),
            id,
            queued: false,
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
        let wakes_before = self.shared.wakes.load(Ordering::Acquire);
        let polled = {
            let mut source = super::lock_panicking_if_poisoned(&self.shared.source, "balance");
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
        let id = self.id;
        match polled {
            Poll::Ready(Some(item)) => {
                // Served: out of the line; the others keep their places.
                if self.queued {
                    self.queued = false;
                    let mut waiters = self.lock_waiters();
                    if let Some(at) = waiters.line.iter().position(|w| w.id == id) {
                        waiters.line.remove(at);
                    }
                }
                Poll::Ready(Some(item))
            }
            Poll::Ready(None) => {
                self.done = true;
                // Every clone ends with the source: wake every one waiting.
                let line = std::mem::take(&mut self.lock_waiters().line);
                line.into_iter().for_each(|w| w.waker.wake());
                Poll::Ready(None)
            }
            Poll::Pending => {
                let queued = self.queued;
                let mut waiters = self.lock_waiters();
                if self.shared.wakes.load(Ordering::Acquire) != wakes_before {
                    // The source woke after we polled it: look again.
                    drop(waiters);
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                let place = if queued {
                    waiters.line.iter_mut().find(|w| w.id == id)
                } else {
                    None
                };
                if let Some(waiter) = place {
                    // Already in line: keep the place.
                    waiter.waker.clone_from(cx.waker());
                    waiter.notified = false;
                } else {
                    waiters.line.push_back(Waiter {
                        id,
                        waker: cx.waker().clone(),
                        notified: false,
                    });
                }
                drop(waiters);
                self.queued = true;
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
        let left = {
            let mut waiters = self.lock_waiters();
            let at = waiters.line.iter().position(|w| w.id == id);
            at.and_then(|at| waiters.line.remove(at))
        };
        // Woken and never to poll (or not in line, so perhaps woken to look
        // again): pass the wake-up on so an available item reaches another
        // clone. (Items are never held by a clone, so none is lost.)
        if left.map_or(true, |w| w.notified) {
            self.pass_on();
        }
    }
}
