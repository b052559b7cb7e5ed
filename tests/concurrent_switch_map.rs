//! `switch_map`: only the newest inner stream runs, the old one is dropped.

mod support;

use futures::stream::{self, FusedStream, Stream, StreamExt};
use futures_test::stream::StreamTestExt;
use proptest::prelude::*;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use stream_plus::StreamExtPlus;
use support::{matrix_test, on_every_executor, Script, Step};

/// The inner stream of item `x`: `len` items `x * 100 + k`.
fn inner(x: u32, len: u32) -> impl Stream<Item = u32> {
    stream::iter((0..len).map(move |k| x * 100 + k))
}

/// An inner stream that never ends and counts its drops.
struct Endless {
    drops: Arc<AtomicUsize>,
    next: u32,
}
impl Stream for Endless {
    type Item = u32;
    fn poll_next(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<u32>> {
        if self.next < 2 {
            self.next += 1;
            Poll::Ready(Some(self.next))
        } else {
            Poll::Pending
        }
    }
}
impl Drop for Endless {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever the interleaving, the output is, for a subsequence of the
    /// upstream items in order, a prefix of each one's inner stream, and the
    /// last upstream item's inner stream is yielded whole.
    #[test]
    fn yields_prefixes_and_the_last_inner_whole(lens in prop::collection::vec(0u32..5, 1..20)) {
        on_every_executor(|| {
            let lens = lens.clone();
            async move {
                let n = lens.len() as u32;
                let l2 = lens.clone();
                let out: Vec<u32> = stream::iter(0..n)
                    .interleave_pending()
                    .switch_map(move |x| inner(x, l2[x as usize]).interleave_pending())
                    .collect()
                    .await;
                let mut last_x = None;
                let mut expect_k = 0;
                for v in &out {
                    let (x, k) = (v / 100, v % 100);
                    if Some(x) != last_x {
                        assert!(last_x.map_or(true, |l| x > l), "inner of {x} after a later one");
                        last_x = Some(x);
                        expect_k = 0;
                    }
                    assert_eq!(k, expect_k, "not a prefix");
                    expect_k += 1;
                }
                let last_len = lens[(n - 1) as usize];
                if last_len > 0 {
                    assert_eq!(last_x, Some(n - 1));
                    assert_eq!(expect_k, last_len);
                }
            }
        });
    }
}

matrix_test! {
    /// All upstream items ready at once: only the newest inner stream is polled.
    async fn ready_burst_keeps_only_the_last() {
        let out: Vec<u32> = stream::iter(0..5u32).switch_map(|x| inner(x, 3)).collect().await;
        assert_eq!(out, [400, 401, 402]);
    }

    /// Upstream items far apart: every inner stream runs to its end.
    async fn spaced_items_run_every_inner() {
        let gap = Duration::from_millis(30);
        let script = Script::new([Step::Item(1), Step::Delay(gap), Step::Item(2), Step::Delay(gap), Step::Item(3)]);
        let out: Vec<u32> = script.switch_map(|x| inner(x, 2)).collect().await;
        assert_eq!(out, [100, 101, 200, 201, 300, 301]);
    }

    /// A new upstream item drops the current inner stream before the new one
    /// yields anything.
    async fn new_item_drops_old_inner() {
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let script = Script::new([Step::Item(0u32), Step::Delay(Duration::from_millis(40)), Step::Item(1)]);
        let mut s = script.switch_map(move |x| Endless { drops: d.clone(), next: x * 10 });
        assert_eq!(s.next().await, Some(1));
        assert_eq!(s.next().await, Some(2));
        assert_eq!(drops.load(SeqCst), 0);
        // Item 1 arrives after the delay; its inner stream starts at 10, which is
        // >= 2, so it yields nothing: only the drop of the old one is visible.
        let next = futures::future::select(
            s.next(),
            Box::pin(async_io::Timer::after(Duration::from_millis(400))),
        )
        .await;
        assert!(matches!(next, futures::future::Either::Right(_)));
        assert_eq!(drops.load(SeqCst), 1);
        drop(s);
        assert_eq!(drops.load(SeqCst), 2);
    }

    /// Ends only when upstream and the last inner stream have ended; fused.
    async fn ends_after_upstream_and_inner() {
        let mut s = Script::items([7u32]).switch_map(|x| inner(x, 3));
        assert_eq!(s.size_hint(), (0, None));
        let out: Vec<u32> = s.by_ref().collect().await;
        assert_eq!(out, [700, 701, 702]);
        assert!(s.is_terminated());
        assert_eq!(s.size_hint(), (0, Some(0)));
        assert_eq!(s.next().await, None);
    }

    async fn empty_upstream_ends() {
        let mut s = stream::empty::<u32>().switch_map(|x| inner(x, 3));
        assert_eq!(s.next().await, None);
        assert!(s.is_terminated());
    }

    #[should_panic(expected = "bad item 2")]
    async fn panic_in_f_reaches_poller() {
        let s = stream::iter(0..4u32).switch_map(|x| {
            if x == 2 {
                panic!("bad item {x}");
            }
            inner(x, 1)
        });
        let _: Vec<u32> = s.collect().await;
    }
}
