//! The concurrent maps allocate nothing per item once their slots exist
//! (issue 12): a counting global allocator watches 100k items after a
//! warm-up, on ready futures and on futures that return `Pending` before they
//! finish (waking themselves), for every variant that runs on the slot engine.
//!
//! Only allocations made by the test's own thread are counted (the harness
//! runs other tests on other threads), and `futures::executor::block_on`
//! polls on that thread.

use futures::executor::block_on;
use futures::future::ready;
use futures::stream::{self, Stream, StreamExt};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use stream_plus::{StreamExtPlus, TryStreamExtPlus};

#[path = "../benches/support/self_waking.rs"]
mod self_waking;
use self_waking::self_waking;

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the thread-locals may be gone while a thread exits.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = COUNT.try_with(|n| n.set(n.get() + 1));
        }
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const WORKERS: usize = 64;
const WARM_UP: usize = 4 * WORKERS;
const MEASURED: usize = 100_000;

/// Pulls `WARM_UP` items, then counts the allocations of this thread while
/// the next `MEASURED` items are pulled.
fn allocations_after_warm_up<S: Stream + Unpin>(mut s: S) -> u64 {
    block_on(async {
        for _ in 0..WARM_UP {
            s.next().await.expect("item");
        }
        COUNT.with(|n| n.set(0));
        COUNTING.with(|on| on.set(true));
        for _ in 0..MEASURED {
            s.next().await.expect("item");
        }
        COUNTING.with(|on| on.set(false));
        COUNT.with(|n| n.get())
    })
}

fn items() -> impl Stream<Item = u64> + Unpin {
    stream::iter(0..(WARM_UP + MEASURED) as u64)
}

async fn ok<F: Future>(fut: F) -> Result<F::Output, ()> {
    Ok(fut.await)
}

#[test]
fn map_concurrent_allocates_nothing_per_item() {
    assert_eq!(
        allocations_after_warm_up(items().map_concurrent(WORKERS, ready)),
        0
    );
    assert_eq!(
        allocations_after_warm_up(items().map_concurrent(WORKERS, self_waking)),
        0
    );
}

#[test]
fn map_concurrent_unordered_allocates_nothing_per_item() {
    assert_eq!(
        allocations_after_warm_up(items().map_concurrent_unordered(WORKERS, ready)),
        0
    );
    assert_eq!(
        allocations_after_warm_up(items().map_concurrent_unordered(WORKERS, self_waking)),
        0
    );
}

#[test]
fn try_map_concurrent_allocates_nothing_per_item() {
    let ready_ok = |i| ready(Ok::<u64, ()>(i));
    let s = items()
        .map(Ok::<u64, ()>)
        .try_map_concurrent(WORKERS, ready_ok);
    assert_eq!(allocations_after_warm_up(s), 0);
    // `ok` is an `async` block: pinned in its slot, no box.
    let s = Box::pin(
        items()
            .map(Ok::<u64, ()>)
            .try_map_concurrent(WORKERS, |i| ok(self_waking(i))),
    );
    assert_eq!(allocations_after_warm_up(s), 0);
}

#[test]
fn try_map_concurrent_unordered_allocates_nothing_per_item() {
    let ready_ok = |i| ready(Ok::<u64, ()>(i));
    let s = items()
        .map(Ok::<u64, ()>)
        .try_map_concurrent_unordered(WORKERS, ready_ok);
    assert_eq!(allocations_after_warm_up(s), 0);
    let s = Box::pin(
        items()
            .map(Ok::<u64, ()>)
            .try_map_concurrent_unordered(WORKERS, |i| ok(self_waking(i))),
    );
    assert_eq!(allocations_after_warm_up(s), 0);
}

#[test]
fn keyed_maps_allocate_nothing_per_item() {
    let key = |i: &u64| *i % 100;
    assert_eq!(
        allocations_after_warm_up(items().map_concurrent_by_key(WORKERS, key, ready)),
        0
    );
    assert_eq!(
        allocations_after_warm_up(items().map_concurrent_by_key(WORKERS, key, self_waking)),
        0
    );
    assert_eq!(
        allocations_after_warm_up(items().map_concurrent_by_key_unordered(
            WORKERS,
            key,
            self_waking
        )),
        0
    );
}

/// The counter itself works: the peer it replaces allocates a task node per
/// future, and this binary sees them.
#[test]
fn the_counter_sees_futures_util_task_nodes() {
    let peer = items().map(self_waking).buffer_unordered(WORKERS);
    let n = allocations_after_warm_up(peer);
    assert!(
        n >= MEASURED as u64 / 2,
        "{n} allocations for {MEASURED} items"
    );
}

/// Issue 20: no cost when nothing fails. The retrying maps keep the item in
/// a reused slab entry and the attempt in a reused slot.
#[cfg(feature = "time")]
#[test]
fn retrying_maps_allocate_nothing_per_item_when_nothing_fails() {
    use std::time::Duration;
    use stream_plus::Backoff;
    let backoff = || Backoff::fixed(Duration::from_millis(1));
    let ready_ok = |i: &u64| ready(Ok::<u64, ()>(*i));
    let s = items().map_concurrent_retry(WORKERS, backoff(), ready_ok);
    assert_eq!(allocations_after_warm_up(s), 0);
    let s = Box::pin(items().map_concurrent_retry(WORKERS, backoff(), |i| ok(self_waking(*i))));
    assert_eq!(allocations_after_warm_up(s), 0);
    let s = Box::pin(
        items().map_concurrent_retry_unordered(WORKERS, backoff(), |i| ok(self_waking(*i))),
    );
    assert_eq!(allocations_after_warm_up(s), 0);
}
