//! The engine of the concurrent maps: a fixed set of slots for running futures.
//!
//! This replaces a `FuturesUnordered`, which allocates a task node per future.
//! Here each slot is allocated once, on its first use (a pinned box for the
//! future and a [`Waker`](core::task::Waker) from the [`WakeSet`]), and reused
//! by every later future: after the first `workers` futures nothing is
//! allocated per item.
//!
//! A future is polled once when it starts ([`Slots::start`]), in its slot, with
//! the slot's waker. One that is ready at once frees the slot again in the same
//! call. After that a future is polled only when its waker was woken
//! ([`Slots::poll_next`]), so idle futures cost nothing.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use super::WakeSet;

struct Slot<Fut> {
    fut: Pin<Box<Option<Fut>>>,
    waker: Waker,
}

/// Running futures in reusable slots; see the module docs.
pub(crate) struct Slots<Fut> {
    slots: Vec<Slot<Fut>>,
    /// Indices of empty slots.
    free: Vec<usize>,
    running: usize,
    woken: WakeSet,
}

impl<Fut> core::fmt::Debug for Slots<Fut> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Slots")
            .field("running", &self.running)
            .field("slots", &self.slots.len())
            .finish()
    }
}

impl<Fut: Future> Slots<Fut> {
    pub(crate) fn new() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            running: 0,
            woken: WakeSet::new(),
        }
    }

    /// How many futures are running.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.running
    }

    /// Starts `fut`: polls it once, in a free slot, with that slot's waker.
    /// `Pending`: it keeps the slot and runs until [`poll_next`](Self::poll_next)
    /// yields its output.
    #[inline]
    pub(crate) fn start(&mut self, fut: Fut) -> Poll<Fut::Output> {
        let index = match self.free.pop() {
            Some(index) => index,
            None => self.add_slot(),
        };
        let slot = &mut self.slots[index];
        slot.fut.set(Some(fut));
        // Counted before the poll: a future that panics stays counted with
        // its slot, as one that panics in `poll_next` does.
        self.running += 1;
        let polled = poll_slot(slot);
        if polled.is_ready() {
            self.running -= 1;
            self.free.push(index);
        }
        polled
    }

    #[cold]
    fn add_slot(&mut self) -> usize {
        let index = self.slots.len();
        let waker = self.woken.waker(index);
        self.slots.push(Slot {
            fut: Box::pin(None),
            waker,
        });
        // Room for every slot in the free list, so freeing never allocates.
        self.free.reserve(self.slots.len() - self.free.len());
        index
    }

    /// Polls the futures woken since their last poll, and yields the output
    /// of the first that finishes. `Ready(None)`: none is running.
    ///
    /// Each future is polled at most once per round, and a call polls at most
    /// as many futures as are running (at least one) before it yields (wakes
    /// the task and returns `Pending`): a future that wakes itself on every
    /// poll cannot keep the call going.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Fut::Output>> {
        if self.running == 0 {
            return Poll::Ready(None);
        }
        // Registered before the bits are read, so no wake-up can be missed.
        self.woken.register(cx.waker());
        let mut polls = 0;
        while let Some(index) = self.woken.next() {
            let Some(slot) = self.slots.get_mut(index) else {
                continue;
            };
            if slot.fut.is_none() {
                // Woken after its future finished or was dropped.
                continue;
            }
            if let Poll::Ready(out) = poll_slot(slot) {
                self.free.push(index);
                self.running -= 1;
                return Poll::Ready(Some(out));
            }
            polls += 1;
            if polls >= self.running {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
        Poll::Pending
    }

    /// Drops every running future whose `keep` is false, at once.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&Fut) -> bool) {
        for (index, slot) in self.slots.iter_mut().enumerate() {
            if matches!(&*slot.fut, Some(fut) if !keep(fut)) {
                slot.fut.set(None);
                self.free.push(index);
                self.running -= 1;
            }
        }
    }

    /// Drops every running future, at once.
    pub(crate) fn clear(&mut self) {
        if self.running > 0 {
            self.retain(|_| false);
        }
    }
}

/// Polls the future of `slot` (there is one) with the slot's waker; empties
/// the slot when it finishes.
#[inline(always)]
fn poll_slot<Fut: Future>(slot: &mut Slot<Fut>) -> Poll<Fut::Output> {
    let mut cx = Context::from_waker(&slot.waker);
    let fut = slot.fut.as_mut().as_pin_mut().expect("slot holds a future");
    let polled = fut.poll(&mut cx);
    if polled.is_ready() {
        slot.fut.set(None);
    }
    polled
}
