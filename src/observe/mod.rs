//! Observing a pipeline: `Stats`, `StageStats` and the `observe` adapter.

#[cfg(feature = "metrics")]
mod metrics;
#[allow(clippy::module_inception)]
mod observe;
mod point;
mod stats;

pub(crate) use observe::observe_with_gauges;
pub use observe::Observe;
#[cfg(all(test, stream_plus_loom))]
pub(crate) use point::Meter;
pub(crate) use point::{detached, note_boundary};
#[cfg(all(test, stream_plus_loom))]
pub(crate) use stats::Registry;
pub use stats::{StageStats, Stats};
