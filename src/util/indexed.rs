//! A future tagged with its position in the input.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use pin_project_lite::pin_project;

pin_project! {
    /// Resolves to `(seq, output)`.
    #[derive(Debug)]
    pub(crate) struct Indexed<Fut> {
        seq: u64,
        #[pin]
        fut: Fut,
    }
}

impl<Fut> Indexed<Fut> {
    #[inline]
    pub(crate) fn new(seq: u64, fut: Fut) -> Self {
        Self { seq, fut }
    }

    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }
}

impl<Fut: Future> Future for Indexed<Fut> {
    type Output = (u64, Fut::Output);

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        this.fut.poll(cx).map(|out| (*this.seq, out))
    }
}
