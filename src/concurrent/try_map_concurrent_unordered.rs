//! `try_map_concurrent_unordered`: fallible work in completion order; the
//! first `Err` in time ends the stream and drops every other running future.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream, TryStream};
use futures_core::TryFuture;
use futures_util::future::{IntoFuture, TryFutureExt};
use futures_util::stream::{IntoStream, TryStreamExt};
use pin_project_lite::pin_project;
use std::collections::VecDeque;

use super::{check_workers, pull};
use crate::util::{size_hint, Slots};

pin_project! {
    /// Stream for the [`try_map_concurrent_unordered`](crate::TryStreamExtPlus::try_map_concurrent_unordered) method.
    #[must_use = "streams do nothing unless polled"]
    #[project = TryMapConcurrentUnorderedProj]
    pub struct TryMapConcurrentUnordered<St, Fut, F>
    where
        St: TryStream,
        Fut: TryFuture,
    {
        #[pin]
        stream: IntoStream<St>,
        f: F,
        running: Slots<IntoFuture<Fut>>,
        // Outputs that finished during an eager refill, in completion order; an
        // error, if any, is last.
        finished: VecDeque<Result<Fut::Ok, Fut::Error>>,
        workers: usize,
        upstream_done: bool,
        done: bool,
    }
}

impl<St, Fut, F> fmt::Debug for TryMapConcurrentUnordered<St, Fut, F>
where
    St: TryStream + fmt::Debug,
    Fut: TryFuture,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryMapConcurrentUnordered")
            .field("stream", &self.stream)
            .field("in_flight", &self.running.len())
            .field("finished", &self.finished.len())
            .field("workers", &self.workers)
            .field("done", &self.done)
            .finish()
    }
}

impl<St, Fut, F> TryMapConcurrentUnordered<St, Fut, F>
where
    St: TryStream,
    F: FnMut(St::Ok) -> Fut,
    Fut: TryFuture<Error = St::Error>,
{
    #[track_caller]
    pub(crate) fn new(stream: St, workers: usize, f: F) -> Self {
        check_workers("try_map_concurrent_unordered", workers);
        Self {
            stream: stream.into_stream(),
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

    crate::util::wrapped_stream_accessors!(stream: St, "Consumes the adapter and returns the underlying stream. Running futures and finished outputs not yet yielded are dropped.");
}

impl<St, Fut, F> TryMapConcurrentUnorderedProj<'_, St, Fut, F>
where
    St: TryStream,
    F: FnMut(St::Ok) -> Fut,
    Fut: TryFuture<Error = St::Error>,
{
    /// Takes ready items into the free room and starts their futures (each
    /// is polled once). The first error in time, from upstream or from a
    /// future that fails at once, drops every running future, is queued after
    /// the outputs that finished before it, and stops the pulling for good.
    /// Also the eager refill before an output is handed out (see
    /// `MapConcurrent`).
    fn take_work(&mut self, cx: &mut Context<'_>) {
        let room = *self.workers - self.running.len() - self.finished.len();
        let (f, running, finished) = (&mut *self.f, &mut *self.running, &mut *self.finished);
        pull(self.stream.as_mut(), self.upstream_done, cx, room, |item| {
            let failed = match item.map(|value| running.start(|| f(value).into_future())) {
                Ok(Poll::Pending) => return true,
                Ok(Poll::Ready(Ok(out))) => {
                    finished.push_back(Ok(out));
                    return true;
                }
                Ok(Poll::Ready(Err(e))) | Err(e) => e,
            };
            running.clear();
            finished.push_back(Err(failed));
            false
        });
    }
}

impl<St, Fut, F> Stream for TryMapConcurrentUnordered<St, Fut, F>
where
    St: TryStream,
    F: FnMut(St::Ok) -> Fut,
    Fut: TryFuture<Error = St::Error>,
{
    type Item = Result<Fut::Ok, Fut::Error>;

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
        match out {
            Ok(value) => {
                this.take_work(cx);
                Poll::Ready(Some(Ok(value)))
            }
            Err(e) => {
                *this.done = true;
                *this.upstream_done = true;
                this.running.clear();
                this.finished.clear();
                Poll::Ready(Some(Err(e)))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let held = self.running.len() + self.finished.len();
        size_hint::at_most(size_hint::with_held(
            self.upstream_done,
            || self.stream.size_hint(),
            held,
        ))
    }
}

impl<St, Fut, F> FusedStream for TryMapConcurrentUnordered<St, Fut, F>
where
    St: TryStream,
    F: FnMut(St::Ok) -> Fut,
    Fut: TryFuture<Error = St::Error>,
{
    fn is_terminated(&self) -> bool {
        self.done
    }
}
