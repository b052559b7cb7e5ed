//! The synchronisation types the crate's shared state is built on: std's
//! normally, loom's when the loom models are built (`--cfg stream_plus_loom`,
//! see `src/loom_models.rs`), so the models check the real code.
//!
//! `Arc`s that become [`Waker`](core::task::Waker)s stay std's: `std::task::Wake`
//! needs one, and loom checks the atomics and locks, not the reference counts.

#[cfg(all(feature = "blocking", not(all(test, stream_plus_loom))))]
pub(crate) use std::sync::Condvar;
#[cfg(not(all(test, stream_plus_loom)))]
pub(crate) use std::sync::{
    atomic::{fence, AtomicBool, AtomicU64, Ordering},
    Arc, Mutex, MutexGuard,
};

#[cfg(all(feature = "blocking", test, stream_plus_loom))]
pub(crate) use loom::sync::Condvar;
#[cfg(all(test, stream_plus_loom))]
pub(crate) use loom::sync::{
    atomic::{fence, AtomicBool, AtomicU64, Ordering},
    Arc, Mutex, MutexGuard,
};

/// A spin-wait hint; under loom, a yield so the model lets the writer run.
#[cfg(not(all(test, stream_plus_loom)))]
#[inline]
pub(crate) fn spin_loop() {
    std::hint::spin_loop();
}

#[cfg(all(test, stream_plus_loom))]
pub(crate) fn spin_loop() {
    loom::thread::yield_now();
}

/// futures' lock-free `AtomicWaker`; loom's own under the loom models.
#[cfg(not(all(test, stream_plus_loom)))]
pub(crate) use futures_util::task::AtomicWaker;

/// loom's `AtomicWaker` with the signature of futures' (`register` by
/// reference).
#[cfg(all(test, stream_plus_loom))]
#[derive(Debug)]
pub(crate) struct AtomicWaker(loom::future::AtomicWaker);

#[cfg(all(test, stream_plus_loom))]
impl AtomicWaker {
    pub(crate) fn new() -> Self {
        Self(loom::future::AtomicWaker::new())
    }

    pub(crate) fn register(&self, waker: &core::task::Waker) {
        self.0.register_by_ref(waker);
    }

    pub(crate) fn wake(&self) {
        self.0.wake();
    }
}

/// Locks a mutex that no user code ever runs under, so a poisoned one is
/// still consistent: take the guard either way.
#[inline]
pub(crate) fn lock_ignoring_poison<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
