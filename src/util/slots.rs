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
//!
//! A panic while a future is made or polled unwinds through a guard that
//! empties its slot (dropping the future), frees the slot and sets
//! [`Slots::panicked`], as futures-util's `FuturesUnordered` releases a task
//! whose poll panicked: a caller that catches the panic and polls again never
//! polls a panicked future, and the adapters end their stream then (an item
//! that panicked leaves a hole that no output can fill).

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, Waker};

use super::budget::POLL_BUDGET;
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
    panicked: bool,
}

impl<Fut> core::fmt::Debug for Slots<Fut> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Slots")
            .field("running", &self.running)
            .field("slots", &self.slots.len())
            .field("panicked", &self.panicked)
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
            panicked: false,
        }
    }

    /// How many futures are running.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.running
    }

    /// Whether a future panicked while it was made or polled (see the
    /// module docs).
    #[inline]
    pub(crate) fn panicked(&self) -> bool {
        self.panicked
    }

    /// Starts the future that `make` returns: makes it and polls it once, in
    /// a free slot, with that slot's waker. `Pending`: it keeps the slot and
    /// runs until [`poll_next`](Self::poll_next) yields its output.
    #[inline(always)]
    pub(crate) fn start(&mut self, make: impl FnOnce() -> Fut) -> Poll<Fut::Output> {
        let index = match self.free.pop() {
            Some(index) => index,
            None => self.add_slot(),
        };
        self.running += 1;
        let guard = Unwind { slots: self, index };
        let slot = &mut guard.slots.slots[index];
        slot.fut.set(Some(make()));
        let polled = poll_slot(slot);
        core::mem::forget(guard);
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
    /// Each future is polled at most once per round (a future that wakes
    /// itself while polled waits for the next round, after the others woken
    /// now), and a call polls at most [`POLL_BUDGET`] futures before it
    /// yields (returns `Pending` with a wake-up arranged): a future that wakes
    /// itself on every poll cannot keep the call going. Within that, a future
    /// that is pending a few times in a row (it yields, or its I/O is already
    /// ready) is polled again in the same call, without a trip through the
    /// executor.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Fut::Output>> {
        if self.running == 0 {
            return Poll::Ready(None);
        }
        let mut polls = 0;
        // The task's waker is registered only once nothing woken is left, and
        // the bits are read once more after that, so no wake-up is missed; a
        // call that yields an output needs none (its caller polls again).
        let mut registered = false;
        loop {
            while let Some(index) = self.woken.next() {
                match self.poll_woken_slot(index) {
                    Some(Poll::Ready(out)) => return Poll::Ready(Some(out)),
                    Some(Poll::Pending) => {}
                    None => continue,
                }
                polls += 1;
                if polls >= POLL_BUDGET {
                    // A future that woke itself since the registration has
                    // woken the task already.
                    if !(registered && self.woken.wake_owed()) {
                        cx.waker().wake_by_ref();
                    }
                    return Poll::Pending;
                }
            }
            if registered {
                return Poll::Pending;
            }
            self.woken.register(cx.waker());
            registered = true;
        }
    }

    /// Polls the futures woken since their last poll (what is left of the
    /// current round, or else one new round: each at most once) and pushes
    /// the output of each that finishes to `done`: what
    /// [`poll_next`](Self::poll_next) does for one output, for all of them.
    /// A future that wakes itself while polled is polled again in the next
    /// call. It does not register the task's waker: a caller that returns
    /// `Pending` with futures running must [`register`](Self::register) it
    /// and then call this once more (a caller that returns `Ready` is polled
    /// again anyway, and the marks of its futures' wake-ups wait for that
    /// poll).
    #[cfg(feature = "time")]
    #[inline(always)]
    pub(crate) fn poll_woken(&mut self, done: &mut Vec<Fut::Output>) {
        if self.running == 0 {
            return;
        }
        let mut fresh = false;
        while self.running > 0 {
            let index = match self.woken.next_in_round() {
                Some(index) => index,
                None if !fresh && self.woken.take_round() => {
                    fresh = true;
                    continue;
                }
                None => return,
            };
            if let Some(Poll::Ready(out)) = self.poll_woken_slot(index) {
                done.push(out);
            }
        }
    }

    /// Registers the task's waker for the wake-ups of the running futures;
    /// see [`poll_woken`](Self::poll_woken).
    #[cfg(feature = "time")]
    #[inline]
    pub(crate) fn register(&self, waker: &Waker) {
        self.woken.register(waker);
    }

    /// Polls slot `index`, which was woken; a future that finishes frees it.
    /// `None`: the slot holds no future (woken after its future finished or
    /// was dropped), so nothing was polled.
    #[inline(always)]
    fn poll_woken_slot(&mut self, index: usize) -> Option<Poll<Fut::Output>> {
        if self.slots.get(index)?.fut.is_none() {
            return None;
        }
        let guard = Unwind { slots: self, index };
        let polled = poll_slot(&mut guard.slots.slots[index]);
        core::mem::forget(guard);
        if polled.is_ready() {
            self.free.push(index);
            self.running -= 1;
        }
        Some(polled)
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

/// Cleans up after a panic that unwinds while slot `index` is being filled
/// or polled; forgotten when the call returns normally.
struct Unwind<'a, Fut> {
    slots: &'a mut Slots<Fut>,
    index: usize,
}

impl<Fut> Drop for Unwind<'_, Fut> {
    fn drop(&mut self) {
        let slots = &mut *self.slots;
        slots.slots[self.index].fut.set(None);
        slots.running -= 1;
        slots.free.push(self.index);
        slots.panicked = true;
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

#[cfg(all(test, not(stream_plus_loom)))]
mod tests {
    use super::Slots;
    use core::future::Future;
    use core::pin::Pin;
    use core::task::{Context, Poll, Waker};
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
    use std::sync::{Arc, Mutex};

    /// A future the test drives by hand: it keeps the waker of its last
    /// poll, completes once `ready` is set, panics when `panic` is set, and
    /// counts its polls and its drop.
    #[derive(Default)]
    struct Handle {
        ready: AtomicBool,
        panic: AtomicBool,
        polls: AtomicUsize,
        dropped: AtomicBool,
        waker: Mutex<Option<Waker>>,
    }

    impl Handle {
        fn wake(&self) {
            if let Some(w) = self.waker.lock().unwrap().take() {
                w.wake();
            }
        }
    }

    struct Manual(Arc<Handle>, u32);

    impl Future for Manual {
        type Output = u32;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
            self.0.polls.fetch_add(1, SeqCst);
            assert!(!self.0.panic.load(SeqCst), "the future panicked");
            if self.0.ready.load(SeqCst) {
                return Poll::Ready(self.1);
            }
            *self.0.waker.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    impl Drop for Manual {
        fn drop(&mut self) {
            self.0.dropped.store(true, SeqCst);
        }
    }

    fn manual(value: u32) -> (Arc<Handle>, impl FnOnce() -> Manual) {
        let h = Arc::new(Handle::default());
        let f = {
            let h = h.clone();
            move || Manual(h, value)
        };
        (h, f)
    }

    fn poll(slots: &mut Slots<Manual>) -> Poll<Option<u32>> {
        let waker = futures_util::task::noop_waker();
        slots.poll_next(&mut Context::from_waker(&waker))
    }

    #[test]
    fn a_finished_future_frees_its_slot_for_the_next() {
        let mut slots = Slots::new();
        let (a, make_a) = manual(1);
        assert!(slots.start(make_a).is_pending());
        let (b, make_b) = manual(2);
        assert!(slots.start(make_b).is_pending());
        assert_eq!((slots.len(), slots.slots.len()), (2, 2));
        a.ready.store(true, SeqCst);
        a.wake();
        assert_eq!(poll(&mut slots), Poll::Ready(Some(1)));
        assert!(
            a.dropped.load(SeqCst),
            "a finished future is dropped at once"
        );
        // The next future reuses a's slot: no new slot.
        let (_c, make_c) = manual(3);
        assert!(slots.start(make_c).is_pending());
        assert_eq!((slots.len(), slots.slots.len()), (2, 2));
        // A ready-at-once future never keeps a slot.
        let (d, make_d) = manual(4);
        d.ready.store(true, SeqCst);
        assert_eq!(slots.start(make_d), Poll::Ready(4));
        assert_eq!((slots.len(), slots.slots.len()), (2, 3));
        b.ready.store(true, SeqCst);
        b.wake();
        assert_eq!(poll(&mut slots), Poll::Ready(Some(2)));
        assert_eq!(slots.len(), 1);
    }

    #[test]
    fn retain_drops_the_futures_it_rejects_at_once() {
        let mut slots = Slots::new();
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let (h, make) = manual(i);
                assert!(slots.start(make).is_pending());
                h
            })
            .collect();
        slots.retain(|fut| fut.1 % 2 == 0);
        assert_eq!(slots.len(), 2);
        let dropped: Vec<bool> = handles.iter().map(|h| h.dropped.load(SeqCst)).collect();
        assert_eq!(dropped, [false, true, false, true]);
        // A stale wake of a dropped future polls nothing.
        handles[1].wake();
        assert_eq!(poll(&mut slots), Poll::Pending);
        assert_eq!(handles[1].polls.load(SeqCst), 1);
        slots.clear();
        assert_eq!(slots.len(), 0);
        assert!(handles.iter().all(|h| h.dropped.load(SeqCst)));
        assert_eq!(poll(&mut slots), Poll::Ready(None));
    }

    #[test]
    fn a_stale_wake_reaching_a_reused_slot_only_polls_the_new_future() {
        let mut slots = Slots::new();
        let (old, make_old) = manual(1);
        assert!(slots.start(make_old).is_pending());
        // The old future's waker, kept past its end, as a timer might.
        let stale = old.waker.lock().unwrap().clone().unwrap();
        old.ready.store(true, SeqCst);
        old.wake();
        assert_eq!(poll(&mut slots), Poll::Ready(Some(1)));
        let (new, make_new) = manual(2);
        assert!(slots.start(make_new).is_pending());
        assert_eq!(slots.slots.len(), 1, "the slot was reused");
        stale.wake();
        // A spurious poll of the new future, which stays pending; nothing
        // comes out for the old one.
        assert_eq!(poll(&mut slots), Poll::Pending);
        assert_eq!(new.polls.load(SeqCst), 2);
        assert_eq!(old.polls.load(SeqCst), 2);
        assert_eq!(slots.len(), 1);
        new.ready.store(true, SeqCst);
        new.wake();
        assert_eq!(poll(&mut slots), Poll::Ready(Some(2)));
        assert_eq!(poll(&mut slots), Poll::Ready(None));
    }

    /// Regression: a future that panicked stayed in its slot, so a caller
    /// that caught the panic and polled again polled a panicked future.
    #[test]
    fn a_future_that_panicked_is_dropped_and_its_slot_freed() {
        let mut slots = Slots::new();
        let (a, make_a) = manual(1);
        assert!(slots.start(make_a).is_pending());
        let (b, make_b) = manual(2);
        assert!(slots.start(make_b).is_pending());
        a.panic.store(true, SeqCst);
        a.wake();
        let caught = catch_unwind(AssertUnwindSafe(|| poll(&mut slots)));
        assert!(caught.is_err());
        assert!(
            a.dropped.load(SeqCst),
            "the panicked future was dropped on unwind"
        );
        assert!(slots.panicked());
        assert_eq!(slots.len(), 1);
        // Polled again (after a stray wake of a): a is never polled again.
        a.wake();
        assert_eq!(poll(&mut slots), Poll::Pending);
        assert_eq!(a.polls.load(SeqCst), 2);
        b.ready.store(true, SeqCst);
        b.wake();
        assert_eq!(poll(&mut slots), Poll::Ready(Some(2)));
        assert_eq!(poll(&mut slots), Poll::Ready(None));
    }

    /// The same for a panic while a future is made or first polled.
    #[test]
    fn a_panic_in_start_frees_the_slot() {
        let mut slots: Slots<Manual> = Slots::new();
        let caught = catch_unwind(AssertUnwindSafe(|| slots.start(|| panic!("in f"))));
        assert!(caught.is_err());
        assert!(slots.panicked());
        assert_eq!(slots.len(), 0);
        let (a, make_a) = manual(1);
        a.panic.store(true, SeqCst);
        let caught = catch_unwind(AssertUnwindSafe(|| slots.start(make_a)));
        assert!(caught.is_err());
        assert!(a.dropped.load(SeqCst));
        assert_eq!(poll(&mut slots), Poll::Ready(None));
        // Both panics used the same slot, freed each time: the next two
        // futures take it and one new slot.
        assert_eq!((slots.len(), slots.slots.len()), (0, 1));
        for i in 0..2 {
            let (_h, make) = manual(i);
            assert!(slots.start(make).is_pending());
        }
        assert_eq!((slots.len(), slots.slots.len()), (2, 2));
    }
}
