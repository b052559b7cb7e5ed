//! `debounce`: only items followed by `quiet` of silence; `max_wait`; flush at end.
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
    fn yields_after_quiet_and_newer_items_replace() {
        let mut h = Harness::new(|up| up.debounce(10 * MS));
        h.send(1);
        assert_eq!(h.ready(), []);
        h.at(5).send(2);
        assert_eq!(h.ready(), []);
        h.at(14);
        assert_eq!(h.ready(), []); // 2 arrived at 5: due at 15
        let woken = h.woken();
        h.at(15);
        assert!(h.woken() > woken, "the timer must wake the task");
        assert_eq!(h.ready(), [2]);
        h.at(40);
        assert_eq!(h.ready(), []);
        h.send(3);
        assert_eq!(h.ready(), []); // the item is taken (and timed) when polled
        h.at(49);
        assert_eq!(h.ready(), []);
        h.at(50);
        assert_eq!(h.ready(), [3]);
        h.end();
        assert_eq!(h.ready(), []);
        assert!(h.ended());
    }

    #[test]
    fn flushes_pending_item_at_end() {
        let mut h = Harness::new(|up| up.debounce(10 * MS));
        h.send(1).send(2);
        assert_eq!(h.ready(), []);
        h.at(3).send(3).end();
        assert_eq!(h.ready(), [3]);
        assert!(h.ended());
        assert_eq!(h.now_ms(), 3, "flushed at once, without waiting");
    }

    #[test]
    fn max_wait_bounds_the_delay_of_a_never_quiet_source() {
        let mut h = Harness::new(|up| up.debounce(10 * MS).max_wait(25 * MS));
        let mut out = Vec::new();
        // An item every 5 ms, never 10 ms of quiet.
        for t in (0..=60).step_by(5) {
            h.at(t).send(t);
            out.extend(h.ready().into_iter().map(|v| (h.now_ms(), v)));
        }
        // Runs start at 0 and 30 (the first item after a flush): flushed at 25
        // (newest then: 25) and at 55 (newest: 55).
        assert_eq!(out, [(25, 25), (55, 55)]);
    }

    #[test]
    fn reuses_one_timer_and_drop_releases_it() {
        let mut h = Harness::new(|up| up.debounce(10 * MS));
        for t in 0..5 {
            h.at(t).send(t);
            h.ready();
        }
        assert_eq!(h.clock.armed_timers(), 1);
        h.drop_stream();
        assert_eq!(h.clock.armed_timers(), 0);
        h.at(100); // nothing to wake, nothing to yield
    }
}

matrix_test! {
    /// Real time: a burst yields only its last item; a later item after a long
    /// gap comes out too.
    async fn burst_yields_its_last_item() {
        let script = Script::new(
            (1..=5).map(Step::Item).chain([Step::Delay(150 * MS), Step::Item(6), Step::Delay(150 * MS)]),
        );
        let out: Vec<u32> = script.debounce(20 * MS).collect().await;
        assert_eq!(out, [5, 6]);
    }

    async fn fused_after_end() {
        let mut s = Script::items([1u8, 2]).debounce(5 * MS);
        assert_eq!(s.next().await, Some(2));
        assert!(!s.is_terminated());
        assert_eq!(s.next().await, None);
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
    }

    async fn dropping_mid_wait_is_clean() {
        let mut s = Script::new([Step::Item(1u8), Step::Delay(Duration::from_secs(60))])
            .debounce(Duration::from_secs(30));
        let first = futures::future::select(s.next(), Box::pin(async_io::Timer::after(20 * MS))).await;
        assert!(matches!(first, futures::future::Either::Right(_)));
        drop(first);
        drop(s); // drops the armed timer with it
    }

    #[should_panic(expected = "debounce: quiet must be greater than zero")]
    async fn zero_quiet_panics() {
        let _ = stream::iter([1]).debounce(Duration::ZERO);
    }

    #[should_panic(expected = "debounce: max_wait must be at least quiet")]
    async fn short_max_wait_panics() {
        let _ = stream::iter([1]).debounce(10 * MS).max_wait(5 * MS);
    }
}
