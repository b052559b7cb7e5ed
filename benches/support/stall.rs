//! The stall workload, shared by `benches/stage.rs` and `benches/observe.rs`:
//! stage 1 runs 2 at once and each item awaits three 5 ms timers; stage 2 runs
//! 1 at once and each item awaits one 10 ms timer (the bottleneck).

use std::time::Duration;

pub const N: u64 = 40;

pub async fn fetch(i: u64) -> u64 {
    for _ in 0..3 {
        async_io::Timer::after(Duration::from_millis(5)).await;
    }
    i
}

pub async fn parse(i: u64) -> u64 {
    async_io::Timer::after(Duration::from_millis(10)).await;
    i
}
