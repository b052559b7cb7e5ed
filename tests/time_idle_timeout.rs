//! `idle_timeout`: `Ok` per item, one `Err(Elapsed)` after `limit` of silence.
#![cfg(feature = "time")]

mod support;

use futures::stream::{self, FusedStream, StreamExt};
use std::time::Duration;
use stream_plus::{Elapsed, StreamExtPlus};
use support::{matrix_test, Script, Step};

const MS: Duration = Duration::from_millis(1);

#[cfg(feature = "test-util")]
mod on_virtual_time {
    use super::*;
    use support::virt::Harness;

    #[test]
    fn limit_counts_from_first_poll_then_from_each_item() {
        let mut h = Harness::new(|up| up.idle_timeout(10 * MS));
        assert_eq!(h.ready(), []); // first poll at 0
        h.at(9).send(1);
        assert_eq!(h.ready(), [Ok(1)]);
        h.at(18).send(2);
        assert_eq!(h.ready(), [Ok(2)]);
        h.at(27);
        assert_eq!(h.ready(), []);
        h.at(28);
        assert_eq!(h.ready(), [Err(Elapsed)]);
        assert!(h.ended());
        assert_eq!(h.clock.armed_timers(), 0);
    }

    #[test]
    fn no_item_at_all_times_out_from_first_poll() {
        let mut h = Harness::new(|up| up.idle_timeout(10 * MS));
        h.at(50); // not polled yet: the clock has not started
        assert_eq!(h.ready(), []);
        h.at(59);
        assert_eq!(h.ready(), []);
        h.at(60);
        assert_eq!(h.ready(), [Err::<u32, _>(Elapsed)]);
    }

    #[test]
    fn upstream_end_is_not_a_timeout() {
        let mut h = Harness::new(|up| up.idle_timeout(10 * MS));
        h.send(1).end();
        assert_eq!(h.ready(), [Ok(1)]);
        assert!(h.ended());
    }

    #[test]
    fn drop_releases_the_timer() {
        let mut h = Harness::new(|up| up.idle_timeout(10 * MS));
        assert_eq!(h.ready(), [] as [Result<u8, Elapsed>; 0]);
        assert_eq!(h.clock.armed_timers(), 1);
        h.drop_stream();
        assert_eq!(h.clock.armed_timers(), 0);
    }
}

#[test]
fn elapsed_is_a_proper_error() {
    let e: Box<dyn std::error::Error + Send + Sync> = Box::new(Elapsed);
    assert_eq!(e.to_string(), "timeout elapsed");
    let copy = Elapsed;
    assert_eq!(copy, Elapsed);
}

matrix_test! {
    async fn dead_source_times_out() {
        let script = Script::new([Step::Item(1u8), Step::Item(2), Step::Delay(Duration::from_secs(30)), Step::Item(3)]);
        let out: Vec<Result<u8, Elapsed>> = script.idle_timeout(50 * MS).collect().await;
        assert_eq!(out, [Ok(1), Ok(2), Err(Elapsed)]);
    }

    async fn fused_after_timeout() {
        let mut s = stream::pending::<u8>().idle_timeout(5 * MS);
        assert_eq!(s.next().await, Some(Err(Elapsed)));
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
    }

    #[should_panic(expected = "idle_timeout: limit must be greater than zero")]
    async fn zero_limit_panics() {
        let _ = stream::iter([1]).idle_timeout(Duration::ZERO);
    }
}
