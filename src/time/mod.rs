//! Time operators (feature `time`). Timers come from `async-io` through the one
//! seam in `clock.rs`.

mod batch_timeout;
pub(crate) mod clock;
mod debounce;
mod idle_timeout;
mod interval;
mod rate_limit;
mod sample;
mod space_out;
mod throttle_first;

pub use batch_timeout::BatchTimeout;
pub use debounce::Debounce;
pub use idle_timeout::IdleTimeout;
pub use interval::{interval, Interval};
pub use rate_limit::RateLimit;
pub use sample::Sample;
pub use space_out::SpaceOut;
pub use throttle_first::ThrottleFirst;

use core::fmt;
use std::time::Duration;

/// The error of [`idle_timeout`](crate::StreamExtPlus::idle_timeout): no item
/// came within the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Elapsed;

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stream idle timeout elapsed")
    }
}

impl std::error::Error for Elapsed {}

/// Panics with the message of API.md rule 7 unless `d > 0`.
pub(crate) fn check_duration(method: &str, arg: &str, d: Duration) {
    assert!(!d.is_zero(), "{method}: {arg} must be greater than zero");
}

/// Panics with the message of API.md rule 7 unless `n >= 1`.
pub(crate) fn check_count(method: &str, arg: &str, n: usize) {
    assert!(n >= 1, "{method}: {arg} must be at least 1");
}
