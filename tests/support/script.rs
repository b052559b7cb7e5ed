//! A scripted upstream: items, spurious `Pending`s and real delays, with
//! counters of what was pulled.

use futures::Stream;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

#[derive(Debug)]
pub enum Step<T> {
    /// Yield this item.
    Item(T),
    /// Return `Pending` once (after waking the task).
    Pending,
    /// Return `Pending` until this much real time has passed.
    Delay(Duration),
}

/// A stream that plays its steps in order, then ends. It panics if it is polled
/// after it returned `None` (so a fused adapter must never do that).
#[derive(Debug)]
pub struct Script<T> {
    steps: VecDeque<Step<T>>,
    timer: Option<async_io::Timer>,
    pulled: Arc<AtomicUsize>,
    ended: bool,
}

impl<T> Script<T> {
    pub fn new(steps: impl IntoIterator<Item = Step<T>>) -> Self {
        Self {
            steps: steps.into_iter().collect(),
            timer: None,
            pulled: Arc::new(AtomicUsize::new(0)),
            ended: false,
        }
    }

    /// Just these items, all ready.
    pub fn items(items: impl IntoIterator<Item = T>) -> Self {
        Self::new(items.into_iter().map(Step::Item))
    }

    /// A counter of items handed out so far, readable after the stream moved.
    pub fn pulled(&self) -> Arc<AtomicUsize> {
        self.pulled.clone()
    }
}

impl<T: Unpin> Stream for Script<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        assert!(!self.ended, "upstream polled again after it returned None");
        loop {
            if let Some(timer) = self.timer.as_mut() {
                if Pin::new(timer).poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.timer = None;
            }
            match self.steps.pop_front() {
                Some(Step::Item(item)) => {
                    self.pulled.fetch_add(1, Ordering::SeqCst);
                    return Poll::Ready(Some(item));
                }
                Some(Step::Pending) => {
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Some(Step::Delay(d)) => self.timer = Some(async_io::Timer::after(d)),
                None => {
                    self.ended = true;
                    return Poll::Ready(None);
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Item(_)))
            .count();
        (n, Some(n))
    }
}
