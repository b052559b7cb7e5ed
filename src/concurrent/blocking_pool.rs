//! The engine of `map_blocking` and `map_blocking_unordered`: a bounded input
//! queue drained by at most `workers` jobs on the `blocking` thread pool.
//!
//! A job is one hand-off to the pool (tens of microseconds: `benches/blocking.rs`
//! compares one `unblock` per item with this pool), so a job
//! does not run one item: it takes items from the shared queue until the queue
//! is empty, then exits. While the consumer keeps the queue fed, the same
//! `workers` jobs stay on their threads and the hand-off cost is paid once per
//! run of items, not once per item. A job that finds the queue empty waits a
//! little for more (blocked, not spinning; see `LINGER`), then exits, so no pool
//! thread is held by an idle stream, and a dropped stream releases its jobs at
//! once.

use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::Stream;
use std::any::Any;
use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

use crate::util::sync::{
    lock_ignoring_poison, Arc, AtomicBool, AtomicWaker, Condvar, Mutex, MutexGuard, Ordering,
};
use crate::util::{size_hint, Outputs};

/// Items taken from upstream and not yet yielded, per worker. Enough runway
/// that the jobs do not run dry while the consumer waits for a core.
pub(crate) const AHEAD_PER_WORKER: usize = 64;

/// How long a job whose queue ran dry waits for more items before it exits.
/// A consumer that shares two cores with two busy jobs may take that long to
/// be scheduled and refill the queue; exiting at once would cost a new
/// hand-off for every such gap.
const LINGER: Duration = Duration::from_millis(1);

/// Results that may wait before the consumer is woken (see `run_job`).
const WAKE_BATCH: usize = 4;

/// An item that took this long is worth a wake-up of its own.
const SLOW_ITEM: Duration = Duration::from_micros(50);

/// What a job runs per item: `f` itself for `map_blocking`, `f` behind the
/// `Result` of the item for `try_map_blocking` ([`TryCall`]).
pub(crate) trait Call<T>: Send + Sync + 'static {
    type Out;
    fn call(&self, item: T) -> Self::Out;
    /// Whether this output stops the stage (an `Err`): calls not started yet
    /// never start, and upstream is not pulled again.
    fn fails(_out: &Self::Out) -> bool {
        false
    }
    /// Whether this upstream item stops the pulling (an `Err` from upstream).
    fn stops(_item: &T) -> bool {
        false
    }
}

impl<T, U, F: Fn(T) -> U + Send + Sync + 'static> Call<T> for F {
    type Out = U;
    #[inline]
    fn call(&self, item: T) -> U {
        self(item)
    }
}

/// `f: Fn(T) -> Result<U, E>` over upstream `Result<T, E>`s: an upstream `Err`
/// passes through in its place, without a call.
pub(crate) struct TryCall<F>(pub(crate) F);

impl<T, U, E, F> Call<Result<T, E>> for TryCall<F>
where
    F: Fn(T) -> Result<U, E> + Send + Sync + 'static,
{
    type Out = Result<U, E>;
    #[inline]
    fn call(&self, item: Result<T, E>) -> Result<U, E> {
        item.and_then(&self.0)
    }
    fn fails(out: &Result<U, E>) -> bool {
        out.is_err()
    }
    fn stops(item: &Result<T, E>) -> bool {
        item.is_err()
    }
}

struct State<T, O> {
    input: VecDeque<(u64, T)>,
    outputs: O,
    jobs: usize,
    // Jobs inside a call of `f` now. The others (`jobs - running`) are about
    // to take the next queued item, or linger for one.
    running: usize,
    // Jobs waiting (for at most `LINGER`) for more input.
    lingering: usize,
    // Results pushed since the consumer was last woken.
    unclaimed: usize,
    // Below this many queued items, every result wakes the consumer to refill.
    low_water: usize,
    // Set when the stream is dropped or `f` panicked: jobs exit at once.
    stopped: bool,
    panic: Option<Box<dyn Any + Send + 'static>>,
}

struct Shared<T, F, O> {
    f: F,
    state: Mutex<State<T, O>>,
    // Signalled when input arrives or the stream stops, for lingering jobs.
    more: Condvar,
    consumer: AtomicWaker,
    // Set when an output failed (`Call::fails`): upstream is not pulled again.
    failed: AtomicBool,
}

impl<T, F, O> Shared<T, F, O> {
    fn lock(&self) -> MutexGuard<'_, State<T, O>> {
        // `f` never runs under the lock, so it is never poisoned in practice.
        lock_ignoring_poison(&self.state)
    }
}

/// One job on the pool: runs queued items until the queue is empty.
fn run_job<T, F, O>(shared: Arc<Shared<T, F, O>>)
where
    F: Call<T>,
    O: Outputs<F::Out> + Send + 'static,
{
    loop {
        let (seq, item) = {
            let mut state = shared.lock();
            if state.input.is_empty() && !state.stopped {
                state.lingering += 1;
                state = match shared.more.wait_timeout(state, LINGER) {
                    Ok((guard, _)) => guard,
                    Err(poisoned) => poisoned.into_inner().0,
                };
                state.lingering -= 1;
            }
            match state.input.pop_front() {
                Some(next) if !state.stopped => {
                    state.running += 1;
                    next
                }
                _ => {
                    state.jobs -= 1;
                    return;
                }
            }
        };
        let started = Instant::now();
        let out = match panic::catch_unwind(AssertUnwindSafe(|| shared.f.call(item))) {
            Ok(out) => out,
            Err(payload) => {
                let mut state = shared.lock();
                state.panic = Some(payload);
                state.stopped = true;
                state.running -= 1;
                state.jobs -= 1;
                drop(state);
                shared.more.notify_all();
                shared.consumer.wake();
                return;
            }
        };
        let slow = started.elapsed() >= SLOW_ITEM;
        let fails = F::fails(&out);
        let mut cancelled = VecDeque::new();
        let wake = {
            let mut state = shared.lock();
            state.running -= 1;
            if state.stopped {
                state.jobs -= 1;
                return; // the stream is gone: the result is discarded
            }
            if fails {
                // An `Err`: the calls not started yet never start (every
                // queued item comes after this one), and upstream is not
                // pulled again.
                shared.failed.store(true, Ordering::SeqCst);
                cancelled = std::mem::take(&mut state.input);
            }
            state.outputs.push(seq, out);
            state.unclaimed += 1;
            // Wake the consumer once per batch of results: when enough are
            // waiting, when the queue needs refilling, or at once for slow items.
            let wake = slow
                || fails
                || state.unclaimed >= WAKE_BATCH
                || state.input.len() <= state.low_water;
            if wake {
                state.unclaimed = 0;
            }
            wake
        };
        drop(cancelled); // outside the lock: an item's Drop may do anything
        if wake {
            shared.consumer.wake();
        }
    }
}

/// Hands a job to the `blocking` pool (to a loom thread in the loom models,
/// which stand in for the pool).
fn spawn_job(job: impl FnOnce() + Send + 'static) {
    #[cfg(not(all(test, stream_plus_loom)))]
    blocking::unblock(job).detach();
    #[cfg(all(test, stream_plus_loom))]
    loom::thread::spawn(job);
}

/// The state machine shared by both adapters.
pub(crate) struct Pool<T, F, O> {
    shared: Arc<Shared<T, F, O>>,
    workers: usize,
    limit: usize,
    next_in: u64,
    yielded: u64,
    upstream_done: bool,
    done: bool,
    // Reused buffer for items pulled in one poll.
    batch: Vec<(u64, T)>,
}

impl<T, F, O> Pool<T, F, O>
where
    T: Send + 'static,
    F: Call<T>,
    F::Out: Send + 'static,
    O: Outputs<F::Out> + Send + 'static,
{
    #[track_caller]
    pub(crate) fn new(method: &str, workers: usize, f: F) -> Self {
        assert!(workers >= 1, "{method}: workers must be at least 1");
        let limit = workers.saturating_mul(AHEAD_PER_WORKER);
        let state = State {
            input: VecDeque::new(),
            outputs: O::new(),
            jobs: 0,
            running: 0,
            lingering: 0,
            unclaimed: 0,
            low_water: limit / 2,
            stopped: false,
            panic: None,
        };
        let shared = Shared {
            f,
            state: Mutex::new(state),
            more: Condvar::new(),
            consumer: AtomicWaker::new(),
            failed: AtomicBool::new(false),
        };
        Self {
            shared: Arc::new(shared),
            workers,
            limit,
            next_in: 0,
            yielded: 0,
            upstream_done: false,
            done: false,
            batch: Vec::new(),
        }
    }

    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// Calls of `f` running now.
    pub(crate) fn in_flight(&self) -> usize {
        lock_ignoring_poison(&self.shared.state).running
    }

    pub(crate) fn workers(&self) -> usize {
        self.workers
    }

    /// Items taken from upstream and not yet yielded.
    fn held(&self) -> usize {
        (self.next_in - self.yielded) as usize
    }

    /// Takes ready upstream items into the queue and starts jobs for them.
    fn feed<St: Stream<Item = T>>(&mut self, mut stream: Pin<&mut St>, cx: &mut Context<'_>) {
        if self.shared.failed.load(Ordering::SeqCst) {
            self.upstream_done = true; // an `Err` is known: no more pulling
        }
        let room = self.limit - self.held();
        let batch = &mut self.batch;
        let next_in = &mut self.next_in;
        super::pull(stream.as_mut(), &mut self.upstream_done, cx, room, |item| {
            let stops = F::stops(&item);
            batch.push((*next_in, item));
            *next_in += 1;
            !stops
        });
        if self.batch.is_empty() {
            return;
        }
        let new_jobs = {
            let mut state = self.shared.lock();
            let added = self.batch.len();
            state.input.extend(self.batch.drain(..));
            // One lingering job per new item; waking them all would only make
            // them fight over the lock.
            for _ in 0..added.min(state.lingering) {
                self.shared.more.notify_one();
            }
            // Jobs not inside a call take queued items first; every item
            // beyond them gets a job of its own, up to `workers` jobs. (A job
            // blocked in a long call must not hold items back: whether `f`
            // computes or sleeps, up to `workers` calls run while that many
            // items wait.)
            let free = state.jobs - state.running;
            let new_jobs = state
                .input
                .len()
                .saturating_sub(free)
                .min(self.workers.saturating_sub(state.jobs));
            state.jobs += new_jobs;
            new_jobs
        };
        for _ in 0..new_jobs {
            let shared = self.shared.clone();
            spawn_job(move || run_job(shared));
        }
    }

    /// The next output, if one is ready. Re-raises a panic of `f`.
    fn take_output(&mut self) -> Option<F::Out> {
        let mut state = self.shared.lock();
        if let Some(payload) = state.panic.take() {
            drop(state);
            self.done = true;
            panic::resume_unwind(payload);
        }
        let out = state.outputs.pop();
        if out.is_some() {
            self.yielded += 1;
        }
        out
    }

    pub(crate) fn poll_next<St: Stream<Item = T>>(
        &mut self,
        stream: Pin<&mut St>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<F::Out>> {
        if self.done {
            return Poll::Ready(None);
        }
        self.feed(stream, cx);
        if let Some(out) = self.take_output() {
            return Poll::Ready(Some(out));
        }
        if self.upstream_done && self.held() == 0 {
            self.done = true;
            return Poll::Ready(None);
        }
        // Register, then look again, so an output that landed in between is
        // not missed. Jobs wake us only while we wait.
        self.shared.consumer.register(cx.waker());
        match self.take_output() {
            Some(out) => Poll::Ready(Some(out)),
            None => Poll::Pending,
        }
    }

    pub(crate) fn size_hint(&self, upstream: (usize, Option<usize>)) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        size_hint::with_held(self.upstream_done, || upstream, self.held())
    }
}

impl<T, F, O> Pool<T, F, O> {
    /// Stops the stage: items not yet started are dropped now and `f` is
    /// never called on them; running calls finish on the pool, their results
    /// are discarded and their jobs exit.
    pub(crate) fn stop(&mut self) {
        self.done = true;
        let input = {
            let mut state = self.shared.lock();
            state.stopped = true;
            std::mem::take(&mut state.input)
        };
        self.shared.more.notify_all(); // lingering jobs exit now
        drop(input); // outside the lock: an item's Drop may do anything
    }
}

impl<T, F, O> Drop for Pool<T, F, O> {
    fn drop(&mut self) {
        self.stop();
    }
}
