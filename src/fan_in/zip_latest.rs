//! `zip_latest`: once both sides have yielded, a pair of the latest values
//! every time either side yields.

use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use crate::util::Budget;

pin_project! {
    /// Stream for the [`zip_latest`](crate::StreamExtPlus::zip_latest) method.
    #[must_use = "streams do nothing unless polled"]
    #[derive(Debug)]
    pub struct ZipLatest<St1: Stream, St2: Stream> {
        #[pin]
        first: St1,
        #[pin]
        second: St2,
        latest_first: Option<St1::Item>,
        latest_second: Option<St2::Item>,
        first_done: bool,
        second_done: bool,
        // Which side is polled first next time; flips after every pair.
        second_goes_first: bool,
        done: bool,
    }
}

impl<St1: Stream, St2: Stream> ZipLatest<St1, St2> {
    pub(crate) fn new(first: St1, second: St2) -> Self {
        Self {
            first,
            second,
            latest_first: None,
            latest_second: None,
            first_done: false,
            second_done: false,
            second_goes_first: false,
            done: false,
        }
    }

    /// Acquires references to the two underlying streams.
    pub fn get_ref(&self) -> (&St1, &St2) {
        (&self.first, &self.second)
    }

    /// Consumes the adapter and returns the two underlying streams.
    pub fn into_inner(self) -> (St1, St2) {
        (self.first, self.second)
    }
}

impl<St1, St2> Stream for ZipLatest<St1, St2>
where
    St1: Stream,
    St1::Item: Clone,
    St2: Stream,
    St2::Item: Clone,
{
    type Item = (St1::Item, St2::Item);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        if *this.done {
            return Poll::Ready(None);
        }
        let mut budget = Budget::new();
        loop {
            let mut progressed = false;
            for turn in 0..2 {
                let second = (turn == 0) == *this.second_goes_first;
                let got_item = if second {
                    !*this.second_done
                        && match this.second.as_mut().poll_next(cx) {
                            Poll::Ready(Some(item)) => {
                                *this.latest_second = Some(item);
                                true
                            }
                            Poll::Ready(None) => {
                                *this.second_done = true;
                                false
                            }
                            Poll::Pending => false,
                        }
                } else {
                    !*this.first_done
                        && match this.first.as_mut().poll_next(cx) {
                            Poll::Ready(Some(item)) => {
                                *this.latest_first = Some(item);
                                true
                            }
                            Poll::Ready(None) => {
                                *this.first_done = true;
                                false
                            }
                            Poll::Pending => false,
                        }
                };
                if got_item {
                    progressed = true;
                    if let (Some(a), Some(b)) =
                        (this.latest_first.as_ref(), this.latest_second.as_ref())
                    {
                        // Both ready in one poll: the other side goes first next time.
                        *this.second_goes_first = !second;
                        return Poll::Ready(Some((a.clone(), b.clone())));
                    }
                }
            }
            let both_ended = *this.first_done && *this.second_done;
            // A side that ended without an item means no pair can ever come.
            let hopeless = (*this.first_done && this.latest_first.is_none())
                || (*this.second_done && this.latest_second.is_none());
            if both_ended || hopeless {
                *this.done = true;
                return Poll::Ready(None);
            }
            if !progressed {
                return Poll::Pending;
            }
            // One side yielded before the other ever did: keep its newest.
            if !budget.spend(cx) {
                return Poll::Pending;
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
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
        // At most one pair per item of either side.
        (0, crate::util::size_hint::sum(first, second).1)
    }
}

impl<St1, St2> FusedStream for ZipLatest<St1, St2>
where
    St1: Stream,
    St1::Item: Clone,
    St2: Stream,
    St2::Item: Clone,
{
    fn is_terminated(&self) -> bool {
        self.done
    }
}
