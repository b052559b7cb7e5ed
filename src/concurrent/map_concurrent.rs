//! `map_concurrent`: up to `workers` futures at once on the slot engine of
//! `util::slots`, outputs in input order through a bounded reorder buffer.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::{check_workers, pull};
use crate::util::{size_hint, Budget, Indexed, ReorderBuffer, Slots};

pin_project! {
    /// Stream for the [`map_concurrent`](crate::StreamExtPlus::map_concurrent) method.
    #[must_use = "streams do nothing unless polled"]
    #[project = MapConcurrentProj]
    pub struct MapConcurrent<St, Fut, F>
    where
        Fut: Future,
    {
        #[pin]
        stream: St,
        f: F,
        running: Slots<Indexed<Fut>>,
        reorder: ReorderBuffer<Fut::Output>,
        // Sequence number of the next item taken from upstream.
        next_in: u64,
        workers: usize,
        reorder_capacity: usize,
        upstream_done: bool,
        done: bool,
    }
}

impl<St, Fut, F> fmt::Debug for MapConcurrent<St, Fut, F>
where
    St: fmt::Debug,
    Fut: Future,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapConcurrent")
            .field("stream", &self.stream)
            .field("in_flight", &self.running.len())
            .field("reordered", &self.reorder.len())
            .field("workers", &self.workers)
            .field("reorder_capacity", &self.reorder_capacity)
            .field("done", &self.done)
            .finish()
    }
}

impl<St, Fut, F> MapConcurrent<St, Fut, F>
where
    St: Stream,
    F: FnMut(St::Item) -> Fut,
    Fut: Future,
{
    #[track_caller]
    pub(crate) fn new(stream: St, workers: usize, f: F) -> Self {
        check_workers("map_concurrent", workers);
        Self {
            stream,
            f,
            running: Slots::new(),
            reorder: ReorderBuffer::new(),
            next_in: 0,
            workers,
            reorder_capacity: workers,
            upstream_done: false,
            done: false,
        }
    }

    /// Sets how many finished outputs may wait for an earlier, slower one
    /// (default: `workers`). Items taken from upstream and not yet yielded never
    /// exceed `workers + n`.
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    #[track_caller]
    pub fn reorder_capacity(mut self, n: usize) -> Self {
        assert!(n >= 1, "reorder_capacity: n must be at least 1");
        self.reorder_capacity = n;
        self
    }

    /// How many futures are running now (at most `workers`).
    pub fn in_flight(&self) -> usize {
        self.running.len()
    }

    /// The configured workers.
    pub fn workers(&self) -> usize {
        self.workers
    }

    crate::observe::observe_with_gauges!(Self::workers);

    crate::util::stream_accessors!(stream: St, "Consumes the adapter and returns the underlying stream. Running futures and finished outputs not yet yielded are dropped.");
}

impl<St, Fut, F> MapConcurrentProj<'_, St, Fut, F>
where
    St: Stream,
    F: FnMut(St::Item) -> Fut,
    Fut: Future,
{
    /// Takes ready items into the free room (a free worker, and a free slot
    /// under the bound on items taken and not yet yielded) and starts their
    /// futures; each is polled once, and an output ready at once goes to the
    /// reorder buffer. Also the eager refill, done just before an output is
    /// handed out, so that new work has started while the consumer is busy.
    #[inline(always)]
    fn take_work(&mut self, cx: &mut Context<'_>) {
        let held = (*self.next_in - self.reorder.next_seq()) as usize;
        // Saturating: `usize::MAX` workers or capacity means no limit.
        let slots = self.workers.saturating_add(*self.reorder_capacity) - held;
        let room = (*self.workers - self.running.len()).min(slots);
        let (f, running, next_in) = (&mut *self.f, &mut *self.running, &mut *self.next_in);
        let reorder = &mut *self.reorder;
        // `inline(always)` as in `MapConcurrentUnordered::take_work`: without
        // it the item path is two calls.
        pull(
            self.stream.as_mut(),
            self.upstream_done,
            cx,
            room,
            #[inline(always)]
            |item| {
                let seq = *next_in;
                *next_in += 1;
                if let Poll::Ready((seq, out)) = running.start(|| Indexed::new(seq, f(item))) {
                    reorder.insert(seq, out);
                }
                true
            },
        );
    }
}

impl<St, Fut, F> Stream for MapConcurrent<St, Fut, F>
where
    St: Stream,
    F: FnMut(St::Item) -> Fut,
    Fut: Future,
{
    type Item = Fut::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if *this.done || this.running.panicked() {
            super::end(this.running, this.done);
            return Poll::Ready(None);
        }
        let mut budget = Budget::new();
        loop {
            // The head finished earlier (or when it started) and waited for its turn.
            if let Some(out) = this.reorder.pop() {
                this.take_work(cx);
                return Poll::Ready(Some(out));
            }

            this.take_work(cx);
            if this.reorder.head_ready() {
                // Started and finished at once.
                continue;
            }

            match this.running.poll_next(cx) {
                Poll::Ready(Some((seq, out))) => {
                    if seq == this.reorder.next_seq() {
                        this.reorder.skip();
                        this.take_work(cx);
                        return Poll::Ready(Some(out));
                    }
                    // Finished ahead of an earlier item: it waits, and its worker
                    // is free for the next item.
                    this.reorder.insert(seq, out);
                    if !budget.spend(cx) {
                        return Poll::Pending;
                    }
                }
                // Nothing runs and nothing waits, so the head has not been taken:
                // upstream has either ended or registered our waker.
                Poll::Ready(None) => {
                    if *this.upstream_done {
                        *this.done = true;
                        return Poll::Ready(None);
                    }
                    return Poll::Pending;
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let held = (self.next_in - self.reorder.next_seq()) as usize;
        size_hint::with_held(self.upstream_done, || self.stream.size_hint(), held)
    }
}

impl<St, Fut, F> FusedStream for MapConcurrent<St, Fut, F>
where
    St: Stream,
    F: FnMut(St::Item) -> Fut,
    Fut: Future,
{
    fn is_terminated(&self) -> bool {
        self.done
    }
}
