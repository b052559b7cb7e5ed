//! `stage`: a pipeline whose stages each progress on their own, all driven
//! from the one outermost [`Staged`], in the task that polls it.
//!
//! Each stage boundary has a driver that pumps the stage before it into a
//! channel ([`super::channel`]). A driver's waker does not poll anything: it
//! sets the driver's `woken` flag and, unless the pipeline is being polled
//! right now, wakes the task. `Staged::poll_next` polls only the drivers whose
//! flag it clears, then the last stage, and goes round again (up to `ROUNDS`
//! times) while a driver was woken during the poll.
//!
//! The handshake between a waker and a poll that is about to return
//! `Pending`, with `polling` the task's flag:
//! - waker: `woken = true`, then an RMW on `polling` that reads it (wakes
//!   the task if it read `false`);
//! - poll: `polling = true`, poll the woken drivers and the last stage, then
//!   an RMW that sets `polling = false`, then read every `woken` flag.
//!
//! Read-modify-writes of one atomic are totally ordered, so either the waker's
//! RMW comes after the poll's (it reads `false` and wakes the task, whose
//! waker was registered before any flag was read) or before it (the poll's RMW
//! reads what the waker's released, so the poll then sees `woken`). A wake-up
//! is never lost, and a driver woken during a poll costs no task wake-up.
//! (A SeqCst store and load on each side, the textbook form, is not checked
//! by loom, which models SeqCst loads and stores as acquire / release.)
//!
//! Every write to the two flags is an RMW, even where a store would do
//! (`woken = true`, `polling = true`): loom 0.7 lets a plain store slip in
//! between the read and the write of a concurrent RMW (tokio-rs/loom#254),
//! which reports lost wake-ups that cannot happen; with RMWs only, its
//! models are exact. On x86 a swap costs what the SeqCst store it replaces
//! did. The flags are `util::sync` atomics, so the loom models check this
//! handshake (`stage_two_drivers_woken_from_other_threads`).

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;
use std::sync::Arc;
use std::task::Wake;

use super::channel::{channel, Panics, Receiver, Sender};
use crate::util::sync::{AtomicBool, AtomicWaker, Ordering};

/// The task polling the outermost [`Staged`], as the drivers see it.
#[derive(Debug)]
struct TaskWake {
    waker: AtomicWaker,
    // Set while `Staged::poll_next` runs: a driver woken then needs no task
    // wake-up, since the poll looks at the drivers' flags before it returns
    // `Pending` (and after a `Ready`, the consumer polls again anyway).
    polling: AtomicBool,
}

/// What a driver's waker does: marks that driver as woken and, unless the
/// pipeline is being polled right now, wakes its task, whose next poll polls
/// only the drivers so marked.
struct StageWake {
    woken: AtomicBool,
    task: Arc<TaskWake>,
}

impl Wake for StageWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // The handshake of the module docs: the flag, then a read of
        // `polling` by an RMW, ordered with the poll's RMW that clears it.
        self.woken.swap(true, Ordering::AcqRel);
        if !self.task.polling.fetch_or(false, Ordering::AcqRel) {
            self.task.waker.wake();
        }
    }
}

/// How many times one poll of `Staged` goes round again for drivers woken
/// during it, before it leaves the rest to a task wake-up.
const ROUNDS: u32 = 4;

pin_project! {
    /// Stream for the [`stage`](crate::StreamExtPlus::stage) method: a
    /// pipeline whose stages each progress on their own, all in the task that
    /// polls it.
    #[must_use = "streams do nothing unless polled"]
    pub struct Staged<D, S> {
        // `None` once the last stage has ended: every stage is dropped then.
        #[pin]
        pipeline: Option<Pipeline<D, S>>,
        task: Arc<TaskWake>,
    }
}

pin_project! {
    struct Pipeline<D, S> {
        #[pin]
        drivers: D,
        #[pin]
        last: S,
    }
}

pin_project! {
    /// The drivers of a [`Staged`] pipeline, one per stage boundary, as a list
    /// (`Prev` is the list of the stages before, `()` for the first). Each
    /// pulls its stage into the channel that the next stage reads. It is only
    /// ever held and polled by its [`Staged`].
    pub struct StageDrivers<Prev, St: Stream> {
        #[pin]
        prev: Prev,
        #[pin]
        stream: St,
        sender: Sender<St::Item>,
        wake: Arc<StageWake>,
        waker: Waker,
        // Upstream ended or the next stage dropped its input: nothing to do.
        finished: bool,
    }
}

/// The stream that the closure of [`stage`](crate::StreamExtPlus::stage) gets:
/// the items of the stage before, received from the channel between them.
#[must_use = "streams do nothing unless polled"]
pub struct StageInput<T> {
    receiver: Receiver<T>,
}

mod private {
    use core::pin::Pin;

    /// Polls every driver of the list that was woken since its last poll.
    pub trait PollDrivers {
        /// Returns whether a driver woke itself while it was polled (its poll
        /// budget ran out, or its upstream asked to be polled again): that
        /// one is left to a task wake-up, not polled again in the same poll.
        fn poll_woken(self: Pin<&mut Self>) -> bool;
        /// Whether a driver was woken since it was last polled.
        fn any_woken(&self) -> bool;
    }

    impl PollDrivers for () {
        #[inline]
        fn poll_woken(self: Pin<&mut Self>) -> bool {
            false
        }
        #[inline]
        fn any_woken(&self) -> bool {
            false
        }
    }
}
use private::PollDrivers;

impl<Prev: PollDrivers, St: Stream> PollDrivers for StageDrivers<Prev, St> {
    #[inline]
    fn poll_woken(self: Pin<&mut Self>) -> bool {
        let this = self.project();
        // Upstream stages first: what they send wakes the stages after them,
        // which then run in this same pass.
        let before = this.prev.poll_woken();
        // A load first: a driver not woken costs no read-modify-write.
        if *this.finished
            || !this.wake.woken.load(Ordering::Acquire)
            || !this.wake.woken.swap(false, Ordering::AcqRel)
        {
            return before;
        }
        let mut cx = Context::from_waker(this.waker);
        // A panic unwinds out of the poll of `Staged`, as the API promises.
        *this.finished = this
            .sender
            .poll_pump(this.stream, &mut cx, Panics::Unwind)
            .is_ready();
        before || (!*this.finished && this.wake.woken.load(Ordering::Acquire))
    }

    #[inline]
    fn any_woken(&self) -> bool {
        (!self.finished && self.wake.woken.load(Ordering::Acquire)) || self.prev.any_woken()
    }
}

impl<Prev, St: Stream> StageDrivers<Prev, St> {
    fn new(
        prev: Prev,
        stream: St,
        buffer: usize,
        task: &Arc<TaskWake>,
    ) -> (Self, StageInput<St::Item>) {
        let (sender, receiver) = channel(buffer);
        // Woken to begin with: the first poll of `Staged` starts every stage.
        let wake = Arc::new(StageWake {
            woken: AtomicBool::new(true),
            task: task.clone(),
        });
        let driver = StageDrivers {
            prev,
            stream,
            sender,
            waker: Waker::from(wake.clone()),
            wake,
            finished: false,
        };
        (driver, StageInput { receiver })
    }
}

pub(crate) fn stage<S, S2, F>(stream: S, buffer: usize, f: F) -> Staged<StageDrivers<(), S>, S2>
where
    S: Stream,
    F: FnOnce(StageInput<S::Item>) -> S2,
{
    let task = Arc::new(TaskWake {
        waker: AtomicWaker::new(),
        polling: AtomicBool::new(false),
    });
    let (drivers, input) = StageDrivers::new((), stream, buffer, &task);
    Staged {
        pipeline: Some(Pipeline {
            drivers,
            last: f(input),
        }),
        task,
    }
}

impl<D, S: Stream> Staged<D, S> {
    /// Adds the next stage to this pipeline: what `stage` on any stream does,
    /// but the new stage's driver joins this pipeline's drivers, so every stage
    /// of the chain is driven from the one outermost `Staged`.
    ///
    /// `f` is called once, here, with the receiving end of a channel of
    /// `buffer` (0: rendezvous; `n`: `n` items plus one in the driver's hand;
    /// `usize::MAX`: unbounded) that the current last stage is pulled into.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::executor::block_on;
    /// use futures::stream::{self, StreamExt};
    /// use stream_plus::StreamExtPlus;
    ///
    /// let out: Vec<u32> = block_on(
    ///     stream::iter(1..=4)
    ///         .stage(2, |s| s.map_concurrent(2, |x| async move { x * 10 }))
    ///         .stage(0, |s| s.map(|x| x + 1))
    ///         .collect(),
    /// );
    /// assert_eq!(out, [11, 21, 31, 41]);
    /// ```
    pub fn stage<S2, F>(self, buffer: usize, f: F) -> Staged<StageDrivers<D, S>, S2>
    where
        F: FnOnce(StageInput<S::Item>) -> S2,
    {
        let Staged { pipeline, task } = self;
        match pipeline {
            Some(Pipeline { drivers, last }) => {
                let (drivers, input) = StageDrivers::new(drivers, last, buffer, &task);
                Staged {
                    pipeline: Some(Pipeline {
                        drivers,
                        last: f(input),
                    }),
                    task,
                }
            }
            // Already ended (it was polled to its end through `&mut`): the
            // new stage gets an input that has ended too.
            None => {
                let (sender, receiver) = channel(buffer);
                drop(sender);
                let _ = f(StageInput { receiver });
                Staged {
                    pipeline: None,
                    task,
                }
            }
        }
    }
}

impl<D: PollDrivers, S: Stream> Stream for Staged<D, S> {
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let mut this = self.project();
        let Some(pipeline) = this.pipeline.as_mut().as_pin_mut() else {
            return Poll::Ready(None);
        };
        let mut pipeline = pipeline.project();
        let mut round = 0;
        // The task's waker is registered only before `Pending`, and the
        // drivers' flags are read once more after that: a driver woken from
        // then on wakes this task, one woken before is seen. A poll that
        // yields an item registers nothing (the consumer polls again).
        let mut registered = false;
        loop {
            this.task.polling.swap(true, Ordering::Relaxed);
            // The drivers are not the upstream of whatever observed point wraps
            // `Staged`: they run outside it.
            let self_woken = crate::observe::detached(|| pipeline.drivers.as_mut().poll_woken());
            let polled = pipeline.last.as_mut().poll_next(cx);
            // An RMW, for the handshake of the module docs.
            this.task.polling.swap(false, Ordering::AcqRel);
            match polled {
                Poll::Ready(None) => {
                    // The last stage ended: every stage goes now, whether or
                    // not upstream has ended.
                    this.pipeline.set(None);
                    return Poll::Ready(None);
                }
                // A driver woken meanwhile is polled on the next poll.
                Poll::Ready(Some(item)) => return Poll::Ready(Some(item)),
                Poll::Pending if self_woken => {
                    // Yield to the executor, as the poll budget asks.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                Poll::Pending if !pipeline.drivers.any_woken() => {
                    if registered {
                        return Poll::Pending;
                    }
                    this.task.waker.register(cx.waker());
                    registered = true;
                    if !pipeline.drivers.any_woken() {
                        return Poll::Pending;
                    }
                }
                // Woken during this poll (room in a channel, an item for the
                // stage after): go round again rather than through the executor.
                Poll::Pending => {
                    round += 1;
                    if round == ROUNDS {
                        cx.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                }
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.pipeline {
            Some(pipeline) => pipeline.last.size_hint(),
            None => (0, Some(0)),
        }
    }
}

impl<D: PollDrivers, S: Stream> FusedStream for Staged<D, S> {
    fn is_terminated(&self) -> bool {
        self.pipeline.is_none()
    }
}

impl<D, S> fmt::Debug for Staged<D, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Staged")
            .field("terminated", &self.pipeline.is_none())
            .finish_non_exhaustive()
    }
}

impl<Prev, St: Stream> fmt::Debug for StageDrivers<Prev, St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StageDrivers")
            .field("buffer", &self.sender.capacity())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl<T> Stream for StageInput<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        crate::observe::note_boundary();
        self.receiver.poll_recv(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.receiver.size_hint()
    }
}

impl<T> FusedStream for StageInput<T> {
    fn is_terminated(&self) -> bool {
        self.receiver.is_done()
    }
}

impl<T> fmt::Debug for StageInput<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StageInput")
            .field("buffer", &self.receiver.capacity())
            .field("done", &self.receiver.is_done())
            .finish()
    }
}
