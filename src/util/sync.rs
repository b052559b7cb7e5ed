//! The synchronisation types the crate's shared state is built on: std's
//! normally, loom's when the loom models are built (`--cfg stream_plus_loom`,
//! see `src/loom_models.rs`), so the models check the real code.
//!
//! `Arc`s that become [`Waker`](core::task::Waker)s stay std's: `std::task::Wake`
//! needs one, and loom checks the atomics and locks, not the reference counts.

#[cfg(not(all(test, stream_plus_loom)))]
pub(crate) use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc, Mutex, MutexGuard,
};

#[cfg(all(test, stream_plus_loom))]
pub(crate) use loom::sync::{
    atomic::{AtomicU64, Ordering},
    Arc, Mutex, MutexGuard,
};

/// Locks a mutex that no user code ever runs under, so a poisoned one is
/// still consistent: take the guard either way.
#[inline]
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
