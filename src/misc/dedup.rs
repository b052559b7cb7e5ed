//! `dedup` and `dedup_by_key`: drop an item equal to the one yielded just
//! before it.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use crate::util::{size_hint, Budget};

pin_project! {
    /// Stream for the [`dedup_by_key`](crate::StreamExtPlus::dedup_by_key) method.
    #[must_use = "streams do nothing unless polled"]
    pub struct DedupByKey<St, F, K> {
        #[pin]
        stream: St,
        key: F,
        // The key of the item yielded last.
        last: Option<K>,
        done: bool,
    }
}

impl<St: fmt::Debug, F, K: fmt::Debug> fmt::Debug for DedupByKey<St, F, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DedupByKey")
            .field("stream", &self.stream)
            .field("last", &self.last)
            .field("done", &self.done)
            .finish()
    }
}

impl<St, F, K> DedupByKey<St, F, K>
where
    St: Stream,
    F: FnMut(&St::Item) -> K,
    K: PartialEq,
{
    pub(crate) fn new(stream: St, key: F) -> Self {
        Self {
            stream,
            key,
            last: None,
            done: false,
        }
    }

    /// Acquires a reference to the underlying stream.
    pub fn get_ref(&self) -> &St {
        &self.stream
    }

    /// Consumes the adapter and returns the underlying stream.
    pub fn into_inner(self) -> St {
        self.stream
    }
}

impl<St, F, K> Stream for DedupByKey<St, F, K>
where
    St: Stream,
    F: FnMut(&St::Item) -> K,
    K: PartialEq,
{
    type Item = St::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<St::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        let mut budget = Budget::new();
        loop {
            match this.stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => {
                    let key = (this.key)(&item);
                    if this.last.as_ref() != Some(&key) {
                        *this.last = Some(key);
                        return Poll::Ready(Some(item));
                    }
                    if !budget.spend(cx) {
                        return Poll::Pending;
                    }
                }
                Poll::Ready(None) => {
                    *this.done = true;
                    return Poll::Ready(None);
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        // A repeat may be dropped; a first item never is.
        let (lo, hi) = self.stream.size_hint();
        (
            usize::from(lo > 0 && self.last.is_none()),
            size_hint::at_most((lo, hi)).1,
        )
    }
}

impl<St, F, K> FusedStream for DedupByKey<St, F, K>
where
    St: Stream,
    F: FnMut(&St::Item) -> K,
    K: PartialEq,
{
    fn is_terminated(&self) -> bool {
        self.done
    }
}

pin_project! {
    /// Stream for the [`dedup`](crate::StreamExtPlus::dedup) method.
    #[must_use = "streams do nothing unless polled"]
    pub struct Dedup<St: Stream> {
        #[pin]
        inner: DedupByKey<St, fn(&St::Item) -> St::Item, St::Item>,
    }
}

impl<St> fmt::Debug for Dedup<St>
where
    St: Stream + fmt::Debug,
    St::Item: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Dedup").field(&self.inner).finish()
    }
}

impl<St> Dedup<St>
where
    St: Stream,
    St::Item: PartialEq + Clone,
{
    pub(crate) fn new(stream: St) -> Self {
        Self {
            inner: DedupByKey::new(stream, <St::Item as Clone>::clone),
        }
    }

    /// Acquires a reference to the underlying stream.
    pub fn get_ref(&self) -> &St {
        self.inner.get_ref()
    }

    /// Consumes the adapter and returns the underlying stream.
    pub fn into_inner(self) -> St {
        self.inner.into_inner()
    }
}

impl<St> Stream for Dedup<St>
where
    St: Stream,
    St::Item: PartialEq + Clone,
{
    type Item = St::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<St::Item>> {
        self.project().inner.poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<St> FusedStream for Dedup<St>
where
    St: Stream,
    St::Item: PartialEq + Clone,
{
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}
