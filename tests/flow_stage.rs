//! `stage`: every stage of a pipeline moves on its own, in one task, with no
//! spawn.

mod support;

use futures::channel::mpsc;
use futures::stream::{self, FusedStream, StreamExt};
use futures::{poll, Stream};
use futures_test::stream::StreamTestExt;
use proptest::prelude::*;
use std::sync::atomic::Ordering::SeqCst;
use std::task::Poll;
use stream_plus::StreamExtPlus;
use support::{
    collect_checking_hint, matrix_test, never_asks, on_every_executor, yield_n, Counted, Counter,
    Gates, Script, Tracker, Wait,
};

fn assert_send<T: Send>(_: &T) {}

/// Stage 1 fetches (2 at once) behind gates; stage 2 parses one at a time and
/// its first parse is stuck. Returns what was fetched after every fetch gate
/// was opened, and the pipeline, so the test can finish it.
macro_rules! stall_scenario {
    ($build:expr) => {{
        let fetch_gates = Gates::new(6);
        let parse_gate = Gates::new(1);
        let fetched = Counter::new();
        let fetch = {
            let (gates, fetched) = (fetch_gates.clone(), fetched.clone());
            move |i: usize| {
                let (wait, fetched) = (gates.wait(i), fetched.clone());
                async move {
                    wait.await;
                    fetched.add();
                    i
                }
            }
        };
        let parse = {
            let gate = parse_gate.clone();
            move |i: usize| {
                let wait = (i == 0).then(|| gate.wait(0));
                async move {
                    if let Some(wait) = wait {
                        wait.await;
                    }
                    i
                }
            }
        };
        let mut pipeline = Box::pin($build(
            stream::iter(0..6usize).map_concurrent(2, fetch).boxed(),
            parse,
        ));
        assert!(poll!(pipeline.next()).is_pending());
        for i in 0..6 {
            fetch_gates.open(i);
            assert!(
                poll!(pipeline.next()).is_pending(),
                "parse of item 0 is stuck"
            );
        }
        let fetched_while_stuck = fetched.get();
        parse_gate.open(0);
        let out: Vec<usize> = pipeline.collect().await;
        assert_eq!(out, (0..6).collect::<Vec<_>>());
        fetched_while_stuck
    }};
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

    /// Against the sequential model, whatever the buffers, with spurious
    /// `Pending`s on the source and inside both stages.
    #[test]
    fn same_as_the_sequential_chain(
        items in prop::collection::vec(any::<u16>(), 0..120),
        b1 in prop::sample::select(vec![0usize, 1, 3, usize::MAX]),
        b2 in prop::sample::select(vec![0usize, 2, usize::MAX]),
    ) {
        on_every_executor(|| {
            let items = items.clone();
            async move {
                let model: Vec<u32> = items.iter().map(|&x| u32::from(x) * 2 + 1).collect();
                let mut staged = stream::iter(items)
                    .interleave_pending()
                    .map_concurrent(3, |x| async move {
                        yield_n(usize::from(x % 3)).await;
                        u32::from(x)
                    })
                    .stage(b1, |s| {
                        s.interleave_pending().map_concurrent_unordered(1, |x| async move {
                            yield_n((x % 2) as usize).await;
                            x * 2
                        })
                    })
                    .stage(b2, |s| s.interleave_pending().map(|x| x + 1));
                let out = collect_checking_hint(&mut staged).await;
                assert_eq!(out, model);
                assert!(staged.is_terminated());
            }
        });
    }
}

matrix_test! {
    /// The stall of a plain chain, cured: with the next stage stuck, the
    /// futures of the stage before are still polled when woken and fill the
    /// channel.
    async fn upstream_stage_moves_while_the_next_is_stuck() {
        let fetched = stall_scenario!(|fetches: stream::BoxStream<'static, usize>, parse| {
            fetches.stage(8, move |s| s.map_concurrent(1, parse))
        });
        assert_eq!(fetched, 6, "every fetch finished while parse was stuck");
    }

    /// The control: the same pipeline as a plain chain stalls, since a busy
    /// `map_concurrent(1, ..)` does not poll its upstream.
    async fn plain_chain_stalls_while_the_next_is_stuck() {
        let fetched = stall_scenario!(|fetches: stream::BoxStream<'static, usize>, parse| {
            fetches.map_concurrent(1, parse)
        });
        assert_eq!(fetched, 1, "only the fetch parse took before it got stuck");
    }

    /// Buffer 0 is a rendezvous: a next stage that never asks makes the driver
    /// take exactly one item.
    async fn rendezvous_takes_exactly_one_item() {
        let script = Script::items(0..100u32);
        let pulled = script.pulled();
        let mut staged = script.stage(0, never_asks::<u32, _>);
        for _ in 0..5 {
            assert!(poll!(staged.next()).is_pending());
        }
        assert_eq!(pulled.load(SeqCst), 1);
    }

    /// Buffer n: n items in the channel plus one in the driver's hand, no more.
    async fn buffer_n_takes_at_most_n_plus_one() {
        for n in [1usize, 2, 7] {
            let script = Script::items(0..100u32);
            let pulled = script.pulled();
            let mut staged = script.stage(n, never_asks::<u32, _>);
            for _ in 0..5 {
                assert!(poll!(staged.next()).is_pending());
            }
            assert_eq!(pulled.load(SeqCst), n + 1, "buffer {n}");
        }
    }

    /// Unbounded: everything ready is taken, over several polls, each one
    /// bounded by the poll budget.
    async fn unbounded_takes_everything_ready_within_the_budget() {
        let script = Script::items(0..1000u32);
        let pulled = script.pulled();
        let mut staged = script.stage(usize::MAX, never_asks::<u32, _>);
        let mut polls = 0;
        let mut before = 0;
        while pulled.load(SeqCst) < 1000 {
            assert!(poll!(staged.next()).is_pending());
            let now = pulled.load(SeqCst);
            assert!(now > before && now - before <= 1024, "one poll took {} items", now - before);
            before = now;
            polls += 1;
            assert!(polls < 100);
        }
        assert!(polls > 1, "1000 ready items need more than one budget");

        // An endless source too: each poll stops at the budget.
        let (endless, upstream_polls, _) = Counted::new(stream::repeat(1u8));
        let mut staged = endless.stage(usize::MAX, never_asks::<u8, _>);
        for round in 1..=5 {
            let before = upstream_polls.get();
            assert!(poll!(staged.next()).is_pending());
            let took = upstream_polls.get() - before;
            assert!((1..=1024).contains(&took), "round {round}: {took} upstream polls");
        }
    }

    /// A three-stage chain built with the inherent `stage`: with the last stage
    /// stuck, the first two stages both keep moving.
    async fn three_stage_chain_all_stages_move() {
        let (first, second) = (Counter::new(), Counter::new());
        let (f1, f2) = (first.clone(), second.clone());
        let gate = Gates::new(1);
        let g = gate.clone();
        let mut staged = Box::pin(
            stream::iter(0..10u32)
                .map_concurrent(2, move |x| {
                    let c = f1.clone();
                    async move {
                        yield_n(1).await;
                        c.add();
                        x
                    }
                })
                .stage(2, move |s| {
                    s.map_concurrent(2, move |x| {
                        let c = f2.clone();
                        async move {
                            yield_n(1).await;
                            c.add();
                            x
                        }
                    })
                })
                .stage(1, move |s| {
                    s.map_concurrent(1, move |x| {
                        let wait = (x == 0).then(|| g.wait(0));
                        async move {
                            if let Some(wait) = wait {
                                wait.await;
                            }
                            x
                        }
                    })
                }),
        );
        for _ in 0..50 {
            assert!(poll!(staged.next()).is_pending());
        }
        // Stage 3 holds item 0; its channel holds 1 plus 1 in hand; stage 2
        // has 2 running (done, waiting to be sent), its channel 2 plus 1 ...
        assert!(second.get() >= 3, "stage 2 moved: {}", second.get());
        assert!(first.get() > second.get(), "stage 1 moved further: {}", first.get());
        gate.open(0);
        assert_eq!(staged.collect::<Vec<_>>().await, (0..10).collect::<Vec<_>>());
        assert_eq!((first.get(), second.get()), (10, 10));
    }

    /// An idle driver is not polled again until something wakes it.
    async fn idle_driver_is_not_polled_until_woken() {
        let (tx, rx) = mpsc::unbounded::<u32>();
        let (source, upstream_polls, _) = Counted::new(rx);
        let mut staged = Box::pin(source.stage(4, |s| s));
        for _ in 0..5 {
            assert!(poll!(staged.next()).is_pending());
        }
        assert_eq!(upstream_polls.get(), 1, "only the first poll of Staged polled upstream");
        tx.unbounded_send(7).unwrap();
        assert_eq!(poll!(staged.next()), Poll::Ready(Some(7)));
        let after_item = upstream_polls.get();
        assert!(after_item > 1);
        for _ in 0..5 {
            assert!(poll!(staged.next()).is_pending());
        }
        assert_eq!(upstream_polls.get(), after_item, "idle again");
        drop(tx);
        assert_eq!(poll!(staged.next()), Poll::Ready(None));
    }

    /// `f` runs once, inside `stage`; nothing else runs before the first poll.
    async fn f_runs_once_at_construction_and_nothing_before_the_first_poll() {
        let calls = Counter::new();
        let c = calls.clone();
        let (source, upstream_polls, _) = Counted::new(stream::iter(0..3u32));
        let staged = source.stage(1, move |s| {
            c.add();
            s
        });
        assert_eq!((calls.get(), upstream_polls.get()), (1, 0));
        assert_eq!(staged.collect::<Vec<_>>().await, [0, 1, 2]);
        assert_eq!(calls.get(), 1);
    }

    /// `take(3)` in the last stage ends an endless pipeline: every stage is
    /// dropped at once, and the fused stream never polls upstream again.
    async fn last_stage_ending_drops_every_stage() {
        let (polls, source_drops, mid_drops) = (Counter::new(), Counter::new(), Counter::new());
        let source = Counted::with(stream::repeat(7u32), &polls, &source_drops);
        let md = mid_drops.clone();
        let mut staged = source
            .stage(2, move |s| Counted::with(s.map(|x| x * 2), &Counter::new(), &md))
            .stage(0, |s| s.take(3));
        let mut out = Vec::new();
        while let Some(x) = staged.next().await {
            out.push(x);
        }
        assert_eq!(out, [14, 14, 14]);
        assert_eq!((source_drops.get(), mid_drops.get()), (1, 1), "dropped when the last stage ended");
        assert!(staged.is_terminated());
        let seen = polls.get();
        assert_eq!(staged.next().await, None);
        assert_eq!(polls.get(), seen);
    }

    /// When upstream ends, what is buffered is delivered, then the end.
    async fn upstream_end_delivers_the_buffered_items() {
        for buffer in [0usize, 1, 4, usize::MAX] {
            let mut staged = Script::items(0..20u32).stage(buffer, |s| s);
            let out = collect_checking_hint(&mut staged).await;
            assert_eq!(out, (0..20).collect::<Vec<_>>(), "buffer {buffer}");
            assert!(staged.is_terminated());
        }
    }

    /// Dropping `Staged` mid-run drops every in-flight future of every stage.
    async fn drop_mid_run_cancels_every_stage() {
        let (t1, t2) = (Tracker::new(), Tracker::new());
        let (a, b) = (t1.clone(), t2.clone());
        let mut staged = Box::pin(
            stream::iter(0..100u32)
                .map_concurrent(4, move |x| a.future(if x < 3 { Wait::None } else { Wait::Forever }, x))
                .stage(2, move |s| s.map_concurrent(2, move |x| b.future(Wait::Forever, x))),
        );
        for _ in 0..10 {
            assert!(poll!(staged.next()).is_pending());
        }
        assert!(t1.running() > 0 && t2.running() > 0);
        drop(staged);
        assert_eq!((t1.created(), t2.created()), (t1.dropped(), t2.dropped()));
        assert_eq!((t1.running(), t2.running()), (0, 0));
    }

    /// A panic in an upstream stage comes out of the poll of `Staged`, with its
    /// payload.
    #[should_panic(expected = "stage boom")]
    async fn upstream_stage_panic_propagates() {
        let staged = stream::iter(0..10u32)
            .map(|x| if x == 3 { panic!("stage boom") } else { x })
            .stage(4, |s| s.map(|x| x + 1))
            .stage(0, |s| s);
        let _ = staged.collect::<Vec<_>>().await;
    }

    /// A panic in a middle stage too, at once, though the last stage never asks.
    #[should_panic(expected = "middle boom")]
    async fn middle_stage_panic_propagates() {
        let staged = stream::iter(0..10u32)
            .stage(4, |s| s.map(|x| if x == 1 { panic!("middle boom") } else { x }))
            .stage(2, never_asks::<u32, _>);
        let _ = staged.collect::<Vec<_>>().await;
    }

    /// Fused, and `Send` when every stage is.
    async fn fused_and_send() {
        let mut staged = stream::iter(0..3u32)
            .stage(1, |s| s.map_concurrent(2, |x| async move { x }))
            .stage(1, |s| s);
        assert_send(&staged);
        assert!(!staged.is_terminated());
        assert_eq!((&mut staged).collect::<Vec<_>>().await, [0, 1, 2]);
        assert!(staged.is_terminated());
        assert_eq!(staged.next().await, None);
        assert_eq!(staged.size_hint(), (0, Some(0)));
    }
}

/// Many seeds on a 4-worker tokio runtime: the pipeline's task moves between
/// threads, and its futures are woken from other threads (async-io's timers).
#[test]
fn stress_on_a_multi_thread_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    for seed in 0..24u64 {
        rt.block_on(async move {
            tokio::spawn(async move {
                let n = 1500u64;
                let jitter = move |x: u64| (x.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed) % 7;
                let mut out: Vec<u64> = stream::iter(0..n)
                    .map_concurrent(4, move |x| async move {
                        match jitter(x) {
                            0 => {
                                async_io::Timer::after(std::time::Duration::from_micros(50)).await;
                            }
                            1 | 2 => tokio::task::yield_now().await,
                            _ => {}
                        }
                        x
                    })
                    .stage([0, 1, 16][seed as usize % 3], move |s| {
                        s.map_concurrent_unordered(3, move |x| async move {
                            if jitter(x + 1) < 2 {
                                tokio::task::yield_now().await;
                            }
                            x
                        })
                    })
                    .stage(2, |s| s.map(|x| x * 3))
                    .collect()
                    .await;
                out.sort_unstable();
                assert_eq!(
                    out,
                    (0..n).map(|x| x * 3).collect::<Vec<_>>(),
                    "seed {seed}"
                );
            })
            .await
            .unwrap();
        });
    }
}
