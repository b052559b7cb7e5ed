//! `map_concurrent_retry` and `map_concurrent_retry_unordered`: up to
//! `workers` attempts at once on the slot engine of `util::slots`; an attempt
//! that fails is retried after its `Backoff` delay, and the item waits out
//! that delay **holding no worker**; an item whose attempts run out comes
//! out as `Err(Failed { item, error, attempts })` and the stream goes on.
//!
//! One engine for both orders (generic over `util::Outputs`). Each item taken
//! from upstream sits in a small slab (at most `2 x workers` entries) until
//! its output is queued: the item itself (so `f(&item)` can be called again,
//! and a dead letter can hand it back), its sequence number and its attempts.
//! A running attempt is tagged with its entry's index; an entry backing off is
//! in `backing_off` with its due instant, and one timer is armed at the
//! earliest of them. A poll hands out an output that is already queued;
//! only when none is does it poll every woken attempt. Then a free worker
//! goes to the earliest due retry (in input order) before a new upstream
//! item.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use futures_core::TryFuture;
use futures_util::future::{IntoFuture, TryFutureExt};
use pin_project_lite::pin_project;
use std::time::Instant;

use super::check_workers;
use crate::failure::{Backoff, EveryError, Failed};
use crate::time::clock::{Clock, Timer};
use crate::util::{size_hint, Budget, Fifo, Indexed, Outputs, ReorderBuffer, Slots, POLL_BUDGET};

/// An item taken from upstream and not yet done.
struct Entry<Item> {
    seq: u64,
    item: Item,
    // Attempts started so far.
    attempts: u32,
    // While backing off: when the next attempt is due.
    due: Option<Instant>,
}

/// The engine both adapters run on.
struct Retrying<Item, Fut: TryFuture, O> {
    running: Slots<Indexed<IntoFuture<Fut>>>,
    entries: Vec<Option<Entry<Item>>>,
    free: Vec<usize>,
    // Entry indices of the items waiting out a backoff.
    backing_off: Vec<usize>,
    outputs: O,
    // Attempts that finished in the last `poll_woken`, reused.
    finished: Vec<Attempt<Fut>>,
    backoff: Backoff,
    clock: Clock,
    timer: Timer,
    workers: usize,
    // `2 x workers`: items taken from upstream and not yet yielded.
    max_held: usize,
    next_in: u64,
    yielded: u64,
    upstream_done: bool,
    done: bool,
}

/// A finished attempt: its entry's index and its result.
type Attempt<Fut> = (
    u64,
    Result<<Fut as TryFuture>::Ok, <Fut as TryFuture>::Error>,
);

type Output<Item, Fut> = Result<<Fut as TryFuture>::Ok, Failed<Item, <Fut as TryFuture>::Error>>;

impl<Item, Fut, O> Retrying<Item, Fut, O>
where
    Fut: TryFuture,
    O: Outputs<Output<Item, Fut>>,
{
    fn new(workers: usize, backoff: Backoff) -> Self {
        let clock = Clock::current();
        Self {
            running: Slots::new(),
            entries: Vec::new(),
            free: Vec::new(),
            backing_off: Vec::new(),
            outputs: O::new(),
            finished: Vec::new(),
            backoff,
            timer: clock.timer(),
            clock,
            workers,
            max_held: workers.saturating_mul(2),
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

    /// Starts a retry for entry `at` (polled once, like every start).
    fn start<F: FnMut(&Item) -> Fut, P: FnMut(&Fut::Error) -> bool>(
        &mut self,
        f: &mut F,
        retry_if: &mut P,
        at: usize,
    ) {
        let entry = self.entries[at].as_mut().expect("a live entry");
        entry.attempts = entry.attempts.saturating_add(1);
        entry.due = None;
        let item = &entry.item;
        if let Poll::Ready((at, result)) = self
            .running
            .start(|| Indexed::new(at as u64, f(item).into_future()))
        {
            self.finish(retry_if, at as usize, result);
        }
    }

    /// Starts the first attempt of a new item. The item goes into the slab
    /// only if the attempt does not succeed at once: a call that succeeds on
    /// its first poll costs no entry.
    #[inline]
    fn start_new<F: FnMut(&Item) -> Fut, P: FnMut(&Fut::Error) -> bool>(
        &mut self,
        f: &mut F,
        retry_if: &mut P,
        item: Item,
    ) {
        let seq = self.next_in;
        self.next_in += 1;
        // The entry it will have, if it needs one.
        let at = self.free.last().copied().unwrap_or(self.entries.len());
        let polled = self
            .running
            .start(|| Indexed::new(at as u64, f(&item).into_future()));
        if let Poll::Ready((_, Ok(out))) = polled {
            self.outputs.push(seq, Ok(out));
            return;
        }
        let entry = Some(Entry {
            seq,
            item,
            attempts: 1,
            due: None,
        });
        if self.free.pop().is_some() {
            self.entries[at] = entry;
        } else {
            self.entries.push(entry);
        }
        if let Poll::Ready((_, Err(e))) = polled {
            self.finish(retry_if, at, Err(e));
        }
    }

    /// An attempt of entry `at` ended: its output is queued, or it backs off.
    #[inline]
    fn finish<P: FnMut(&Fut::Error) -> bool>(
        &mut self,
        retry_if: &mut P,
        at: usize,
        result: Result<Fut::Ok, Fut::Error>,
    ) {
        let entry = self.entries[at].as_mut().expect("a live entry");
        let error = match result {
            Ok(out) => {
                let seq = entry.seq;
                self.release(at);
                self.outputs.push(seq, Ok(out));
                return;
            }
            Err(error) => error,
        };
        let delay = if retry_if(&error) {
            self.backoff.delay(entry.attempts)
        } else {
            None
        };
        match delay {
            // Holds no worker meanwhile: it is not in `running`.
            Some(delay) => {
                entry.due = Some(self.clock.after(delay));
                self.backing_off.push(at);
            }
            None => {
                let entry = self.entries[at].take().expect("a live entry");
                self.free.push(at);
                let failed = Failed {
                    item: entry.item,
                    error,
                    attempts: entry.attempts,
                };
                self.outputs.push(entry.seq, Err(failed));
            }
        }
    }

    fn release(&mut self, at: usize) {
        self.entries[at] = None;
        self.free.push(at);
    }

    /// The due retry that goes first (the earliest in input order), if any.
    #[inline]
    fn due_retry(&mut self) -> Option<usize> {
        if self.backing_off.is_empty() {
            return None;
        }
        let now = self.clock.now();
        let entries = &self.entries;
        let (pos, _) = self
            .backing_off
            .iter()
            .enumerate()
            .filter_map(|(pos, &at)| {
                let entry = entries[at].as_ref().expect("a live entry");
                (entry.due.is_some_and(|due| due <= now)).then_some((pos, entry.seq))
            })
            .min_by_key(|&(_, seq)| seq)?;
        Some(self.backing_off.swap_remove(pos))
    }

    /// Fills the free workers: due retries first, then new upstream items
    /// while fewer than `2 x workers` are held (unless upstream already
    /// returned `Pending` in this poll: it has our waker). Returns whether an
    /// attempt was started that is still running.
    #[inline(always)]
    fn fill<St, F, P>(
        &mut self,
        mut stream: Pin<&mut St>,
        f: &mut F,
        retry_if: &mut P,
        upstream_waits: &mut bool,
        cx: &mut Context<'_>,
    ) -> bool
    where
        St: Stream<Item = Item>,
        F: FnMut(&Item) -> Fut,
        P: FnMut(&Fut::Error) -> bool,
    {
        let before = self.running.len();
        let mut pulled = 0u32;
        while self.running.len() < self.workers {
            if let Some(at) = self.due_retry() {
                self.start(f, retry_if, at);
                continue;
            }
            if self.held() >= self.max_held || *upstream_waits || self.upstream_done {
                break;
            }
            if pulled == POLL_BUDGET {
                // Rule 6, for worker counts up to `usize::MAX`.
                cx.waker().wake_by_ref();
                break;
            }
            pulled += 1;
            match stream.as_mut().poll_next(cx) {
                Poll::Ready(Some(item)) => self.start_new(f, retry_if, item),
                Poll::Ready(None) => self.upstream_done = true,
                Poll::Pending => *upstream_waits = true,
            }
        }
        self.running.len() > before
    }

    /// Polls every woken attempt and handles those that finished.
    #[inline]
    fn poll_running<P: FnMut(&Fut::Error) -> bool>(&mut self, retry_if: &mut P) {
        if self.running.len() == 0 {
            return;
        }
        let mut finished = core::mem::take(&mut self.finished);
        self.running.poll_woken(&mut finished);
        for (at, result) in finished.drain(..) {
            self.finish(retry_if, at as usize, result);
        }
        self.finished = finished;
    }

    /// Arms the timer for the earliest backoff. `Ready` when one is due now.
    fn poll_backoffs(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let entries = &self.entries;
        let earliest = self
            .backing_off
            .iter()
            .filter_map(|&at| entries[at].as_ref().and_then(|e| e.due))
            .min();
        match earliest {
            Some(due) => self.timer.poll_until(due, cx),
            None => Poll::Pending,
        }
    }

    fn poll_next<St, F, P>(
        &mut self,
        mut stream: Pin<&mut St>,
        f: &mut F,
        retry_if: &mut P,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Output<Item, Fut>>>
    where
        St: Stream<Item = Item>,
        F: FnMut(&Item) -> Fut,
        P: FnMut(&Fut::Error) -> bool,
    {
        if self.done || self.running.panicked() {
            super::end(&mut self.running, &mut self.done);
            return Poll::Ready(None);
        }
        let mut budget = Budget::new();
        let mut upstream_waits = false;
        // Our waker is registered with the attempts only before `Pending`.
        let mut registered = false;
        loop {
            // An output that is here goes out first: the attempts woken
            // meanwhile keep their marks for the next poll, so a round of
            // wake-ups is taken once per batch of outputs, not once per output.
            let mut out = self.outputs.pop();
            if out.is_none() {
                self.poll_running(retry_if);
                out = self.outputs.pop();
            }
            if out.is_some() {
                self.yielded += 1;
            }
            // With an output in hand, the eager refill before the consumer
            // gets it.
            let started = self.fill(stream.as_mut(), f, retry_if, &mut upstream_waits, cx);
            if out.is_some() {
                return Poll::Ready(out);
            }
            // Finished at once, or started and perhaps woken already: look again.
            let again = self.outputs.ready() || started
                // A due retry matters only to a free worker; a busy one's end
                // wakes us, and `fill` then starts the retry.
                || (self.running.len() < self.workers && self.poll_backoffs(cx).is_ready());
            if again {
                if !budget.spend(cx) {
                    return Poll::Pending;
                }
                continue;
            }
            if self.upstream_done && self.held() == 0 {
                self.done = true;
                return Poll::Ready(None);
            }
            if !registered && self.running.len() > 0 {
                // Then the attempts woken before it are polled once more.
                self.running.register(cx.waker());
                registered = true;
                continue;
            }
            // The attempts, upstream or the timer have our waker; or the
            // bound stops the pulling until an output is taken.
            return Poll::Pending;
        }
    }

    fn size_hint(&self, upstream: (usize, Option<usize>)) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        size_hint::with_held(self.upstream_done, || upstream, self.held())
    }
}

macro_rules! retry_adapter {
    ($name:ident, $method:literal, $outputs:ident, $doc:literal) => {
        pin_project! {
            #[doc = $doc]
            #[must_use = "streams do nothing unless polled"]
            pub struct $name<St, Fut, F, P>
            where
                St: Stream,
                Fut: TryFuture,
            {
                #[pin]
                stream: St,
                f: F,
                retry_if: P,
                engine: Retrying<St::Item, Fut, $outputs<Output<St::Item, Fut>>>,
            }
        }

        impl<St, Fut, F, P> fmt::Debug for $name<St, Fut, F, P>
        where
            St: Stream + fmt::Debug,
            Fut: TryFuture,
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("stream", &self.stream)
                    .field("in_flight", &self.engine.running.len())
                    .field("backing_off", &self.engine.backing_off.len())
                    .field("finished", &self.engine.outputs.len())
                    .field("workers", &self.engine.workers)
                    .field("backoff", &self.engine.backoff)
                    .field("done", &self.engine.done)
                    .finish()
            }
        }

        impl<St, Fut, F> $name<St, Fut, F, EveryError<Fut::Error>>
        where
            St: Stream,
            F: FnMut(&St::Item) -> Fut,
            Fut: TryFuture,
        {
            #[track_caller]
            pub(crate) fn new(stream: St, workers: usize, backoff: Backoff, f: F) -> Self {
                check_workers($method, workers);
                Self {
                    stream,
                    f,
                    retry_if: |_| true,
                    engine: Retrying::new(workers, backoff),
                }
            }
        }

        impl<St, Fut, F, P> $name<St, Fut, F, P>
        where
            St: Stream,
            F: FnMut(&St::Item) -> Fut,
            Fut: TryFuture,
        {
            /// Retries only the errors for which `pred` returns true; an
            /// error it rejects is yielded as [`Failed`] at once, whatever
            /// attempts remain.
            ///
            /// # Examples
            ///
            /// ```
            /// use futures::executor::block_on;
            /// use futures::stream::{self, StreamExt};
            /// use std::time::Duration;
            /// use stream_plus::{Backoff, StreamExtPlus};
            ///
            /// let backoff = Backoff::fixed(Duration::from_millis(1)).attempts(5);
            #[doc = concat!("let out: Vec<_> = block_on(stream::iter([1u32, 2]).", $method, "(2, backoff, |&x| async move {")]
            ///         if x == 1 { Err("permanent") } else { Ok(x) }
            ///     })
            ///     .retry_if(|e| *e != "permanent")
            ///     .collect());
            /// assert_eq!(out.iter().filter(|r| r.is_err()).count(), 1);
            /// let dead = out.iter().find_map(|r| r.as_ref().err()).unwrap();
            /// assert_eq!((dead.item, dead.attempts), (1, 1));
            /// ```
            pub fn retry_if<P2>(self, pred: P2) -> $name<St, Fut, F, P2>
            where
                P2: FnMut(&Fut::Error) -> bool,
            {
                $name {
                    stream: self.stream,
                    f: self.f,
                    retry_if: pred,
                    engine: self.engine,
                }
            }

            /// How many attempts are running now (at most `workers`).
            pub fn in_flight(&self) -> usize {
                self.engine.running.len()
            }

            /// The configured workers.
            pub fn workers(&self) -> usize {
                self.engine.workers
            }

            crate::observe::observe_with_gauges!(Self::workers);

            /// How many items wait out a backoff now (holding no worker).
            pub fn backing_off(&self) -> usize {
                self.engine.backing_off.len()
            }

            crate::util::stream_accessors!(stream: St, "Consumes the adapter and returns the underlying stream. Running attempts, items backing off and finished outputs not yet yielded are dropped.");
        }

        impl<St, Fut, F, P> Stream for $name<St, Fut, F, P>
        where
            St: Stream,
            F: FnMut(&St::Item) -> Fut,
            Fut: TryFuture,
            P: FnMut(&Fut::Error) -> bool,
        {
            type Item = Output<St::Item, Fut>;

            fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
                let this = self.project();
                this.engine.poll_next(this.stream, this.f, this.retry_if, cx)
            }

            fn size_hint(&self) -> (usize, Option<usize>) {
                self.engine.size_hint(self.stream.size_hint())
            }
        }

        impl<St, Fut, F, P> FusedStream for $name<St, Fut, F, P>
        where
            St: Stream,
            F: FnMut(&St::Item) -> Fut,
            Fut: TryFuture,
            P: FnMut(&Fut::Error) -> bool,
        {
            fn is_terminated(&self) -> bool {
                self.engine.done
            }
        }
    };
}

retry_adapter!(
    MapConcurrentRetry,
    "map_concurrent_retry",
    ReorderBuffer,
    "Stream for the [`map_concurrent_retry`](crate::StreamExtPlus::map_concurrent_retry) method."
);
retry_adapter!(
    MapConcurrentRetryUnordered,
    "map_concurrent_retry_unordered",
    Fifo,
    "Stream for the [`map_concurrent_retry_unordered`](crate::StreamExtPlus::map_concurrent_retry_unordered) method."
);
