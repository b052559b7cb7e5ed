//! A future tagged with its position in the input, that can be cancelled in place.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use pin_project_lite::pin_project;

pin_project! {
    /// Resolves to `(seq, output)`. After [`Indexed::cancel`] the inner future is
    /// dropped at once and this future never resolves (its owner discards it).
    #[derive(Debug)]
    pub(crate) struct Indexed<Fut> {
        seq: u64,
        #[pin]
        fut: Option<Fut>,
    }
}

impl<Fut> Indexed<Fut> {
    pub(crate) fn new(seq: u64, fut: Fut) -> Self {
        Self {
            seq,
            fut: Some(fut),
        }
    }

    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }

    /// Drops the inner future in place (it stays pinned until then). Returns
    /// whether there was one to drop.
    pub(crate) fn cancel(self: Pin<&mut Self>) -> bool {
        let mut fut = self.project().fut;
        let live = fut.is_some();
        fut.set(None);
        live
    }
}

impl<Fut: Future> Future for Indexed<Fut> {
    type Output = (u64, Fut::Output);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.fut.as_pin_mut() {
            Some(fut) => fut.poll(cx).map(|out| (*this.seq, out)),
            // Cancelled: nothing will wake it, and its owner never waits for it.
            None => Poll::Pending,
        }
    }
}
