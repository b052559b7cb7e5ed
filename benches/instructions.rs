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
//! ```

use futures::executor::block_on;
use futures::future::ready;
use futures::stream::{self, Stream, StreamExt};
use std::hint::black_box;
use std::time::Instant;
use stream_plus::StreamExtPlus;

const N: u64 = 200_000;
const WORKERS: [usize; 4] = [1, 4, 64, 1024];
const KINDS: [&str; 4] = [
    "ordered/futures_buffered",
    "ordered/stream_plus_map_concurrent",
    "unordered/futures_buffer_unordered",
    "unordered/stream_plus_map_concurrent_unordered",
];

fn sum<S: Stream<Item = u64>>(s: S) -> u64 {
    block_on(s.fold(0u64, |acc, x| ready(acc.wrapping_add(x))))
}

/// Runs `kind` (one of KINDS) with `w` workers over N ready futures.
fn run(kind: &str, w: usize) -> u64 {
    let items = stream::iter(0..black_box(N));
    match kind {
        "ordered/futures_buffered" => sum(items.map(ready).buffered(w)),
        "ordered/stream_plus_map_concurrent" => sum(items.map_concurrent(w, ready)),
        "unordered/futures_buffer_unordered" => sum(items.map(ready).buffer_unordered(w)),
        "unordered/stream_plus_map_concurrent_unordered" => {
            sum(items.map_concurrent_unordered(w, ready))
        }
        other => unreachable!("not a workload: {other}"),
    }
}

fn main() {
    // `cargo bench` passes flags such as `--bench`; a workload or a filter has
    // no dashes.
    let arg = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let all = KINDS
        .iter()
        .flat_map(|kind| WORKERS.iter().map(move |w| (*kind, *w)));
    match arg.as_deref() {
        Some("list") => all.for_each(|(kind, w)| println!("{kind}/{w}")),
        // Exactly one workload: what callgrind runs.
        Some(name) if all.clone().any(|(k, w)| format!("{k}/{w}") == name) => {
            let (kind, w) = name.rsplit_once('/').unwrap();
            assert_eq!(run(kind, w.parse().unwrap()), N * (N - 1) / 2);
        }
        // No workload, or a `cargo bench -- FILTER`: every match once, timed.
        filter => {
            for (kind, w) in
                all.filter(|(k, w)| filter.map_or(true, |f| format!("{k}/{w}").contains(f)))
            {
                let start = Instant::now();
                assert_eq!(run(kind, w), N * (N - 1) / 2);
                println!("{kind}/{w}: {:?}", start.elapsed());
            }
        }
    }
}
