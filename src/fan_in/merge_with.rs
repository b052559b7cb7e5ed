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
        }
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
                Poll::Ready(None) => *done = true,
                Poll::Pending => {}
            }
        }
        if *this.first_done && *this.second_done {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
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
        size_hint::sum(first, second)
    }
}

impl<St1, St2> FusedStream for MergeWith<St1, St2>
where
    St1: Stream,
    St2: Stream<Item = St1::Item>,
{
    fn is_terminated(&self) -> bool {
        self.first_done && self.second_done
    }
}
