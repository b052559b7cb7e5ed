//! Futures that count their own life: created, started, finished, dropped.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

#[derive(Debug, Default)]
struct Counts {
    created: AtomicUsize,
    started: AtomicUsize,
    finished: AtomicUsize,
    dropped: AtomicUsize,
    running: AtomicUsize,
    max_running: AtomicUsize,
}

/// Hands out tracked futures and reads their counters.
#[derive(Clone, Debug, Default)]
pub struct Tracker {
    counts: Arc<Counts>,
}

/// How a tracked future waits before it completes.
#[derive(Clone, Copy, Debug)]
pub enum Wait {
    /// Ready on the first poll.
    None,
    /// `Pending` this many times (waking itself each time).
    Yields(usize),
    /// A real timer.
    Sleep(Duration),
    /// Never completes.
    Forever,
}

impl Tracker {
    pub fn new() -> Self {
        Self::default()
    }

    /// A future that waits as told, then returns `value`.
    pub fn future<T>(&self, wait: Wait, value: T) -> impl Future<Output = T> + Send
    where
        T: Send,
    {
        self.counts.created.fetch_add(1, SeqCst);
        let guard = Guard {
            counts: self.counts.clone(),
            started: false,
        };
        async move {
            let mut guard = guard;
            guard.start();
            match wait {
                Wait::None => {}
                Wait::Yields(n) => yield_n(n).await,
                Wait::Sleep(d) => {
                    async_io::Timer::after(d).await;
                }
                Wait::Forever => futures::future::pending::<()>().await,
            }
            guard.finish();
            value
        }
    }

    pub fn created(&self) -> usize {
        self.counts.created.load(SeqCst)
    }
    pub fn started(&self) -> usize {
        self.counts.started.load(SeqCst)
    }
    pub fn finished(&self) -> usize {
        self.counts.finished.load(SeqCst)
    }
    pub fn dropped(&self) -> usize {
        self.counts.dropped.load(SeqCst)
    }
    /// Started and neither finished nor dropped.
    pub fn running(&self) -> usize {
        self.counts.running.load(SeqCst)
    }
    pub fn max_running(&self) -> usize {
        self.counts.max_running.load(SeqCst)
    }
}

struct Guard {
    counts: Arc<Counts>,
    started: bool,
}

impl Guard {
    fn start(&mut self) {
        self.started = true;
        self.counts.started.fetch_add(1, SeqCst);
        let now = self.counts.running.fetch_add(1, SeqCst) + 1;
        self.counts.max_running.fetch_max(now, SeqCst);
    }
    fn finish(&mut self) {
        self.counts.finished.fetch_add(1, SeqCst);
        self.counts.running.fetch_sub(1, SeqCst);
        self.started = false;
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.started {
            self.counts.running.fetch_sub(1, SeqCst);
        }
        self.counts.dropped.fetch_add(1, SeqCst);
    }
}

/// Returns `Pending` `n` times, waking itself each time: a delay measured in
/// polls, so completion order can be shuffled without real time.
pub fn yield_n(n: usize) -> impl Future<Output = ()> + Send {
    struct YieldN(usize);
    impl Future for YieldN {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 == 0 {
                return Poll::Ready(());
            }
            self.0 -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
    YieldN(n)
}
