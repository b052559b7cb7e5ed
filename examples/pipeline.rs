//! The classic streaming pipeline, end to end.
//!
//! ```text
//! cargo run --release --example pipeline -- [--seconds N] [--runtime smol|tokio|async-std] [--stats]
//! ```
//!
//! With `--stats`, every stage is observed (`observe`, one `Stats`) and each
//! report window also prints one line per stage: items per second, a bar of
//! its busy / backpressured / idle time in the window, its running futures and
//! workers, and which stage is the bottleneck (see `common/live_view.rs`).
//!
//! ```text
//! bursty source of log lines
//!   -> parse + enrich, 8 workers, input order     map_concurrent(8, ..)
//!   -> windows of up to 200 lines or 250 ms        batch_timeout(200, 250ms)
//!   -> the sink as a stage of its own              stage(16, |batches| batches.then(write))
//!      (each batch write takes 40+ ms)
//!      beside it, every second: a windowed aggregate, from interval(1s)
//! ```
//!
//! Why `stage`: the sink awaits its writes, and a pull-based chain only moves
//! while it is polled. In a plain chain, every slow write would stall the
//! parse workers and hold back `batch_timeout`'s timer. With `stage`, the
//! stages before the channel are driven whenever they are woken, while a write
//! is in progress too, all in this one task with nothing spawned, and the
//! channel (16 batches) is the one bounded queue that absorbs bursts.
//!
//! Graceful shutdown, on Ctrl-C or after `--seconds` (default 10): the source
//! stops (`take_until`), in-flight lines finish parsing, `batch_timeout` yields
//! its partial batch, the stage's driver sends it and its channel ends, the
//! sink writes what is left, and the last (partial) window is printed. The
//! final line checks that every line the source made was written or counted as
//! malformed.

use futures::future::{self, Future};
use futures::stream::{self, Stream, StreamExt};
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use stream_plus::{Stats, StreamExtPlus};

mod common;
use common::live_view::LiveView;
use common::Runtime;

/// A parsed, enriched log line.
#[derive(Clone, Debug, PartialEq)]
struct Event {
    seq: u64,
    user: u32,
    latency_ms: u32,
    status: u16,
    region: &'static str,
}

/// Shapes of the run; the tests shrink them.
#[derive(Clone, Debug)]
struct Config {
    runtime: Runtime,
    seed: u64,
    /// Longest quiet gap between bursts.
    max_gap: Duration,
    /// Most lines in a burst.
    max_burst: u64,
    workers: usize,
    batch_max: usize,
    batch_timeout: Duration,
    channel: usize,
    /// Time the sink takes per batch (plus 0.2 ms per line).
    sink_base: Duration,
    report_every: Duration,
    /// Observe every stage here, and print the live view with each window.
    stats: Option<Stats>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            runtime: Runtime::Smol,
            seed: 0x9e37_79b9_7f4a_7c15,
            max_gap: Duration::from_millis(300),
            max_burst: 400,
            workers: 8,
            batch_max: 200,
            batch_timeout: Duration::from_millis(250),
            channel: 16,
            sink_base: Duration::from_millis(40),
            report_every: Duration::from_secs(1),
            stats: None,
        }
    }
}

/// Counters that prove nothing was lost.
#[derive(Debug, Default)]
struct Totals {
    produced: AtomicU64,
    malformed: AtomicU64,
    batches_made: AtomicU64,
    batches_written: AtomicU64,
    events_written: AtomicU64,
}

/// A small deterministic generator (xorshift64*), so runs are repeatable.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

/// Endless bursts of log lines: a quiet gap, then up to `max_burst` lines at
/// once. About one line in a hundred is garbage.
fn source(cfg: &Config, totals: Arc<Totals>) -> impl Stream<Item = String> + Send + 'static {
    let (max_gap, max_burst) = (cfg.max_gap.as_micros() as u64, cfg.max_burst);
    let bursts = stream::unfold(
        (Rng(cfg.seed), 0u64),
        move |(mut rng, mut seq)| async move {
            async_io::Timer::after(Duration::from_micros(rng.below(max_gap) + 1)).await;
            let n = rng.below(max_burst) + 1;
            let lines: Vec<String> = (0..n)
                .map(|_| {
                    seq += 1;
                    if rng.below(100) == 0 {
                        format!("{seq} ###garbage###")
                    } else {
                        let status = [200, 200, 200, 201, 404, 500][rng.below(6) as usize];
                        let (user, ms) = (rng.below(50), rng.below(80) + rng.below(20) * 40);
                        format!("{seq} user={user} ms={ms} status={status}")
                    }
                })
                .collect();
            Some((stream::iter(lines), (rng, seq)))
        },
    );
    // Counted as they leave: a shutdown may cut a burst short.
    bursts.flatten().inspect(move |_| {
        totals.produced.fetch_add(1, Relaxed);
    })
}

fn parse(line: &str) -> Option<(u64, u32, u32, u16)> {
    let mut parts = line.split(' ');
    let seq = parts.next()?.parse().ok()?;
    let mut field = |name: &str| parts.next()?.strip_prefix(name)?.parse::<u32>().ok();
    let user = field("user=")?;
    let ms = field("ms=")?;
    let status = u16::try_from(field("status=")?).ok()?;
    Some((seq, user, ms, status))
}

/// Parses a line and "enriches" it with a lookup that takes 0.2-1.8 ms (a
/// stand-in for a cache or a database): the reason this stage has workers.
async fn parse_and_enrich(line: String) -> Result<Event, String> {
    let (seq, user, latency_ms, status) = parse(&line).ok_or(line)?;
    async_io::Timer::after(Duration::from_micros(200 + (user as u64 * 331) % 1600)).await;
    let region = ["eu-west", "us-east", "ap-south"][user as usize % 3];
    Ok(Event {
        seq,
        user,
        latency_ms,
        status,
        region,
    })
}

/// The slow sink: a write takes `base` plus 0.2 ms per event.
async fn write_batch(batch: &[Event], base: Duration) {
    async_io::Timer::after(base + Duration::from_micros(200) * batch.len() as u32).await;
}

/// One reporting window's aggregate.
#[derive(Debug, Default)]
struct Window {
    events: u64,
    errors: u64,
    latencies: Vec<u32>,
    batches: u64,
}

impl Window {
    fn add(&mut self, batch: &[Event]) {
        self.batches += 1;
        self.events += batch.len() as u64;
        self.errors += batch.iter().filter(|e| e.status >= 500).count() as u64;
        self.latencies.extend(batch.iter().map(|e| e.latency_ms));
    }

    fn line(&mut self, label: &str, elapsed: Duration, backlog: u64) -> String {
        self.latencies.sort_unstable();
        let pct = |p: f64| {
            let i = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
            self.latencies.get(i).copied().unwrap_or(0)
        };
        format!(
            "{label} {:6.2}s: {:5} events in {:3} batches, {:4} errors, p50 {:3} ms, p99 {:4} ms, backlog {backlog}",
            elapsed.as_secs_f64(),
            self.events,
            self.batches,
            self.errors,
            pct(0.5),
            pct(0.99),
        )
    }
}

/// Runs the pipeline until `shutdown` resolves, then drains it. Window lines go
/// to `report`; the result is the number of windows reported.
async fn run<S, R>(cfg: Config, totals: Arc<Totals>, shutdown: S, mut report: R) -> u64
where
    S: Future<Output = ()> + Send + 'static,
    R: FnMut(String) + Send + 'static,
{
    let start = Instant::now();
    let t = totals.clone();
    let t2 = totals.clone();
    let sink_base = cfg.sink_base;
    // Without `--stats` the points go to a `Stats` nobody reads: the same
    // pipeline either way, at a cost of a few nanoseconds per item.
    let stats = cfg.stats.clone().unwrap_or_default();
    let mut view = cfg.stats.as_ref().map(LiveView::new);
    let written = source(&cfg, totals.clone())
        .take_until(shutdown)
        .observe(&stats, "source")
        .map_concurrent(cfg.workers, parse_and_enrich)
        .observe(&stats, "parse")
        .filter_map(move |parsed| {
            future::ready(match parsed {
                Ok(event) => Some(event),
                Err(_line) => {
                    t.malformed.fetch_add(1, Relaxed);
                    None
                }
            })
        })
        .batch_timeout(cfg.batch_max, cfg.batch_timeout)
        .observe(&stats, "batch")
        .inspect(move |_| {
            t2.batches_made.fetch_add(1, Relaxed);
        })
        // Everything above keeps moving while a batch is being written.
        .stage(cfg.channel, move |batches| {
            batches
                .then(move |batch| async move {
                    write_batch(&batch, sink_base).await;
                    batch
                })
                .observe(&stats, "write")
        });

    enum Msg {
        Batch(Vec<Event>),
        Tick,
    }
    // The ticker never ends: the merge ends with the sink's stream.
    let msgs = written
        .map(Msg::Batch)
        .merge_with(stream_plus::interval(cfg.report_every).map(|_| Msg::Tick))
        .ends_with_first();
    let mut msgs = pin!(msgs);
    let mut window = Window::default();
    let mut windows = 0;
    let backlog = |t: &Totals| t.batches_made.load(Relaxed) - t.batches_written.load(Relaxed);
    while let Some(msg) = msgs.next().await {
        match msg {
            Msg::Batch(batch) => {
                window.add(&batch);
                totals.batches_written.fetch_add(1, Relaxed);
                totals.events_written.fetch_add(batch.len() as u64, Relaxed);
            }
            Msg::Tick => {
                report(window.line("window", start.elapsed(), backlog(&totals)));
                if let Some(view) = &mut view {
                    view.frame()
                        .into_iter()
                        .for_each(|l| report(format!("stats  {l}")));
                }
                window = Window::default();
                windows += 1;
            }
        }
    }
    // The sink has written the last batch: flush the partial window.
    report(window.line("final ", start.elapsed(), backlog(&totals)));
    windows + 1
}

fn main() {
    let mut cfg = Config::default();
    let mut seconds = 10u64;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--stats" {
            cfg.stats = Some(Stats::new());
            continue;
        }
        let value = args.next();
        let parsed = match (arg.as_str(), value.as_deref()) {
            ("--seconds", Some(v)) => v.parse().map(|s| seconds = s).map_err(|e| e.to_string()),
            ("--runtime", Some(v)) => Runtime::from_name(v).map(|r| cfg.runtime = r),
            _ => Err(format!("unknown or incomplete argument {arg}")),
        };
        if let Err(msg) = parsed {
            eprintln!(
                "{msg}\nusage: pipeline [--seconds N] [--runtime {}] [--stats]",
                Runtime::NAMES
            );
            std::process::exit(2);
        }
    }

    println!(
        "running for {seconds} s on {:?}; Ctrl-C stops it early",
        cfg.runtime
    );
    let ctrl_c = common::ctrl_c();
    let shutdown = async move {
        let deadline = async_io::Timer::after(Duration::from_secs(seconds));
        let deadline = async move {
            deadline.await;
        };
        future::select(pin!(ctrl_c), pin!(deadline)).await;
        println!("shutting down: the source stops, the rest drains");
    };
    let totals = Arc::new(Totals::default());
    let runtime = cfg.runtime;
    let stats = cfg.stats.clone();
    runtime.block_on(run(cfg, totals.clone(), shutdown, |line| {
        println!("{line}")
    }));

    let t = &*totals;
    let (produced, malformed) = (t.produced.load(Relaxed), t.malformed.load(Relaxed));
    let written = t.events_written.load(Relaxed);
    println!(
        "{produced} lines in, {malformed} malformed, {written} events written in {} batches: {}",
        t.batches_written.load(Relaxed),
        if produced == malformed + written {
            "nothing lost"
        } else {
            "LOST LINES"
        }
    );
    if let Some(stats) = stats {
        println!("whole run:");
        for line in LiveView::whole_run(&stats) {
            println!("stats  {line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn quick(runtime: Runtime) -> Config {
        Config {
            runtime,
            max_gap: Duration::from_millis(20),
            max_burst: 50,
            workers: 4,
            batch_max: 16,
            batch_timeout: Duration::from_millis(10),
            channel: 2,
            sink_base: Duration::from_millis(2),
            report_every: Duration::from_millis(50),
            ..Config::default()
        }
    }

    #[test]
    fn parse_takes_good_lines_and_rejects_garbage() {
        assert_eq!(parse("7 user=3 ms=120 status=500"), Some((7, 3, 120, 500)));
        assert_eq!(parse("7 ###garbage###"), None);
        assert_eq!(parse("7 user=3 ms=x status=500"), None);
        assert_eq!(parse("7 user=3 ms=1 status=70000"), None);
    }

    #[test]
    fn shutdown_drains_everything_on_every_runtime() {
        for rt in [Runtime::Smol, Runtime::Tokio, Runtime::AsyncStd] {
            let totals = Arc::new(Totals::default());
            let lines = Arc::new(Mutex::new(Vec::new()));
            let sink = lines.clone();
            // Shut down once the source has provably made some lines.
            let t = totals.clone();
            let shutdown = async move {
                while t.produced.load(Relaxed) < 200 {
                    async_io::Timer::after(Duration::from_millis(5)).await;
                }
            };
            let windows = rt.block_on(run(quick(rt), totals.clone(), shutdown, move |l| {
                sink.lock().unwrap().push(l)
            }));
            let t = &*totals;
            let produced = t.produced.load(Relaxed);
            let written = t.events_written.load(Relaxed);
            assert!(produced >= 200, "on {rt:?}: shut down too early");
            // Nothing lost: every line was written or counted as malformed.
            assert_eq!(produced, t.malformed.load(Relaxed) + written, "on {rt:?}");
            assert_eq!(
                t.batches_made.load(Relaxed),
                t.batches_written.load(Relaxed),
                "on {rt:?}"
            );
            // Every window was reported, the last one (the flush) included,
            // and the windows add up to what was written.
            let lines = lines.lock().unwrap();
            assert_eq!(lines.len() as u64, windows, "on {rt:?}");
            assert!(lines.last().unwrap().starts_with("final"), "on {rt:?}");
            let summed: u64 = lines
                .iter()
                .map(|l| {
                    let after = l.split("s: ").nth(1).unwrap();
                    after
                        .split_whitespace()
                        .next()
                        .unwrap()
                        .parse::<u64>()
                        .unwrap()
                })
                .sum();
            assert_eq!(summed, written, "on {rt:?}");
        }
    }

    /// `--stats` on a pipeline built to have a slow sink: every window names
    /// the stage that holds it back, and so does the whole run's figure.
    #[test]
    fn the_live_view_names_the_slow_stage() {
        let stats = Stats::new();
        let cfg = Config {
            // Each write takes 30 ms and a batch holds at most 8 lines, so the
            // sink can write about 270 lines a second, far fewer than come.
            sink_base: Duration::from_millis(30),
            batch_max: 8,
            report_every: Duration::from_millis(200),
            stats: Some(stats.clone()),
            ..quick(Runtime::Smol)
        };
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        let totals = Arc::new(Totals::default());
        let t = totals.clone();
        let shutdown = async move {
            while t.produced.load(Relaxed) < 1500 {
                async_io::Timer::after(Duration::from_millis(5)).await;
            }
        };
        Runtime::Smol.block_on(run(cfg, totals, shutdown, move |l| {
            sink.lock().unwrap().push(l)
        }));
        let lines = lines.lock().unwrap();
        let frames: Vec<&String> = lines.iter().filter(|l| l.starts_with("stats")).collect();
        assert!(frames.len() >= 8, "{lines:#?}");
        for stage in ["source", "parse", "batch", "write"] {
            assert!(
                frames.iter().any(|l| l.contains(stage)),
                "{stage} missing: {frames:#?}"
            );
        }
        let marked: Vec<&&String> = frames
            .iter()
            .filter(|l| l.contains("<- bottleneck"))
            .collect();
        assert!(!marked.is_empty(), "{frames:#?}");
        let on_write = marked.iter().filter(|l| l.contains(" write ")).count();
        assert!(
            on_write * 10 >= marked.len() * 8,
            "the sink is not named: {frames:#?}"
        );
        assert_eq!(
            stats.bottleneck().as_deref(),
            Some("write"),
            "{:#?}",
            stats.snapshot()
        );
        let parse = stats
            .snapshot()
            .into_iter()
            .find(|s| s.name == "parse")
            .unwrap();
        assert_eq!(parse.workers, 4);
    }

    #[test]
    fn events_keep_input_order_through_the_workers() {
        // map_concurrent keeps order, so the sink sees ascending sequence numbers.
        let seen = Arc::new(Mutex::new(Vec::new()));
        let totals = Arc::new(Totals::default());
        let seen2 = seen.clone();
        let cfg = quick(Runtime::Smol);
        smol::block_on(async move {
            let s = source(&cfg, totals)
                .take(300)
                .map_concurrent(cfg.workers, parse_and_enrich)
                .filter_map(|r| future::ready(r.ok()))
                .batch_timeout(cfg.batch_max, cfg.batch_timeout);
            let mut s = pin!(s);
            while let Some(batch) = s.next().await {
                assert!(!batch.is_empty() && batch.len() <= cfg.batch_max);
                seen2.lock().unwrap().extend(batch.iter().map(|e| e.seq));
            }
        });
        let seen = seen.lock().unwrap();
        assert!(seen.len() > 250, "only {} of 300 parsed", seen.len());
        assert!(seen.windows(2).all(|w| w[0] < w[1]));
    }
}
