//! Fan-in: several streams into one.

mod merge_all;
mod merge_with;
mod zip_latest;

pub use merge_all::{merge_all, MergeAll};
pub use merge_with::MergeWith;
pub use zip_latest::ZipLatest;
