//! Gated futures and counted streams for hand-polled, deterministic tests.

use futures::channel::oneshot;
use futures::Stream;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

/// `n` gates, each a future that completes only once the test opens it.
#[derive(Clone, Debug)]
pub struct Gates {
    senders: Arc<Mutex<Vec<Option<oneshot::Sender<()>>>>>,
    receivers: Arc<Mutex<Vec<Option<oneshot::Receiver<()>>>>>,
}

impl Gates {
    pub fn new(n: usize) -> Self {
        let (senders, receivers) = (0..n)
            .map(|_| {
                let (tx, rx) = oneshot::channel();
                (Some(tx), Some(rx))
            })
            .unzip();
        Self {
            senders: Arc::new(Mutex::new(senders)),
            receivers: Arc::new(Mutex::new(receivers)),
        }
    }

    /// Waits until gate `i` is opened (or its opener is dropped with `Gates`).
    pub fn wait(&self, i: usize) -> impl std::future::Future<Output = ()> + Send + 'static {
        let rx = self.receivers.lock().unwrap()[i]
            .take()
            .expect("gate waited on twice");
        async move {
            let _ = rx.await;
        }
    }

    pub fn open(&self, i: usize) {
        if let Some(tx) = self.senders.lock().unwrap()[i].take() {
            let _ = tx.send(());
        }
    }
}

/// A counter shared by the test and the thing it counts.
#[derive(Clone, Debug, Default)]
pub struct Counter(Arc<AtomicUsize>);

impl Counter {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&self) {
        self.0.fetch_add(1, SeqCst);
    }
    pub fn get(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// Wraps a stream, counting its polls and, when it is dropped, its drop.
#[derive(Debug)]
pub struct Counted<S> {
    inner: S,
    polls: Counter,
    drops: Counter,
}

impl<S> Counted<S> {
    /// Counts into counters the test already holds.
    pub fn with(inner: S, polls: &Counter, drops: &Counter) -> Self {
        Self {
            inner,
            polls: polls.clone(),
            drops: drops.clone(),
        }
    }

    pub fn new(inner: S) -> (Self, Counter, Counter) {
        let (polls, drops) = (Counter::new(), Counter::new());
        (
            Self {
                inner,
                polls: polls.clone(),
                drops: drops.clone(),
            },
            polls,
            drops,
        )
    }
}

impl<S: Stream + Unpin> Stream for Counted<S> {
    type Item = S::Item;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        self.polls.add();
        Pin::new(&mut self.inner).poll_next(cx)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<S> Drop for Counted<S> {
    fn drop(&mut self) {
        self.drops.add();
    }
}

/// A stream that holds `input` (so its channel stays open) and never asks it
/// for an item: a next stage that is stuck.
pub fn never_asks<T, I: Send + 'static>(input: I) -> impl Stream<Item = T> + Send + Unpin {
    futures::stream::poll_fn(move |_| {
        let _keep = &input;
        Poll::Pending
    })
}
