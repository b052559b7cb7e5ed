use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::blocking_pool::{Fifo, Pool};
use crate::util::ReorderBuffer;

pin_project! {
    /// Stream for the [`map_blocking`](crate::StreamExtPlus::map_blocking) method.
    #[must_use = "streams do nothing unless polled"]
    pub struct MapBlocking<St: Stream, F, U> {
        #[pin]
        stream: St,
        pool: Pool<St::Item, F, ReorderBuffer<U>>,
    }
}

pin_project! {
    /// Stream for the [`map_blocking_unordered`](crate::StreamExtPlus::map_blocking_unordered) method.
    #[must_use = "streams do nothing unless polled"]
    pub struct MapBlockingUnordered<St: Stream, F, U> {
        #[pin]
        stream: St,
        pool: Pool<St::Item, F, Fifo<U>>,
    }
}

macro_rules! blocking_adapter {
    ($name:ident, $method:literal) => {
        impl<St, F, U> fmt::Debug for $name<St, F, U>
        where
            St: Stream + fmt::Debug,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("stream", &self.stream)
                    .finish_non_exhaustive()
            }
        }

        impl<St, F, U> $name<St, F, U>
        where
            St: Stream,
            St::Item: Send + 'static,
            U: Send + 'static,
            F: Fn(St::Item) -> U + Send + Sync + 'static,
        {
            #[track_caller]
            pub(crate) fn new(stream: St, workers: usize, f: F) -> Self {
                Self {
                    stream,
                    pool: Pool::new($method, workers, f),
                }
            }

            /// Acquires a reference to the underlying stream.
            pub fn get_ref(&self) -> &St {
                &self.stream
            }

            /// Acquires a mutable reference to the underlying stream.
            pub fn get_mut(&mut self) -> &mut St {
                &mut self.stream
            }

            /// Acquires a pinned mutable reference to the underlying stream.
            pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut St> {
                self.project().stream
            }
        }

        impl<St, F, U> Stream for $name<St, F, U>
        where
            St: Stream,
            St::Item: Send + 'static,
            U: Send + 'static,
            F: Fn(St::Item) -> U + Send + Sync + 'static,
        {
            type Item = U;

            fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<U>> {
                let this = self.project();
                this.pool.poll_next(this.stream, cx)
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                self.pool.size_hint(self.stream.size_hint())
            }
        }

        impl<St, F, U> FusedStream for $name<St, F, U>
        where
            St: Stream,
            St::Item: Send + 'static,
            U: Send + 'static,
            F: Fn(St::Item) -> U + Send + Sync + 'static,
        {
            fn is_terminated(&self) -> bool {
                self.pool.is_done()
            }
        }
    };
}

blocking_adapter!(MapBlocking, "map_blocking");
blocking_adapter!(MapBlockingUnordered, "map_blocking_unordered");
