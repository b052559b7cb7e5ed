//! The extension traits. Each method is documentation plus one line that builds
//! its adapter; the adapters live in their family's module.

use core::future::Future;
use futures_core::{Stream, TryFuture, TryStream};

use crate::adapters::*;

/// Operators for every [`Stream`]. Blanket-implemented: `use stream_plus::StreamExtPlus`.
///
/// No method name clashes with `futures::StreamExt`, `futures::TryStreamExt`,
/// `futures::SinkExt` or `tokio_stream::StreamExt`, so all of them can be
/// imported together.
pub trait StreamExtPlus: Stream {
    /// Runs up to `workers` futures at once and yields their outputs **in input
    /// order**.
    ///
    /// `f` is called inside `poll_next`, once per item, as the item is taken from
    /// upstream; its future is polled by this adapter (no task is spawned).
    ///
    /// An output that finishes before an earlier one waits in a reorder buffer
    /// and no longer counts against `workers`, so one slow item does not cut the
    /// concurrency: the other workers keep starting new items. Running futures
    /// and waiting outputs share `workers + reorder_capacity` slots (the reorder
    /// capacity defaults to `workers`; change it with
    /// [`reorder_capacity`](MapConcurrent::reorder_capacity)). Upstream is not
    /// polled while `workers` futures run or all slots are taken, so **at most
    /// `workers + reorder_capacity` items are taken from upstream and not yet
    /// yielded**. While the head item is slow, up to
    /// `workers + reorder_capacity - 1` finished outputs may wait for it.
    ///
    /// The adapter refills eagerly: when a poll yields an output and frees a
    /// slot, it first takes the next ready upstream items, creates their futures
    /// and polls them once, then returns the output, so new work has started
    /// before the consumer gets control back.
    ///
    /// Unlike `futures::StreamExt::buffered`, whose bound counts finished outputs
    /// as running, a slow head item does not stall the other workers.
    ///
    /// In-flight futures make progress only while this stream is polled. If the
    /// consumer does long work between polls, spawn the stream behind a bounded
    /// channel (`decouple`) so it keeps being polled.
    ///
    /// Dropping the stream drops every running future and every waiting output
    /// at once. A panic in `f` or in a future propagates to the caller of
    /// `poll_next`.
    ///
    /// # Panics
    ///
    /// If `workers` is 0: `map_concurrent: workers must be at least 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// let lengths: Vec<usize> = block_on(
    ///     stream::iter(["a", "bb", "ccc"])
    ///         .map_concurrent(2, |s| async move { s.len() })
    ///         .collect(),
    /// );
    /// assert_eq!(lengths, [1, 2, 3]);
    /// ```
    fn map_concurrent<Fut, F>(self, workers: usize, f: F) -> MapConcurrent<Self, Fut, F>
    where
        Self: Sized,
        F: FnMut(Self::Item) -> Fut,
        Fut: Future,
    {
        MapConcurrent::new(self, workers, f)
    }

    /// Runs up to `workers` futures at once and yields their outputs in
    /// **completion order**.
    ///
    /// `f` is called inside `poll_next`, once per item, as the item is taken from
    /// upstream. **At most `workers` items are taken from upstream and not yet
    /// yielded** (running futures plus outputs ready to be yielded). Like
    /// [`map_concurrent`](StreamExtPlus::map_concurrent), it refills eagerly
    /// before handing out an output, and in-flight futures progress only while
    /// the stream is polled.
    ///
    /// This is `futures::StreamExt::buffer_unordered` with the closure built in,
    /// an [`in_flight`](MapConcurrentUnordered::in_flight) accessor and the eager
    /// refill. Dropping the stream drops every running future at once.
    ///
    /// # Panics
    ///
    /// If `workers` is 0: `map_concurrent_unordered: workers must be at least 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// let mut squares: Vec<u64> = block_on(
    ///     stream::iter(1..=4u64)
    ///         .map_concurrent_unordered(4, |x| async move { x * x })
    ///         .collect(),
    /// );
    /// squares.sort();
    /// assert_eq!(squares, [1, 4, 9, 16]);
    /// ```
    fn map_concurrent_unordered<Fut, F>(
        self,
        workers: usize,
        f: F,
    ) -> MapConcurrentUnordered<Self, Fut, F>
    where
        Self: Sized,
        F: FnMut(Self::Item) -> Fut,
        Fut: Future,
    {
        MapConcurrentUnordered::new(self, workers, f)
    }

    /// Maps each item to a stream and yields the items of the stream made from
    /// the **most recent** upstream item; a new upstream item drops the current
    /// inner stream (Rx's `switchMap`).
    ///
    /// Each poll polls upstream first and takes every item that is ready, so a
    /// ready new item replaces the inner stream before the old one is polled
    /// again. The old inner stream is dropped before `f` is called for the new
    /// item. `f` is called inside `poll_next`.
    ///
    /// Holds at most one inner stream. Ends when upstream and the last inner
    /// stream have both ended. Dropping the adapter drops the inner stream.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// // All three items are ready at once, so only the last inner stream runs.
    /// let out: Vec<u32> = block_on(
    ///     stream::iter([1, 2, 3])
    ///         .switch_map(|x| stream::iter([x * 10, x * 10 + 1]))
    ///         .collect(),
    /// );
    /// assert_eq!(out, [30, 31]);
    /// ```
    fn switch_map<S2, F>(self, f: F) -> SwitchMap<Self, S2, F>
    where
        Self: Sized,
        F: FnMut(Self::Item) -> S2,
        S2: Stream,
    {
        SwitchMap::new(self, f)
    }
}

impl<S: Stream + ?Sized> StreamExtPlus for S {}

/// Operators for every [`TryStream`] (a stream of `Result`s). Blanket-implemented:
/// `use stream_plus::TryStreamExtPlus`.
pub trait TryStreamExtPlus: TryStream {
    /// Like [`map_concurrent`](StreamExtPlus::map_concurrent) for fallible work:
    /// yields exactly what the sequential loop would.
    ///
    /// On a stream of `Result<T, E>`, `f: FnMut(T) -> Fut` with
    /// `Fut: Future<Output = Result<U, E>>`. Yields the `Ok`s in input order up
    /// to the first `Err` **in input order** (from upstream or from `f`), that
    /// `Err`, then `None`.
    ///
    /// As soon as an `Err` is known, upstream is not polled again and the futures
    /// of later items are dropped (their finished outputs too); earlier items
    /// keep running so that their outputs, or an earlier `Err`, come first.
    ///
    /// At most `workers` futures run and at most `2 × workers` items are taken
    /// from upstream and not yet yielded. Refills eagerly, like `map_concurrent`.
    ///
    /// # Panics
    ///
    /// If `workers` is 0: `try_map_concurrent: workers must be at least 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::TryStreamExtPlus;
    ///
    /// let out: Vec<Result<u32, String>> = block_on(
    ///     stream::iter([Ok(1), Ok(2), Ok(3), Ok(4)])
    ///         .try_map_concurrent(2, |x: u32| async move {
    ///             if x == 3 { Err(format!("{x} failed")) } else { Ok(x * 10) }
    ///         })
    ///         .collect(),
    /// );
    /// assert_eq!(out, [Ok(10), Ok(20), Err("3 failed".to_string())]);
    /// ```
    fn try_map_concurrent<Fut, F>(self, workers: usize, f: F) -> TryMapConcurrent<Self, Fut, F>
    where
        Self: Sized,
        F: FnMut(Self::Ok) -> Fut,
        Fut: TryFuture<Error = Self::Error>,
    {
        TryMapConcurrent::new(self, workers, f)
    }

    /// Like [`map_concurrent_unordered`](StreamExtPlus::map_concurrent_unordered)
    /// for fallible work: completion order, ends at the first `Err` **in time**.
    ///
    /// The first `Err` (from upstream or from `f`) is yielded after the `Ok`s
    /// that finished before it, then `None`; every other in-flight future is
    /// dropped at once and upstream is not polled again. At most `workers` items
    /// are running or taken and not yet yielded.
    ///
    /// # Panics
    ///
    /// If `workers` is 0: `try_map_concurrent_unordered: workers must be at least 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::TryStreamExtPlus;
    ///
    /// let out: Vec<Result<u32, &str>> = block_on(
    ///     stream::iter([Ok(1), Err("bad input"), Ok(3)])
    ///         .try_map_concurrent_unordered(1, |x: u32| async move { Ok(x + 1) })
    ///         .collect(),
    /// );
    /// assert_eq!(out, [Ok(2), Err("bad input")]);
    /// ```
    fn try_map_concurrent_unordered<Fut, F>(
        self,
        workers: usize,
        f: F,
    ) -> TryMapConcurrentUnordered<Self, Fut, F>
    where
        Self: Sized,
        F: FnMut(Self::Ok) -> Fut,
        Fut: TryFuture<Error = Self::Error>,
    {
        TryMapConcurrentUnordered::new(self, workers, f)
    }
}

impl<S: TryStream + ?Sized> TryStreamExtPlus for S {}
