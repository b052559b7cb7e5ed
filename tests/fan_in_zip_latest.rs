//! `zip_latest`: pairs of the latest values, once both have yielded.

mod support;

use futures::channel::mpsc;
use futures::stream::{self, FusedStream, StreamExt};
use futures_test::stream::StreamTestExt;
use proptest::prelude::*;
use stream_plus::StreamExtPlus;
use support::{matrix_test, on_every_executor};

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Each pair is (latest a, latest b): the a-components and b-components are
    /// non-decreasing prefixes of the inputs, consecutive pairs differ in one
    /// component, and the last pair is (last a, last b).
    #[test]
    fn pairs_of_latest_values(na in 1usize..30, nb in 1usize..30) {
        on_every_executor(move || async move {
            let a = stream::iter(0..na).interleave_pending();
            let b = stream::iter(0..nb).interleave_pending();
            let out: Vec<(usize, usize)> = a.zip_latest(b).collect().await;
            assert_eq!(out.last(), Some(&(na - 1, nb - 1)));
            for w in out.windows(2) {
                let ((a0, b0), (a1, b1)) = (w[0], w[1]);
                assert!((a1 == a0 + 1 && b1 == b0) || (a1 == a0 && b1 == b0 + 1), "{:?}", w);
            }
            // One pair per item after the first of each side at most.
            assert!(out.len() < na + nb);
        });
    }
}

matrix_test! {
    async fn emits_on_either_side_after_both_have_values() {
        let (ta, ra) = mpsc::unbounded::<u32>();
        let (tb, rb) = mpsc::unbounded::<char>();
        let mut s = ra.zip_latest(rb);
        ta.unbounded_send(1).unwrap();
        assert!(futures::poll!(s.next()).is_pending());
        ta.unbounded_send(2).unwrap();
        tb.unbounded_send('x').unwrap();
        assert_eq!(s.next().await, Some((2, 'x')));
        tb.unbounded_send('y').unwrap();
        assert_eq!(s.next().await, Some((2, 'y')));
        ta.unbounded_send(3).unwrap();
        assert_eq!(s.next().await, Some((3, 'y')));
        drop(ta);
        tb.unbounded_send('z').unwrap();
        assert_eq!(s.next().await, Some((3, 'z')), "one side ended: the other still pairs");
        drop(tb);
        assert_eq!(s.next().await, None);
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
    }

    /// Both ready in the same poll: they take turns.
    async fn both_ready_take_turns() {
        let out: Vec<(u32, u32)> = stream::iter([0, 1, 2]).zip_latest(stream::iter([10, 11, 12])).collect().await;
        assert_eq!(out, [(0, 10), (1, 10), (1, 11), (2, 11), (2, 12)]);
    }

    async fn side_ended_without_value_ends_it() {
        let mut s = stream::empty::<u8>().zip_latest(stream::pending::<u8>());
        assert_eq!(s.next().await, None);
        assert!(s.is_terminated());
    }

    async fn drop_releases_latest_values() {
        let a = std::sync::Arc::new(());
        let mut s = stream::iter(vec![a.clone()]).chain(stream::pending())
            .zip_latest(stream::iter([1u8]).chain(stream::pending()));
        assert!(s.next().await.is_some());
        drop(s);
        assert_eq!(std::sync::Arc::strong_count(&a), 1);
    }
}
