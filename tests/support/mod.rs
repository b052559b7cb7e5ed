//! Shared test machinery: the executor matrix, scripted streams, tracked
//! futures and a counting waker.
#![allow(dead_code, unused_macros, unused_imports)]

pub mod exec;
pub mod gate;
pub mod script;
pub mod track;
#[cfg(feature = "test-util")]
pub mod virt;

pub use exec::{on_every_executor, Executor, EXECUTORS};
pub use futures_test::task::new_count_waker;
pub use gate::{never_asks, Counted, Counter, Gates};
pub use script::{Script, Step};
pub use track::{yield_n, Tracker, Wait};

/// Collects a stream to its end, checking at every step that `size_hint` is
/// never wrong (API.md rule 9).
pub async fn collect_checking_hint<S: futures::Stream + Unpin>(s: &mut S) -> Vec<S::Item> {
    use futures::StreamExt;
    let mut out = Vec::new();
    loop {
        let (lo, hi) = s.size_hint();
        match s.next().await {
            Some(item) => {
                out.push(item);
                assert!(
                    hi.map_or(true, |hi| hi >= 1),
                    "upper bound {hi:?} but an item came"
                );
            }
            None => {
                assert_eq!(lo, 0, "lower bound {lo} but the stream ended");
                return out;
            }
        }
    }
}

/// Turns `async fn name() { body }` into one `#[test]` per executor of the
/// matrix: tokio current-thread, tokio multi-thread (the body runs in a spawned
/// task, so it really crosses threads), smol, async-std and
/// `futures::executor::block_on`. Attributes such as `#[should_panic]` are
/// applied to every generated test.
macro_rules! matrix_test {
    ($( $(#[$meta:meta])* async fn $name:ident() $body:block )*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body() $body

            $(#[$meta])*
            #[test]
            fn tokio_current_thread() {
                $crate::support::Executor::TokioCurrentThread.run(body)
            }

            $(#[$meta])*
            #[test]
            fn tokio_multi_thread() {
                $crate::support::Executor::TokioMultiThread.run(body)
            }

            $(#[$meta])*
            #[test]
            fn smol() {
                $crate::support::Executor::Smol.run(body)
            }

            $(#[$meta])*
            #[test]
            fn async_std() {
                $crate::support::Executor::AsyncStd.run(body)
            }

            $(#[$meta])*
            #[test]
            fn futures_block_on() {
                $crate::support::Executor::FuturesBlockOn.run(body)
            }
        }
    )*};
}
pub(crate) use matrix_test;
