//! `switch_map`: the items of the inner stream made from the latest upstream
//! item; a new upstream item drops the inner stream before it.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use crate::util::Budget;

pin_project! {
    /// Stream for the [`switch_map`](crate::StreamExtPlus::switch_map) method.
    #[must_use = "streams do nothing unless polled"]
    pub struct SwitchMap<St, S2, F> {
        #[pin]
        stream: St,
        f: F,
        #[pin]
        inner: Option<S2>,
        upstream_done: bool,
        done: bool,
    }
}

impl<St, S2, F> fmt::Debug for SwitchMap<St, S2, F>
where
    St: fmt::Debug,
    S2: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SwitchMap")
            .field("stream", &self.stream)
            .field("inner", &self.inner)
            .field("upstream_done", &self.upstream_done)
            .field("done", &self.done)
            .finish()
    }
}

impl<St, S2, F> SwitchMap<St, S2, F>
where
    St: Stream,
    F: FnMut(St::Item) -> S2,
    S2: Stream,
{
    pub(crate) fn new(stream: St, f: F) -> Self {
        Self {
            stream,
            f,
            inner: None,
            upstream_done: false,
            done: false,
        }
    }

    crate::util::stream_accessors!(stream: St, "Consumes the adapter and returns the underlying stream; the current inner stream is dropped.");
}

impl<St, S2, F> Stream for SwitchMap<St, S2, F>
where
    St: Stream,
    F: FnMut(St::Item) -> S2,
    S2: Stream,
{
    type Item = S2::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        // Upstream first: every ready item replaces the inner stream, so only
        // the newest one is ever polled.
        let mut budget = Budget::new();
        while !*this.upstream_done {
            match this.stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => {
                    this.inner.set(None); // the old inner stream goes before `f` runs
                    this.inner.set(Some((this.f)(item)));
                    if !budget.spend(cx) {
                        return Poll::Pending;
                    }
                }
                Poll::Ready(None) => *this.upstream_done = true,
                Poll::Pending => break,
            }
        }
        if let Some(inner) = this.inner.as_mut().as_pin_mut() {
            match inner.poll_next(cx) {
                Poll::Ready(Some(item)) => return Poll::Ready(Some(item)),
                Poll::Ready(None) => this.inner.set(None),
                Poll::Pending => return Poll::Pending,
            }
        }
        if *this.upstream_done {
            *this.done = true;
            return Poll::Ready(None);
        }
        // No inner stream to poll, and upstream registered our waker.
        Poll::Pending
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match (self.done || self.upstream_done, &self.inner) {
            (true, None) => (0, Some(0)),
            (true, Some(inner)) => inner.size_hint(),
            // A new upstream item may drop the inner stream at any time.
            (false, _) => (0, None),
        }
    }
}

impl<St, S2, F> FusedStream for SwitchMap<St, S2, F>
where
    St: Stream,
    F: FnMut(St::Item) -> S2,
    S2: Stream,
{
    fn is_terminated(&self) -> bool {
        self.done
    }
}
