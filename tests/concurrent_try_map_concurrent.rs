//! `try_map_concurrent`: exactly the sequential loop's output, the first `Err`
//! in input order ends it, upstream is not polled after an `Err`.

mod support;

use futures::stream::{self, FusedStream, StreamExt};
use futures_test::stream::StreamTestExt;
use proptest::prelude::*;
use std::sync::atomic::Ordering::SeqCst;
use stream_plus::TryStreamExtPlus;
use support::{matrix_test, on_every_executor, Script, Tracker, Wait};

/// An input: an upstream `Err`, or a value with its delay and whether `f` fails.
#[derive(Clone, Debug)]
enum In {
    UpErr(u16),
    Val { v: u16, yields: usize, fails: bool },
}

fn arb_in() -> impl Strategy<Value = In> {
    prop_oneof![
        1 => any::<u16>().prop_map(In::UpErr),
        12 => (any::<u16>(), 0usize..6, prop::bool::weighted(0.08))
            .prop_map(|(v, yields, fails)| In::Val { v, yields, fails }),
    ]
}

/// The sequential loop.
fn model(inputs: &[In]) -> Vec<Result<u32, String>> {
    let mut out = Vec::new();
    for input in inputs {
        match input {
            In::UpErr(e) => {
                out.push(Err(format!("upstream {e}")));
                break;
            }
            In::Val { v, fails: true, .. } => {
                out.push(Err(format!("f {v}")));
                break;
            }
            In::Val { v, .. } => out.push(Ok(*v as u32 * 2)),
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn matches_sequential_loop(inputs in prop::collection::vec(arb_in(), 0..50), workers in 1usize..7) {
        let expected = model(&inputs);
        on_every_executor(|| {
            let (inputs, expected) = (inputs.clone(), expected.clone());
            async move {
                let tracker = Tracker::new();
                let t = tracker.clone();
                let upstream = stream::iter(inputs.into_iter().map(|i| match i {
                    In::UpErr(e) => Err(format!("upstream {e}")),
                    val => Ok(val),
                }));
                let mut s = upstream.interleave_pending().try_map_concurrent(workers, move |input| {
                    let In::Val { v, yields, fails } = input else { unreachable!() };
                    let fut = t.future(Wait::Yields(yields), v);
                    async move {
                        let v = fut.await;
                        if fails { Err(format!("f {v}")) } else { Ok(v as u32 * 2) }
                    }
                });
                let out = support::collect_checking_hint(&mut s).await;
                assert_eq!(out, expected);
                assert!(tracker.max_running() <= workers);
                assert_eq!(tracker.created(), tracker.dropped());
            }
        });
    }
}

matrix_test! {
    /// An upstream `Err` stops the pulling at once.
    async fn upstream_err_stops_pulling() {
        let script = Script::items(vec![Ok(0u32), Err("bad"), Ok(2), Ok(3), Ok(4)]);
        let pulled = script.pulled();
        let mut s = script.try_map_concurrent(4, |x| async move { Ok::<_, &str>(x) });
        assert_eq!(s.next().await, Some(Ok(0)));
        assert_eq!(s.next().await, Some(Err("bad")));
        assert_eq!(s.next().await, None);
        assert!(s.is_terminated());
        assert_eq!(pulled.load(SeqCst), 2);
    }

    /// An `Err` from `f` stops the pulling, drops the futures of later items,
    /// and still waits for the earlier items.
    async fn f_err_drops_later_and_keeps_earlier() {
        let tracker = Tracker::new();
        let t = tracker.clone();
        let script = Script::items((0..100u32).map(Ok::<u32, String>));
        let pulled = script.pulled();
        let mut s = script.try_map_concurrent(3, move |i| {
            let wait = match i {
                0 => Wait::Yields(20),
                1 => Wait::Yields(2),
                _ => Wait::Forever,
            };
            let fut = t.future(wait, i);
            async move {
                let i = fut.await;
                if i == 1 { Err(format!("item {i}")) } else { Ok(i) }
            }
        });
        assert_eq!(s.next().await, Some(Ok(0)));
        // Item 2's future never ends; it was dropped when item 1 failed.
        assert_eq!(s.next().await, Some(Err("item 1".to_string())));
        assert_eq!(s.next().await, None);
        assert_eq!(pulled.load(SeqCst), 3);
        assert_eq!(tracker.created(), 3);
        assert_eq!(tracker.dropped(), 3);
    }

    /// An earlier item that fails later in time still wins.
    async fn first_err_in_input_order_wins() {
        let out: Vec<Result<u32, u32>> = stream::iter((0..6u32).map(Ok))
            .try_map_concurrent(6, |i| async move {
                support::yield_n(if i == 1 { 30 } else { 0 }).await;
                if i == 1 || i == 4 { Err(i) } else { Ok(i) }
            })
            .collect()
            .await;
        assert_eq!(out, [Ok(0), Err(1)]);
    }

    /// Bounds: `workers` running, `2 × workers` taken and not yet yielded.
    async fn respects_bounds() {
        let workers = 3;
        let script = Script::items((0..120u64).map(Ok::<u64, ()>));
        let pulled = script.pulled();
        let tracker = Tracker::new();
        let t = tracker.clone();
        let mut s = script.try_map_concurrent(workers, move |i| {
            let fut = t.future(Wait::Yields((i * 7 % 4) as usize), i);
            async move { Ok(fut.await) }
        });
        let mut yielded = 0;
        while let Some(r) = s.next().await {
            assert_eq!(r, Ok(yielded as u64));
            yielded += 1;
            assert!(pulled.load(SeqCst) - yielded <= 2 * workers);
            assert!(s.in_flight() <= workers);
        }
        assert!(tracker.max_running() <= workers);
    }

    async fn drop_cancels_everything() {
        let tracker = Tracker::new();
        let t = tracker.clone();
        let mut s = stream::iter((0..100u32).map(Ok::<u32, ()>)).try_map_concurrent(4, move |i| {
            let fut = t.future(if i == 0 { Wait::None } else { Wait::Forever }, i);
            async move { Ok(fut.await) }
        });
        assert_eq!(s.next().await, Some(Ok(0)));
        let created = tracker.created();
        drop(s);
        assert_eq!(tracker.dropped(), created);
        assert_eq!(tracker.running(), 0);
    }

    #[should_panic(expected = "try_map_concurrent: workers must be at least 1")]
    async fn zero_workers_panics() {
        let _ = stream::iter([Ok::<u8, ()>(1)]).try_map_concurrent(0, |x| async move { Ok(x) });
    }

    #[should_panic(expected = "try boom")]
    async fn panic_in_future_reaches_poller() {
        let s = stream::iter((0..5u8).map(Ok::<u8, ()>)).try_map_concurrent(2, |x| async move {
            if x == 3 {
                panic!("try boom");
            }
            Ok(x)
        });
        let _: Vec<_> = s.collect().await;
    }
}
