//! `merge_with`: both streams' items, fairly; ends when both end, or when
//! the side chosen with `ends_with_first` / `_second` / `_either` ends.

mod support;

use futures::stream::{self, FusedStream, Stream, StreamExt};
use futures_test::stream::StreamTestExt;
use proptest::prelude::*;
use stream_plus::StreamExtPlus;
use support::{matrix_test, on_every_executor, Script};

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// With an end chosen, the output is what the merge yields up to the
    /// moment the chosen side ends: every item of the side(s) that must end,
    /// the other's in order (a prefix), and the hint is never wrong.
    #[test]
    fn chosen_end_against_the_model(
        a in prop::collection::vec(any::<u16>(), 0..30),
        b in prop::collection::vec(any::<u16>(), 0..30),
        which in 0usize..3,
    ) {
        on_every_executor(|| {
            let (a, b) = (a.clone(), b.clone());
            async move {
                let left = Script::items(a.clone().into_iter().map(|x| (0, x))).interleave_pending();
                let right = Script::items(b.clone().into_iter().map(|x| (1, x))).interleave_pending();
                let merged = left.merge_with(right);
                let mut s = match which {
                    0 => merged.ends_with_first(),
                    1 => merged.ends_with_second(),
                    _ => merged.ends_with_either(),
                };
                let out = support::collect_checking_hint(&mut s).await;
                assert!(s.is_terminated());
                let left: Vec<u16> = out.iter().filter(|(side, _)| *side == 0).map(|(_, x)| *x).collect();
                let right: Vec<u16> = out.iter().filter(|(side, _)| *side == 1).map(|(_, x)| *x).collect();
                assert!(a.starts_with(&left) && b.starts_with(&right));
                match which {
                    0 => assert_eq!(left, a),
                    1 => assert_eq!(right, b),
                    _ => assert!(left == a || right == b),
                }
            }
        });
    }

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

    /// Regression for a newcomer's progress ticker: `merge_with(interval(..))`
    /// never ended after the work ended; `ends_with_first` ends it at once.
    async fn ends_with_first_over_an_endless_ticker() {
        let ticker = stream::repeat(0u32).interleave_pending();
        let mut s = Script::items([1u32, 2, 3]).merge_with(ticker).ends_with_first();
        let out: Vec<u32> = s.by_ref().collect().await;
        assert_eq!(out.iter().filter(|&&x| x > 0).copied().collect::<Vec<_>>(), [1, 2, 3]);
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
        assert_eq!(s.size_hint(), (0, Some(0)));
    }

    async fn ends_with_second_and_either_over_a_pending_side() {
        let mut s = stream::pending::<u8>().merge_with(Script::items([7u8])).ends_with_second();
        assert_eq!(s.next().await, Some(7));
        assert_eq!(s.next().await, None);
        assert!(s.is_terminated());
        let mut s = stream::pending::<u8>().merge_with(Script::items([7u8])).ends_with_either();
        assert_eq!(s.next().await, Some(7));
        assert_eq!(s.next().await, None);
        let mut s = Script::items([7u8]).merge_with(stream::pending()).ends_with_either();
        assert_eq!(s.next().await, Some(7));
        assert_eq!(s.next().await, None);
        assert!(s.is_terminated());
        // The default still waits for both.
        let mut s = Script::items([7u8]).merge_with(stream::pending());
        assert_eq!(s.next().await, Some(7));
        assert!(futures::poll!(s.next()).is_pending());
    }

    async fn drop_drops_both() {
        let a = std::sync::Arc::new(());
        let s = stream::iter(vec![a.clone()]).merge_with(stream::iter(vec![a.clone()]));
        assert_eq!(std::sync::Arc::strong_count(&a), 3);
        drop(s);
        assert_eq!(std::sync::Arc::strong_count(&a), 1);
    }
}
