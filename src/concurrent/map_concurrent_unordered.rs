use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use futures_util::stream::{FuturesUnordered, StreamExt};
use pin_project_lite::pin_project;
use std::collections::VecDeque;

use super::{check_workers, pull};
use crate::util::size_hint;

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
        running: FuturesUnordered<Fut>,
        // `running.len()`, kept here because it is read on every poll.
        in_flight: usize,
        // Outputs that finished during an eager refill; they count against
        // `workers` until they are yielded.
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
            .field("in_flight", &self.in_flight)
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
            running: FuturesUnordered::new(),
            in_flight: 0,
            finished: VecDeque::new(),
            workers,
            upstream_done: false,
            done: false,
        }
    }

    /// How many futures are running now (at most `workers`).
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    crate::util::stream_accessors!(stream: St, "Consumes the adapter and returns the underlying stream. Running futures and finished outputs not yet yielded are dropped.");
}

impl<St, Fut, F> MapConcurrentUnorderedProj<'_, St, Fut, F>
where
    St: Stream,
    F: FnMut(St::Item) -> Fut,
    Fut: Future,
{
    // These helpers run once or more per item. `#[inline(always)]`, because rustc
    // kept `refill` out of line, and that call cost 8 % more instructions per
    // item on ready futures (callgrind, 200k items, 4 workers).
    /// Takes ready items while fewer than `workers` are taken and not yielded.
    #[inline(always)]
    fn take_work(&mut self, cx: &mut Context<'_>) -> usize {
        let room = *self.workers - *self.in_flight - self.finished.len();
        let (f, running) = (&mut *self.f, &mut *self.running);
        let taken = pull(self.stream.as_mut(), self.upstream_done, cx, room, |item| {
            running.push(f(item));
            true
        });
        *self.in_flight += taken;
        taken
    }

    /// Polls the running futures; counts the one that finished.
    #[inline(always)]
    fn poll_running(&mut self, cx: &mut Context<'_>) -> Poll<Option<Fut::Output>> {
        let polled = self.running.poll_next_unpin(cx);
        if let Poll::Ready(Some(_)) = polled {
            *self.in_flight -= 1;
        }
        polled
    }

    /// Eager refill, done just before an output is handed out (see
    /// `MapConcurrent`).
    #[inline(always)]
    fn refill(&mut self, cx: &mut Context<'_>) {
        while *self.in_flight + self.finished.len() < *self.workers && self.take_work(cx) > 0 {
            match self.poll_running(cx) {
                Poll::Ready(Some(out)) => self.finished.push_back(out),
                _ => break,
            }
        }
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
        if *this.done {
            return Poll::Ready(None);
        }
        if let Some(out) = this.finished.pop_front() {
            this.refill(cx);
            return Poll::Ready(Some(out));
        }
        this.take_work(cx);
        match this.poll_running(cx) {
            Poll::Ready(Some(out)) => {
                this.refill(cx);
                Poll::Ready(Some(out))
            }
            // Nothing runs or waits: upstream has ended or registered our waker.
            Poll::Ready(None) => {
                if *this.upstream_done {
                    *this.done = true;
                    return Poll::Ready(None);
                }
                Poll::Pending
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let pending = self.running.len() + self.finished.len();
        size_hint::with_held(self.upstream_done, || self.stream.size_hint(), pending)
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
