//! `try_map_concurrent`: `map_concurrent` for fallible work, yielding what the
//! sequential loop would (the `Ok`s in input order up to the first `Err` in
//! input order), on the slot engine of `util::slots`.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream, TryStream};
use futures_core::TryFuture;
use futures_util::future::{IntoFuture, TryFutureExt};
use futures_util::stream::{IntoStream, TryStreamExt};
use pin_project_lite::pin_project;

use super::{check_workers, pull};
use crate::util::{size_hint, Budget, Indexed, ReorderBuffer, Slots};

pin_project! {
    /// Stream for the [`try_map_concurrent`](crate::TryStreamExtPlus::try_map_concurrent) method.
    #[must_use = "streams do nothing unless polled"]
    #[project = TryMapConcurrentProj]
    pub struct TryMapConcurrent<St, Fut, F>
    where
        St: TryStream,
        Fut: TryFuture,
    {
        #[pin]
        stream: IntoStream<St>,
        f: F,
        running: Slots<Indexed<IntoFuture<Fut>>>,
        reorder: ReorderBuffer<Result<Fut::Ok, Fut::Error>>,
        next_in: u64,
        // Sequence number of the earliest error known so far.
        first_err: Option<u64>,
        workers: usize,
        upstream_done: bool,
        done: bool,
    }
}

impl<St, Fut, F> fmt::Debug for TryMapConcurrent<St, Fut, F>
where
    St: TryStream + fmt::Debug,
    Fut: TryFuture,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryMapConcurrent")
            .field("stream", &self.stream)
            .field("in_flight", &self.running.len())
            .field("reordered", &self.reorder.len())
            .field("workers", &self.workers)
            .field("first_err", &self.first_err)
            .field("done", &self.done)
            .finish()
    }
}

impl<St, Fut, F> TryMapConcurrent<St, Fut, F>
where
    St: TryStream,
    F: FnMut(St::Ok) -> Fut,
    Fut: TryFuture<Error = St::Error>,
{
    #[track_caller]
    pub(crate) fn new(stream: St, workers: usize, f: F) -> Self {
        check_workers("try_map_concurrent", workers);
        Self {
            stream: stream.into_stream(),
            f,
            running: Slots::new(),
            reorder: ReorderBuffer::new(),
            next_in: 0,
            first_err: None,
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

impl<St, Fut, F> TryMapConcurrentProj<'_, St, Fut, F>
where
    St: TryStream,
    F: FnMut(St::Ok) -> Fut,
    Fut: TryFuture<Error = St::Error>,
{
    /// Takes ready items into the free room (`workers` running, `2 × workers`
    /// taken and not yielded). An upstream error takes the next slot in order
    /// and stops the pulling for good.
    fn take_work(&mut self, cx: &mut Context<'_>) -> usize {
        let workers = *self.workers;
        let held = (*self.next_in - self.reorder.next_seq()) as usize;
        let room = (workers - self.running.len()).min(workers.saturating_mul(2) - held);
        let (f, running, reorder) = (&mut *self.f, &mut *self.running, &mut *self.reorder);
        let (next_in, first_err) = (&mut *self.next_in, &mut *self.first_err);
        pull(self.stream.as_mut(), self.upstream_done, cx, room, |item| {
            let seq = *next_in;
            *next_in += 1;
            match item {
                Ok(value) => match running.start(|| Indexed::new(seq, f(value).into_future())) {
                    Poll::Pending => true,
                    // Ready at once. An error here is the first one: items after
                    // it were never taken, and pulling stops.
                    Poll::Ready((seq, out)) => {
                        let ok = out.is_ok();
                        if !ok {
                            *first_err = Some(seq);
                        }
                        reorder.insert(seq, out);
                        ok
                    }
                },
                Err(e) => {
                    reorder.insert(seq, Err(e));
                    *first_err = Some(seq);
                    false
                }
            }
        })
    }

    /// Stores the output of item `seq`. An error cuts off every later item: its
    /// future is dropped now and its output, if any, discarded.
    fn accept(&mut self, seq: u64, out: Result<Fut::Ok, Fut::Error>) {
        if out.is_err() && self.first_err.map_or(true, |first| seq < first) {
            *self.first_err = Some(seq);
            *self.upstream_done = true;
            self.running.retain(|fut| fut.seq() < seq);
            self.reorder.truncate_after(seq);
        }
        self.reorder.insert(seq, out);
    }
}

impl<St, Fut, F> Stream for TryMapConcurrent<St, Fut, F>
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
        let mut budget = Budget::new();
        loop {
            if let Some(out) = this.reorder.pop() {
                if Some(this.reorder.next_seq() - 1) == *this.first_err {
                    // The first error in input order: everything else goes now.
                    *this.done = true;
                    this.running.clear();
                    this.reorder.clear();
                } else {
                    this.take_work(cx);
                }
                return Poll::Ready(Some(out));
            }

            this.take_work(cx);
            if this.reorder.head_ready() {
                // Started and finished at once (or an upstream error).
                continue;
            }

            match this.running.poll_next(cx) {
                Poll::Ready(Some((seq, out))) => {
                    this.accept(seq, out);
                    if !budget.spend(cx) {
                        return Poll::Pending;
                    }
                }
                // Nothing runs. Either the head is an upstream error just
                // stored, or the head has not been taken, so upstream has ended
                // or registered our waker.
                Poll::Ready(None) => {
                    if this.reorder.len() > 0 {
                        continue;
                    }
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
        // An error may end the stream early, so only the upper bound holds.
        let held = self.running.len() + self.reorder.len();
        size_hint::at_most(size_hint::with_held(
            self.upstream_done,
            || self.stream.size_hint(),
            held,
        ))
    }
}

impl<St, Fut, F> FusedStream for TryMapConcurrent<St, Fut, F>
where
    St: TryStream,
    F: FnMut(St::Ok) -> Fut,
    Fut: TryFuture<Error = St::Error>,
{
    fn is_terminated(&self) -> bool {
        self.done
    }
}
