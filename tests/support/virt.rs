//! A deterministic harness for the time operators: a virtual clock, an upstream
//! fed by hand (with spurious `Pending`s), and single polls with a counting
//! waker.
#![cfg(feature = "test-util")]

use futures::channel::mpsc;
use futures::stream::{BoxStream, Stream, StreamExt};
use futures_test::stream::StreamTestExt;
use futures_test::task::{new_count_waker, AwokenCount};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use stream_plus::test_util::VirtualClock;

pub struct Harness<T, S> {
    pub clock: VirtualClock,
    tx: Option<mpsc::UnboundedSender<T>>,
    stream: Option<Pin<Box<S>>>,
    waker: Waker,
    woken: AwokenCount,
    start: Instant,
    ended: bool,
}

impl<T: Send + 'static, S: Stream> Harness<T, S> {
    /// Builds the operator under test on a fresh virtual clock, over an
    /// upstream that the test feeds with `send`.
    pub fn new(build: impl FnOnce(BoxStream<'static, T>) -> S) -> Self {
        Self::build(true, build)
    }

    /// Like `new`, with an upstream that never returns a spurious `Pending`.
    pub fn without_spurious_pending(build: impl FnOnce(BoxStream<'static, T>) -> S) -> Self {
        Self::build(false, build)
    }

    fn build(interleave: bool, build: impl FnOnce(BoxStream<'static, T>) -> S) -> Self {
        let clock = VirtualClock::new();
        let (tx, rx) = mpsc::unbounded();
        let upstream = if interleave {
            rx.interleave_pending().boxed()
        } else {
            rx.boxed()
        };
        let stream = clock.enter(|| build(upstream));
        let (waker, woken) = new_count_waker();
        let start = clock.now();
        Self {
            clock,
            tx: Some(tx),
            stream: Some(Box::pin(stream)),
            waker,
            woken,
            start,
            ended: false,
        }
    }

    pub fn send(&mut self, item: T) -> &mut Self {
        self.tx
            .as_ref()
            .expect("upstream already ended")
            .unbounded_send(item)
            .unwrap();
        self
    }

    /// Ends the upstream.
    pub fn end(&mut self) -> &mut Self {
        self.tx = None;
        self
    }

    /// Moves virtual time to `ms` after the harness was built.
    pub fn at(&mut self, ms: u64) -> &mut Self {
        let target = self.start + Duration::from_millis(ms);
        let now = self.clock.now();
        assert!(target >= now, "time runs forward only");
        self.clock.advance(target - now);
        self
    }

    /// Virtual milliseconds since the harness was built.
    pub fn now_ms(&self) -> u64 {
        (self.clock.now() - self.start).as_millis() as u64
    }

    /// Polls once.
    pub fn poll(&mut self) -> Poll<Option<S::Item>> {
        let mut cx = Context::from_waker(&self.waker);
        let stream = self.stream.as_mut().expect("dropped");
        let polled = stream.as_mut().poll_next(&mut cx);
        if let Poll::Ready(None) = polled {
            self.ended = true;
        }
        polled
    }

    /// Polls until the operator has nothing more to give now: it returns
    /// `Pending` without having woken itself, or ends. Returns what it yielded.
    pub fn ready(&mut self) -> Vec<S::Item> {
        let mut out = Vec::new();
        for _ in 0..100_000 {
            let before = self.woken.get();
            match self.poll() {
                Poll::Ready(Some(item)) => out.push(item),
                Poll::Ready(None) => return out,
                // A spurious `Pending` (interleave_pending, or the poll budget)
                // wakes at once; poll again.
                Poll::Pending if self.woken.get() > before => continue,
                Poll::Pending => return out,
            }
        }
        panic!("operator never settled");
    }

    /// Whether the operator has returned `None`.
    pub fn ended(&self) -> bool {
        self.ended
    }

    /// How many times the operator's waker was woken.
    pub fn woken(&self) -> usize {
        self.woken.get()
    }

    /// Drops the operator (and with it every timer it armed).
    pub fn drop_stream(&mut self) {
        self.stream = None;
    }

    pub fn stream(&mut self) -> Pin<&mut S> {
        self.stream.as_mut().expect("dropped").as_mut()
    }
}
