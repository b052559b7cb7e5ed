use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use futures_util::task::AtomicWaker;
use pin_project_lite::pin_project;
use std::any::Any;
use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::util::Budget;

/// The bounded channel between a [`Driver`] and its [`Decoupled`].
struct Channel<T> {
    state: Mutex<State<T>>,
    capacity: usize,
    // The task polling `Decoupled`, woken when an item or the end arrives.
    receiver: AtomicWaker,
    // The task running `Driver`, woken when room frees up or `Decoupled` goes.
    driver: AtomicWaker,
}

struct State<T> {
    items: VecDeque<T>,
    // Set when the driver has finished (upstream ended or panicked) or was dropped.
    closed: bool,
    // Set when `Decoupled` was dropped.
    receiver_gone: bool,
    // An upstream panic, re-raised by `Decoupled` after the items before it.
    panic: Option<Box<dyn Any + Send + 'static>>,
}

impl<T> Channel<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // No user code runs under this lock, so it is never poisoned in practice.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn close(&self, panic: Option<Box<dyn Any + Send + 'static>>) {
        let mut state = self.lock();
        state.closed = true;
        if panic.is_some() {
            state.panic = panic;
        }
        drop(state);
        self.receiver.wake();
    }
}

/// Marks the channel closed when the driver goes, however it goes.
struct CloseOnDrop<T>(Arc<Channel<T>>);

impl<T> Drop for CloseOnDrop<T> {
    fn drop(&mut self) {
        self.0.close(None);
    }
}

pin_project! {
    /// The future for the [`decouple`](crate::StreamExtPlus::decouple) method:
    /// spawn it on any runtime. It pulls upstream into the channel and completes
    /// when upstream ends, when upstream panics, or when the [`Decoupled`] end
    /// is dropped.
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Driver<St: Stream> {
        #[pin]
        stream: St,
        // An item taken from upstream that did not fit in the channel yet.
        in_hand: Option<St::Item>,
        channel: CloseOnDrop<St::Item>,
        finished: bool,
    }
}

impl<St: Stream> fmt::Debug for Driver<St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("in_hand", &self.in_hand.is_some())
            .field("capacity", &self.channel.0.capacity)
            .field("finished", &self.finished)
            .finish()
    }
}

/// Stream for the [`decouple`](crate::StreamExtPlus::decouple) method: receives
/// what the [`Driver`] pulled.
#[must_use = "streams do nothing unless polled"]
pub struct Decoupled<T> {
    channel: Arc<Channel<T>>,
    done: bool,
}

impl<T> fmt::Debug for Decoupled<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoupled")
            .field("capacity", &self.channel.capacity)
            .field("done", &self.done)
            .finish()
    }
}

pub(crate) fn decouple<St: Stream>(
    stream: St,
    capacity: usize,
) -> (Decoupled<St::Item>, Driver<St>) {
    assert!(capacity >= 1, "decouple: capacity must be at least 1");
    let channel = Arc::new(Channel {
        state: Mutex::new(State {
            items: VecDeque::with_capacity(capacity.min(1024)),
            closed: false,
            receiver_gone: false,
            panic: None,
        }),
        capacity,
        receiver: AtomicWaker::new(),
        driver: AtomicWaker::new(),
    });
    let driver = Driver {
        stream,
        in_hand: None,
        channel: CloseOnDrop(channel.clone()),
        finished: false,
    };
    (
        Decoupled {
            channel,
            done: false,
        },
        driver,
    )
}

impl<St: Stream> Future for Driver<St> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        if *this.finished {
            return Poll::Ready(());
        }
        let channel = &this.channel.0;
        // Registered before the state is read, so no wake-up can be missed.
        channel.driver.register(cx.waker());
        let mut budget = Budget::new();
        loop {
            // Hand over the item in hand, if there is room.
            if let Some(item) = this.in_hand.take() {
                let mut state = channel.lock();
                if state.receiver_gone {
                    break;
                }
                if state.items.len() >= channel.capacity {
                    *this.in_hand = Some(item);
                    return Poll::Pending;
                }
                state.items.push_back(item);
                drop(state);
                channel.receiver.wake();
            } else if channel.lock().receiver_gone {
                break;
            }
            if !budget.spend(cx) {
                return Poll::Pending;
            }
            // Pull the next one; a panic here is carried over to the consumer.
            let stream = this.stream.as_mut();
            match panic::catch_unwind(AssertUnwindSafe(|| stream.poll_next(cx))) {
                Ok(Poll::Ready(Some(item))) => *this.in_hand = Some(item),
                Ok(Poll::Ready(None)) => break,
                Ok(Poll::Pending) => return Poll::Pending,
                Err(payload) => {
                    channel.close(Some(payload));
                    break;
                }
            }
        }
        *this.finished = true;
        *this.in_hand = None;
        channel.close(None);
        Poll::Ready(())
    }
}

impl<T> Stream for Decoupled<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if self.done {
            return Poll::Ready(None);
        }
        self.channel.receiver.register(cx.waker());
        let mut state = self.channel.lock();
        if let Some(item) = state.items.pop_front() {
            drop(state);
            self.channel.driver.wake();
            return Poll::Ready(Some(item));
        }
        if !state.closed {
            return Poll::Pending;
        }
        let panic = state.panic.take();
        drop(state);
        self.done = true;
        if let Some(payload) = panic {
            panic::resume_unwind(payload);
        }
        Poll::Ready(None)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let state = self.channel.lock();
        let queued = state.items.len();
        (queued, if state.closed { Some(queued) } else { None })
    }
}

impl<T> FusedStream for Decoupled<T> {
    fn is_terminated(&self) -> bool {
        self.done
    }
}

impl<T> Decoupled<T> {
    /// The channel's capacity.
    pub fn capacity(&self) -> usize {
        self.channel.capacity
    }

    /// How many items wait in the channel now.
    pub fn len(&self) -> usize {
        self.channel.lock().items.len()
    }

    /// Whether no item waits in the channel now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Decoupled<T> {
    fn drop(&mut self) {
        let items = {
            let mut state = self.channel.lock();
            state.receiver_gone = true;
            std::mem::take(&mut state.items)
        };
        drop(items); // outside the lock: an item's Drop may do anything
        self.channel.driver.wake();
    }
}
