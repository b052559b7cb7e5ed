//! Small stateful filters.

mod dedup;

pub use dedup::{Dedup, DedupByKey};
