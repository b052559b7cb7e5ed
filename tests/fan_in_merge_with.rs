//! `merge_with`: both streams' items, fairly; ends when both end.

mod support;

use futures::stream::{self, FusedStream, StreamExt};
use futures_test::stream::StreamTestExt;
use proptest::prelude::*;
use stream_plus::StreamExtPlus;
use support::{matrix_test, on_every_executor, Script};

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every item of both, each side in its own order.
    #[test]
    fn interleaves_both_in_order(a in prop::collection::vec(any::<u16>(), 0..50), b in prop::collection::vec(any::<u16>(), 0..50)) {
        on_every_executor(|| {
            let (a, b) = (a.clone(), b.clone());
            async move {
                let left = stream::iter(a.clone().into_iter().map(|x| (0, x))).interleave_pending();
                let right = stream::iter(b.clone().into_iter().map(|x| (1, x))).interleave_pending();
                let mut s = left.merge_with(right);
                let out = support::collect_checking_hint(&mut s).await;
                let left: Vec<u16> = out.iter().filter(|(side, _)| *side == 0).map(|(_, x)| *x).collect();
                let right: Vec<u16> = out.iter().filter(|(side, _)| *side == 1).map(|(_, x)| *x).collect();
                assert_eq!(left, a);
                assert_eq!(right, b);
            }
        });
    }
}

matrix_test! {
    /// Two always-ready endless streams: neither starves.
    async fn fair_between_two_busy_streams() {
        let out: Vec<u8> = stream::repeat(0u8).merge_with(stream::repeat(1u8)).take(1000).collect().await;
        let ones = out.iter().filter(|&&x| x == 1).count();
        assert!((400..=600).contains(&ones), "{ones} of 1000 from the second stream");
    }

    async fn ends_when_both_end_and_is_fused() {
        let mut s = Script::items([1u8, 2]).merge_with(Script::items([3u8]));
        let mut out: Vec<u8> = s.by_ref().collect().await;
        out.sort();
        assert_eq!(out, [1, 2, 3]);
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
    }

    async fn one_pending_forever_keeps_it_open() {
        let mut s = stream::iter([1u8]).merge_with(stream::pending());
        assert_eq!(s.next().await, Some(1));
        assert!(futures::poll!(s.next()).is_pending());
        assert!(!s.is_terminated());
    }

    async fn drop_drops_both() {
        let a = std::sync::Arc::new(());
        let s = stream::iter(vec![a.clone()]).merge_with(stream::iter(vec![a.clone()]));
        assert_eq!(std::sync::Arc::strong_count(&a), 3);
        drop(s);
        assert_eq!(std::sync::Arc::strong_count(&a), 1);
    }
}
