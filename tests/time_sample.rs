//! `sample`: the newest item at each tick of a fixed grid.
#![cfg(feature = "time")]

mod support;

use futures::stream::{self, FusedStream, StreamExt};
use std::time::Duration;
use stream_plus::StreamExtPlus;
use support::{matrix_test, Script, Step};

const MS: Duration = Duration::from_millis(1);

#[cfg(feature = "test-util")]
mod on_virtual_time {
    use super::*;
    use support::virt::Harness;

    #[test]
    fn newest_item_per_tick_on_a_fixed_grid() {
        let mut h = Harness::new(|up| up.sample(10 * MS));
        assert_eq!(h.ready(), []); // first poll at 0: the grid is 10, 20, 30...
        h.at(2).send(1);
        h.ready();
        h.at(7).send(2);
        h.ready();
        h.at(9);
        assert_eq!(h.ready(), []);
        h.at(10);
        assert_eq!(h.ready(), [2]);
        // No item in (10, 20]: tick 20 yields nothing.
        h.at(20);
        assert_eq!(h.ready(), []);
        h.at(21).send(3);
        h.ready();
        h.at(29);
        assert_eq!(h.ready(), []);
        h.at(30);
        assert_eq!(h.ready(), [3]);
    }

    #[test]
    fn late_consumer_gets_no_burst() {
        let mut h = Harness::new(|up| up.sample(10 * MS));
        h.ready();
        h.send(1);
        h.ready();
        // The consumer comes back at 35: ticks 10, 20 and 30 were missed.
        h.at(35).send(2);
        assert_eq!(h.ready(), [2]);
        h.send(3);
        h.ready();
        h.at(39);
        assert_eq!(h.ready(), [], "the next tick is 40, on the grid");
        h.at(40);
        assert_eq!(h.ready(), [3]);
    }

    #[test]
    fn flushes_unsampled_item_at_end() {
        let mut h = Harness::new(|up| up.sample(10 * MS));
        h.ready();
        h.at(3).send(1).send(2).end();
        assert_eq!(h.ready(), [2]);
        assert!(h.ended());
        assert_eq!(h.now_ms(), 3);
    }

    #[test]
    fn idle_sampler_arms_no_timer_and_drop_releases_it() {
        let mut h = Harness::new(|up| up.sample(10 * MS));
        h.ready();
        assert_eq!(h.clock.armed_timers(), 0);
        h.send(1);
        h.ready();
        assert_eq!(h.clock.armed_timers(), 1);
        h.drop_stream();
        assert_eq!(h.clock.armed_timers(), 0);
    }
}

matrix_test! {
    async fn samples_a_burst_then_flushes() {
        let script = Script::new(
            (1..=5).map(Step::Item).chain([Step::Delay(100 * MS), Step::Item(6)]),
        );
        let out: Vec<u32> = script.sample(30 * MS).collect().await;
        assert_eq!(out, [5, 6]);
    }

    async fn fused_after_end() {
        let mut s = Script::items([1u8, 2]).sample(5 * MS);
        assert_eq!(s.next().await, Some(2));
        assert_eq!(s.next().await, None);
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
    }

    #[should_panic(expected = "sample: period must be greater than zero")]
    async fn zero_period_panics() {
        let _ = stream::iter([1]).sample(Duration::ZERO);
    }
}
