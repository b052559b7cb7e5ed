//! The self-waking workload, shared by the benches and the allocation test.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

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
