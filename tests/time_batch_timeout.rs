//! `batch_timeout`: full batches, or what arrived within `timeout` of a batch's
//! first item; never empty; partial batch at the end.
#![cfg(feature = "time")]

mod support;

use futures::stream::{self, FusedStream, StreamExt};
use futures_test::stream::StreamTestExt;
use proptest::prelude::*;
use std::time::Duration;
use stream_plus::StreamExtPlus;
use support::{matrix_test, on_every_executor, Script, Step};

const MS: Duration = Duration::from_millis(1);

#[cfg(feature = "test-util")]
mod on_virtual_time {
    use super::*;
    use support::virt::Harness;

    #[test]
    fn full_batches_and_timed_out_partials() {
        let mut h = Harness::new(|up: futures::stream::BoxStream<'static, u32>| {
            up.batch_timeout(3, 10 * MS)
        });
        h.send(1).send(2).send(3).send(4);
        assert_eq!(h.ready(), [vec![1, 2, 3]]);
        h.at(5).send(5);
        assert!(h.ready().is_empty());
        h.at(9);
        assert!(h.ready().is_empty());
        h.at(10); // 10 ms after item 4, the batch's first
        assert_eq!(h.ready(), [vec![4, 5]]);
        h.at(50);
        assert!(h.ready().is_empty(), "never an empty batch");
        h.send(6);
        assert!(h.ready().is_empty());
        h.at(55).send(7).end();
        assert_eq!(h.ready(), [vec![6, 7]]);
        assert!(h.ended());
    }

    #[test]
    fn drop_releases_the_timer() {
        let mut h = Harness::new(|up: futures::stream::BoxStream<'static, u32>| {
            up.batch_timeout(3, 10 * MS)
        });
        h.send(1);
        assert!(h.ready().is_empty());
        assert_eq!(h.clock.armed_timers(), 1);
        h.drop_stream();
        assert_eq!(h.clock.armed_timers(), 0);
    }

    #[test]
    fn ready_burst_arms_no_timer() {
        let mut h = Harness::without_spurious_pending(|up| up.batch_timeout(2, 10 * MS));
        for i in 0..6 {
            h.send(i);
        }
        assert_eq!(h.ready(), [vec![0, 1], vec![2, 3], vec![4, 5]]);
        assert_eq!(h.clock.armed_timers(), 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

    /// With no waits, batches are exactly the chunks of `max` (the timeout
    /// never fires first on a ready source, spurious `Pending`s included).
    #[test]
    fn ready_source_gives_chunks(items in prop::collection::vec(any::<u8>(), 0..200), max in 1usize..9) {
        let expected: Vec<Vec<u8>> = items.chunks(max).map(<[u8]>::to_vec).collect();
        on_every_executor(|| {
            let (items, expected) = (items.clone(), expected.clone());
            async move {
                let mut s = stream::iter(items).interleave_pending().batch_timeout(max, Duration::from_secs(60));
                let out = support::collect_checking_hint(&mut s).await;
                assert_eq!(out, expected);
            }
        });
    }
}

matrix_test! {
    async fn timeout_flushes_a_partial_batch() {
        let script = Script::new(
            (1..=6).map(Step::Item).chain([Step::Delay(200 * MS), Step::Item(7)]),
        );
        let out: Vec<Vec<u32>> = script.batch_timeout(4, 30 * MS).collect().await;
        assert_eq!(out, [vec![1, 2, 3, 4], vec![5, 6], vec![7]]);
    }

    async fn fused_after_end() {
        let mut s = Script::items([1u8, 2, 3]).batch_timeout(2, MS);
        assert_eq!(s.next().await, Some(vec![1, 2]));
        assert_eq!(s.next().await, Some(vec![3]));
        assert_eq!(s.next().await, None);
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
    }

    #[should_panic(expected = "batch_timeout: max must be at least 1")]
    async fn zero_max_panics() {
        let _ = stream::iter([1]).batch_timeout(0, MS);
    }

    #[should_panic(expected = "batch_timeout: timeout must be greater than zero")]
    async fn zero_timeout_panics() {
        let _ = stream::iter([1]).batch_timeout(1, Duration::ZERO);
    }
}
