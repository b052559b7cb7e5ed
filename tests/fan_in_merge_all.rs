//! `merge_all`: many streams, wake-driven and fair; `push`, `len`, `is_empty`.

mod support;

use futures::channel::mpsc;
use futures::stream::{self, BoxStream, FusedStream, Stream, StreamExt};
use futures_test::stream::StreamTestExt;
use proptest::prelude::*;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use stream_plus::merge_all;
use support::{matrix_test, on_every_executor};

/// A stream that never yields and counts how often it is polled.
struct Idle(Arc<AtomicUsize>);
impl Stream for Idle {
    type Item = u32;
    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<u32>> {
        self.0.fetch_add(1, SeqCst);
        Poll::Pending
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every item of every stream, each stream's items in its own order.
    #[test]
    fn every_item_once_in_per_stream_order(streams in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20), 0..12)) {
        on_every_executor(|| {
            let streams = streams.clone();
            async move {
                let merged = merge_all(streams.iter().cloned().enumerate().map(|(i, items)| {
                    stream::iter(items.into_iter().map(move |x| (i, x))).interleave_pending().boxed()
                }));
                let mut s = merged;
                let out = support::collect_checking_hint(&mut s).await;
                for (i, items) in streams.iter().enumerate() {
                    let got: Vec<u8> = out.iter().filter(|(j, _)| *j == i).map(|(_, x)| *x).collect();
                    assert_eq!(&got, items);
                }
                assert!(s.is_terminated());
                assert!(s.is_empty());
            }
        });
    }
}

matrix_test! {
    async fn fair_between_two_busy_streams() {
        let s = merge_all([stream::repeat(0u8).boxed(), stream::repeat(1u8).boxed()]);
        let out: Vec<u8> = s.take(1000).collect().await;
        let ones = out.iter().filter(|&&x| x == 1).count();
        assert!((400..=600).contains(&ones), "{ones} of 1000 from the second stream");
    }

    /// 10,000 idle streams are polled once each (when pushed), never again,
    /// while one active stream yields 1,000 items.
    async fn idle_streams_are_not_polled_again() {
        let polls = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::unbounded::<u32>();
        let mut s: stream_plus::adapters::MergeAll<BoxStream<'static, u32>> =
            (0..10_000).map(|_| Idle(polls.clone()).boxed()).collect();
        s.push(rx.boxed());
        assert_eq!(s.len(), 10_001);
        for i in 0..1000 {
            tx.unbounded_send(i).unwrap();
            assert_eq!(s.next().await, Some(i));
        }
        assert_eq!(polls.load(SeqCst), 10_000);
    }

    async fn len_push_and_revival() {
        let mut s = merge_all(Vec::<BoxStream<'static, u8>>::new());
        assert!(s.is_empty());
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
        s.push(stream::iter([1u8, 2]).boxed());
        assert_eq!(s.len(), 1);
        assert!(!s.is_terminated());
        assert_eq!(s.next().await, Some(1));
        assert_eq!(s.next().await, Some(2));
        assert_eq!(s.next().await, None);
        assert_eq!(s.len(), 0);
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
        s.push(stream::iter([3u8]).boxed());
        assert_eq!(s.next().await, Some(3));
    }

    async fn drop_drops_every_stream() {
        let a = Arc::new(());
        let streams: Vec<BoxStream<'static, Arc<()>>> =
            (0..5).map(|_| stream::iter(vec![a.clone()]).chain(stream::pending()).boxed()).collect();
        let mut s = merge_all(streams);
        assert!(s.next().await.is_some());
        drop(s);
        assert_eq!(Arc::strong_count(&a), 1);
    }
}
