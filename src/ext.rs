//! The extension traits. Each method is documentation plus one line that builds
//! its adapter; the adapters live in their family's module.

use core::future::Future;
use futures_core::{Stream, TryFuture, TryStream};
#[cfg(feature = "time")]
use std::time::Duration;

use crate::adapters::*;

/// The timer-precision paragraph shared by the time operators' docs.
#[cfg(feature = "time")]
macro_rules! timer_precision {
    () => {
        "\n**Timer precision.** Timers are `async-io`'s, driven by its reactor on any \
         executor; they never fire early, and on an idle machine they fire within \
         tens of microseconds of the deadline (finer than tokio's 1 ms wheel). \
         Everything time-based is relative to when the adapter is polled."
    };
}

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
    /// before the consumer gets control back. (Each new future is polled once
    /// when it starts, in input order; one that finishes at once waits in the
    /// reorder buffer unless it is the head, and still counts against the
    /// bound.)
    ///
    /// The running futures sit in `workers` reusable slots, each allocated on
    /// its first use with a waker of its own: after the first `workers` items
    /// nothing is allocated per item, and a poll touches only the futures
    /// whose waker was woken since.
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
    #[track_caller]
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
    #[track_caller]
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

    /// Like [`map_concurrent`](StreamExtPlus::map_concurrent), but items with
    /// equal keys run **one at a time, in input order**, while different keys
    /// run concurrently; outputs in **input order**.
    ///
    /// `key` is called once per item as it is taken from upstream; `f` is
    /// called for an item only when it starts, inside `poll_next`, once every
    /// earlier item with its key has finished. Up to `workers` futures run at
    /// once in total, so at most one per key.
    ///
    /// - **A waiting item holds no worker:** later items with other keys start
    ///   around it.
    /// - **Priority:** when a worker is free, the earliest waiting item whose
    ///   key is free starts first; only if there is none is a new item taken
    ///   from upstream. Items are taken only for a free worker (none while
    ///   `workers` futures run).
    /// - **Bound:** at most `2 × workers` items are taken from upstream and
    ///   not yet yielded (running, waiting for their key, or finished and
    ///   waiting for an earlier output); upstream is not polled while that many
    ///   are held.
    /// - It refills eagerly, as `map_concurrent` does: new work starts before
    ///   an output is handed out.
    /// - **Start order:** within one poll, every future that was woken is
    ///   polled before any item starts, so a key whose earlier item has
    ///   completed counts as free: start order follows input order wherever
    ///   the keys allow it.
    ///
    /// **Keys are owned values.** The key of an item is kept while the item
    /// waits and runs, so `key` returns a `K` that does not borrow the item:
    /// for a `String` field, clone it (`|e| e.account.clone()`) or map it to
    /// an id (`|e| e.account_id`). A borrowed key such as
    /// `|e| e.account.as_str()` fails to compile with a lifetime error:
    ///
    /// ```compile_fail
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// struct Entry { account: String, amount: u32 }
    /// let entries = stream::iter([Entry { account: "a".into(), amount: 1 }]);
    /// // error: lifetime may not live long enough (the key borrows the item)
    /// let _ = entries.map_concurrent_by_key(2, |e: &Entry| e.account.as_str(), |e| async move { e.amount });
    /// ```
    ///
    /// This is what at-least-once consumers of a partitioned log need (Akka's
    /// `mapAsyncPartitioned`): per-key order with concurrency across keys,
    /// without hash lanes whose keys wait for each other. Keys need `Eq + Hash`
    /// only; deciding whether an item may start costs O(`workers`).
    ///
    /// In-flight futures progress only while the stream is polled (see
    /// [`stage`](StreamExtPlus::stage)). Dropping the stream drops every running
    /// future, waiting item and finished output at once.
    ///
    /// # Panics
    ///
    /// If `workers` is 0: `map_concurrent_by_key: workers must be at least 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// // (account, amount): one account's entries never run at the same time.
    /// let entries = [("a", 1), ("b", 2), ("a", 3), ("c", 4)];
    /// let out: Vec<String> = block_on(
    ///     stream::iter(entries)
    ///         .map_concurrent_by_key(3, |(account, _)| *account, |(account, amount)| async move {
    ///             format!("{account}:{amount}")
    ///         })
    ///         .collect(),
    /// );
    /// assert_eq!(out, ["a:1", "b:2", "a:3", "c:4"]);
    /// ```
    #[track_caller]
    fn map_concurrent_by_key<K, KF, Fut, F>(
        self,
        workers: usize,
        key: KF,
        f: F,
    ) -> MapConcurrentByKey<Self, K, Fut, KF, F>
    where
        Self: Sized,
        K: Eq + core::hash::Hash,
        KF: FnMut(&Self::Item) -> K,
        F: FnMut(Self::Item) -> Fut,
        Fut: Future,
    {
        MapConcurrentByKey::new(self, workers, key, f)
    }

    /// Like [`map_concurrent_by_key`](StreamExtPlus::map_concurrent_by_key),
    /// with outputs in **completion order**. Items of one key still come out in
    /// input order, since they run one after another; the same bounds.
    ///
    /// # Panics
    ///
    /// If `workers` is 0: `map_concurrent_by_key_unordered: workers must be at least 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// let out: Vec<(u32, u32)> = block_on(
    ///     stream::iter([(1, 10), (2, 20), (1, 11), (1, 12)])
    ///         .map_concurrent_by_key_unordered(2, |(k, _)| *k, |e| async move { e })
    ///         .collect(),
    /// );
    /// let ones: Vec<u32> = out.iter().filter(|(k, _)| *k == 1).map(|(_, v)| *v).collect();
    /// assert_eq!(ones, [10, 11, 12]);
    /// ```
    #[track_caller]
    fn map_concurrent_by_key_unordered<K, KF, Fut, F>(
        self,
        workers: usize,
        key: KF,
        f: F,
    ) -> MapConcurrentByKeyUnordered<Self, K, Fut, KF, F>
    where
        Self: Sized,
        K: Eq + core::hash::Hash,
        KF: FnMut(&Self::Item) -> K,
        F: FnMut(Self::Item) -> Fut,
        Fut: Future,
    {
        MapConcurrentByKeyUnordered::new(self, workers, key, f)
    }

    /// Like [`map_concurrent`](StreamExtPlus::map_concurrent) for calls that
    /// fail: a failed attempt is retried after its [`Backoff`](crate::Backoff)
    /// delay, and an item whose attempts run out is yielded as
    /// `Err(Failed { item, error, attempts })` **while the stream goes on**.
    /// Outputs in **input order**.
    ///
    /// `f: FnMut(&Item) -> Fut`, `Fut: TryFuture<Ok = U, Error = E>`; the item
    /// type is `Result<U, Failed<Item, E>>`. `f(&item)` is called for each
    /// attempt, inside `poll_next`: the first when the item is taken, each
    /// retry `backoff.delay(k)` after attempt `k` failed (a
    /// [`Failed`](crate::Failed) hands the item back for a dead-letter queue).
    ///
    /// - **An item waiting out its backoff holds no worker:** other items
    ///   start and finish meanwhile, and it keeps its place in the output
    ///   order.
    /// - **Bounds:** at most `workers` attempts run at once; at most
    ///   `2 × workers` items are taken from upstream and not yet yielded
    ///   (running, backing off, or finished and waiting for an earlier one);
    ///   upstream is not polled while that many are held.
    /// - **Who goes first:** a free worker goes to a due retry (the earliest in
    ///   input order) before a new item; within one poll every woken attempt
    ///   is polled before anything starts. It refills eagerly, like
    ///   `map_concurrent`.
    /// - [`retry_if`](MapConcurrentRetry::retry_if) retries only the errors
    ///   it accepts; any other is yielded as `Failed` at once.
    /// - Timers are on the crate's clock (async-io's timer; virtual under
    ///   `test_util::VirtualClock`). Dropping the stream drops every attempt,
    ///   every item backing off and the timer at once.
    ///
    /// In-flight attempts and backoff timers progress only while the stream is
    /// polled (see [`stage`](StreamExtPlus::stage)).
    ///
    /// # Panics
    ///
    /// If `workers` is 0: `map_concurrent_retry: workers must be at least 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use std::time::Duration;
    /// use stream_plus::{Backoff, StreamExtPlus};
    ///
    /// // Item 3 always fails: it comes out as a dead letter after 3 attempts.
    /// let backoff = Backoff::exponential(Duration::from_millis(1)).attempts(3);
    /// let out: Vec<_> = block_on(
    ///     stream::iter(1..=4u32)
    ///         .map_concurrent_retry(2, backoff, |&x| async move {
    ///             if x == 3 { Err("unavailable") } else { Ok(x * 10) }
    ///         })
    ///         .collect(),
    /// );
    /// assert_eq!(out[0], Ok(10));
    /// let dead = out[2].as_ref().unwrap_err();
    /// assert_eq!((dead.item, dead.error, dead.attempts), (3, "unavailable", 3));
    /// assert_eq!(out[3], Ok(40));
    /// ```
    #[cfg(feature = "time")]
    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
    #[track_caller]
    fn map_concurrent_retry<Fut, F>(
        self,
        workers: usize,
        backoff: crate::Backoff,
        f: F,
    ) -> MapConcurrentRetry<Self, Fut, F, EveryError<Fut::Error>>
    where
        Self: Sized,
        F: FnMut(&Self::Item) -> Fut,
        Fut: TryFuture,
    {
        MapConcurrentRetry::new(self, workers, backoff, f)
    }

    /// [`map_concurrent_retry`](StreamExtPlus::map_concurrent_retry) with
    /// outputs in **completion order**: a dead letter comes out when its last
    /// attempt fails. The same bounds, retries and drop.
    ///
    /// # Panics
    ///
    /// If `workers` is 0: `map_concurrent_retry_unordered: workers must be at least 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use std::time::Duration;
    /// use stream_plus::{Backoff, StreamExtPlus};
    ///
    /// let backoff = Backoff::fixed(Duration::from_millis(1)).attempts(2);
    /// let out: Vec<_> = block_on(
    ///     stream::iter(1..=4u32)
    ///         .map_concurrent_retry_unordered(4, backoff, |&x| async move {
    ///             if x % 2 == 0 { Err(x) } else { Ok(x) }
    ///         })
    ///         .collect(),
    /// );
    /// let ok: Vec<u32> = out.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
    /// assert_eq!(ok.len() + out.iter().filter(|r| r.is_err()).count(), 4);
    /// ```
    #[cfg(feature = "time")]
    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
    #[track_caller]
    fn map_concurrent_retry_unordered<Fut, F>(
        self,
        workers: usize,
        backoff: crate::Backoff,
        f: F,
    ) -> MapConcurrentRetryUnordered<Self, Fut, F, EveryError<Fut::Error>>
    where
        Self: Sized,
        F: FnMut(&Self::Item) -> Fut,
        Fut: TryFuture,
    {
        MapConcurrentRetryUnordered::new(self, workers, backoff, f)
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
    #[track_caller]
    fn switch_map<S2, F>(self, f: F) -> SwitchMap<Self, S2, F>
    where
        Self: Sized,
        F: FnMut(Self::Item) -> S2,
        S2: Stream,
    {
        SwitchMap::new(self, f)
    }

    /// Runs the blocking or CPU-heavy `f` on the `blocking` crate's thread pool
    /// (the one smol and async-std use), up to `workers` calls at once, and
    /// yields the outputs **in input order** (feature `blocking`).
    ///
    /// A hand-off to a pool thread costs tens of microseconds, so this does not
    /// hand off one item at a time: at most `workers` jobs run on the pool, and
    /// each one takes queued items back to back until the queue is empty, then
    /// exits (after waiting up to 1 ms, blocked, for more). The consumer is
    /// woken only while it waits. This makes the stage
    /// worth having for items of about 10 µs of work, where one `unblock` per
    /// item costs more than the work (`benches/blocking.rs`, `cpu_10us_x4000`:
    /// 0.27 of `map(unblock).buffered(2)` on the 2-core CI machine).
    ///
    /// **Up to `workers` calls run at once whenever that many items wait**,
    /// whether `f` computes or blocks (sleeps, file or socket I/O, a database
    /// driver): a job inside a long call never holds a queued item back while
    /// fewer than `workers` calls run; another job is started for it.
    ///
    /// **Bound:** at most `64 × workers` items are taken from upstream and not
    /// yet yielded (queued, running, or finished and waiting for an earlier
    /// one). Upstream is pulled inside `poll_next`; `f` runs on pool threads.
    ///
    /// Dropping the stream drops the items not yet started (`f` is never called
    /// on them); calls already running finish on the pool, their results are
    /// discarded, and the jobs exit: no pool thread stays busy for a dropped
    /// stream.
    ///
    /// A panic in `f` is re-raised, with its original payload, in the task that
    /// polls the stream, and the stream is done.
    ///
    /// # Panics
    ///
    /// If `workers` is 0: `map_blocking: workers must be at least 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// let digests: Vec<u64> = block_on(
    ///     stream::iter(1..=4u64)
    ///         .map_blocking(2, |n| (0..n * 1000).fold(0u64, |h, i| h.wrapping_mul(31).wrapping_add(i)))
    ///         .collect(),
    /// );
    /// assert_eq!(digests.len(), 4);
    /// ```
    #[cfg(feature = "blocking")]
    #[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
    #[track_caller]
    fn map_blocking<U, F>(self, workers: usize, f: F) -> MapBlocking<Self, F, U>
    where
        Self: Sized,
        Self::Item: Send + 'static,
        U: Send + 'static,
        F: Fn(Self::Item) -> U + Send + Sync + 'static,
    {
        MapBlocking::new(self, workers, f)
    }

    /// Like [`map_blocking`](StreamExtPlus::map_blocking), with outputs in
    /// **completion order** (feature `blocking`). Same bound: at most
    /// `64 × workers` items taken from upstream and not yet yielded.
    ///
    /// # Panics
    ///
    /// If `workers` is 0: `map_blocking_unordered: workers must be at least 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// let mut out: Vec<u32> = block_on(stream::iter(1..=4).map_blocking_unordered(4, |x| x * x).collect());
    /// out.sort();
    /// assert_eq!(out, [1, 4, 9, 16]);
    /// ```
    #[cfg(feature = "blocking")]
    #[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
    #[track_caller]
    fn map_blocking_unordered<U, F>(self, workers: usize, f: F) -> MapBlockingUnordered<Self, F, U>
    where
        Self: Sized,
        Self::Item: Send + 'static,
        U: Send + 'static,
        F: Fn(Self::Item) -> U + Send + Sync + 'static,
    {
        MapBlockingUnordered::new(self, workers, f)
    }

    /// Buffers up to `capacity` items between upstream and the consumer, with a
    /// chosen [`Overflow`](crate::Overflow) policy; [`dropped()`](BufferWith::dropped)
    /// counts what was discarded.
    ///
    /// Each poll first moves the items upstream has ready *now* into the queue
    /// (up to the crate's poll budget, so an always-ready source cannot make it
    /// spin), then yields the oldest. With `Overflow::Backpressure` it stops
    /// pulling when full; with `DropOldest` it keeps pulling and evicts the
    /// oldest queued item; with `DropNewest` it keeps pulling and discards the
    /// incoming item.
    ///
    /// The buffer fills only while this stream is polled. To keep a source
    /// drained while the consumer is busy elsewhere, use
    /// [`decouple`](StreamExtPlus::decouple).
    ///
    /// # Panics
    ///
    /// If `capacity` is 0: `buffer_with: capacity must be at least 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::{Overflow, StreamExtPlus};
    ///
    /// let mut s = stream::iter(1..=5).buffer_with(2, Overflow::DropOldest);
    /// // The first poll drains all five ready items through a queue of two.
    /// assert_eq!(block_on(s.next()), Some(4));
    /// assert_eq!(block_on(s.next()), Some(5));
    /// assert_eq!(block_on(s.next()), None);
    /// assert_eq!(s.dropped(), 3);
    /// ```
    #[track_caller]
    fn buffer_with(self, capacity: usize, overflow: crate::Overflow) -> BufferWith<Self>
    where
        Self: Sized,
    {
        BufferWith::new(self, capacity, overflow, "buffer_with")
    }

    /// Keeps only the latest ready item: `buffer_with(1, Overflow::DropOldest)`.
    ///
    /// The consumer always gets the newest item upstream had ready when it
    /// polled; older ones are dropped (and counted by
    /// [`dropped()`](BufferWith::dropped)).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// let out: Vec<u32> = block_on(stream::iter(1..=5).conflate().collect());
    /// assert_eq!(out, [5]);
    /// ```
    #[track_caller]
    fn conflate(self) -> BufferWith<Self>
    where
        Self: Sized,
    {
        BufferWith::new(self, 1, crate::Overflow::DropOldest, "conflate")
    }

    /// Splits the pipeline at a bounded channel: returns the receiving end, a
    /// [`Decoupled`] stream, and a [`Driver`] future that the caller spawns on
    /// any runtime.
    ///
    /// The driver pulls upstream and sends into a channel of `capacity` items (it
    /// may hold one more in hand while the channel is full). This is the cure for
    /// in-flight work that stalls while the consumer is busy elsewhere: the
    /// stages before `decouple` keep being polled by the driver's task.
    ///
    /// - Dropping the `Decoupled` end wakes the driver, which then completes
    ///   without pulling upstream again.
    /// - A panic in upstream is caught by the driver (which then completes
    ///   normally) and re-raised, with its payload, in the task polling
    ///   `Decoupled`, after the items sent before it.
    /// - Dropping the driver early ends `Decoupled` after the items already sent.
    ///
    /// The driver is `Send` when the stream and its items are.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0: `decouple: capacity must be at least 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// let (received, driver) = stream::iter(1..=3).decouple(2);
    /// // Normally: spawn `driver` (tokio::spawn, smol::spawn, ...).
    /// let (out, ()) = block_on(futures::future::join(received.collect::<Vec<u32>>(), driver));
    /// assert_eq!(out, [1, 2, 3]);
    /// ```
    #[track_caller]
    fn decouple(self, capacity: usize) -> (Decoupled<Self::Item>, Driver<Self>)
    where
        Self: Sized,
    {
        crate::flow::decouple_new(self, capacity)
    }

    /// Makes this stream a stage of its own, which keeps moving whether or not
    /// the next stage asks for items, and builds the next stage with `f`.
    ///
    /// A chain of pull-based adapters runs only as fast as its consumer asks:
    /// while `map_concurrent(1, parse)` has its future running, it does not poll
    /// its upstream, so the futures of a `map_concurrent(8, fetch)` before it
    /// are not polled either, even when their I/O is ready. `stage` puts a
    /// channel between the two and a driver that pulls `self` into it whenever
    /// it has room, like the tasks of an anyio/asyncio pipeline joined by
    /// bounded queues, **without spawning anything**: every stage runs in the
    /// task that polls the returned [`Staged`].
    ///
    /// - `f` is called once, here, with the receiving end of the channel
    ///   ([`StageInput`], a stream); `Staged` yields the items of the stream it
    ///   returns. Nothing else runs before the first poll.
    /// - `buffer` bounds the channel: `0` is a rendezvous (the driver takes one
    ///   item and holds it until the next stage asks for it); `n >= 1` is at most
    ///   `n` items in the channel plus one in the driver's hand; `usize::MAX` is
    ///   unbounded (no backpressure: only for sources that are bounded anyway).
    /// - Each poll of `Staged` first polls the drivers woken since its previous
    ///   poll (by their upstream, or by room in their channel; an idle stage is
    ///   not polled), upstream stages first, then the last stage. Each driver's
    ///   pull loop keeps to the crate's poll budget.
    /// - [`Staged::stage`] adds the next stage to the same pipeline, so however
    ///   long the chain, one flat list of drivers is polled from the outermost
    ///   `Staged`.
    /// - When the last stage ends, `Staged` yields `None` and drops every stage
    ///   at once, whether or not upstream has ended (`take(n)` in the last stage
    ///   stops the whole pipeline). When a stage's upstream ends, its channel
    ///   ends after the items already in it.
    /// - Dropping `Staged` drops every stage: their in-flight futures, timers
    ///   and buffered items.
    /// - A panic in any stage propagates out of the poll of `Staged` at once.
    /// - `Staged` is `Send` when every stage and item is.
    ///
    /// **`stage` or `decouple`?** Use `stage` for a pipeline inside one task,
    /// and so in runtime-neutral libraries; use [`decouple`](StreamExtPlus::decouple)
    /// to run a stage on another task or thread (you spawn its driver). Neither
    /// is needed when the consumer polls the stream back to back: a boundary
    /// pays a lock and a wake-up per item.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// // fetch (4 at once) keeps running while parse (1 at once) is busy.
    /// let fetch = |id: u32| async move { id * 2 };
    /// let parse = |body: u32| async move { body + 1 };
    /// let out: Vec<u32> = block_on(
    ///     stream::iter(0..5)
    ///         .map_concurrent(4, fetch)
    ///         .stage(8, |bodies| bodies.map_concurrent(1, parse))
    ///         .collect(),
    /// );
    /// assert_eq!(out, [1, 3, 5, 7, 9]);
    /// ```
    ///
    /// A next stage built by a closure defined outside the call (a sink
    /// shared by several pipelines, say) cannot have its argument's type
    /// inferred: name it, [`StageInput<T>`](crate::adapters::StageInput).
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::adapters::StageInput;
    /// use stream_plus::StreamExtPlus;
    ///
    /// let sink = |lines: StageInput<String>| lines.map(|line| line.len());
    /// let out: Vec<usize> = block_on(stream::iter(["a", "bb"]).map(String::from).stage(4, sink).collect());
    /// assert_eq!(out, [1, 2]);
    /// ```
    #[track_caller]
    fn stage<S2, F>(self, buffer: usize, f: F) -> Staged<StageDrivers<(), Self>, S2>
    where
        Self: Sized,
        F: FnOnce(StageInput<Self::Item>) -> S2,
        S2: Stream,
    {
        crate::flow::stage_new(self, buffer, f)
    }

    /// Merges with another stream of the same item type: items of both, as they
    /// become ready.
    ///
    /// Fair: the stream that did not yield last is polled first, so neither can
    /// starve the other. Ends when both have ended, or, with
    /// [`ends_with_first`](MergeWith::ends_with_first),
    /// [`ends_with_second`](MergeWith::ends_with_second) or
    /// [`ends_with_either`](MergeWith::ends_with_either), as soon as the chosen
    /// side has (for a ticker that never ends:
    /// `work.merge_with(interval(period).map(..)).ends_with_first()`). For many
    /// streams, see [`merge_all`](crate::merge_all).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// let out: Vec<u32> = block_on(stream::iter([1, 3, 5]).merge_with(stream::iter([2, 4])).collect());
    /// assert_eq!(out, [1, 2, 3, 4, 5]);
    /// ```
    #[track_caller]
    fn merge_with<St2>(self, other: St2) -> MergeWith<Self, St2>
    where
        Self: Sized,
        St2: Stream<Item = Self::Item>,
    {
        MergeWith::new(self, other)
    }

    /// Combines the latest values of two streams (Rx's `combineLatest`).
    ///
    /// Once both have yielded, yields `(a.clone(), b.clone())` of the latest
    /// values every time either yields; when both are ready in the same poll,
    /// they take turns. Ends when both have ended, or as soon as one has ended
    /// without ever yielding (no pair can come then). Holds one value of each.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// let out: Vec<(u32, char)> = block_on(stream::iter([1, 2]).zip_latest(stream::iter(['a', 'b'])).collect());
    /// assert_eq!(out, [(1, 'a'), (2, 'a'), (2, 'b')]);
    /// ```
    #[track_caller]
    fn zip_latest<St2>(self, other: St2) -> ZipLatest<Self, St2>
    where
        Self: Sized,
        Self::Item: Clone,
        St2: Stream,
        St2::Item: Clone,
    {
        ZipLatest::new(self, other)
    }

    /// Splits the stream into `consumers` streams that each see every item, in
    /// order.
    ///
    /// No task: whichever consumer needs the next item pulls the source (under a
    /// lock) and wakes the consumers that wait for it. The fastest live consumer
    /// is at most `capacity` items ahead of the slowest live one (exactly
    /// `capacity` is allowed): the fast ones wait, nothing is dropped, and at most
    /// `capacity` items are buffered. A dropped consumer stops holding the others
    /// back. Consumers may run on different threads: `Broadcast` is `Send` and
    /// `Sync` when the source and its items are.
    ///
    /// # Panics
    ///
    /// If `consumers` is 0 (`broadcast: consumers must be at least 1`) or
    /// `capacity` is 0 (`broadcast: capacity must be at least 1`). If the source
    /// panics, the consumer that polled it panics with the source's payload and
    /// the others with a message that says so.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// let mut consumers = stream::iter(1..=3).broadcast(2, 8);
    /// let b = consumers.pop().unwrap();
    /// let a = consumers.pop().unwrap();
    /// let (xs, ys) = block_on(futures::future::join(a.collect::<Vec<u32>>(), b.collect::<Vec<u32>>()));
    /// assert_eq!(xs, [1, 2, 3]);
    /// assert_eq!(ys, [1, 2, 3]);
    /// ```
    #[track_caller]
    fn broadcast(self, consumers: usize, capacity: usize) -> Vec<Broadcast<Self>>
    where
        Self: Sized,
        Self::Item: Clone,
    {
        crate::fan_out::broadcast_new(self, consumers, capacity)
    }

    /// Turns the stream into a `Clone` handle; every item goes to exactly one
    /// clone (a work queue without a task).
    ///
    /// The clone that polls when an item is available takes it; clones that wait
    /// are woken in the order they began to wait. Items are never held by a
    /// clone, so dropping a waiting clone loses nothing. All clones end when the
    /// source ends. `Balance` is `Send` when the source and its items are.
    ///
    /// Each wake-up of the source wakes every clone waiting then (a wake-up
    /// cannot say whether an item or the end came, and the end must reach
    /// every clone at once): the first to poll takes the item, the others find
    /// nothing and wait again in their places. So over a source whose items
    /// arrive one by one, each item costs a poll of every waiting clone; a
    /// clone that takes items back to back costs one lock per item.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// let a = stream::iter(1..=4).balance();
    /// let b = a.clone();
    /// let (mut xs, ys) = block_on(futures::future::join(a.collect::<Vec<u32>>(), b.collect::<Vec<u32>>()));
    /// xs.extend(ys);
    /// xs.sort();
    /// assert_eq!(xs, [1, 2, 3, 4]);
    /// ```
    #[track_caller]
    fn balance(self) -> Balance<Self>
    where
        Self: Sized,
    {
        Balance::new(self)
    }

    /// Drops an item equal to the one yielded just before it.
    ///
    /// Holds a clone of the last item yielded.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// let out: Vec<u32> = block_on(stream::iter([1, 1, 2, 2, 2, 1]).dedup().collect());
    /// assert_eq!(out, [1, 2, 1]);
    /// ```
    #[track_caller]
    fn dedup(self) -> Dedup<Self>
    where
        Self: Sized,
        Self::Item: PartialEq + Clone,
    {
        Dedup::new(self)
    }

    /// Drops an item whose key, `f(&item)`, equals the key of the item yielded
    /// just before it. `f` is called once per item, inside `poll_next`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// let out: Vec<&str> = block_on(stream::iter(["a", "b", "cc", "dd", "e"]).dedup_by_key(|s| s.len()).collect());
    /// assert_eq!(out, ["a", "cc", "e"]);
    /// ```
    #[track_caller]
    fn dedup_by_key<K, F>(self, f: F) -> DedupByKey<Self, F, K>
    where
        Self: Sized,
        F: FnMut(&Self::Item) -> K,
        K: PartialEq,
    {
        DedupByKey::new(self, f)
    }

    /// Yields the same items, unchanged, and counts in `stats`, under `name`,
    /// where the time of the stage this stream is goes: **busy**,
    /// **backpressured** or **idle**, like Flink's per-operator figures, so you
    /// can tell which stage holds a pipeline back.
    ///
    /// The stage is the stream `observe` wraps, from the nearest observed point
    /// upstream of it in the same [`Stats`](crate::Stats) (or from the source).
    /// From its first poll on, its time counts as:
    ///
    /// - **backpressured** while it has yielded an item and has not been polled
    ///   again (the next stage is not asking);
    /// - **idle** while it has returned `Pending` and the observed point
    ///   upstream of it is waiting too (it waits for its input);
    /// - **busy** otherwise: while it has returned `Pending` with input to work
    ///   on (its own futures, timers or I/O hold it up), or while it is inside
    ///   a poll.
    ///
    /// Where a stage's own work overlaps its waiting for input (futures in
    /// flight while its input waits, as inside `map_concurrent` or `stage`),
    /// the time is idle: the stage could do more if it had input. Its
    /// `in_flight` and `workers` say how busy its workers are: the concurrent
    /// stages (`map_concurrent*`, `map_concurrent_by_key*`,
    /// `map_concurrent_retry*`, `map_blocking*` and their `try_` forms) have an
    /// inherent `observe` that reports them; for any other stream they are 0.
    ///
    /// **Which point is upstream.** The observed point that this one's inner
    /// stream polls (found on the first poll, whatever unobserved adapters lie
    /// between them). A point whose input is a [`stage`](StreamExtPlus::stage)
    /// boundary takes the point created just before it in the same `Stats`
    /// (for a chain built left to right, the last point of the stage before).
    /// A point with none, or with several (fan-in, `merge_with`), counts all
    /// its waiting as busy.
    ///
    /// **Cost.** No lock on the way of an item: a point keeps its counters with
    /// plain stores. The clock is read on the first poll, around each
    /// `Pending`, at the end, and for one item in every 256 of a run of ready
    /// items; the rest of such a run is split between busy and backpressured as
    /// that item's times were. Times come from the crate's clock, so under
    /// `test_util::VirtualClock` the figures are exact (no time passes inside a
    /// poll there).
    ///
    /// The adapter keeps its own clone of the handle. Any name is valid (the
    /// empty one too), so nothing here panics. Observing two streams under one
    /// name adds them up. When the stream ends or is dropped, its
    /// point stops counting and keeps its totals. With feature `metrics`, each
    /// point also records to the `metrics` facade's global recorder (install the
    /// recorder before building the pipeline): counters
    /// `stream_plus_items_total`, `stream_plus_busy_seconds_total`,
    /// `stream_plus_backpressured_seconds_total`, `stream_plus_idle_seconds_total`
    /// (whole seconds: the facade's counters are integers) and gauges
    /// `stream_plus_in_flight` and `stream_plus_workers`, each with the label
    /// `stage`, reported at most every 100 ms and at the end.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::{Stats, StreamExtPlus};
    ///
    /// let stats = Stats::new();
    /// let total: u64 = block_on(
    ///     stream::iter(0..100u64)
    ///         .observe(&stats, "numbers")
    ///         .map(|x| x * x)
    ///         .observe(&stats, "squares")
    ///         .fold(0, |acc, x| async move { acc + x }),
    /// );
    /// assert_eq!(total, 328_350);
    /// for stage in stats.snapshot() {
    ///     assert_eq!(stage.items, 100);
    ///     println!("{}: {:.0}% busy", stage.name, 100.0 * stage.busy_ratio());
    /// }
    /// ```
    fn observe(self, stats: &crate::Stats, name: impl Into<String>) -> Observe<Self>
    where
        Self: Sized,
    {
        Observe::new(self, stats, name.into())
    }

    /// Yields an item only once `quiet` has passed with no newer item; a newer
    /// item replaces the pending one (Rx's `debounceTime`).
    ///
    /// Upstream is drained continuously (that is the meaning of debounce), but
    /// only the newest item is held: memory stays at one item. When upstream ends
    /// with an item pending, that item is yielded at once, then the stream ends.
    ///
    /// [`max_wait(d)`](Debounce::max_wait) also yields the pending item once it
    /// has waited `d` since the first item of its run, so a source that is never
    /// quiet still makes progress.
    ///
    /// One timer is reused for the adapter's life and moved lazily: a burst of
    /// items costs one timer operation per firing, not one per item.
    #[doc = timer_precision!()]
    ///
    /// # Panics
    ///
    /// If `quiet` is zero: `debounce: quiet must be greater than zero`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use std::time::Duration;
    /// use stream_plus::StreamExtPlus;
    ///
    /// // A burst with no pause: only its last item survives.
    /// let out: Vec<u32> = block_on(stream::iter(1..=5).debounce(Duration::from_millis(10)).collect());
    /// assert_eq!(out, [5]);
    /// ```
    #[cfg(feature = "time")]
    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
    #[track_caller]
    fn debounce(self, quiet: Duration) -> Debounce<Self>
    where
        Self: Sized,
    {
        Debounce::new(self, quiet)
    }

    /// Yields an item, then discards every item that arrives within `period` of
    /// it; the next item after that window is yielded at once and opens a new
    /// window (Rx's `throttleFirst`).
    ///
    /// Upstream keeps being drained while the window is open, and nothing is
    /// held: an item is judged when it arrives, so no timer is needed at all.
    /// (tokio-stream's `throttle` is different: it delays items and drops none;
    /// that is [`space_out`](StreamExtPlus::space_out) here.)
    ///
    /// # Panics
    ///
    /// If `period` is zero: `throttle_first: period must be greater than zero`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use std::time::Duration;
    /// use stream_plus::StreamExtPlus;
    ///
    /// let out: Vec<u32> = block_on(stream::iter(1..=5).throttle_first(Duration::from_secs(1)).collect());
    /// assert_eq!(out, [1]);
    /// ```
    #[cfg(feature = "time")]
    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
    #[track_caller]
    fn throttle_first(self, period: Duration) -> ThrottleFirst<Self>
    where
        Self: Sized,
    {
        ThrottleFirst::new(self, period)
    }

    /// Ticks on a fixed grid (first poll + k·`period`) and at each tick yields the
    /// newest item received since the previous tick, if any (Rx's `sample`).
    ///
    /// Upstream is drained continuously; only the newest item is held. Ticks
    /// missed by a late consumer are skipped, not burst. No timer runs while
    /// there is nothing to sample. When upstream ends with an unsampled item, it
    /// is yielded at once, then the stream ends.
    #[doc = timer_precision!()]
    ///
    /// # Panics
    ///
    /// If `period` is zero: `sample: period must be greater than zero`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use std::time::Duration;
    /// use stream_plus::StreamExtPlus;
    ///
    /// // Upstream ends before the first tick: its last item is flushed.
    /// let out: Vec<u32> = block_on(stream::iter(1..=5).sample(Duration::from_secs(1)).collect());
    /// assert_eq!(out, [5]);
    /// ```
    #[cfg(feature = "time")]
    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
    #[track_caller]
    fn sample(self, period: Duration) -> Sample<Self>
    where
        Self: Sized,
    {
        Sample::new(self, period)
    }

    /// Yields every item, at least `period` apart; the first at once. Nothing is
    /// dropped.
    ///
    /// While it waits it takes **at most one item ahead** from upstream and
    /// then stops pulling, so backpressure reaches the source; the one pull
    /// ahead is what lets the end of upstream end this stream at once (the end
    /// is not an item and waits for no slot). The gap is measured between the
    /// instants items are yielded. This is what tokio-stream calls `throttle`.
    #[doc = timer_precision!()]
    ///
    /// # Panics
    ///
    /// If `period` is zero: `space_out: period must be greater than zero`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use std::time::{Duration, Instant};
    /// use stream_plus::StreamExtPlus;
    ///
    /// let start = Instant::now();
    /// let out: Vec<u32> = block_on(stream::iter(1..=3).space_out(Duration::from_millis(10)).collect());
    /// assert_eq!(out, [1, 2, 3]);
    /// assert!(start.elapsed() >= Duration::from_millis(20));
    /// ```
    #[cfg(feature = "time")]
    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
    #[track_caller]
    fn space_out(self, period: Duration) -> SpaceOut<Self>
    where
        Self: Sized,
    {
        SpaceOut::new(self, period)
    }

    /// Lets items through a token bucket of `count` tokens, full at the start and
    /// refilled continuously at `count` per `per`.
    ///
    /// **In the first `per`, up to `2 × count` items pass**: the full bucket at
    /// once, then the refill (`rate_limit(5000, 1s)` lets 10,000 through in its
    /// first second); use [`burst`](RateLimit::burst) for a smaller bucket.
    ///
    /// A burst of up to `count` items passes at once; after that, items pass at
    /// the refill rate, so over any stretch of time T at most
    /// `count + count·T/per` items pass. It waits, never drops. While it waits
    /// for a token it takes **at most one item ahead** from upstream and then
    /// stops pulling, so backpressure reaches the source and the end of
    /// upstream ends this stream at once (the end needs no token).
    /// (Implemented as GCRA: one instant of state.)
    #[doc = timer_precision!()]
    ///
    /// # Panics
    ///
    /// If `count` is 0 (`rate_limit: count must be at least 1`) or `per` is zero
    /// (`rate_limit: per must be greater than zero`).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use std::time::{Duration, Instant};
    /// use stream_plus::StreamExtPlus;
    ///
    /// let start = Instant::now();
    /// // 3 at once, then one every 10 ms.
    /// let out: Vec<u32> =
    ///     block_on(stream::iter(1..=5).rate_limit(3, Duration::from_millis(30)).collect());
    /// assert_eq!(out, [1, 2, 3, 4, 5]);
    /// assert!(start.elapsed() >= Duration::from_millis(20));
    /// ```
    #[cfg(feature = "time")]
    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
    #[track_caller]
    fn rate_limit(self, count: usize, per: Duration) -> RateLimit<Self>
    where
        Self: Sized,
    {
        RateLimit::new(self, count, per)
    }

    /// Collects items into batches: yields a batch when it holds `max` items, or
    /// when `timeout` has passed since the first item of the batch.
    ///
    /// Never yields an empty batch; yields the partial batch when upstream ends.
    /// Holds at most `max` items. A ready burst fills whole batches without
    /// touching the timer (it is armed only when the adapter would otherwise
    /// wait). This is tokio-stream's `chunks_timeout`.
    #[doc = timer_precision!()]
    ///
    /// # Panics
    ///
    /// If `max` is 0 (`batch_timeout: max must be at least 1`) or `timeout` is
    /// zero (`batch_timeout: timeout must be greater than zero`).
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use std::time::Duration;
    /// use stream_plus::StreamExtPlus;
    ///
    /// let out: Vec<Vec<u32>> =
    ///     block_on(stream::iter(1..=5).batch_timeout(2, Duration::from_secs(1)).collect());
    /// assert_eq!(out, [vec![1, 2], vec![3, 4], vec![5]]);
    /// ```
    #[cfg(feature = "time")]
    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
    #[track_caller]
    fn batch_timeout(self, max: usize, timeout: Duration) -> BatchTimeout<Self>
    where
        Self: Sized,
    {
        BatchTimeout::new(self, max, timeout)
    }

    /// Yields `Ok(item)` per item; if `limit` passes with no item (counted from
    /// the first poll, then from each item), yields `Err(Elapsed)` once and ends.
    ///
    /// Unlike tokio-stream's `timeout`, the stream ends at the first gap: it is
    /// for detecting a dead source. One timer is reused for the adapter's life.
    #[doc = timer_precision!()]
    ///
    /// # Panics
    ///
    /// If `limit` is zero: `idle_timeout: limit must be greater than zero`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use std::time::Duration;
    /// use stream_plus::{Elapsed, StreamExtPlus};
    ///
    /// let out: Vec<Result<u32, Elapsed>> = block_on(
    ///     stream::iter([1, 2]).chain(stream::pending()).idle_timeout(Duration::from_millis(10)).collect(),
    /// );
    /// assert_eq!(out, [Ok(1), Ok(2), Err(Elapsed)]);
    /// ```
    #[cfg(feature = "time")]
    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
    #[track_caller]
    fn idle_timeout(self, limit: Duration) -> IdleTimeout<Self>
    where
        Self: Sized,
    {
        IdleTimeout::new(self, limit)
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
    /// **To keep going past a bad item** (a service, not a batch job), do not
    /// use `try_*`: map with [`map_concurrent`](StreamExtPlus::map_concurrent)
    /// to a `Result` per item, and handle each `Err` as a value (log it, send
    /// it to a dead-letter queue) while the other items flow on:
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// let call = |x: u32| async move { if x == 3 { Err(format!("{x} failed")) } else { Ok(x * 10) } };
    /// let mut dead_letters = Vec::new();
    /// let ok: Vec<u32> = block_on(
    ///     stream::iter(1..=5)
    ///         .map_concurrent(2, |x| async move { call(x).await.map_err(|e| (x, e)) })
    ///         .filter_map(|r| futures::future::ready(r.map_err(|e| dead_letters.push(e)).ok()))
    ///         .collect(),
    /// );
    /// assert_eq!(ok, [10, 20, 40, 50]);
    /// assert_eq!(dead_letters, [(3, "3 failed".to_string())]);
    /// ```
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
    #[track_caller]
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
    #[track_caller]
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

    /// [`map_blocking`](StreamExtPlus::map_blocking) for fallible calls: runs
    /// `f` on the `blocking` thread pool and yields exactly what the sequential
    /// loop would (feature `blocking`).
    ///
    /// The `Ok`s come in input order up to the first `Err` in input order (from
    /// upstream or from `f`), then that `Err`, then `None`. Once an `Err` is
    /// known, upstream is not polled again and the calls for later items that
    /// have not started never start; earlier items still run so that their
    /// results come first. An upstream `Err` takes its place in the order
    /// without a call. Bounds, jobs, drop and panics as `map_blocking`: up to
    /// `workers` calls at once, at most `64 × workers` items taken and not yet
    /// yielded.
    ///
    /// **To keep going past a bad item**, do not use `try_*`: let `f` return a
    /// `Result` from [`map_blocking`](StreamExtPlus::map_blocking), so each
    /// item's `Err` is a value the consumer handles (logs, dead-letters) while
    /// the other items flow on:
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// let results: Vec<Result<u32, String>> = block_on(
    ///     stream::iter(["1", "x", "3"])
    ///         .map_blocking(2, |s: &str| s.parse::<u32>().map_err(|e| format!("{s}: {e}")))
    ///         .collect(),
    /// );
    /// let (ok, bad): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    /// assert_eq!((ok.len(), bad.len()), (2, 1), "the bad line did not stop the others");
    /// ```
    ///
    /// # Panics
    ///
    /// If `workers` is 0: `try_map_blocking: workers must be at least 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::TryStreamExtPlus;
    ///
    /// let parsed: Vec<Result<u32, String>> = block_on(
    ///     stream::iter(["1", "2", "x", "4"].map(Ok))
    ///         .try_map_blocking(2, |s: &str| s.parse::<u32>().map_err(|e| format!("{s}: {e}")))
    ///         .collect(),
    /// );
    /// assert_eq!(parsed, [Ok(1), Ok(2), Err("x: invalid digit found in string".into())]);
    /// ```
    #[cfg(feature = "blocking")]
    #[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
    #[track_caller]
    fn try_map_blocking<U, F>(self, workers: usize, f: F) -> TryMapBlocking<Self, F, U>
    where
        Self: Sized,
        Self::Ok: Send + 'static,
        Self::Error: Send + 'static,
        U: Send + 'static,
        F: Fn(Self::Ok) -> Result<U, Self::Error> + Send + Sync + 'static,
    {
        TryMapBlocking::new(self, workers, f)
    }

    /// Like [`try_map_blocking`](TryStreamExtPlus::try_map_blocking), in
    /// **completion order** (feature `blocking`): the first `Err` in time is
    /// yielded, then `None`; calls not yet started never start, running ones
    /// finish and their results are discarded.
    ///
    /// # Panics
    ///
    /// If `workers` is 0: `try_map_blocking_unordered: workers must be at least 1`.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::TryStreamExtPlus;
    ///
    /// let mut out: Vec<Result<u32, &str>> = block_on(
    ///     stream::iter([Ok(1), Ok(2), Ok(3)])
    ///         .try_map_blocking_unordered(2, |x: u32| Ok(x * x))
    ///         .collect(),
    /// );
    /// out.sort();
    /// assert_eq!(out, [Ok(1), Ok(4), Ok(9)]);
    /// ```
    #[cfg(feature = "blocking")]
    #[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
    #[track_caller]
    fn try_map_blocking_unordered<U, F>(
        self,
        workers: usize,
        f: F,
    ) -> TryMapBlockingUnordered<Self, F, U>
    where
        Self: Sized,
        Self::Ok: Send + 'static,
        Self::Error: Send + 'static,
        U: Send + 'static,
        F: Fn(Self::Ok) -> Result<U, Self::Error> + Send + Sync + 'static,
    {
        TryMapBlockingUnordered::new(self, workers, f)
    }
}

impl<S: TryStream + ?Sized> TryStreamExtPlus for S {}
