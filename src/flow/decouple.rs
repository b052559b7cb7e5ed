//! `decouple`: upstream moves into a driver future that the caller spawns;
//! the consumer receives from the channel of `flow::channel` that the driver
//! pumps into, so the two run on different tasks or threads.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::channel::{channel, Panics, Receiver, Sender};

pin_project! {
    /// The future for the [`decouple`](crate::StreamExtPlus::decouple) method:
    /// spawn it on any runtime. It pulls upstream into the channel and completes
    /// when upstream ends, when upstream panics, or when the [`Decoupled`] end
    /// is dropped.
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Driver<St: Stream> {
        #[pin]
        stream: St,
        sender: Sender<St::Item>,
        finished: bool,
    }
}

impl<St: Stream> fmt::Debug for Driver<St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("capacity", &self.sender.capacity())
            .field("finished", &self.finished)
            .finish()
    }
}

/// Stream for the [`decouple`](crate::StreamExtPlus::decouple) method: receives
/// what the [`Driver`] pulled.
#[must_use = "streams do nothing unless polled"]
pub struct Decoupled<T> {
    receiver: Receiver<T>,
}

impl<T> fmt::Debug for Decoupled<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoupled")
            .field("capacity", &self.receiver.capacity())
            .field("done", &self.receiver.is_done())
            .finish()
    }
}

#[track_caller]
pub(crate) fn decouple<St: Stream>(
    stream: St,
    capacity: usize,
) -> (Decoupled<St::Item>, Driver<St>) {
    assert!(capacity >= 1, "decouple: capacity must be at least 1");
    let (sender, receiver) = channel(capacity);
    let driver = Driver {
        stream,
        sender,
        finished: false,
    };
    (Decoupled { receiver }, driver)
}

impl<St: Stream> Future for Driver<St> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        if *this.finished {
            return Poll::Ready(());
        }
        // A panic upstream is carried over to the task polling `Decoupled`.
        let done = this.sender.poll_pump(this.stream, cx, Panics::HandOver);
        *this.finished = done.is_ready();
        done
    }
}

impl<T> Stream for Decoupled<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.receiver.poll_recv(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.receiver.size_hint()
    }
}

impl<T> FusedStream for Decoupled<T> {
    fn is_terminated(&self) -> bool {
        self.receiver.is_done()
    }
}

impl<T> Decoupled<T> {
    /// The channel's capacity.
    pub fn capacity(&self) -> usize {
        self.receiver.capacity()
    }

    /// How many items wait in the channel now (not counting the one the
    /// driver may hold in hand).
    pub fn len(&self) -> usize {
        self.receiver.len()
    }

    /// Whether no item waits in the channel now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
