//! `space_out`: every item, at least `period` apart, the first at once.
#![cfg(feature = "time")]

mod support;

use futures::stream::{self, FusedStream, Stream, StreamExt};
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};
use stream_plus::StreamExtPlus;
use support::{matrix_test, Script, Step};

const MS: Duration = Duration::from_millis(1);

#[cfg(feature = "test-util")]
mod on_virtual_time {
    use super::*;
    use support::virt::Harness;

    #[test]
    fn spaces_items_and_takes_one_ahead_while_waiting() {
        let mut h = Harness::new(|up| up.space_out(10 * MS));
        h.send(1).send(2).send(3);
        assert_eq!(h.ready(), [1]);
        h.at(9);
        assert_eq!(h.ready(), []);
        h.at(10);
        assert_eq!(h.ready(), [2]);
        h.at(25);
        assert_eq!(h.ready(), [3]); // late: yielded at once
        h.at(30).send(4);
        assert_eq!(h.ready(), []); // 3 went out at 25: 4 waits for 35
        h.at(35);
        assert_eq!(h.ready(), [4]);
        h.end();
        h.at(100);
        assert_eq!(h.ready(), []);
        assert!(h.ended());
    }

    #[test]
    fn drop_releases_the_timer() {
        let mut h = Harness::new(|up| up.space_out(10 * MS));
        h.send(1).send(2);
        assert_eq!(h.ready(), [1]);
        assert_eq!(h.clock.armed_timers(), 1);
        h.drop_stream();
        assert_eq!(h.clock.armed_timers(), 0);
    }
}

matrix_test! {
    async fn twenty_items_take_at_least_190ms() {
        let start = Instant::now();
        let out: Vec<u32> = stream::iter(0..20).space_out(10 * MS).collect().await;
        assert_eq!(out, (0..20).collect::<Vec<_>>());
        assert!(start.elapsed() >= 190 * MS, "took {:?}", start.elapsed());
    }

    /// While it waits it takes exactly one item ahead from upstream, no more.
    async fn takes_at_most_one_item_ahead_while_waiting() {
        let script = Script::items(0..100u32);
        let pulled = script.pulled();
        let mut s = script.space_out(Duration::from_secs(60));
        assert_eq!(s.next().await, Some(0));
        for _ in 0..3 {
            let second = futures::future::select(s.next(), Box::pin(async_io::Timer::after(10 * MS))).await;
            assert!(matches!(second, futures::future::Either::Right(_)));
            assert_eq!(pulled.load(SeqCst), 2);
        }
        assert_eq!(s.size_hint(), (99, Some(99)));
    }

    /// Regression: the end of upstream was seen only once the next slot was
    /// due (`space_out(Duration::MAX)` never ended).
    async fn end_of_upstream_ends_the_stream_at_once() {
        let mut s = Script::items([1u8]).space_out(Duration::MAX);
        assert_eq!(s.next().await, Some(1));
        let end = futures::future::select(s.next(), Box::pin(async_io::Timer::after(Duration::from_secs(10)))).await;
        assert!(matches!(end, futures::future::Either::Left((None, _))), "the stream did not end at once");
        assert!(s.is_terminated());
    }

    async fn fused_after_end() {
        let mut s = Script::new([Step::Item(1u8)]).space_out(MS);
        assert_eq!(s.next().await, Some(1));
        assert_eq!(s.next().await, None);
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
    }

    #[should_panic(expected = "space_out: period must be greater than zero")]
    async fn zero_period_panics() {
        let _ = stream::iter([1]).space_out(Duration::ZERO);
    }
}
