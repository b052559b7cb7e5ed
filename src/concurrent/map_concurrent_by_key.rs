//! `map_concurrent_by_key` and `map_concurrent_by_key_unordered`: concurrency
//! across keys, one at a time and in input order within a key.
//!
//! Both adapters are thin shells over one engine, [`Keyed`], which runs its
//! futures in the same [`Slots`] of [`Indexed`] futures as the other
//! concurrent maps and keeps the outputs in a [`ReorderBuffer`] (input order)
//! or a queue (completion order).
//!
//! Keys need only `Eq + Hash`, not `Clone`, so each key is stored once, with
//! its item: in the running set (at most `workers` entries) or the waiting
//! line (at most `2 x workers`). Deciding whether an item may start is a scan
//! of the running set with `==`: O(workers) per item, cheaper than hashing
//! for the worker counts this is meant for (a hash map would need the key
//! twice, or hashing per lookup).

use core::fmt;
use core::future::Future;
use core::hash::Hash;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;
use std::collections::VecDeque;

use super::check_workers;
use crate::util::{size_hint, Budget, Fifo, Indexed, Outputs, ReorderBuffer, Slots, POLL_BUDGET};

/// The engine both adapters run on.
struct Keyed<Item, K, Fut: Future, O> {
    running: Slots<Indexed<Fut>>,
    // The key of each running future, by sequence number.
    running_keys: Vec<(u64, K)>,
    // Items taken whose key was busy, in input order.
    waiting: VecDeque<(u64, K, Item)>,
    outputs: O,
    workers: usize,
    next_in: u64,
    yielded: u64,
    upstream_done: bool,
    done: bool,
}

impl<Item, K: Eq + Hash, Fut: Future, O: Outputs<Fut::Output>> Keyed<Item, K, Fut, O> {
    fn new(workers: usize) -> Self {
        Self {
            running: Slots::new(),
            running_keys: Vec::with_capacity(workers.min(1024)),
            waiting: VecDeque::new(),
            outputs: O::new(),
            workers,
            next_in: 0,
            yielded: 0,
            upstream_done: false,
            done: false,
        }
    }

    /// Items taken from upstream and not yet yielded.
    #[inline]
    fn held(&self) -> usize {
        (self.next_in - self.yielded) as usize
    }

    #[inline]
    fn key_running(&self, key: &K) -> bool {
        self.running_keys.iter().any(|(_, k)| k == key)
    }

    /// Starts the future of an item (polled once); its key is held until it
    /// finishes, unless it finishes at once.
    #[inline]
    fn start<F: FnMut(Item) -> Fut>(&mut self, f: &mut F, seq: u64, key: K, item: Item) {
        match self.running.start(|| Indexed::new(seq, f(item))) {
            Poll::Ready((seq, out)) => self.outputs.push(seq, out),
            Poll::Pending => self.running_keys.push((seq, key)),
        }
    }

    /// Fills the free workers: first with the earliest waiting item whose key
    /// is free, then with new upstream items, while fewer than `2 x workers`
    /// are held.
    fn fill<St, KF, F>(
        &mut self,
        mut stream: Pin<&mut St>,
        key_of: &mut KF,
        f: &mut F,
        cx: &mut Context<'_>,
    ) where
        St: Stream<Item = Item>,
        KF: FnMut(&Item) -> K,
        F: FnMut(Item) -> Fut,
    {
        let mut pulled = 0u32;
        while self.running_keys.len() < self.workers {
            // The earliest waiting item whose key runs nothing is also the
            // first waiting item of its key, so per-key order holds.
            let free = self
                .waiting
                .iter()
                .position(|(_, k, _)| !self.key_running(k));
            if let Some(at) = free {
                let (seq, key, item) = self.waiting.remove(at).expect("position is in range");
                self.start(f, seq, key, item);
                continue;
            }
            if self.upstream_done || self.held() >= self.workers.saturating_mul(2) {
                break;
            }
            if pulled == POLL_BUDGET {
                // Rule 6, for worker counts up to `usize::MAX`: an
                // always-ready upstream does not keep this call going.
                cx.waker().wake_by_ref();
                break;
            }
            pulled += 1;
            match stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => {
                    let key = key_of(&item);
                    let seq = self.next_in;
                    self.next_in += 1;
                    // Checking the running keys is enough: every waiting
                    // item's key is running (one with a free key was started
                    // above, as a worker is free).
                    if self.key_running(&key) {
                        // Holds no worker: later items of other keys start around it.
                        self.waiting.push_back((seq, key, item));
                    } else {
                        self.start(f, seq, key, item);
                    }
                }
                Poll::Ready(None) => self.upstream_done = true,
                Poll::Pending => break,
            }
        }
    }

    /// Polls the running futures; a finished one frees its key and worker and
    /// its output goes to `outputs`. `Ready(false)` when nothing runs.
    #[inline]
    fn poll_running(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        match self.running.poll_next(cx) {
            Poll::Ready(Some((seq, out))) => {
                if let Some(at) = self.running_keys.iter().position(|(s, _)| *s == seq) {
                    self.running_keys.swap_remove(at);
                }
                self.outputs.push(seq, out);
                Poll::Ready(true)
            }
            Poll::Ready(None) => Poll::Ready(false),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_next<St, KF, F>(
        &mut self,
        mut stream: Pin<&mut St>,
        key_of: &mut KF,
        f: &mut F,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Fut::Output>>
    where
        St: Stream<Item = Item>,
        KF: FnMut(&Item) -> K,
        F: FnMut(Item) -> Fut,
    {
        if self.done || self.running.panicked() {
            super::end(&mut self.running, &mut self.done);
            return Poll::Ready(None);
        }
        let mut budget = Budget::new();
        loop {
            // Every woken future is polled before any item starts, so a key
            // whose earlier item has completed counts as free, and start
            // order follows input order wherever the keys allow it.
            while let Poll::Ready(true) = self.poll_running(cx) {}
            if let Some(out) = self.outputs.pop() {
                self.yielded += 1;
                // Eager refill: new work starts (and is polled once) before
                // the consumer gets the output.
                self.fill(stream.as_mut(), key_of, f, cx);
                return Poll::Ready(Some(out));
            }
            self.fill(stream.as_mut(), key_of, f, cx);
            if self.outputs.ready() {
                // Started and finished at once.
                if !budget.spend(cx) {
                    return Poll::Pending;
                }
                continue;
            }
            // Registers our waker with the running futures, the ones just
            // started included.
            match self.poll_running(cx) {
                Poll::Ready(true) => {
                    if !budget.spend(cx) {
                        return Poll::Pending;
                    }
                }
                // Nothing runs; nothing waits either (a waiting item would
                // have been started), and no output is ready.
                Poll::Ready(false) => {
                    if self.upstream_done && self.waiting.is_empty() {
                        self.done = true;
                        return Poll::Ready(None);
                    }
                    // Upstream registered our waker (or the bound stops it,
                    // which a running future's completion will lift).
                    return Poll::Pending;
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn size_hint(&self, upstream: (usize, Option<usize>)) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        size_hint::with_held(self.upstream_done, || upstream, self.held())
    }
}

macro_rules! keyed_adapter {
    ($name:ident, $method:literal, $outputs:ident, $doc:literal) => {
        pin_project! {
            #[doc = $doc]
            #[must_use = "streams do nothing unless polled"]
            pub struct $name<St, K, Fut, KF, F>
            where
                St: Stream,
                Fut: Future,
            {
                #[pin]
                stream: St,
                key: KF,
                f: F,
                engine: Keyed<St::Item, K, Fut, $outputs<Fut::Output>>,
            }
        }

        impl<St, K, Fut, KF, F> fmt::Debug for $name<St, K, Fut, KF, F>
        where
            St: Stream + fmt::Debug,
            Fut: Future,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("stream", &self.stream)
                    .field("in_flight", &self.engine.running_keys.len())
                    .field("waiting_for_key", &self.engine.waiting.len())
                    .field("finished", &self.engine.outputs.len())
                    .field("workers", &self.engine.workers)
                    .field("done", &self.engine.done)
                    .finish()
            }
        }

        impl<St, K, Fut, KF, F> $name<St, K, Fut, KF, F>
        where
            St: Stream,
            K: Eq + Hash,
            KF: FnMut(&St::Item) -> K,
            F: FnMut(St::Item) -> Fut,
            Fut: Future,
        {
            #[track_caller]
            pub(crate) fn new(stream: St, workers: usize, key: KF, f: F) -> Self {
                check_workers($method, workers);
                Self {
                    stream,
                    key,
                    f,
                    engine: Keyed::new(workers),
                }
            }

            /// How many futures are running now (at most `workers`, at most
            /// one per key).
            pub fn in_flight(&self) -> usize {
                self.engine.running_keys.len()
            }

            /// The configured workers.
            pub fn workers(&self) -> usize {
                self.engine.workers
            }

            crate::observe::observe_with_gauges!(Self::workers);

            /// How many items taken from upstream wait for their key to be free.
            pub fn waiting_for_key(&self) -> usize {
                self.engine.waiting.len()
            }

            crate::util::stream_accessors!(stream: St, "Consumes the adapter and returns the underlying stream. Running futures, waiting items and finished outputs not yet yielded are dropped.");
        }

        impl<St, K, Fut, KF, F> Stream for $name<St, K, Fut, KF, F>
        where
            St: Stream,
            K: Eq + Hash,
            KF: FnMut(&St::Item) -> K,
            F: FnMut(St::Item) -> Fut,
            Fut: Future,
        {
            type Item = Fut::Output;

            fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Fut::Output>> {
                let this = self.project();
                this.engine.poll_next(this.stream, this.key, this.f, cx)
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                self.engine.size_hint(self.stream.size_hint())
            }
        }

        impl<St, K, Fut, KF, F> FusedStream for $name<St, K, Fut, KF, F>
        where
            St: Stream,
            K: Eq + Hash,
            KF: FnMut(&St::Item) -> K,
            F: FnMut(St::Item) -> Fut,
            Fut: Future,
        {
            fn is_terminated(&self) -> bool {
                self.engine.done
            }
        }
    };
}

keyed_adapter!(
    MapConcurrentByKey,
    "map_concurrent_by_key",
    ReorderBuffer,
    "Stream for the [`map_concurrent_by_key`](crate::StreamExtPlus::map_concurrent_by_key) method."
);
keyed_adapter!(
    MapConcurrentByKeyUnordered,
    "map_concurrent_by_key_unordered",
    Fifo,
    "Stream for the [`map_concurrent_by_key_unordered`](crate::StreamExtPlus::map_concurrent_by_key_unordered) method."
);
