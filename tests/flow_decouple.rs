//! `decouple`: a bounded channel and a driver future that keeps upstream moving.

mod support;

use futures::future::{join, select, Either};
use futures::stream::{self, FusedStream, StreamExt};
use futures_test::stream::StreamTestExt;
use proptest::prelude::*;
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};
use stream_plus::StreamExtPlus;
use support::{matrix_test, on_every_executor, Script, Step};

const MS: Duration = Duration::from_millis(1);

fn assert_send<T: Send>(_: &T) {}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    /// Everything arrives, in order, and the channel plus the driver's hand
    /// never hold more than `capacity + 1` items.
    #[test]
    fn lossless_in_order_and_bounded(items in prop::collection::vec(any::<u16>(), 0..100), cap in 1usize..8) {
        on_every_executor(|| {
            let items = items.clone();
            async move {
                let script = Script::items(items.clone());
                let pulled = script.pulled();
                let (mut rx, driver) = script.interleave_pending().decouple(cap);
                assert_send(&driver);
                let consume = async {
                    let mut out = Vec::new();
                    while let Some(x) = rx.next().await {
                        out.push(x);
                        assert!(rx.len() <= cap);
                        assert!(pulled.load(SeqCst) - out.len() <= cap + 1);
                    }
                    out
                };
                let (out, ()) = join(consume, driver).await;
                assert_eq!(out, items);
            }
        });
    }
}

matrix_test! {
    /// The cure: while the consumer is busy, the driver keeps the concurrent
    /// stage before it going, so results pile up in the channel.
    async fn work_continues_while_the_consumer_is_busy() {
        let stage = stream::iter(0..8u32).map_concurrent(8, |i| async move {
            async_io::Timer::after(20 * MS).await;
            i
        });
        let (mut rx, driver) = stage.decouple(16);
        let consume = async {
            assert_eq!(rx.next().await, Some(0));
            async_io::Timer::after(300 * MS).await; // busy elsewhere
            let waiting = rx.len();
            let start = Instant::now();
            let rest: Vec<u32> = rx.by_ref().collect().await;
            (waiting, rest, start.elapsed())
        };
        let ((waiting, rest, took), ()) = join(consume, driver).await;
        assert_eq!(rest, (1..8).collect::<Vec<_>>());
        assert_eq!(waiting, 7, "the other results were ready when the consumer came back");
        assert!(took < 150 * MS, "no work was left to do: {took:?}");
    }

    /// Dropping the receiver wakes the driver, which completes without pulling
    /// upstream again.
    async fn driver_finishes_after_receiver_drop() {
        let script = Script::new([Step::Item(1u8), Step::Item(2), Step::Delay(Duration::from_secs(60)), Step::Item(3)]);
        let pulled = script.pulled();
        let (mut rx, driver) = script.decouple(1);
        let mut driver = Box::pin(driver);
        let first = select(rx.next(), driver.as_mut()).await;
        assert!(matches!(first, Either::Left((Some(1), _))));
        drop(rx);
        let done = select(driver, Box::pin(async_io::Timer::after(Duration::from_secs(10)))).await;
        assert!(matches!(done, Either::Left(_)), "driver did not finish");
        assert!(pulled.load(SeqCst) <= 2);
    }

    /// Dropping the driver ends the receiver after the items already sent.
    async fn dropping_the_driver_ends_the_receiver() {
        let (rx, driver) = stream::iter(0..100u32).decouple(4);
        let mut driver = Box::pin(driver);
        // One poll fills the channel (4) and the driver's hand (1).
        assert!(futures::poll!(driver.as_mut()).is_pending());
        drop(driver);
        let out: Vec<u32> = rx.collect().await;
        assert_eq!(out, [0, 1, 2, 3]);
    }

    /// A panic in upstream reaches the consumer, after the items before it.
    #[should_panic(expected = "upstream boom")]
    async fn upstream_panic_reaches_the_consumer() {
        let upstream = stream::iter(0..10u32).map(|x| if x == 3 { panic!("upstream boom") } else { x });
        let (mut rx, driver) = upstream.decouple(8);
        let consume = async {
            for expected in 0..3 {
                assert_eq!(rx.next().await, Some(expected));
            }
            rx.next().await
        };
        let _ = join(consume, driver).await;
    }

    async fn fused_after_end() {
        let (mut rx, driver) = Script::items([1u8]).decouple(2);
        let (out, ()) = join(rx.by_ref().collect::<Vec<_>>(), driver).await;
        assert_eq!(out, [1]);
        assert!(rx.is_terminated());
        assert_eq!(rx.next().await, None);
    }

    #[should_panic(expected = "decouple: capacity must be at least 1")]
    async fn zero_capacity_panics() {
        let _ = stream::iter([1]).decouple(0);
    }
}

/// The driver really is spawnable on each runtime's own executor.
#[test]
fn driver_spawns_on_every_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let out: Vec<u32> = rt.block_on(async {
        let (rx, driver) = stream::iter(0..50u32).decouple(4);
        tokio::spawn(driver);
        rx.collect().await
    });
    assert_eq!(out, (0..50).collect::<Vec<_>>());

    let out: Vec<u32> = smol::block_on(async {
        let (rx, driver) = stream::iter(0..50u32).decouple(4);
        smol::spawn(driver).detach();
        rx.collect().await
    });
    assert_eq!(out.len(), 50);

    let out: Vec<u32> = async_std::task::block_on(async {
        let (rx, driver) = stream::iter(0..50u32).decouple(4);
        async_std::task::spawn(driver);
        rx.collect().await
    });
    assert_eq!(out.len(), 50);
}
