//! Fan-out stages: a fixed number of futures at once, in input or completion order.

#[cfg(feature = "blocking")]
mod blocking_pool;
#[cfg(feature = "blocking")]
mod map_blocking;
mod map_concurrent;
mod map_concurrent_by_key;
#[cfg(feature = "time")]
mod map_concurrent_retry;
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
#[cfg(feature = "time")]
pub use map_concurrent_retry::{MapConcurrentRetry, MapConcurrentRetryUnordered};
pub use map_concurrent_unordered::MapConcurrentUnordered;
pub use switch_map::SwitchMap;
pub use try_map_concurrent::TryMapConcurrent;
pub use try_map_concurrent_unordered::TryMapConcurrentUnordered;

use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::Stream;

use crate::util::{Slots, POLL_BUDGET};

/// Panics with the message of API.md rule 7 unless `workers >= 1`.
#[track_caller]
pub(crate) fn check_workers(method: &str, workers: usize) {
    assert!(workers >= 1, "{method}: workers must be at least 1");
}

/// Takes up to `room` immediately-ready items from `stream` and hands each to
/// `take`, which returns `false` to stop pulling for good (after an error).
/// Sets `*done` when the stream ends or `take` stops it, and never polls it
/// after that. Returns how many items were taken. When it returns less than
/// `room` and `*done` is false, the stream has registered the waker of `cx`,
/// or (after [`POLL_BUDGET`] items in one call, for a `room` as large as
/// `usize::MAX` workers allow) the task has been woken to come back for more.
#[inline(always)]
pub(crate) fn pull<St: Stream>(
    stream: Pin<&mut St>,
    done: &mut bool,
    cx: &mut Context<'_>,
    room: usize,
    take: impl FnMut(St::Item) -> bool,
) -> usize {
    const BUDGET: usize = POLL_BUDGET as usize;
    if room <= BUDGET {
        return pull_up_to(stream, done, cx, room, take);
    }
    come_back_for_more(stream, done, cx, take)
}

/// `pull` for a room larger than the poll budget (`usize::MAX` workers):
/// takes a budget's worth, and if upstream had more ready, wakes the task
/// to come back for it (rule 6).
#[cold]
#[inline(never)]
fn come_back_for_more<St: Stream>(
    stream: Pin<&mut St>,
    done: &mut bool,
    cx: &mut Context<'_>,
    take: impl FnMut(St::Item) -> bool,
) -> usize {
    const BUDGET: usize = POLL_BUDGET as usize;
    let taken = pull_up_to(stream, done, cx, BUDGET, take);
    if taken == BUDGET && !*done {
        cx.waker().wake_by_ref();
    }
    taken
}

#[inline(always)]
fn pull_up_to<St: Stream>(
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

/// Ends a concurrent map for good. Also what happens after a panic in `f` or
/// in a future (which unwound out of an earlier poll, rule 8): a caller that
/// caught the panic and polls again gets `None`, and the other running futures
/// are dropped. (An item that panicked leaves a hole that no output fills: in
/// input order the outputs after it could never come, and its key would stay
/// busy.)
#[cold]
pub(crate) fn end<Fut: core::future::Future>(running: &mut Slots<Fut>, done: &mut bool) {
    *done = true;
    running.clear();
}

/// The next output of an unordered map: one that finished when it started
/// (queued in `finished`), else the next running future to finish.
/// `Ready(None)`: nothing runs or waits and upstream has ended, so the stream
/// is over; `Pending` when nothing runs means upstream registered the waker.
#[inline]
pub(crate) fn next_finished<Fut: core::future::Future>(
    finished: &mut std::collections::VecDeque<Fut::Output>,
    running: &mut Slots<Fut>,
    upstream_done: bool,
    cx: &mut Context<'_>,
) -> Poll<Option<Fut::Output>> {
    if let Some(out) = finished.pop_front() {
        return Poll::Ready(Some(out));
    }
    match running.poll_next(cx) {
        Poll::Ready(Some(out)) => Poll::Ready(Some(out)),
        Poll::Ready(None) if upstream_done => Poll::Ready(None),
        Poll::Ready(None) | Poll::Pending => Poll::Pending,
    }
}
