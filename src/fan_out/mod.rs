//! Fan-out: one source, many consumers, no task.

mod balance;
mod broadcast;

pub use balance::Balance;
pub(crate) use broadcast::broadcast as broadcast_new;
pub use broadcast::Broadcast;

use crate::util::sync::{Mutex, MutexGuard};

/// Locks the state a fan-out shares. If the source panicked while another
/// consumer polled it, the state cannot be trusted: say so.
#[inline]
pub(crate) fn lock_panicking_if_poisoned<'a, T>(
    mutex: &'a Mutex<T>,
    method: &str,
) -> MutexGuard<'a, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(_) => poisoned(method),
    }
}

#[cold]
#[inline(never)]
fn poisoned(method: &str) -> ! {
    panic!("{method}: the source stream panicked while another consumer polled it")
}
