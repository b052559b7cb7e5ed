//! The thread-pool stages: `map_blocking`, `map_blocking_unordered` and their
//! fallible twins, four thin shells over one engine (`blocking_pool`).

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream, TryStream};
use futures_util::stream::{IntoStream, TryStreamExt};
use pin_project_lite::pin_project;

use super::blocking_pool::{Pool, TryCall};
use crate::util::{Fifo, ReorderBuffer};

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

pin_project! {
    /// Stream for the [`try_map_blocking`](crate::TryStreamExtPlus::try_map_blocking) method.
    #[must_use = "streams do nothing unless polled"]
    pub struct TryMapBlocking<St: TryStream, F, U> {
        #[pin]
        stream: IntoStream<St>,
        pool: Pool<Result<St::Ok, St::Error>, TryCall<F>, ReorderBuffer<Result<U, St::Error>>>,
    }
}

pin_project! {
    /// Stream for the [`try_map_blocking_unordered`](crate::TryStreamExtPlus::try_map_blocking_unordered) method.
    #[must_use = "streams do nothing unless polled"]
    pub struct TryMapBlockingUnordered<St: TryStream, F, U> {
        #[pin]
        stream: IntoStream<St>,
        pool: Pool<Result<St::Ok, St::Error>, TryCall<F>, Fifo<Result<U, St::Error>>>,
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

            /// How many calls of `f` are running now (at most `workers`).
            pub fn in_flight(&self) -> usize {
                self.pool.in_flight()
            }

            /// The configured workers.
            pub fn workers(&self) -> usize {
                self.pool.workers()
            }

            crate::observe::observe_with_gauges!(Self::workers);
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

macro_rules! try_blocking_adapter {
    ($name:ident, $method:literal) => {
        impl<St, F, U> fmt::Debug for $name<St, F, U>
        where
            St: TryStream + fmt::Debug,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("stream", self.stream.get_ref())
                    .finish_non_exhaustive()
            }
        }

        impl<St, F, U> $name<St, F, U>
        where
            St: TryStream,
            St::Ok: Send + 'static,
            St::Error: Send + 'static,
            U: Send + 'static,
            F: Fn(St::Ok) -> Result<U, St::Error> + Send + Sync + 'static,
        {
            #[track_caller]
            pub(crate) fn new(stream: St, workers: usize, f: F) -> Self {
                Self {
                    stream: stream.into_stream(),
                    pool: Pool::new($method, workers, TryCall(f)),
                }
            }

            crate::util::wrapped_stream_accessors!(stream: St, "Consumes the adapter and returns the underlying stream. Queued items are dropped without a call; running calls finish on the pool and their results are discarded.");

            /// How many calls of `f` are running now (at most `workers`).
            pub fn in_flight(&self) -> usize {
                self.pool.in_flight()
            }

            /// The configured workers.
            pub fn workers(&self) -> usize {
                self.pool.workers()
            }

            crate::observe::observe_with_gauges!(Self::workers);
        }

        impl<St, F, U> Stream for $name<St, F, U>
        where
            St: TryStream,
            St::Ok: Send + 'static,
            St::Error: Send + 'static,
            U: Send + 'static,
            F: Fn(St::Ok) -> Result<U, St::Error> + Send + Sync + 'static,
        {
            type Item = Result<U, St::Error>;

            fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
                let this = self.project();
                let polled = this.pool.poll_next(this.stream, cx);
                if let Poll::Ready(Some(Err(_))) = polled {
                    // The first `Err` (in input order, or in time for the
                    // unordered one) ends the stage: calls not started never
                    // start, running ones finish and are discarded.
                    this.pool.stop();
                }
                polled
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                match self.pool.size_hint(self.stream.size_hint()) {
                    // An `Err` may end it early: no lower bound.
                    (_, hi) if !self.pool.is_done() => (0, hi),
                    done => done,
                }
            }
        }

        impl<St, F, U> FusedStream for $name<St, F, U>
        where
            St: TryStream,
            St::Ok: Send + 'static,
            St::Error: Send + 'static,
            U: Send + 'static,
            F: Fn(St::Ok) -> Result<U, St::Error> + Send + Sync + 'static,
        {
            fn is_terminated(&self) -> bool {
                self.pool.is_done()
            }
        }
    };
}

try_blocking_adapter!(TryMapBlocking, "try_map_blocking");
try_blocking_adapter!(TryMapBlockingUnordered, "try_map_blocking_unordered");
