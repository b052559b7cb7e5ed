//! One workload per run, for instruction counts under `valgrind --tool=callgrind`.
//!
//! Wall time on a small shared machine moves by 10-40 % between runs; the
//! number of instructions a run executes does not. `benches/report.sh` runs
//! each workload below once under callgrind and puts the counts, ours against
//! the peer, in BENCHMARKS.md.
//!
//! ```text
//! cargo bench --bench instructions                  # every workload once, wall time
//! target/release/deps/instructions-* WORKLOAD       # one workload (what callgrind runs)
//! target/release/deps/instructions-* allocations    # allocations per item of each
//! ```

use futures::executor::block_on;
use futures::future::ready;
use futures::stream::{self, Stream, StreamExt};
use futures_buffered::BufferedStreamExt;
use std::hint::black_box;
use std::time::{Duration, Instant};
use stream_plus::StreamExtPlus;

#[path = "support/counting.rs"]
mod counting;
#[path = "support/self_waking.rs"]
mod self_waking;
use counting::allocations;
use self_waking::self_waking;

#[global_allocator]
static GLOBAL: counting::Counting = counting::Counting;

const N: u64 = 200_000;
/// The worker counts of the concurrent maps and their two peers: futures-util
/// (`futures_*`) and the futures-buffered crate (`fb_*`).
const W: [usize; 4] = [1, 8, 64, 1024];
/// Each kind with its worker counts: ready futures across worker counts,
/// self-waking ones (`Pending` 0-2 times) at 64 workers (also keyed), and `sample` draining
/// a ready burst (the "workers" column is 1 there; each item goes through
/// `black_box` so that neither side's drain loop can be folded away).
const KINDS: [(&str, &[usize]); 26] = [
    ("ordered/futures_buffered", &W),
    ("ordered/fb_buffered_ordered", &W),
    ("ordered/stream_plus_map_concurrent", &W),
    ("unordered/futures_buffer_unordered", &W),
    ("unordered/fb_buffered_unordered", &W),
    ("unordered/stream_plus_map_concurrent_unordered", &W),
    ("ordered_self_waking/futures_buffered", &W),
    ("ordered_self_waking/fb_buffered_ordered", &W),
    ("ordered_self_waking/stream_plus_map_concurrent", &W),
    ("unordered_self_waking/futures_buffer_unordered", &W),
    ("unordered_self_waking/fb_buffered_unordered", &W),
    (
        "unordered_self_waking/stream_plus_map_concurrent_unordered",
        &W,
    ),
    // Keyed (256 keys), self-waking: ours only, for counts across changes of
    // the keyed engine (its peer, hash lanes, is in `benches/keyed.rs`).
    ("keyed_self_waking/stream_plus_map_concurrent_by_key", &[64]),
    (
        "keyed_self_waking/stream_plus_map_concurrent_by_key_unordered",
        &[64],
    ),
    // Retrying maps when nothing fails, against `map_concurrent` on the same
    // always-succeeding futures, unwrapped by the same `map` (the
    // `retry_none_fail` group of `benches/failure.rs` times them).
    ("retry_ready/baseline_map_concurrent", &[64]),
    ("retry_ready/stream_plus_map_concurrent_retry", &[64]),
    ("retry_self_waking/baseline_map_concurrent", &[64]),
    ("retry_self_waking/stream_plus_map_concurrent_retry", &[64]),
    // One `stage` boundary (buffer 64) over ready items, against a
    // `futures::channel::mpsc::channel(64)` and a `join` by hand
    // (`benches/stage.rs`, `boundary_ready_200k_buffer64`, times them).
    ("stage_boundary/futures_mpsc_channel_join", &[64]),
    ("stage_boundary/stream_plus_stage", &[64]),
    // Four consumers on one thread (a `LocalPool`) sharing a channel that a
    // producer task feeds: through `balance`, or the channel's own four
    // receivers (`benches/fan.rs`, `balance_4_waiting_consumers_100k`, times
    // it on tokio's multi-thread runtime). The "workers" column is the
    // number of consumers. The consumers seldom find the channel empty (one
    // source wake-up per 64 items here), so this counts the cost per item.
    ("balance_waiting/async_channel_4_receivers", &[4]),
    ("balance_waiting/stream_plus_balance", &[4]),
    ("sample_burst/futures_time_sample", &[1]),
    ("sample_burst/stream_plus_sample", &[1]),
    // One observed point over ready items (`benches/observe.rs` times it).
    ("observe_ready/without_a_point", &[1]),
    ("observe_ready/stream_plus_observe", &[1]),
];

/// What `run` returns: the sum of the items, or for `sample`, the last item
/// (the one sample of a burst that ends).
fn expected(kind: &str) -> u64 {
    if kind.starts_with("sample_burst/") {
        N - 1
    } else {
        N * (N - 1) / 2
    }
}

fn sum<S: Stream<Item = u64>>(s: S) -> u64 {
    block_on(s.fold(0u64, |acc, x| ready(acc.wrapping_add(x))))
}

#[cfg(feature = "time")]
fn backoff() -> stream_plus::Backoff {
    stream_plus::Backoff::fixed(Duration::from_millis(1))
}

/// `consumers` tasks on one thread, each summing a clone of `make(rx)`, where
/// a producer task sends 0..N into a channel of 64 that `rx` receives.
fn four_consumers<S>(consumers: usize, make: impl FnOnce(async_channel::Receiver<u64>) -> S) -> u64
where
    S: Stream<Item = u64> + Clone + 'static,
{
    use futures::task::LocalSpawnExt;
    let mut pool = futures::executor::LocalPool::new();
    let spawner = pool.spawner();
    let (tx, rx) = async_channel::bounded::<u64>(64);
    let shared = make(rx);
    let sums: Vec<_> = (0..consumers)
        .map(|_| {
            let s = shared.clone();
            spawner
                .spawn_local_with_handle(s.fold(0u64, |a, x| ready(a.wrapping_add(x))))
                .unwrap()
        })
        .collect();
    drop(shared);
    spawner
        .spawn_local(async move {
            for i in 0..black_box(N) {
                tx.send(i).await.unwrap();
            }
        })
        .unwrap();
    pool.run_until(futures::future::join_all(sums))
        .into_iter()
        .fold(0, u64::wrapping_add)
}

/// Runs `kind` (one of KINDS) with `w` workers over N ready futures.
fn run(kind: &str, w: usize) -> u64 {
    let items = stream::iter(0..black_box(N));
    match kind {
        "ordered/futures_buffered" => sum(items.map(ready).buffered(w)),
        "ordered/fb_buffered_ordered" => sum(items.map(ready).buffered_ordered(w)),
        "ordered/stream_plus_map_concurrent" => sum(items.map_concurrent(w, ready)),
        "unordered/fb_buffered_unordered" => sum(items.map(ready).buffered_unordered(w)),
        "ordered_self_waking/fb_buffered_ordered" => {
            sum(items.map(self_waking).buffered_ordered(w))
        }
        "unordered_self_waking/fb_buffered_unordered" => {
            sum(items.map(self_waking).buffered_unordered(w))
        }
        "unordered/futures_buffer_unordered" => sum(items.map(ready).buffer_unordered(w)),
        "unordered/stream_plus_map_concurrent_unordered" => {
            sum(items.map_concurrent_unordered(w, ready))
        }
        "ordered_self_waking/futures_buffered" => sum(items.map(self_waking).buffered(w)),
        "ordered_self_waking/stream_plus_map_concurrent" => {
            sum(items.map_concurrent(w, self_waking))
        }
        "unordered_self_waking/futures_buffer_unordered" => {
            sum(items.map(self_waking).buffer_unordered(w))
        }
        "unordered_self_waking/stream_plus_map_concurrent_unordered" => {
            sum(items.map_concurrent_unordered(w, self_waking))
        }
        "keyed_self_waking/stream_plus_map_concurrent_by_key" => {
            sum(items.map_concurrent_by_key(w, |i| i % 256, self_waking))
        }
        "keyed_self_waking/stream_plus_map_concurrent_by_key_unordered" => {
            sum(items.map_concurrent_by_key_unordered(w, |i| i % 256, self_waking))
        }
        "retry_ready/baseline_map_concurrent" => sum(items
            .map_concurrent(w, |i| ready(Ok::<u64, ()>(i)))
            .map(|r| r.unwrap_or(0))),
        "retry_self_waking/baseline_map_concurrent" => sum(items
            .map_concurrent(w, |i| {
                let f = self_waking(i);
                async move { Ok::<u64, ()>(f.await) }
            })
            .map(|r| r.unwrap_or(0))),
        #[cfg(feature = "time")]
        "retry_ready/stream_plus_map_concurrent_retry" => sum(items
            .map_concurrent_retry(w, backoff(), |i| ready(Ok::<u64, ()>(*i)))
            .map(|r| r.unwrap_or(0))),
        #[cfg(feature = "time")]
        "retry_self_waking/stream_plus_map_concurrent_retry" => sum(items
            .map_concurrent_retry(w, backoff(), |i| {
                let f = self_waking(*i);
                async move { Ok::<u64, ()>(f.await) }
            })
            .map(|r| r.unwrap_or(0))),
        // A period of 1 ns: futures-time's interval (it has no flush at the
        // end) is due once the burst is drained.
        "sample_burst/futures_time_sample" => sum(futures_time::stream::StreamExt::sample(
            items.map(black_box),
            futures_time::stream::interval(Duration::from_nanos(1).into()),
        )),
        #[cfg(feature = "time")]
        "sample_burst/stream_plus_sample" => {
            sum(items.map(black_box).sample(Duration::from_nanos(1)))
        }
        "stage_boundary/futures_mpsc_channel_join" => block_on(async {
            let (mut tx, rx) = futures::channel::mpsc::channel(w);
            let forward = async move {
                let mut items = items.map(|x| Ok(x + 1));
                futures::SinkExt::send_all(&mut tx, &mut items)
                    .await
                    .unwrap();
            };
            let consume = rx
                .map(|x: u64| x - 1)
                .fold(0u64, |a, x| ready(a.wrapping_add(x)));
            futures::future::join(forward, consume).await.1
        }),
        "stage_boundary/stream_plus_stage" => {
            sum(items.map(|x| x + 1).stage(w, |s| s.map(|x| x - 1)))
        }
        "balance_waiting/async_channel_4_receivers" => four_consumers(w, |rx| rx),
        "balance_waiting/stream_plus_balance" => four_consumers(w, |rx| rx.balance()),
        "observe_ready/without_a_point" => sum(items.map(black_box)),
        "observe_ready/stream_plus_observe" => sum(items
            .map(black_box)
            .observe(&stream_plus::Stats::new(), "ready")),
        other => unreachable!("not a workload: {other}"),
    }
}

fn main() {
    // `cargo bench` passes flags such as `--bench`; a workload or a filter has
    // no dashes.
    let arg = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let all = KINDS
        .iter()
        .flat_map(|(kind, workers)| workers.iter().map(move |w| (*kind, *w)));
    match arg.as_deref() {
        Some("list") => all.for_each(|(kind, w)| println!("{kind}/{w}")),
        // Allocations per item of every workload, as `name<TAB>count`.
        Some("allocations") => {
            for (kind, w) in all {
                let (sum, n) = allocations(|| run(kind, w));
                assert_eq!(sum, expected(kind));
                println!("{kind}/{w}\t{n}");
            }
        }
        // Exactly one workload: what callgrind runs.
        Some(name) if all.clone().any(|(k, w)| format!("{k}/{w}") == name) => {
            let (kind, w) = name.rsplit_once('/').unwrap();
            assert_eq!(run(kind, w.parse().unwrap()), expected(kind));
        }
        // No workload, or a `cargo bench -- FILTER`: every match once, timed.
        filter => {
            for (kind, w) in
                all.filter(|(k, w)| filter.map_or(true, |f| format!("{k}/{w}").contains(f)))
            {
                let start = Instant::now();
                assert_eq!(run(kind, w), expected(kind));
                println!("{kind}/{w}: {:?}", start.elapsed());
            }
        }
    }
}
