//! The one channel behind [`decouple`](crate::StreamExtPlus::decouple) and
//! [`stage`](crate::StreamExtPlus::stage): a [`Sender`] that pumps a stream into
//! it while there is room, and a [`Receiver`] that is a stream.
//!
//! Its bound is `capacity` items in the queue plus one *in hand*: the item the
//! sender took from upstream once the queue was full. The item in hand lives in
//! the channel, so the receiver can take it the moment it asks: that is what
//! makes `capacity` 0 a rendezvous (the sender holds one item until the next
//! stage asks for it), and `usize::MAX` is unbounded (the queue never fills).
//! The sender pulls upstream only while nothing is in hand.
//!
//! Every field, wakers included, sits under one mutex: a side that finds
//! nothing to do registers its waker under the same lock it checked the state
//! with, so no wake-up can be lost. Wakers are woken after the lock is
//! released, but for one: the receiver that frees the hand wakes the sender
//! by reference under the lock and leaves it registered, so a sender that
//! fills the queue again item after item registers (clones) its waker once,
//! not once per item. (A waker's `wake` never takes this channel's lock: it
//! schedules a task, or marks a driver of `stage` as woken.)
//!
//! Two of the fields are mirrored in atomics, written under the lock and read
//! by the sender without it: whether an item is in hand, and whether the
//! receiver is gone. So a sender woken for room takes the lock once per item
//! (to queue it), not twice. It registers its waker under that lock, and
//! otherwise only when its waker changed or its registration may be gone
//! (the receiver takes it only when it is dropped).

use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use futures_core::Stream;
use std::any::Any;
use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};

use crate::util::sync::{lock_ignoring_poison, Arc, AtomicBool, Mutex, MutexGuard, Ordering};
use crate::util::Budget;

type Payload = Box<dyn Any + Send + 'static>;

struct Shared<T> {
    state: Mutex<State<T>>,
    capacity: usize,
    // `state.hand.is_some()` and `state.receiver_gone`, as last written under
    // the lock.
    hand_full: AtomicBool,
    receiver_gone: AtomicBool,
}

struct State<T> {
    items: VecDeque<T>,
    // Taken from upstream when `items` was full; the sender pulls no more
    // until it has moved on.
    hand: Option<T>,
    // The sender finished (upstream ended or panicked) or was dropped.
    closed: bool,
    receiver_gone: bool,
    // An upstream panic, re-raised by the receiver after the items before it.
    panic: Option<Payload>,
    receiver: Option<Waker>,
    sender: Option<Waker>,
}

fn register(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(old) if old.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

/// Whether `waker` is the one the sender last registered.
#[inline]
fn is_registered(registered: &Option<Waker>, waker: &Waker) -> bool {
    registered.as_ref().is_some_and(|w| w.will_wake(waker))
}

/// Registers the sender's `waker` (under the lock) unless it is the one
/// registered already; `registered` is the sender's copy.
#[inline]
fn register_sender<T>(registered: &mut Option<Waker>, state: &mut State<T>, waker: &Waker) {
    if !is_registered(registered, waker) {
        register(&mut state.sender, waker);
        *registered = Some(waker.clone());
    }
}

fn wake(waker: Option<Waker>) {
    if let Some(waker) = waker {
        waker.wake();
    }
}

/// Makes a channel of `capacity` queued items plus one in hand.
pub(crate) fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            items: VecDeque::with_capacity(capacity.min(1024)),
            hand: None,
            closed: false,
            receiver_gone: false,
            panic: None,
            receiver: None,
            sender: None,
        }),
        capacity,
        hand_full: AtomicBool::new(false),
        receiver_gone: AtomicBool::new(false),
    });
    (
        Sender {
            shared: shared.clone(),
            registered: None,
        },
        Receiver {
            shared,
            done: false,
        },
    )
}

/// Whether [`Sender::poll_pump`] lets an upstream panic unwind (`stage`: it
/// comes out of the pipeline's poll at once) or hands it to the receiver
/// (`decouple`: the driver runs in another task).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Panics {
    Unwind,
    HandOver,
}

/// The sending end. Dropping it closes the channel: the receiver ends after
/// the items already sent.
pub(crate) struct Sender<T> {
    shared: Arc<Shared<T>>,
    // The waker last registered in `state.sender` (which stays there until
    // the receiver is dropped).
    registered: Option<Waker>,
}

impl<T> Sender<T> {
    pub(crate) fn capacity(&self) -> usize {
        self.shared.capacity
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        lock_ignoring_poison(&self.shared.state)
    }

    fn close(&self, panic: Option<Payload>) {
        let mut state = self.lock();
        state.closed = true;
        if panic.is_some() {
            state.panic = panic;
        }
        let receiver = state.receiver.take();
        drop(state);
        wake(receiver);
    }

    /// Pulls `stream` into the channel while there is room, up to the poll
    /// budget. `Ready` once there is nothing more to do ever: upstream ended
    /// (or panicked, with [`Panics::HandOver`]) and the channel is closed, or
    /// the receiver is gone. `Pending` with a wake-up arranged: by upstream, by
    /// the receiver making room, or by the budget.
    pub(crate) fn poll_pump<St>(
        &mut self,
        mut stream: Pin<&mut St>,
        cx: &mut Context<'_>,
        panics: Panics,
    ) -> Poll<()>
    where
        St: Stream<Item = T>,
    {
        if self.shared.receiver_gone.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        if self.shared.hand_full.load(Ordering::Acquire) {
            let mut state = lock_ignoring_poison(&self.shared.state);
            if state.receiver_gone {
                return Poll::Ready(());
            }
            if state.hand.is_some() {
                register_sender(&mut self.registered, &mut state, cx.waker());
                return Poll::Pending;
            }
        }
        let mut budget = Budget::new();
        loop {
            if !budget.spend(cx) {
                return Poll::Pending;
            }
            let polled = match panics {
                Panics::Unwind => Ok(stream.as_mut().poll_next(cx)),
                Panics::HandOver => {
                    let stream = stream.as_mut();
                    panic::catch_unwind(AssertUnwindSafe(|| stream.poll_next(cx)))
                }
            };
            let item = match polled {
                Ok(Poll::Ready(Some(item))) => item,
                Ok(Poll::Ready(None)) => {
                    self.close(None);
                    return Poll::Ready(());
                }
                Ok(Poll::Pending) => {
                    // Also while upstream is what we wait for: the receiver's
                    // drop must reach us then too.
                    if !is_registered(&self.registered, cx.waker()) {
                        let mut state = lock_ignoring_poison(&self.shared.state);
                        if state.receiver_gone {
                            return Poll::Ready(());
                        }
                        register_sender(&mut self.registered, &mut state, cx.waker());
                    }
                    return Poll::Pending;
                }
                Err(payload) => {
                    self.close(Some(payload));
                    return Poll::Ready(());
                }
            };
            let mut state = lock_ignoring_poison(&self.shared.state);
            if state.receiver_gone {
                drop(state);
                drop(item); // outside the lock: an item's Drop may do anything
                return Poll::Ready(());
            }
            if state.items.len() < self.shared.capacity {
                state.items.push_back(item);
            } else {
                state.hand = Some(item);
                self.shared.hand_full.store(true, Ordering::Release);
            }
            register_sender(&mut self.registered, &mut state, cx.waker());
            let full = state.hand.is_some();
            let receiver = state.receiver.take();
            drop(state);
            wake(receiver);
            if full {
                return Poll::Pending;
            }
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // The item in hand was never sent: it goes with the sender (a
        // `decouple` driver dropped early), and the receiver ends after the
        // items queued before.
        let hand = {
            let mut state = self.lock();
            self.shared.hand_full.store(false, Ordering::Release);
            state.hand.take()
        };
        drop(hand);
        self.close(None);
    }
}

/// The receiving end, a stream. Dropping it drops what is queued and lets the
/// sender finish without pulling upstream again.
pub(crate) struct Receiver<T> {
    shared: Arc<Shared<T>>,
    done: bool,
}

impl<T> Receiver<T> {
    pub(crate) fn capacity(&self) -> usize {
        self.shared.capacity
    }

    /// Items queued now, not counting the one in the sender's hand.
    pub(crate) fn len(&self) -> usize {
        lock_ignoring_poison(&self.shared.state).items.len()
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if self.done {
            return Poll::Ready(None);
        }
        let mut state = lock_ignoring_poison(&self.shared.state);
        let item = match state.items.pop_front() {
            Some(item) => {
                // Room in the queue: what was in hand moves in behind.
                let freed = match state.hand.take() {
                    Some(hand) => {
                        state.items.push_back(hand);
                        self.shared.hand_full.store(false, Ordering::Release);
                        true
                    }
                    None => false,
                };
                (item, freed)
            }
            None => match state.hand.take() {
                Some(item) => {
                    self.shared.hand_full.store(false, Ordering::Release);
                    (item, true)
                }
                None if state.closed => {
                    let panic = state.panic.take();
                    drop(state);
                    self.done = true;
                    if let Some(payload) = panic {
                        panic::resume_unwind(payload);
                    }
                    return Poll::Ready(None);
                }
                None => {
                    register(&mut state.receiver, cx.waker());
                    return Poll::Pending;
                }
            },
        };
        let (item, freed) = item;
        // The sender waits for room only while it has an item in hand. Woken
        // by reference, under the lock: it stays registered (module docs).
        if freed {
            if let Some(sender) = &state.sender {
                sender.wake_by_ref();
            }
        }
        drop(state);
        Poll::Ready(Some(item))
    }

    pub(crate) fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let state = lock_ignoring_poison(&self.shared.state);
        let queued = state.items.len() + usize::from(state.hand.is_some());
        (queued, if state.closed { Some(queued) } else { None })
    }
}

impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_recv(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        Receiver::size_hint(self)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let (items, hand, sender) = {
            let mut state = lock_ignoring_poison(&self.shared.state);
            state.receiver_gone = true;
            self.shared.receiver_gone.store(true, Ordering::Release);
            self.shared.hand_full.store(false, Ordering::Release);
            (
                std::mem::take(&mut state.items),
                state.hand.take(),
                state.sender.take(),
            )
        };
        drop((items, hand)); // outside the lock: an item's Drop may do anything
        wake(sender);
    }
}
