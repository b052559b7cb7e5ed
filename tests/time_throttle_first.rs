//! `throttle_first`: the first item of each window passes, the rest are dropped.
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

    /// Against a model: an item passes iff it arrives at or after the end of the
    /// window opened by the last item that passed.
    #[test]
    fn matches_window_model() {
        let arrivals = [0u64, 3, 9, 10, 11, 25, 26, 40, 49, 50, 51, 100];
        let mut h = Harness::new(|up| up.throttle_first(10 * MS));
        let mut out = Vec::new();
        for &t in &arrivals {
            h.at(t).send(t);
            out.extend(h.ready());
        }
        let mut model = Vec::new();
        let mut window_end = None;
        for &t in &arrivals {
            if window_end.map_or(true, |end| t >= end) {
                model.push(t);
                window_end = Some(t + 10);
            }
        }
        assert_eq!(out, model);
        assert_eq!(out, [0, 10, 25, 40, 50, 100]);
        h.end();
        assert_eq!(h.ready(), []);
        assert!(h.ended());
    }

    #[test]
    fn arms_no_timer() {
        let mut h = Harness::new(|up| up.throttle_first(10 * MS));
        h.send(1).send(2);
        assert_eq!(h.ready(), [1]);
        assert_eq!(h.clock.armed_timers(), 0);
    }
}

matrix_test! {
    async fn burst_then_gap() {
        let script = Script::new(
            (1..=5).map(Step::Item).chain([Step::Delay(150 * MS)]).chain((6..=8).map(Step::Item)),
        );
        let out: Vec<u32> = script.throttle_first(50 * MS).collect().await;
        assert_eq!(out, [1, 6]);
    }

    async fn fused_after_end() {
        let mut s = Script::items([1u8, 2, 3]).throttle_first(Duration::from_secs(5));
        let out: Vec<u8> = s.by_ref().collect().await;
        assert_eq!(out, [1]);
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
    }

    async fn drop_mid_stream() {
        let mut s = Script::new([Step::Item(1u8), Step::Delay(Duration::from_secs(60))]).throttle_first(10 * MS);
        assert_eq!(s.next().await, Some(1));
        drop(s);
    }

    #[should_panic(expected = "throttle_first: period must be greater than zero")]
    async fn zero_period_panics() {
        let _ = stream::iter([1]).throttle_first(Duration::ZERO);
    }
}
