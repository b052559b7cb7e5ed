//! `map_concurrent_unordered`: up to `workers` futures at once on the slot
//! engine of `util::slots`, outputs in completion order.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;
use std::collections::VecDeque;

use super::{check_workers, pull};
use crate::util::{size_hint, Slots};

pin_project! {
    /// Stream for the [`map_concurrent_unordered`](crate::StreamExtPlus::map_concurrent_unordered) method.
    #[must_use = "streams do nothing unless polled"]
    #[project = MapConcurrentUnorderedProj]
    pub struct MapConcurrentUnordered<St, Fut, F>
    where
        Fut: Future,
    {
        #[pin]
        stream: St,
        f: F,
        running: Slots<Fut>,
        // Outputs that finished when their future was started, or during an
        // eager refill; they count against `workers` until they are yielded.
        finished: VecDeque<Fut::Output>,
        workers: usize,
        upstream_done: bool,
        done: bool,
    }
}

impl<St, Fut, F> fmt::Debug for MapConcurrentUnordered<St, Fut, F>
where
    St: fmt::Debug,
    Fut: Future,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MapConcurrentUnordered")
            .field("stream", &self.stream)
            .field("in_flight", &self.running.len())
            .field("finished", &self.finished.len())
            .field("workers", &self.workers)
            .field("done", &self.done)
            .finish()
    }
}

impl<St, Fut, F> MapConcurrentUnordered<St, Fut, F>
where
    St: Stream,
    F: FnMut(St::Item) -> Fut,
    Fut: Future,
{
    #[track_caller]
    pub(crate) fn new(stream: St, workers: usize, f: F) -> Self {
        check_workers("map_concurrent_unordered", workers);
        Self {
            stream,
            f,
            running: Slots::new(),
            finished: VecDeque::new(),
            workers,
            upstream_done: false,
            done: false,
        }
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

impl<St, Fut, F> MapConcurrentUnorderedProj<'_, St, Fut, F>
where
    St: Stream,
    F: FnMut(St::Item) -> Fut,
    Fut: Future,
{
    /// Takes ready items while fewer than `workers` are taken and not yielded,
    /// and starts their futures (each is polled once). Also the eager refill,
    /// done just before an output is handed out (see `MapConcurrent`).
    #[inline(always)]
    fn take_work(&mut self, cx: &mut Context<'_>) {
        let room = *self.workers - self.running.len() - self.finished.len();
        let (f, running, finished) = (&mut *self.f, &mut *self.running, &mut *self.finished);
        // `inline(always)`: without it the item path is two calls (`benches/instructions.rs`: 168.6 against 150.6 instructions per item).
        pull(
            self.stream.as_mut(),
            self.upstream_done,
            cx,
            room,
            #[inline(always)]
            |item| {
                if let Poll::Ready(out) = running.start(|| f(item)) {
                    finished.push_back(out);
                }
                true
            },
        );
    }
}

impl<St, Fut, F> Stream for MapConcurrentUnordered<St, Fut, F>
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
        if this.finished.is_empty() {
            this.take_work(cx);
        }
        let out = match super::next_finished(this.finished, this.running, *this.upstream_done, cx) {
            Poll::Ready(Some(out)) => out,
            Poll::Ready(None) => {
                *this.done = true;
                return Poll::Ready(None);
            }
            Poll::Pending => return Poll::Pending,
        };
        this.take_work(cx);
        Poll::Ready(Some(out))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let held = self.running.len() + self.finished.len();
        size_hint::with_held(self.upstream_done, || self.stream.size_hint(), held)
    }
}

impl<St, Fut, F> FusedStream for MapConcurrentUnordered<St, Fut, F>
where
    St: Stream,
    F: FnMut(St::Item) -> Fut,
    Fut: Future,
{
    fn is_terminated(&self) -> bool {
        self.done
    }
}
