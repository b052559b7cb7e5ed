//! A global allocator that counts allocations while switched on, for the
//! "allocations per item" figures next to the timings. Switched off (the
//! default) it costs one relaxed load per allocation, on both sides alike.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};

pub struct Counting;

static ON: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ON.load(Ordering::Relaxed) {
            COUNT.fetch_add(1, Ordering::Relaxed);
        }
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ON.load(Ordering::Relaxed) {
            COUNT.fetch_add(1, Ordering::Relaxed);
        }
        System.realloc(ptr, layout, new_size)
    }
}

/// Runs `f` and returns its result with the allocations made meanwhile (by
/// any thread; the benches run their streams on the calling thread).
pub fn allocations<T>(f: impl FnOnce() -> T) -> (T, u64) {
    COUNT.store(0, Ordering::SeqCst);
    ON.store(true, Ordering::SeqCst);
    let out = f();
    ON.store(false, Ordering::SeqCst);
    (out, COUNT.load(Ordering::SeqCst))
}

/// The self-waking workload's future: returns `Pending` `i % 3` times, waking
/// itself each time (as a future does that yields, or whose I/O is already
/// ready), then `i`. No allocation of its own.
pub struct SelfWaking {
    left: u64,
    value: u64,
}

pub fn self_waking(i: u64) -> SelfWaking {
    SelfWaking {
        left: i % 3,
        value: i,
    }
}

impl Future for SelfWaking {
    type Output = u64;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        if self.left == 0 {
            return Poll::Ready(self.value);
        }
        self.left -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
