//! Fan-out stages: a fixed number of futures at once, in input or completion order.

#[cfg(feature = "blocking")]
mod blocking_pool;
#[cfg(feature = "blocking")]
mod map_blocking;
mod map_concurrent;
mod map_concurrent_by_key;
mod map_concurrent_unordered;
mod switch_map;
mod try_map_concurrent;
mod try_map_concurrent_unordered;

#[cfg(feature = "blocking")]
pub use map_blocking::{
    MapBlocking, MapBlockingUnordered, TryMapBlocking, TryMapBlockingUnordered,
};
pub use map_concurrent::MapConcurrent;
pub use map_concurrent_by_key::{MapConcurrentByKey, MapConcurrentByKeyUnordered};
pub use map_concurrent_unordered::MapConcurrentUnordered;
pub use switch_map::SwitchMap;
pub use try_map_concurrent::TryMapConcurrent;
pub use try_map_concurrent_unordered::TryMapConcurrentUnordered;

use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::Stream;

/// Panics with the message of API.md rule 7 unless `workers >= 1`.
#[track_caller]
pub(crate) fn check_workers(method: &str, workers: usize) {
    assert!(workers >= 1, "{method}: workers must be at least 1");
}

/// Takes up to `room` immediately-ready items from `stream` and hands each to
/// `take`, which returns `false` to stop pulling for good (after an error).
/// Sets `*done` when the stream ends or `take` stops it, and never polls it
/// after that. Returns how many items were taken. When it returns less than
/// `room` and `*done` is false, the stream has registered the waker of `cx`.
#[inline]
pub(crate) fn pull<St: Stream>(
    mut stream: Pin<&mut St>,
    done: &mut bool,
    cx: &mut Context<'_>,
    room: usize,
    mut take: impl FnMut(St::Item) -> bool,
) -> usize {
    let mut taken = 0;
    while taken < room && !*done {
        match stream.as_mut().poll_next(cx) {
            Poll::Ready(Some(item)) => {
                taken += 1;
                *done = !take(item);
            }
            Poll::Ready(None) => *done = true,
            Poll::Pending => break,
        }
    }
    taken
}
