use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use futures_util::stream::{FuturesUnordered, StreamExt};
use pin_project_lite::pin_project;

use super::{check_workers, pull};
use crate::util::{size_hint, Budget, Indexed, ReorderBuffer};

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
        running: FuturesUnordered<Indexed<Fut>>,
        // `running.len()`, kept here because it is read on every poll.
        in_flight: usize,
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
            .field("in_flight", &self.in_flight)
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
            running: FuturesUnordered::new(),
            in_flight: 0,
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
        self.in_flight
    }

    crate::util::stream_accessors!(stream: St, "Consumes the adapter and returns the underlying stream. Running futures and finished outputs not yet yielded are dropped.");
}

impl<St, Fut, F> MapConcurrentProj<'_, St, Fut, F>
where
    St: Stream,
    F: FnMut(St::Item) -> Fut,
    Fut: Future,
{
    // These helpers run once or more per item. `#[inline(always)]`, because rustc
    // kept `refill` out of line, and that call cost 8 % more instructions per
    // item on ready futures (callgrind, 200k items, 4 workers).
    /// Free room for new work: a free worker, and a free slot under the bound on
    /// items taken from upstream and not yet yielded.
    #[inline(always)]
    fn room(&self) -> usize {
        let taken = (*self.next_in - self.reorder.next_seq()) as usize;
        let slots = *self.workers + *self.reorder_capacity - taken;
        (*self.workers - *self.in_flight).min(slots)
    }

    /// Takes ready items into the free room and creates their futures.
    #[inline(always)]
    fn take_work(&mut self, cx: &mut Context<'_>) -> usize {
        let room = self.room();
        let (f, running, next_in) = (&mut *self.f, &mut *self.running, &mut *self.next_in);
        let taken = pull(self.stream.as_mut(), self.upstream_done, cx, room, |item| {
            running.push(Indexed::new(*next_in, f(item)));
            *next_in += 1;
            true
        });
        *self.in_flight += taken;
        taken
    }

    /// Polls the running futures; counts the one that finished.
    #[inline(always)]
    fn poll_running(&mut self, cx: &mut Context<'_>) -> Poll<Option<(u64, Fut::Output)>> {
        let polled = self.running.poll_next_unpin(cx);
        if let Poll::Ready(Some(_)) = polled {
            *self.in_flight -= 1;
        }
        polled
    }

    /// Eager refill, done just before an output is handed out: starts the next
    /// ready items and polls their futures once, so that work goes on while the
    /// consumer is busy with the output.
    #[inline(always)]
    fn refill(&mut self, cx: &mut Context<'_>) {
        while self.room() > 0 && self.take_work(cx) > 0 {
            match self.poll_running(cx) {
                Poll::Ready(Some((seq, out))) => self.reorder.insert(seq, out),
                _ => break,
            }
        }
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
        if *this.done {
            return Poll::Ready(None);
        }
        let mut budget = Budget::new();
        loop {
            // The head finished earlier and waited for its turn.
            if let Some(out) = this.reorder.pop() {
                this.refill(cx);
                return Poll::Ready(Some(out));
            }

            this.take_work(cx);

            match this.poll_running(cx) {
                Poll::Ready(Some((seq, out))) => {
                    if seq == this.reorder.next_seq() {
                        this.reorder.skip();
                        this.refill(cx);
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
        let pending = (self.next_in - self.reorder.next_seq()) as usize;
        size_hint::with_held(self.upstream_done, || self.stream.size_hint(), pending)
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
