//! Operators for building streaming pipelines out of any [`Stream`](futures_core::Stream):
//! concurrent stages with a fixed number of workers, bounded buffers with real
//! backpressure, time operators, fan-in and fan-out, and a thread-pool stage for
//! CPU work.
//!
//! Import [`StreamExtPlus`] (and [`TryStreamExtPlus`] for streams of `Result`s)
//! and every stream gets the methods. They run unchanged on tokio, smol,
//! async-std and `futures::executor`: no operator spawns a task or depends on a
//! runtime.
//!
//! ```
//! use futures::executor::block_on;
//! use futures::stream::{self, StreamExt};
//! use stream_plus::StreamExtPlus;
//!
//! let doubled: Vec<u32> = block_on(
//!     stream::iter(1..=5)
//!         // Up to 3 futures at once, outputs in input order.
//!         .map_concurrent(3, |x| async move { x * 2 })
//!         .collect(),
//! );
//! assert_eq!(doubled, [2, 4, 6, 8, 10]);
//! ```
//!
//! # The operators
//!
//! - **Concurrency:** [`map_concurrent`](StreamExtPlus::map_concurrent),
//!   [`map_concurrent_unordered`](StreamExtPlus::map_concurrent_unordered),
//!   [`map_concurrent_by_key`](StreamExtPlus::map_concurrent_by_key),
//!   [`map_concurrent_by_key_unordered`](StreamExtPlus::map_concurrent_by_key_unordered),
//!   [`switch_map`](StreamExtPlus::switch_map),
//!   [`try_map_concurrent`](TryStreamExtPlus::try_map_concurrent),
//!   [`try_map_concurrent_unordered`](TryStreamExtPlus::try_map_concurrent_unordered),
//!   and on the thread pool `map_blocking`, `map_blocking_unordered`,
//!   `try_map_blocking`, `try_map_blocking_unordered` (feature `blocking`).
//! - **Flow control:** [`buffer_with`](StreamExtPlus::buffer_with),
//!   [`conflate`](StreamExtPlus::conflate), [`decouple`](StreamExtPlus::decouple),
//!   and [`stage`](StreamExtPlus::stage) for pipelines whose stages move on
//!   their own, in one task.
//! - **Time** (feature `time`): `debounce`, `throttle_first`, `sample`,
//!   `space_out`, `rate_limit`, `batch_timeout`, `idle_timeout`, `interval`.
//! - **Fan-in:** [`merge_with`](StreamExtPlus::merge_with), [`merge_all`],
//!   [`zip_latest`](StreamExtPlus::zip_latest).
//! - **Fan-out:** [`broadcast`](StreamExtPlus::broadcast),
//!   [`balance`](StreamExtPlus::balance).
//! - **Misc:** [`dedup`](StreamExtPlus::dedup),
//!   [`dedup_by_key`](StreamExtPlus::dedup_by_key).
//!
//! # Rules every operator keeps
//!
//! - **Pull-based and bounded.** An adapter pulls from upstream only when it is
//!   polled, and only as far as its documented bound.
//! - **No hidden tasks.** Dropping an adapter drops its in-flight futures, timers
//!   and buffered items at once. In-flight futures make progress only while the
//!   adapter is polled.
//! - **Fused.** Every adapter implements
//!   [`FusedStream`](futures_core::stream::FusedStream).
//! - **Cooperative.** A `poll_next` that finds ready work does a bounded number of
//!   steps, then wakes itself and returns `Pending`, so one busy stream cannot
//!   starve its executor.
//! - **Invalid configuration panics at construction**, with a message that names
//!   the method and the argument: `map_concurrent: workers must be at least 1`.
//!
//! # Features
//!
//! - `time` (default): time operators, timers from `async-io`.
//! - `test-util` (off): `test_util::VirtualClock`, a manual clock that makes
//!   the time operators deterministic in tests.
//! - `blocking` (default): the thread-pool stage, on the `blocking` crate's pool.
//! - `metrics` (off): every [`observe`](StreamExtPlus::observe)d stage also
//!   records to the `metrics` facade's global recorder.

#![forbid(unsafe_code)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    rust_2018_idioms,
    unreachable_pub
)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod concurrent;
mod ext;
#[cfg(feature = "time")]
mod failure;
mod fan_in;
mod fan_out;
mod flow;
mod misc;
mod observe;
#[cfg(feature = "time")]
mod time;
mod util;

#[cfg(all(test, stream_plus_loom))]
mod loom_models;

#[cfg(feature = "time")]
#[cfg_attr(docsrs, doc(cfg(feature = "time")))]
pub use time::{interval, sleep, timeout, Elapsed};

#[cfg(feature = "time")]
#[cfg_attr(docsrs, doc(cfg(feature = "time")))]
pub use failure::{restart, retry, Backoff, Failed};

/// Deterministic testing of the time operators (feature `test-util`).
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod test_util {
    pub use crate::time::clock::VirtualClock;
}

pub use ext::{StreamExtPlus, TryStreamExtPlus};
pub use fan_in::merge_all;
pub use flow::Overflow;
pub use observe::{StageStats, Stats};

// The README's examples compile and run as doctests (they use the default features).
#[cfg(all(doctest, feature = "time", feature = "blocking"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The stream and future types returned by the methods of [`StreamExtPlus`] and
/// [`TryStreamExtPlus`].
pub mod adapters {
    #[cfg(feature = "blocking")]
    #[cfg_attr(docsrs, doc(cfg(feature = "blocking")))]
    pub use crate::concurrent::{
        MapBlocking, MapBlockingUnordered, TryMapBlocking, TryMapBlockingUnordered,
    };
    pub use crate::concurrent::{
        MapConcurrent, MapConcurrentByKey, MapConcurrentByKeyUnordered, MapConcurrentUnordered,
        SwitchMap, TryMapConcurrent, TryMapConcurrentUnordered,
    };
    #[cfg(feature = "time")]
    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
    pub use crate::concurrent::{MapConcurrentRetry, MapConcurrentRetryUnordered};
    #[cfg(feature = "time")]
    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
    pub use crate::failure::{EveryError, Restart, Retry};
    pub use crate::fan_in::{MergeAll, MergeWith, ZipLatest};
    pub use crate::fan_out::{Balance, Broadcast};
    pub use crate::flow::{BufferWith, Decoupled, Driver, StageDrivers, StageInput, Staged};
    pub use crate::misc::{Dedup, DedupByKey};
    pub use crate::observe::Observe;
    #[cfg(feature = "time")]
    #[cfg_attr(docsrs, doc(cfg(feature = "time")))]
    pub use crate::time::{
        BatchTimeout, Debounce, IdleTimeout, Interval, RateLimit, Sample, Sleep, SpaceOut,
        ThrottleFirst, Timeout,
    };
}
