//! The one seam between the time operators and real time.
//!
//! Every time operator reads `now()` and arms timers through a [`Clock`] that it
//! captures when it is built. Normally that is the real clock: `Instant::now()`
//! and `async_io::Timer`. With the `test-util` feature, a [`VirtualClock`]
//! entered around the construction makes the operator run on manual time
//! instead, so tests can advance time and assert exactly what is yielded.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

#[cfg(feature = "test-util")]
pub use self::manual::VirtualClock;

/// About thirty years: what a deadline too far to represent becomes.
const FAR: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// `at + d`, saturating: any `d` up to `Duration::MAX` is valid (API.md rule 7)
/// and means a deadline that may never come, so one too far for `Instant` is
/// moved to about thirty years on rather than overflowing.
#[inline]
pub(crate) fn later(at: Instant, d: Duration) -> Instant {
    at.checked_add(d)
        .or_else(|| at.checked_add(FAR.min(d)))
        .unwrap_or(at)
}

/// The time source an operator was built with.
#[derive(Clone, Debug, Default)]
pub(crate) struct Clock {
    #[cfg(feature = "test-util")]
    manual: Option<std::sync::Arc<manual::Shared>>,
}

impl Clock {
    /// The clock for an operator built now, on this thread.
    pub(crate) fn current() -> Self {
        Self {
            #[cfg(feature = "test-util")]
            manual: manual::current(),
        }
    }

    #[inline]
    pub(crate) fn now(&self) -> Instant {
        #[cfg(feature = "test-util")]
        if let Some(manual) = &self.manual {
            return manual.now();
        }
        Instant::now()
    }

    /// `now() + d`, saturating (see [`later`]).
    #[inline]
    pub(crate) fn after(&self, d: Duration) -> Instant {
        later(self.now(), d)
    }

    /// A disarmed timer on this clock.
    pub(crate) fn timer(&self) -> Timer {
        Timer {
            clock: self.clone(),
            deadline: None,
            inner: TimerInner::Idle,
        }
    }
}

/// A re-armable one-shot timer.
///
/// Setting a deadline only records it; the underlying timer is registered (or
/// moved) when the timer is polled, which the operators do only when they are
/// about to return `Pending`. A ready burst therefore costs no timer operations.
#[derive(Debug)]
pub(crate) struct Timer {
    clock: Clock,
    deadline: Option<Instant>,
    inner: TimerInner,
}

#[derive(Debug)]
enum TimerInner {
    Idle,
    Real {
        timer: async_io::Timer,
        at: Instant,
    },
    #[cfg(feature = "test-util")]
    Manual(manual::Sleeper),
}

impl Timer {
    /// Disarms the timer and releases its registration.
    pub(crate) fn clear(&mut self) {
        self.deadline = None;
        self.inner = TimerInner::Idle;
    }

    /// Waits until `due`: `Ready` once the clock has reached it, `Pending` with a
    /// wake-up arranged otherwise.
    ///
    /// An armed deadline is only ever moved earlier; when it fires before `due`
    /// (because `due` moved later since), it is re-armed. So a deadline that
    /// keeps moving later, as debounce's does with every item, costs one timer
    /// operation per firing rather than one per move.
    pub(crate) fn poll_until(&mut self, due: Instant, cx: &mut Context<'_>) -> Poll<()> {
        loop {
            if self.clock.now() >= due {
                self.deadline = None;
                return Poll::Ready(());
            }
            if self.deadline.map_or(true, |armed| armed > due) {
                self.deadline = Some(due);
            }
            if self.poll_armed(cx).is_pending() {
                return Poll::Pending;
            }
        }
    }

    /// Polls the armed deadline; it is disarmed when it fires.
    fn poll_armed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(deadline) = self.deadline else {
            return Poll::Pending;
        };
        #[cfg(feature = "test-util")]
        if let Some(manual) = &self.clock.manual {
            if !matches!(self.inner, TimerInner::Manual(_)) {
                self.inner = TimerInner::Manual(manual::Sleeper::new(manual.clone()));
            }
            let TimerInner::Manual(sleeper) = &mut self.inner else {
                unreachable!()
            };
            let polled = sleeper.poll_until(deadline, cx);
            if polled.is_ready() {
                self.deadline = None;
            }
            return polled;
        }
        match &mut self.inner {
            TimerInner::Real { timer, at } => {
                if *at != deadline {
                    timer.set_at(deadline);
                    *at = deadline;
                }
            }
            _ => {
                let timer = async_io::Timer::at(deadline);
                self.inner = TimerInner::Real {
                    timer,
                    at: deadline,
                };
            }
        }
        let TimerInner::Real { timer, .. } = &mut self.inner else {
            unreachable!()
        };
        match Pin::new(timer).poll(cx) {
            Poll::Ready(_) => {
                // Fired, so no longer registered; the object is kept for reuse.
                self.deadline = None;
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(feature = "test-util")]
mod manual {
    use std::cell::RefCell;
    use std::sync::{Arc, Mutex, MutexGuard};
    use std::task::{Context, Poll, Waker};
    use std::time::{Duration, Instant};

    thread_local! {
        static CURRENT: RefCell<Option<Arc<Shared>>> = const { RefCell::new(None) };
    }

    pub(super) fn current() -> Option<Arc<Shared>> {
        CURRENT.with(|c| c.borrow().clone())
    }

    #[derive(Debug)]
    pub(super) struct Shared {
        state: Mutex<State>,
    }

    #[derive(Debug)]
    struct State {
        now: Instant,
        // Registered sleepers: (deadline, waker), by slot.
        sleepers: Vec<Option<(Instant, Waker)>>,
        free: Vec<usize>,
    }

    impl Shared {
        fn lock(&self) -> MutexGuard<'_, State> {
            self.state.lock().unwrap_or_else(|e| e.into_inner())
        }

        pub(super) fn now(&self) -> Instant {
            self.lock().now
        }
    }

    /// One timer's registration with a virtual clock.
    #[derive(Debug)]
    pub(super) struct Sleeper {
        shared: Arc<Shared>,
        slot: usize,
    }

    impl Sleeper {
        pub(super) fn new(shared: Arc<Shared>) -> Self {
            let slot = {
                let mut state = shared.lock();
                match state.free.pop() {
                    Some(slot) => slot,
                    None => {
                        state.sleepers.push(None);
                        state.sleepers.len() - 1
                    }
                }
            };
            Self { shared, slot }
        }

        pub(super) fn poll_until(&mut self, deadline: Instant, cx: &mut Context<'_>) -> Poll<()> {
            let mut state = self.shared.lock();
            if state.now >= deadline {
                state.sleepers[self.slot] = None;
                return Poll::Ready(());
            }
            state.sleepers[self.slot] = Some((deadline, cx.waker().clone()));
            Poll::Pending
        }
    }

    impl Drop for Sleeper {
        fn drop(&mut self) {
            let mut state = self.shared.lock();
            state.sleepers[self.slot] = None;
            state.free.push(self.slot);
        }
    }

    /// A manual clock for deterministic tests of the time operators (feature
    /// `test-util`).
    ///
    /// Operators built inside [`enter`](VirtualClock::enter) read this clock
    /// instead of real time, for their whole life, on any thread. Time stands
    /// still until [`advance`](VirtualClock::advance) moves it; that wakes every
    /// timer whose deadline has come.
    ///
    /// ```
    /// use futures::stream::{self, StreamExt};
    /// use std::time::Duration;
    /// use stream_plus::test_util::VirtualClock;
    /// use stream_plus::StreamExtPlus;
    ///
    /// let clock = VirtualClock::new();
    /// let mut ticks = clock.enter(|| stream_plus::interval(Duration::from_secs(60)));
    /// assert!(ticks.next().now_or_never().is_none()); // no tick yet
    /// clock.advance(Duration::from_secs(60));
    /// assert!(ticks.next().now_or_never().is_some()); // an hour passed in no time
    /// # use futures::FutureExt;
    /// ```
    #[derive(Clone, Debug)]
    pub struct VirtualClock {
        shared: Arc<Shared>,
    }

    impl Default for VirtualClock {
        fn default() -> Self {
            Self::new()
        }
    }

    impl VirtualClock {
        /// A clock that starts at the real `Instant::now()` and stands still.
        pub fn new() -> Self {
            let state = State {
                now: Instant::now(),
                sleepers: Vec::new(),
                free: Vec::new(),
            };
            Self {
                shared: Arc::new(Shared {
                    state: Mutex::new(state),
                }),
            }
        }

        /// Runs `f` with this clock as the clock of every operator built inside it.
        pub fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
            struct Restore(Option<Arc<Shared>>);
            impl Drop for Restore {
                fn drop(&mut self) {
                    CURRENT.with(|c| *c.borrow_mut() = self.0.take());
                }
            }
            let previous = CURRENT.with(|c| c.borrow_mut().replace(self.shared.clone()));
            let _restore = Restore(previous);
            f()
        }

        /// The current virtual time.
        pub fn now(&self) -> Instant {
            self.shared.now()
        }

        /// Moves time forward by `by` and wakes every timer that is now due.
        pub fn advance(&self, by: Duration) {
            let wakers: Vec<Waker> = {
                let mut state = self.shared.lock();
                state.now += by;
                let now = state.now;
                state
                    .sleepers
                    .iter_mut()
                    .filter(|s| s.as_ref().is_some_and(|(deadline, _)| *deadline <= now))
                    .filter_map(|s| s.take().map(|(_, waker)| waker))
                    .collect()
            };
            wakers.into_iter().for_each(Waker::wake);
        }

        /// How many timers are armed and waiting on this clock. Dropping an
        /// operator releases its timers, so this counts leaks in tests.
        pub fn armed_timers(&self) -> usize {
            self.shared
                .lock()
                .sleepers
                .iter()
                .filter(|s| s.is_some())
                .count()
        }

        /// The earliest deadline of an armed timer, if any.
        pub fn next_deadline(&self) -> Option<Instant> {
            self.shared
                .lock()
                .sleepers
                .iter()
                .flatten()
                .map(|(d, _)| *d)
                .min()
        }
    }
}
