//! `merge_with`: two streams' items as they come, fairly; ends when both
//! have ended, or when the side chosen with `ends_with_*` has.

use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use crate::util::size_hint;

pin_project! {
    /// Stream for the [`merge_with`](crate::StreamExtPlus::merge_with) method.
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct MergeWith<St1, St2> {
        #[pin]
        first: St1,
        #[pin]
        second: St2,
        first_done: bool,
        second_done: bool,
        // Which stream is polled first next time; flips after every item.
        second_goes_first: bool,
        ends: Ends,
    }
}

/// Which ends end the merged stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ends {
    Both,
    First,
    Second,
    Either,
}

impl Ends {
    #[inline]
    fn over(self, first_done: bool, second_done: bool) -> bool {
        match self {
            Ends::Both => first_done && second_done,
            Ends::First => first_done,
            Ends::Second => second_done,
            Ends::Either => first_done || second_done,
        }
    }
}

impl<St1, St2> MergeWith<St1, St2>
where
    St1: Stream,
    St2: Stream<Item = St1::Item>,
{
    pub(crate) fn new(first: St1, second: St2) -> Self {
        Self {
            first,
            second,
            first_done: false,
            second_done: false,
            second_goes_first: false,
            ends: Ends::Both,
        }
    }

    /// Ends the merged stream as soon as the first stream (the one
    /// `merge_with` was called on) ends, whether or not the second has: for
    /// a second stream that never ends, such as a progress ticker
    /// (`merge_with(interval(..))`). The second stream is not polled again
    /// and is dropped with the adapter. Akka's `merge(eagerComplete)`, for
    /// one side.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// // The ticker never ends; the merge ends with the work.
    /// let ticks = stream::repeat(0);
    /// let out: Vec<u32> = block_on(stream::iter(1..=3).merge_with(ticks).ends_with_first().collect());
    /// assert_eq!(out.iter().filter(|&&x| x > 0).count(), 3);
    /// ```
    pub fn ends_with_first(mut self) -> Self {
        self.ends = Ends::First;
        self
    }

    /// Ends the merged stream as soon as the second stream ends, whether or
    /// not the first has; the first is not polled again.
    pub fn ends_with_second(mut self) -> Self {
        self.ends = Ends::Second;
        self
    }

    /// Ends the merged stream as soon as either stream ends (Akka's
    /// `merge(eagerComplete = true)`); the other is not polled again.
    pub fn ends_with_either(mut self) -> Self {
        self.ends = Ends::Either;
        self
    }

    /// Acquires references to the two underlying streams.
    pub fn get_ref(&self) -> (&St1, &St2) {
        (&self.first, &self.second)
    }

    /// Acquires mutable references to the two underlying streams.
    pub fn get_mut(&mut self) -> (&mut St1, &mut St2) {
        (&mut self.first, &mut self.second)
    }

    /// Consumes the adapter and returns the two underlying streams.
    pub fn into_inner(self) -> (St1, St2) {
        (self.first, self.second)
    }
}

impl<St1, St2> Stream for MergeWith<St1, St2>
where
    St1: Stream,
    St2: Stream<Item = St1::Item>,
{
    type Item = St1::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<St1::Item>> {
        let mut this = self.project();
        if this.ends.over(*this.first_done, *this.second_done) {
            return Poll::Ready(None);
        }
        for turn in 0..2 {
            let poll_second = (turn == 0) == *this.second_goes_first;
            let (done, polled) = if poll_second {
                if *this.second_done {
                    continue;
                }
                (&mut *this.second_done, this.second.as_mut().poll_next(cx))
            } else {
                if *this.first_done {
                    continue;
                }
                (&mut *this.first_done, this.first.as_mut().poll_next(cx))
            };
            match polled {
                Poll::Ready(Some(item)) => {
                    // The other one goes first next time: neither can starve.
                    *this.second_goes_first = !poll_second;
                    return Poll::Ready(Some(item));
                }
                Poll::Ready(None) => {
                    *done = true;
                    if this.ends.over(*this.first_done, *this.second_done) {
                        return Poll::Ready(None);
                    }
                }
                Poll::Pending => {}
            }
        }
        Poll::Pending
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.is_over() {
            return (0, Some(0));
        }
        let first = if self.first_done {
            (0, Some(0))
        } else {
            self.first.size_hint()
        };
        let second = if self.second_done {
            (0, Some(0))
        } else {
            self.second.size_hint()
        };
        let (lo, hi) = size_hint::sum(first, second);
        // Only the items of the side(s) whose end ends the merge are certain.
        let lo = match self.ends {
            Ends::Both => lo,
            Ends::First => first.0,
            Ends::Second => second.0,
            Ends::Either => first.0.min(second.0),
        };
        (lo, hi)
    }
}

impl<St1, St2> MergeWith<St1, St2> {
    fn is_over(&self) -> bool {
        self.ends.over(self.first_done, self.second_done)
    }
}

impl<St1, St2> FusedStream for MergeWith<St1, St2>
where
    St1: Stream,
    St2: Stream<Item = St1::Item>,
{
    fn is_terminated(&self) -> bool {
        self.is_over()
    }
}
