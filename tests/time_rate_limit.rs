//! `rate_limit`: a token bucket; waits, never drops.
#![cfg(feature = "time")]

mod support;

use futures::stream::{self, FusedStream, Stream, StreamExt};
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};
use stream_plus::StreamExtPlus;
use support::{matrix_test, Script};

const MS: Duration = Duration::from_millis(1);

#[cfg(feature = "test-util")]
mod on_virtual_time {
    use super::*;
    use support::virt::Harness;

    /// `.burst(1)`: the rate of `rate_limit(4, 40ms)` with no burst at all.
    #[test]
    fn burst_one_is_the_rate_without_a_burst() {
        let mut h = Harness::new(|up| up.rate_limit(4, 40 * MS).burst(1));
        for i in 0..6 {
            h.send(i);
        }
        let mut times = Vec::new();
        for t in 0..=60 {
            h.at(t);
            for _ in h.ready() {
                times.push(t);
            }
        }
        assert_eq!(times, [0, 10, 20, 30, 40, 50]);
    }

    /// `.burst(b)` sets the bucket apart from the rate: 2 at once, then one
    /// every 10 ms; after an idle stretch the bucket holds 2 again, not 4.
    #[test]
    fn burst_sets_the_bucket_apart_from_the_rate() {
        let mut h = Harness::new(|up| up.rate_limit(4, 40 * MS).burst(2));
        for i in 0..5 {
            h.send(i);
        }
        let mut times = Vec::new();
        for t in 0..=30 {
            h.at(t);
            for _ in h.ready() {
                times.push(t);
            }
        }
        assert_eq!(times, [0, 0, 10, 20, 30]);
        h.at(1000);
        for i in 5..10 {
            h.send(i);
        }
        assert_eq!(h.ready(), [5, 6], "a full bucket of 2 after idling");
        h.at(1010);
        assert_eq!(h.ready(), [7]);
    }

    #[test]
    fn burst_then_refill_rate() {
        // 4 per 40 ms: a token every 10 ms.
        let mut h = Harness::new(|up| up.rate_limit(4, 40 * MS));
        for i in 0..10 {
            h.send(i);
        }
        let mut times = Vec::new();
        for t in 0..=70 {
            h.at(t);
            for _ in h.ready() {
                times.push(t);
            }
        }
        assert_eq!(times, [0, 0, 0, 0, 10, 20, 30, 40, 50, 60]);
    }

    #[test]
    fn refills_while_idle_up_to_count() {
        let mut h = Harness::new(|up| up.rate_limit(3, 30 * MS));
        h.send(0).send(1).send(2).send(3);
        assert_eq!(h.ready(), [0, 1, 2]);
        h.at(1000); // long idle: the bucket is full again, not fuller
        assert_eq!(h.ready(), [3]);
        for i in 4..10 {
            h.send(i);
        }
        assert_eq!(h.ready(), [4, 5]);
        h.at(1009);
        assert_eq!(h.ready(), []);
        h.at(1010);
        assert_eq!(h.ready(), [6]);
    }

    #[test]
    fn drop_releases_the_timer() {
        let mut h = Harness::new(|up| up.rate_limit(1, 10 * MS));
        h.send(1).send(2);
        assert_eq!(h.ready(), [1]);
        assert_eq!(h.clock.armed_timers(), 1);
        h.drop_stream();
        assert_eq!(h.clock.armed_timers(), 0);
    }

    /// Over any window of length T, at most `count + count·T/per` items pass.
    #[test]
    fn never_exceeds_the_bucket_bound() {
        let (count, per) = (5u64, 50u64);
        let mut h =
            Harness::new(move |up| up.rate_limit(count as usize, Duration::from_millis(per)));
        let mut times = Vec::new();
        for t in 0..400u64 {
            if t % 3 == 0 {
                h.send(t);
                h.send(t);
            }
            h.at(t);
            for _ in h.ready() {
                times.push(t);
            }
        }
        assert!(times.len() > 40);
        for (i, &a) in times.iter().enumerate() {
            for (j, &b) in times.iter().enumerate().skip(i) {
                let passed = (j - i + 1) as u64;
                let allowed = count + count * (b - a) / per;
                assert!(passed <= allowed, "{passed} items in [{a}, {b}]");
            }
        }
    }
}

matrix_test! {
    /// `.burst(2)` with a fast rate: 2 pass at once, the rest at the rate.
    async fn burst_bounds_the_first_items_on_real_time() {
        let start = Instant::now();
        let mut s = Box::pin(stream::iter(0..4u32).rate_limit(50, Duration::from_secs(1)).burst(2));
        assert_eq!(s.next().await, Some(0));
        assert_eq!(s.next().await, Some(1));
        assert!(start.elapsed() < 15 * MS, "two tokens at the start");
        assert_eq!(s.next().await, Some(2));
        assert!(start.elapsed() >= 20 * MS, "then one per 20 ms");
        assert_eq!(s.collect::<Vec<_>>().await, [3]);
        assert!(start.elapsed() >= 40 * MS);
    }

    #[should_panic(expected = "rate_limit: burst must be at least 1")]
    async fn burst_zero_panics() {
        let _ = stream::iter([1]).rate_limit(1, MS).burst(0);
    }

    async fn waits_at_the_refill_rate() {
        let start = Instant::now();
        // 5 at once, then 10 more at one per 10 ms.
        let out: Vec<u32> = stream::iter(0..15).rate_limit(5, 50 * MS).collect().await;
        assert_eq!(out, (0..15).collect::<Vec<_>>());
        assert!(start.elapsed() >= 95 * MS, "took {:?}", start.elapsed());
    }

    /// While it waits for a token it takes exactly one item ahead, no more.
    async fn takes_at_most_one_item_ahead_while_waiting() {
        let script = Script::items(0..100u32);
        let pulled = script.pulled();
        let mut s = script.rate_limit(2, Duration::from_secs(60));
        assert_eq!(s.next().await, Some(0));
        assert_eq!(s.next().await, Some(1));
        for _ in 0..3 {
            let third = futures::future::select(s.next(), Box::pin(async_io::Timer::after(10 * MS))).await;
            assert!(matches!(third, futures::future::Either::Right(_)));
            assert_eq!(pulled.load(SeqCst), 3);
        }
        assert_eq!(s.size_hint(), (98, Some(98)));
    }

    /// Regression: the end of upstream was seen only when the next token was
    /// due (`rate_limit(2, 1h)` over 2 items ended an hour late).
    async fn end_of_upstream_ends_the_stream_at_once() {
        let mut s = Script::items([1u8, 2]).rate_limit(2, Duration::from_secs(3600));
        assert_eq!(s.next().await, Some(1));
        assert_eq!(s.next().await, Some(2));
        let end = futures::future::select(s.next(), Box::pin(async_io::Timer::after(Duration::from_secs(10)))).await;
        assert!(matches!(end, futures::future::Either::Left((None, _))), "the stream did not end at once");
        assert!(s.is_terminated());
    }

    async fn fused_after_end() {
        let mut s = Script::items([1u8]).rate_limit(1, MS);
        assert_eq!(s.next().await, Some(1));
        assert_eq!(s.next().await, None);
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
    }

    #[should_panic(expected = "rate_limit: count must be at least 1")]
    async fn zero_count_panics() {
        let _ = stream::iter([1]).rate_limit(0, MS);
    }

    #[should_panic(expected = "rate_limit: per must be greater than zero")]
    async fn zero_per_panics() {
        let _ = stream::iter([1]).rate_limit(1, Duration::ZERO);
    }
}
