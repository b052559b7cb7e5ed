//! Observing a pipeline: `Stats`, `StageStats` and the `observe` adapter.

#[cfg(feature = "metrics")]
mod metrics;
#[allow(clippy::module_inception)]
mod observe;
mod point;
mod stats;

pub(crate) use observe::observe_with_gauges;
pub use observe::Observe;
pub(crate) use point::{detached, note_boundary};
pub use stats::{StageStats, Stats};
