//! Failures that do not stop a pipeline (feature `time`): [`Backoff`] for the
//! delays between attempts, [`Failed`] for an item whose attempts ran out (a
//! dead letter, as a value), the [`retry`] future and the [`restart`] stream.
//! `sleep` and `timeout` live with the other timers in `time/sleep.rs`.

mod backoff;
mod restart;
mod retry;

pub use backoff::Backoff;
pub use restart::{restart, Restart};
pub use retry::{retry, EveryError, Retry};

use core::fmt;

/// An item whose attempts all failed: the input (for a dead-letter queue),
/// the last error, and how many attempts were made.
///
/// `Display` names the attempts and shows the error; `Failed` is a
/// `std::error::Error` when `E` is one (its `source` is the error).
///
/// # Examples
///
/// ```
/// use stream_plus::Failed;
///
/// let dead = Failed { item: "order-17", error: "connection refused", attempts: 3 };
/// assert_eq!(dead.to_string(), "failed after 3 attempts: connection refused");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed<T, E> {
    /// The input the attempts were made for.
    pub item: T,
    /// The error of the last attempt.
    pub error: E,
    /// How many attempts were made, the first included.
    pub attempts: u32,
}

impl<T, E: fmt::Display> fmt::Display for Failed<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = if self.attempts == 1 { "" } else { "s" };
        write!(
            f,
            "failed after {} attempt{s}: {}",
            self.attempts, self.error
        )
    }
}

impl<T: fmt::Debug, E: std::error::Error + 'static> std::error::Error for Failed<T, E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}
