//! Past one machine: N worker processes on a Redis Streams consumer group,
//! each running the same stream-plus pipeline, at-least-once.
//!
//! ```text
//! REDIS_URL=redis://127.0.0.1:6379 cargo run --example redis_workers -- produce --count 10000 --keys 100
//! REDIS_URL=redis://127.0.0.1:6379 cargo run --example redis_workers -- work --consumer w1 [--workers 32] [--runtime smol|tokio] [--stats SECONDS]
//! ```
//!
//! `REDIS_URL` defaults to `redis://127.0.0.1:6379`; a unix socket is
//! `redis+unix:///path/to/redis.sock`. Each worker runs, in one task:
//!
//! ```text
//! XREADGROUP > (COUNT, BLOCK) as a stream            stream::unfold, take_until(stop)
//!   merged with, every second, XAUTOCLAIM of         merge_with(interval(1s).then(..))
//!   entries idle > 5 s (a dead worker's)
//!   -> handle, one at a time per key,                map_concurrent_by_key_unordered(W, key, handle)
//!      W at once across keys (a few ms of
//!      "call", then HSET done:{key} {seq} {consumer})
//!   -> acknowledgements, one XACK per batch          batch_timeout(200, 20 ms).then(xack)
//! ```
//!
//! - **At-least-once.** An entry is acknowledged only after its side effect is
//!   written. A worker that dies leaves its unacknowledged entries pending
//!   under its name; after 5 s of idleness another worker's XAUTOCLAIM takes
//!   them and handles them again. The side effect is idempotent (a hash field
//!   per entry), so handling twice is harmless; `handled` counts the times
//!   each entry was handled, which is how the test sees the duplicates.
//! - **Only a stopped worker's entries are reclaimed.** A live worker keeps
//!   the entries it holds (read, not yet acknowledged) fresh: every quarter of
//!   the idle threshold it XCLAIMs them to itself with JUSTID, which resets
//!   their idle time. Without that, entries that merely waited longer than the
//!   threshold in a busy worker were reclaimed and handled twice.
//! - **Per-key order** holds within one worker's run: entries of a key are
//!   handled one after another, in stream order. Across a failover it does
//!   not: a reclaimed entry is handled after later entries of its key that
//!   other workers already handled. `out_of_order` in the summary counts, per
//!   worker, entries handled after a later one of the same key.
//! - **Malformed entries** (missing `key`, non-numeric `seq`) go to the
//!   `jobs:dead` stream with the reason and the original id, and are
//!   acknowledged: nothing is dropped silently.
//! - **A lost connection** is retried with backoff (50 ms doubling to 5 s)
//!   and logged; the worker does not exit on it.
//! - **Ctrl-C or SIGTERM**: reading stops, the entries in flight finish, the
//!   last acknowledgements go out, the worker handles and acknowledges
//!   whatever is still pending under its own name (a read whose reply was cut
//!   off by the stop), prints a summary and exits 0.
//! - **Which stage holds it back.** Each stage is observed (`observe`): the
//!   summary ends with one `stage` line per stage (items, busy /
//!   backpressured / idle share, running handlers and workers), and with
//!   `--stats N` the live view (`common/live_view.rs`) goes to stderr every N
//!   seconds. A stuck handler shows as `handle` busy, every worker in flight,
//!   no items going through, where before it looked like an idle process.
//!
//! The tests (`cargo test --example redis_workers -- --ignored`) need
//! `redis-server` on the PATH; they start a private one on a unix socket.

use futures::future::{self, BoxFuture, Either, Future, FutureExt, Shared};
use futures::stream::{self, Stream, StreamExt};
use redis::aio::MultiplexedConnection;
use redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};
use redis::{AsyncCommands, RedisResult, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use stream_plus::{Stats, StreamExtPlus};

mod common;
use common::live_view::LiveView;
use common::Runtime;

const STREAM: &str = "jobs";
const GROUP: &str = "workers";
const DEAD: &str = "jobs:dead";
/// Field `{key}:{seq}` counts how many times the entry was handled.
const HANDLED: &str = "handled";

#[derive(Clone, Debug)]
struct Config {
    consumer: String,
    workers: usize,
    runtime: Runtime,
    /// The "call" each entry makes before its side effect.
    handle_time: Duration,
    /// Entries pending longer than this on any consumer are reclaimed.
    reclaim_idle: Duration,
    reclaim_every: Duration,
    read_count: usize,
    read_block: Duration,
    /// Every stage is observed here.
    stats: Stats,
    /// `--stats N`: the live view on stderr every N seconds.
    stats_every: Option<Duration>,
    /// Ids delivered to this consumer and not yet acknowledged: kept fresh
    /// (XCLAIM ... JUSTID to itself) so that no other worker reclaims them.
    held: Arc<std::sync::Mutex<HashSet<String>>>,
}

impl Config {
    fn new(consumer: &str) -> Self {
        Config {
            consumer: consumer.to_string(),
            workers: 32,
            runtime: Runtime::Smol,
            handle_time: Duration::from_millis(3),
            reclaim_idle: Duration::from_secs(5),
            reclaim_every: Duration::from_secs(1),
            read_count: 100,
            read_block: Duration::from_millis(500),
            stats: Stats::new(),
            stats_every: None,
            held: Arc::default(),
        }
    }
}

impl Config {
    /// Entries are held from the moment Redis delivers them (they may wait in
    /// a read's batch before the pipeline takes them) until their XACK.
    fn hold(&self, entries: &[Entry]) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.extend(entries.iter().map(|e| e.id.clone()));
    }
}

/// One connection shared by every future of the worker (Redis multiplexes
/// it), made again after an error, with backoff.
///
/// The slot is a plain mutex, never held across an `.await`. An async lock
/// held while connecting or backing off would deadlock this pipeline: the
/// holder can be the reader upstream of `map_concurrent_by_key_unordered`,
/// which is not polled while all `W` handlers run, and those handlers would
/// all be waiting for the lock.
struct Redis {
    client: redis::Client,
    /// The connection, with a number that tells it from the ones before it.
    conn: std::sync::Mutex<(u64, Option<MultiplexedConnection>)>,
}

const BACKOFF_MIN: Duration = Duration::from_millis(50);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// No call (a connect, or a command, XREADGROUP's BLOCK of 500 ms included)
/// takes longer than this on a live connection. A connection cut in the
/// middle of a call can leave the call waiting for a reply that never comes;
/// past this limit it counts as failed and is retried on a new connection.
const CALL_LIMIT: Duration = Duration::from_secs(5);

/// `call`, or a timeout error once `CALL_LIMIT` has passed.
async fn within_limit<T>(call: impl Future<Output = RedisResult<T>>) -> RedisResult<T> {
    let call = std::pin::pin!(call);
    let limit = std::pin::pin!(async_io::Timer::after(CALL_LIMIT));
    match future::select(call, limit).await {
        Either::Left((out, _)) => out,
        Either::Right(_) => Err(redis::RedisError::from((
            redis::ErrorKind::IoError,
            "no reply within the call limit",
        ))),
    }
}

impl Redis {
    fn open(url: &str) -> RedisResult<Arc<Self>> {
        Ok(Arc::new(Redis {
            client: redis::Client::open(url)?,
            conn: std::sync::Mutex::new((0, None)),
        }))
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, (u64, Option<MultiplexedConnection>)> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current connection and its number; connects (with backoff) when
    /// there is none. Callers that find none at the same time each connect,
    /// and the first to finish is kept.
    async fn conn(&self) -> (u64, MultiplexedConnection) {
        let mut delay = BACKOFF_MIN;
        loop {
            if let (number, Some(conn)) = &*self.slot() {
                return (*number, conn.clone());
            }
            match within_limit(self.client.get_multiplexed_async_connection()).await {
                Ok(conn) => {
                    let mut slot = self.slot();
                    if slot.1.is_none() {
                        *slot = (slot.0 + 1, Some(conn));
                    }
                }
                Err(e) => {
                    eprintln!("redis: cannot connect ({e}); retrying in {delay:?}");
                    async_io::Timer::after(delay).await;
                    delay = (delay * 2).min(BACKOFF_MAX);
                }
            }
        }
    }

    /// Runs `op` until it succeeds. An error (or no reply within the call
    /// limit) drops the connection it used, so the next try connects again,
    /// and waits, 50 ms doubling to 5 s.
    async fn retry<T, F, Fut>(&self, what: &str, mut op: F) -> T
    where
        F: FnMut(MultiplexedConnection) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let mut delay = BACKOFF_MIN;
        loop {
            let (number, conn) = self.conn().await;
            match within_limit(op(conn)).await {
                Ok(out) => return out,
                Err(e) => {
                    eprintln!("redis: {what} failed ({e}); retrying in {delay:?}");
                    {
                        let mut slot = self.slot();
                        // Unless another call has replaced it already.
                        if slot.0 == number {
                            slot.1 = None;
                        }
                    }
                    async_io::Timer::after(delay).await;
                    delay = (delay * 2).min(BACKOFF_MAX);
                }
            }
        }
    }
}

/// An entry read from the stream (or reclaimed from another consumer).
#[derive(Debug)]
struct Entry {
    id: String,
    fields: HashMap<String, Value>,
    reclaimed: bool,
}

impl Entry {
    fn new(raw: StreamId, reclaimed: bool) -> Self {
        Entry {
            id: raw.id,
            fields: raw.map,
            reclaimed,
        }
    }

    fn field(&self, name: &str) -> Option<String> {
        match self.fields.get(name)? {
            Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
            Value::SimpleString(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// `(key, seq)`, or why the entry is malformed.
    fn parse(&self) -> Result<(String, u64), String> {
        let key = self.field("key").ok_or("missing field key")?;
        let seq = self.field("seq").ok_or("missing field seq")?;
        let seq = seq
            .parse()
            .map_err(|_| format!("seq is not a number: {seq:?}"))?;
        Ok((key, seq))
    }

    /// What orders this entry: its key; a malformed entry orders by nothing
    /// (its own id), so it never waits behind another.
    fn order_key(&self) -> String {
        match self.parse() {
            Ok((key, _)) => key,
            Err(_) => format!("malformed:{}", self.id),
        }
    }
}

/// What became of an entry; every outcome is acknowledged.
#[derive(Debug)]
enum Outcome {
    Handled {
        id: String,
        key: String,
        seq: u64,
        reclaimed: bool,
    },
    DeadLettered {
        id: String,
    },
}

impl Outcome {
    fn id(&self) -> &str {
        match self {
            Outcome::Handled { id, .. } | Outcome::DeadLettered { id } => id,
        }
    }
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Summary {
    handled: u64,
    acked: u64,
    reclaimed: u64,
    dead_lettered: u64,
    out_of_order: u64,
}

impl Summary {
    fn add(&mut self, other: &Summary) {
        self.handled += other.handled;
        self.acked += other.acked;
        self.reclaimed += other.reclaimed;
        self.dead_lettered += other.dead_lettered;
        self.out_of_order += other.out_of_order;
    }
}

/// Handles one entry: the side effect, or the dead-letter stream.
async fn handle(redis: Arc<Redis>, cfg: Arc<Config>, entry: Entry) -> Outcome {
    let (key, seq) = match entry.parse() {
        Ok(parsed) => parsed,
        Err(reason) => {
            let mut items: Vec<(String, Vec<u8>)> = vec![
                ("id".into(), entry.id.clone().into_bytes()),
                ("reason".into(), reason.into_bytes()),
            ];
            for (name, value) in &entry.fields {
                if let Value::BulkString(bytes) = value {
                    items.push((format!("field:{name}"), bytes.clone()));
                }
            }
            redis
                .retry("XADD dead letter", |mut c| {
                    let items = items.clone();
                    async move { c.xadd::<_, _, _, _, String>(DEAD, "*", &items).await }
                })
                .await;
            return Outcome::DeadLettered { id: entry.id };
        }
    };
    // The "call" this entry stands for.
    async_io::Timer::after(cfg.handle_time).await;
    let field = format!("{key}:{seq}");
    redis
        .retry("HSET side effect", |mut c| {
            let mut pipe = redis::pipe();
            pipe.atomic()
                .hset(format!("done:{key}"), seq, &cfg.consumer)
                .ignore()
                .hincr(HANDLED, &field, 1)
                .ignore();
            async move { pipe.query_async::<()>(&mut c).await }
        })
        .await;
    Outcome::Handled {
        id: entry.id,
        key,
        seq,
        reclaimed: entry.reclaimed,
    }
}

/// XREADGROUP as a stream: first this consumer's own pending entries (from
/// id 0: left by an earlier run under this name, or by a cut-off read), then,
/// unless `history_only`, new entries (`>`) for as long as it is polled.
fn read_group(
    redis: Arc<Redis>,
    cfg: Arc<Config>,
    history_only: bool,
) -> impl Stream<Item = Entry> + Send {
    // `Some(id)`: reading own pending entries after `id`; `None`: new ones.
    let start: Option<String> = Some("0".to_string());
    stream::unfold(start, move |cursor| {
        let (redis, cfg) = (redis.clone(), cfg.clone());
        async move {
            if cursor.is_none() && history_only {
                return None;
            }
            let from = cursor.clone().unwrap_or_else(|| ">".to_string());
            let reply: Option<StreamReadReply> = redis
                .retry("XREADGROUP", |mut c| {
                    let mut cmd = redis::cmd("XREADGROUP");
                    cmd.arg("GROUP")
                        .arg(GROUP)
                        .arg(&cfg.consumer)
                        .arg("COUNT")
                        .arg(cfg.read_count);
                    if cursor.is_none() {
                        cmd.arg("BLOCK").arg(cfg.read_block.as_millis() as u64);
                    }
                    cmd.arg("STREAMS").arg(STREAM).arg(&from);
                    async move { cmd.query_async(&mut c).await }
                })
                .await;
            let ids: Vec<StreamId> = reply
                .map(|r| r.keys.into_iter().flat_map(|k| k.ids).collect())
                .unwrap_or_default();
            let next = match (&cursor, ids.last()) {
                // History: go on after the last one, until it is empty.
                (Some(_), Some(last)) => Some(last.id.clone()),
                (Some(_), None) => None,
                (None, _) => None,
            };
            let entries: Vec<Entry> = ids.into_iter().map(|id| Entry::new(id, false)).collect();
            cfg.hold(&entries);
            Some((stream::iter(entries), next))
        }
    })
    .flatten()
}

/// Every `reclaim_every`: XAUTOCLAIM, for this consumer, of the entries idle
/// longer than `reclaim_idle` on any consumer (at most 10 pages of 100).
fn reclaims(redis: Arc<Redis>, cfg: Arc<Config>) -> impl Stream<Item = Entry> + Send {
    stream_plus::interval(cfg.reclaim_every)
        .then(move |_| {
            let (redis, cfg) = (redis.clone(), cfg.clone());
            async move {
                let mut claimed = Vec::new();
                let mut start = "0-0".to_string();
                for _ in 0..10 {
                    let reply: StreamAutoClaimReply = redis
                        .retry("XAUTOCLAIM", |mut c| {
                            let mut cmd = redis::cmd("XAUTOCLAIM");
                            cmd.arg(STREAM)
                                .arg(GROUP)
                                .arg(&cfg.consumer)
                                .arg(cfg.reclaim_idle.as_millis() as u64)
                                .arg(&start)
                                .arg("COUNT")
                                .arg(100);
                            async move { cmd.query_async(&mut c).await }
                        })
                        .await;
                    let page: Vec<Entry> = reply
                        .claimed
                        .into_iter()
                        .map(|id| Entry::new(id, true))
                        .collect();
                    // Held at once: the next page's call may wait while the
                    // pipeline does not poll this stream.
                    cfg.hold(&page);
                    claimed.extend(page);
                    start = reply.next_stream_id;
                    if start == "0-0" {
                        break;
                    }
                }
                stream::iter(claimed)
            }
        })
        .flatten()
}

/// Handles `entries` and acknowledges every outcome, in batches.
async fn process(
    redis: Arc<Redis>,
    cfg: Arc<Config>,
    entries: impl Stream<Item = Entry> + Send,
) -> Summary {
    let (r, c) = (redis.clone(), cfg.clone());
    let mut last_seq: HashMap<String, u64> = HashMap::new();
    let mut summary = Summary::default();
    let stats = &cfg.stats;
    let held = cfg.held.clone();
    let mut batches = std::pin::pin!(entries
        .inspect(move |e| {
            held.lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(e.id.clone());
        })
        .observe(stats, "read")
        .map_concurrent_by_key_unordered(cfg.workers, Entry::order_key, move |entry| {
            handle(r.clone(), c.clone(), entry)
        })
        .observe(stats, "handle")
        .batch_timeout(200, Duration::from_millis(20))
        .observe(stats, "batch"));
    while let Some(batch) = batches.next().await {
        let ids: Vec<String> = batch.iter().map(|o| o.id().to_string()).collect();
        let acked: u64 = redis
            .retry("XACK", |mut c| {
                let ids = ids.clone();
                async move { c.xack(STREAM, GROUP, &ids).await }
            })
            .await;
        {
            let mut held = cfg.held.lock().unwrap_or_else(|e| e.into_inner());
            for id in &ids {
                held.remove(id);
            }
        }
        // Counted as sent: an id acknowledged twice (handled twice) counts
        // once in Redis's reply, and still leaves nothing pending.
        summary.acked += ids.len() as u64;
        let _ = acked;
        for outcome in batch {
            match outcome {
                Outcome::Handled {
                    key,
                    seq,
                    reclaimed,
                    ..
                } => {
                    summary.handled += 1;
                    summary.reclaimed += reclaimed as u64;
                    let last = last_seq.entry(key).or_insert(seq);
                    if seq < *last {
                        summary.out_of_order += 1;
                    }
                    *last = (*last).max(seq);
                }
                Outcome::DeadLettered { .. } => summary.dead_lettered += 1,
            }
        }
    }
    summary
}

/// Every quarter of `reclaim_idle`: XCLAIM ... JUSTID of this consumer's held
/// entries to itself, which resets their idle time. Another worker's
/// XAUTOCLAIM then takes only what a stopped consumer left, not entries that a
/// live one has merely held longer than the threshold. Never ends.
async fn keep_fresh(redis: Arc<Redis>, cfg: Arc<Config>) {
    let mut ticks = std::pin::pin!(stream_plus::interval(cfg.reclaim_idle / 4));
    while ticks.next().await.is_some() {
        let ids: Vec<String> = cfg
            .held
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect();
        for chunk in ids.chunks(200) {
            let _: Vec<String> = redis
                .retry("XCLAIM JUSTID", |mut c| {
                    let mut cmd = redis::cmd("XCLAIM");
                    cmd.arg(STREAM)
                        .arg(GROUP)
                        .arg(&cfg.consumer)
                        .arg(0)
                        .arg(chunk)
                        .arg("JUSTID");
                    async move { cmd.query_async(&mut c).await }
                })
                .await;
        }
    }
}

/// Creates the consumer group (and the stream) unless it exists.
async fn ensure_group(redis: &Redis) {
    let created: RedisResult<()> = redis
        .conn()
        .await
        .1
        .xgroup_create_mkstream(STREAM, GROUP, "0")
        .await;
    if let Err(e) = created {
        if e.code() != Some("BUSYGROUP") {
            eprintln!("redis: XGROUP CREATE failed ({e}); reading will retry");
        }
    }
}

/// The worker: runs until `stop` resolves, then drains and returns its summary.
async fn work(
    url: String,
    cfg: Config,
    stop: impl Future<Output = ()> + Send + 'static,
) -> RedisResult<Summary> {
    let redis = Redis::open(&url)?;
    let cfg = Arc::new(cfg);
    ensure_group(&redis).await;
    let stop: Shared<BoxFuture<'static, ()>> = stop.boxed().shared();
    let entries = read_group(redis.clone(), cfg.clone(), false)
        .take_until(stop.clone())
        .merge_with(reclaims(redis.clone(), cfg.clone()).take_until(stop));
    let live = cfg.stats_every.map(|every| {
        let mut view = LiveView::new(&cfg.stats);
        let consumer = cfg.consumer.clone();
        stream_plus::interval(every).skip(1).for_each(move |_| {
            for line in view.frame() {
                eprintln!("{consumer}: {line}");
            }
            future::ready(())
        })
    });
    let live = match live {
        Some(live) => live.left_future(),
        None => future::pending().right_future(),
    };
    // Beside the pipeline, in the same task: the keep-alive of held entries
    // and the live view. Neither ends; the pipeline's end drops them.
    let beside = future::join(keep_fresh(redis.clone(), cfg.clone()), live);
    let processing = process(redis.clone(), cfg.clone(), entries);
    let mut summary = match future::select(std::pin::pin!(processing), std::pin::pin!(beside)).await
    {
        Either::Left((summary, _)) => summary,
        Either::Right(_) => unreachable!("the keep-alive and the live view never end"),
    };
    // Entries delivered to this consumer whose read was cut off by the stop
    // are pending under its name: handle and acknowledge them too.
    let rest = process(redis.clone(), cfg.clone(), read_group(redis, cfg, true)).await;
    summary.add(&rest);
    Ok(summary)
}

/// Adds `count` entries over `keys` keys (`seq` counts up per key), and
/// `malformed` entries that a worker must dead-letter.
async fn produce(url: String, count: u64, keys: u64, malformed: u64) -> RedisResult<()> {
    let client = redis::Client::open(url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let payload = "x".repeat(64);
    let mut pipe = redis::pipe();
    for i in 0..count {
        let (key, seq) = (format!("k{}", i % keys), i / keys);
        pipe.xadd(
            STREAM,
            "*",
            &[
                ("key", key),
                ("seq", seq.to_string()),
                ("payload", payload.clone()),
            ],
        )
        .ignore();
        if pipe.len() >= 500 {
            pipe.query_async::<()>(&mut conn).await?;
            pipe = redis::pipe();
        }
    }
    for i in 0..malformed {
        let fields: Vec<(&str, String)> = if i % 2 == 0 {
            vec![("seq", i.to_string())]
        } else {
            vec![
                ("key", format!("k{i}")),
                ("seq", format!("not-a-number-{i}")),
            ]
        };
        pipe.xadd(STREAM, "*", &fields).ignore();
    }
    pipe.query_async::<()>(&mut conn).await?;
    Ok(())
}

fn usage(msg: &str) -> ! {
    eprintln!(
        "{msg}\nusage:\n  redis_workers produce --count N --keys K [--malformed M]\n  \
         redis_workers work --consumer NAME [--workers W] [--runtime {}] [--handle-ms MS] \
         [--reclaim-idle-ms MS] [--stats SECONDS]\nREDIS_URL says where (default redis://127.0.0.1:6379; \
         redis+unix:///path for a socket)",
        Runtime::NAMES
    );
    std::process::exit(2);
}

/// Parses `--name value` pairs.
fn options(args: &[String]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut it = args.iter();
    while let Some(name) = it.next() {
        let Some(name) = name.strip_prefix("--") else {
            usage(&format!("unexpected argument {name}"));
        };
        let Some(value) = it.next() else {
            usage(&format!("--{name} needs a value"));
        };
        out.insert(name.to_string(), value.clone());
    }
    out
}

fn number<T: std::str::FromStr>(opts: &HashMap<String, String>, name: &str, default: T) -> T {
    match opts.get(name) {
        None => default,
        Some(v) => v
            .parse()
            .unwrap_or_else(|_| usage(&format!("--{name}: not a number: {v}"))),
    }
}

/// The program, with its arguments (without the program name).
fn run(args: Vec<String>) -> i32 {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let Some((command, rest)) = args.split_first() else {
        usage("no command");
    };
    let opts = options(rest);
    let runtime = match opts.get("runtime") {
        Some(name) => Runtime::from_name(name).unwrap_or_else(|e| usage(&e)),
        None => Runtime::Smol,
    };
    if runtime == Runtime::AsyncStd {
        usage("redis_workers runs on smol or tokio (the redis crate's async-std support is not enabled here)");
    }
    match command.as_str() {
        "produce" => {
            let count = number(&opts, "count", 10_000u64);
            let keys = number(&opts, "keys", 100u64).max(1);
            let malformed = number(&opts, "malformed", 0u64);
            let started = Instant::now();
            match runtime.block_on(produce(url, count, keys, malformed)) {
                Ok(()) => {
                    println!(
                        "produced {count} entries over {keys} keys and {malformed} malformed in {:?}",
                        started.elapsed()
                    );
                    0
                }
                Err(e) => {
                    eprintln!("produce failed: {e}");
                    1
                }
            }
        }
        "work" => {
            let consumer = opts
                .get("consumer")
                .cloned()
                .unwrap_or_else(|| usage("work needs --consumer NAME"));
            let mut cfg = Config::new(&consumer);
            cfg.runtime = runtime;
            cfg.workers = number(&opts, "workers", cfg.workers).max(1);
            cfg.handle_time = Duration::from_millis(number(&opts, "handle-ms", 3));
            cfg.reclaim_idle = Duration::from_millis(number(&opts, "reclaim-idle-ms", 5000));
            if let Some(every) = opts.get("stats") {
                let every: f64 = every
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s > 0.0)
                    .unwrap_or_else(|| usage(&format!("--stats: not a positive number: {every}")));
                cfg.stats_every = Some(Duration::from_secs_f64(every));
            }
            let stop = common::ctrl_c().map(move |()| eprintln!("{consumer}: stopping: draining"));
            let started = Instant::now();
            match runtime.block_on(work(url, cfg.clone(), stop)) {
                Ok(s) => {
                    println!(
                        "summary consumer={} handled={} acked={} reclaimed={} dead_lettered={} \
                         out_of_order={} seconds={:.3}",
                        cfg.consumer,
                        s.handled,
                        s.acked,
                        s.reclaimed,
                        s.dead_lettered,
                        s.out_of_order,
                        started.elapsed().as_secs_f64()
                    );
                    for st in cfg.stats.snapshot() {
                        println!(
                            "stage name={} items={} busy={:.0}% backpressured={:.0}% idle={:.0}% \
                             in_flight={} workers={}",
                            st.name,
                            st.items,
                            100.0 * st.busy_ratio(),
                            100.0 * st.backpressured_ratio(),
                            100.0 * st.idle_ratio(),
                            st.in_flight,
                            st.workers
                        );
                    }
                    0
                }
                Err(e) => {
                    eprintln!("work failed: {e}");
                    1
                }
            }
        }
        other => usage(&format!("unknown command {other}")),
    }
}

fn main() {
    std::process::exit(run(std::env::args().skip(1).collect()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis::streams::StreamPendingReply;
    use std::collections::HashSet;
    use std::process::{Child, Command, ExitStatus, Stdio};
    use std::thread::sleep;

    fn entry(fields: &[(&str, &str)]) -> Entry {
        Entry {
            id: "1-0".into(),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), Value::BulkString(v.as_bytes().to_vec())))
                .collect(),
            reclaimed: false,
        }
    }

    #[test]
    fn malformed_entries_are_told_apart_from_good_ones() {
        assert_eq!(
            entry(&[("key", "k1"), ("seq", "7")]).parse(),
            Ok(("k1".into(), 7))
        );
        assert_eq!(
            entry(&[("seq", "7")]).parse(),
            Err("missing field key".into())
        );
        assert_eq!(
            entry(&[("key", "k1")]).parse(),
            Err("missing field seq".into())
        );
        assert!(entry(&[("key", "k1"), ("seq", "x")]).parse().is_err());
        // A malformed entry orders by its own id, so it waits for no key.
        assert_eq!(
            entry(&[("key", "k1"), ("seq", "x")]).order_key(),
            "malformed:1-0"
        );
        assert_eq!(entry(&[("key", "k1"), ("seq", "7")]).order_key(), "k1");
    }

    /// A private `redis-server` on a unix socket in a temp dir, persistence
    /// off; killed when dropped, whatever happened.
    struct Server {
        child: Child,
        url: String,
        _dir: tempfile::TempDir,
    }

    impl Server {
        fn start() -> Server {
            let dir = tempfile::tempdir().unwrap();
            let sock = dir.path().join("redis.sock");
            let child = Command::new("redis-server")
                .args(["--port", "0", "--unixsocket"])
                .arg(&sock)
                .args([
                    "--unixsocketperm",
                    "700",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
                .arg("--dir")
                .arg(dir.path())
                .stdout(Stdio::null())
                .spawn()
                .expect("redis-server is not installed (apt-get install redis-server)");
            let server = Server {
                child,
                url: format!("redis+unix://{}", sock.display()),
                _dir: dir,
            };
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let ping = redis::Client::open(server.url.as_str())
                    .and_then(|c| c.get_connection())
                    .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c));
                if ping.is_ok() {
                    return server;
                }
                assert!(
                    Instant::now() < deadline,
                    "redis-server did not start: {ping:?}"
                );
                sleep(Duration::from_millis(20));
            }
        }

        fn conn(&self) -> redis::Connection {
            redis::Client::open(self.url.as_str())
                .unwrap()
                .get_connection()
                .unwrap()
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Where a worker process finds its arguments.
    const WORKER_ARGS: &str = "REDIS_WORKERS_TEST_ARGS";

    /// Not a check: the entry point through which the tests below start
    /// worker processes. They run this test binary again, with only this
    /// test selected and `WORKER_ARGS` set, and it runs the example's own
    /// `run` (exactly what `redis_workers work ...` runs) and exits with its
    /// status. Without `WORKER_ARGS` it does nothing.
    #[test]
    #[ignore = "needs redis-server"]
    fn worker_process() {
        if let Ok(args) = std::env::var(WORKER_ARGS) {
            std::process::exit(run(args.split(' ').map(String::from).collect()));
        }
    }

    /// A worker process, SIGKILLed when dropped (a failed test leaves none
    /// behind), and a thread that collects its stderr (so a chatty worker
    /// never blocks on a full pipe).
    struct Worker(Child, Option<std::thread::JoinHandle<String>>);

    impl Drop for Worker {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn spawn_worker(server: &Server, args: &str) -> Worker {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "tests::worker_process",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env("REDIS_URL", &server.url)
            .env(WORKER_ARGS, args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let log = std::thread::spawn(move || {
            let mut log = String::new();
            let _ = std::io::Read::read_to_string(&mut stderr, &mut log);
            log
        });
        Worker(child, Some(log))
    }

    fn produce_entries(server: &Server, count: u64, keys: u64, malformed: u64) {
        smol::block_on(produce(server.url.clone(), count, keys, malformed)).unwrap();
    }

    fn sigterm(Worker(child, _): &Worker) {
        let ok = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -TERM failed");
    }

    /// Waits (bounded) for the process to exit; returns its status and the
    /// summary line it printed (its stderr goes to this test's stderr).
    fn finish(child: Worker, within: Duration) -> (ExitStatus, String) {
        let (status, summary, log) = finish_with_log(child, within);
        eprint!("{log}");
        (status, summary)
    }

    /// `finish`, also returning what the process wrote to stderr.
    fn finish_with_log(mut worker: Worker, within: Duration) -> (ExitStatus, String, String) {
        let log = worker.1.take().unwrap();
        let child = &mut worker.0;
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("worker {} did not exit within {within:?}", child.id());
            }
            sleep(Duration::from_millis(20));
        };
        let mut out = String::new();
        std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
        let summary = out
            .lines()
            .find(|l| l.starts_with("summary "))
            .unwrap_or("")
            .to_string();
        (status, summary, log.join().unwrap())
    }

    fn field(summary: &str, name: &str) -> u64 {
        summary
            .split(' ')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {summary:?}"))
            .parse()
            .unwrap()
    }

    fn handled_count(con: &mut redis::Connection) -> u64 {
        redis::cmd("HLEN").arg(HANDLED).query(con).unwrap()
    }

    /// Pending entries of the group, in all and per consumer.
    fn pending(con: &mut redis::Connection) -> (usize, HashMap<String, usize>) {
        let reply: StreamPendingReply = redis::Commands::xpending(con, STREAM, GROUP).unwrap();
        match reply {
            StreamPendingReply::Empty => (0, HashMap::new()),
            StreamPendingReply::Data(data) => (
                data.count,
                data.consumers
                    .into_iter()
                    .map(|c| (c.name, c.pending))
                    .collect(),
            ),
        }
    }

    fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) -> Duration {
        let start = Instant::now();
        while !done() {
            assert!(
                start.elapsed() < within,
                "timed out after {within:?} waiting for {what}"
            );
            sleep(Duration::from_millis(20));
        }
        start.elapsed()
    }

    /// A handler that never finishes (every call takes a minute): the live
    /// view on stderr shows the `handle` stage busy, every worker in flight,
    /// no items going through, and names it the bottleneck, where before the
    /// worker looked like an idle process.
    #[test]
    #[ignore = "needs redis-server"]
    fn a_stalled_handler_shows_as_busy_with_nothing_going_through() {
        let server = Server::start();
        produce_entries(&server, 100, 10, 0);
        let mut worker = spawn_worker(
            &server,
            "work --consumer s1 --workers 4 --handle-ms 60000 --stats 0.5",
        );
        sleep(Duration::from_secs(3));
        let log = worker.1.take().unwrap();
        drop(worker);
        let log = log.join().unwrap();
        let handle_lines: Vec<&str> = log
            .lines()
            .filter_map(|l| l.strip_prefix("s1: "))
            .filter(|l| l.starts_with("handle "))
            .collect();
        assert!(handle_lines.len() >= 3, "too few frames:\n{log}");
        let last = handle_lines.last().unwrap();
        // items/s, then the bar, then busy / backpressured / idle.
        let rate = last.split_whitespace().nth(1).unwrap();
        assert_eq!(rate, "0/s", "{last}");
        let shares: Vec<f64> = last
            .split("] ")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .take(3)
            .map(|p| p.trim_end_matches('%').parse().unwrap())
            .collect();
        assert!(shares[0] >= 90.0, "handle not busy: {last}");
        assert!(last.contains(" 4/4"), "not every worker in flight: {last}");
        assert!(last.contains("<- bottleneck"), "{last}\n{log}");
    }

    #[test]
    #[ignore = "needs redis-server"]
    fn three_workers_lose_nothing_when_one_is_killed() {
        const COUNT: u64 = 10_000;
        const KEYS: u64 = 100;
        const MALFORMED: u64 = 6;
        let server = Server::start();
        let mut con = server.conn();
        produce_entries(&server, COUNT, KEYS, MALFORMED);
        let args =
            |name: &str| format!("work --consumer {name} --workers 32 --reclaim-idle-ms 1000");
        let started = Instant::now();
        let victim = spawn_worker(&server, &args("w1"));
        // The same pipeline on the other runtime.
        let w2 = spawn_worker(&server, &format!("{} --runtime tokio", args("w2")));
        let w3 = spawn_worker(&server, &args("w3"));

        wait_until("2,000 entries handled", Duration::from_secs(120), || {
            handled_count(&mut con) >= 2000
        });
        // SIGKILL: no drain, no last acknowledgements.
        drop(victim);
        let killed_at = Instant::now();
        let (_, by_consumer) = pending(&mut con);
        let left_by_victim = by_consumer.get("w1").copied().unwrap_or(0);
        println!("w1 killed with {left_by_victim} entries pending under its name");

        let reclaim_delay = wait_until("w1's entries reclaimed", Duration::from_secs(120), || {
            pending(&mut con).1.get("w1").copied().unwrap_or(0) == 0
        });
        wait_until(
            "every entry handled and acknowledged",
            Duration::from_secs(180),
            || handled_count(&mut con) == COUNT && pending(&mut con).0 == 0,
        );
        let all_done = started.elapsed();
        sigterm(&w2);
        sigterm(&w3);
        let (status2, summary2) = finish(w2, Duration::from_secs(60));
        let (status3, summary3) = finish(w3, Duration::from_secs(60));
        assert!(
            status2.success() && status3.success(),
            "{status2} {status3}"
        );
        println!("{summary2}\n{summary3}");
        // Only what the killed worker left was reclaimed: the live workers
        // kept their own held entries fresh.
        let reclaimed = field(&summary2, "reclaimed") + field(&summary3, "reclaimed");
        assert!(
            reclaimed as usize <= left_by_victim,
            "reclaimed {reclaimed}, but w1 left only {left_by_victim}"
        );

        // Every entry handled at least once: all 10,000 fields are there.
        let handled: HashMap<String, u64> = redis::Commands::hgetall(&mut con, HANDLED).unwrap();
        let expected: HashSet<String> = (0..COUNT)
            .map(|i| format!("k{}:{}", i % KEYS, i / KEYS))
            .collect();
        let got: HashSet<String> = handled.keys().cloned().collect();
        assert_eq!(got, expected, "entries not handled");
        // ... with the side effect written for each.
        let done: u64 = (0..KEYS)
            .map(|k| redis::Commands::hlen::<_, u64>(&mut con, format!("done:k{k}")).unwrap())
            .sum();
        assert_eq!(done, COUNT);
        // Every entry acknowledged.
        assert_eq!(pending(&mut con).0, 0);
        // Only the malformed entries dead-lettered, each with its reason.
        let dead: redis::streams::StreamRangeReply =
            redis::Commands::xrange_all(&mut con, DEAD).unwrap();
        assert_eq!(dead.ids.len() as u64, MALFORMED);
        assert!(dead.ids.iter().all(|e| e.map.contains_key("reason")));
        // The killed worker's entries went to the others.
        let reclaimed = field(&summary2, "reclaimed") + field(&summary3, "reclaimed");
        assert!(left_by_victim > 0, "w1 had nothing pending when killed");
        assert!(
            reclaimed >= left_by_victim as u64,
            "{reclaimed} reclaimed, {left_by_victim} left by w1"
        );
        let twice = handled.values().filter(|&&n| n > 1).count();
        let dead_by = field(&summary2, "dead_lettered") + field(&summary3, "dead_lettered");
        println!(
            "totals: {COUNT} entries + {MALFORMED} malformed; all handled and acknowledged \
             {all_done:?} after the start; w1 killed with {left_by_victim} pending, reclaimed \
             {reclaim_delay:?} after the kill ({reclaimed} reclaimed in all); {twice} entries \
             handled twice; {dead_by} dead-lettered by the survivors (w1 may have taken some)"
        );
        let _ = killed_at;
    }

    #[test]
    #[ignore = "needs redis-server"]
    fn sigterm_drains_and_leaves_nothing_pending() {
        let server = Server::start();
        let mut con = server.conn();
        produce_entries(&server, 3000, 30, 0);
        let worker = spawn_worker(&server, "work --consumer solo --workers 8 --handle-ms 5");
        wait_until("200 entries handled", Duration::from_secs(60), || {
            handled_count(&mut con) >= 200
        });
        sigterm(&worker);
        let (status, summary) = finish(worker, Duration::from_secs(60));
        println!("{summary}");
        assert!(status.success(), "exit status {status}");
        // Stopped mid-run, not at the end.
        let handled = field(&summary, "handled");
        assert!(handled < 3000, "{summary}");
        assert_eq!(field(&summary, "acked"), handled);
        // One worker, no failover: per-key order held.
        assert_eq!(field(&summary, "out_of_order"), 0);
        assert_eq!(handled_count(&mut con), handled);
        let (total, by_consumer) = pending(&mut con);
        assert_eq!(by_consumer.get("solo"), None, "pending left under solo");
        assert_eq!(total, 0);
    }

    /// Also the regression test for a deadlock it found: the connection
    /// slot was an async lock held while reconnecting and backing off. When
    /// the reader (upstream of the keyed map) held it, the map did not poll
    /// the reader while all its handlers ran, and the handlers all waited
    /// for the lock. It hung in about one run in four with five kills.
    #[test]
    #[ignore = "needs redis-server"]
    fn lost_connections_are_retried_and_nothing_is_lost() {
        const COUNT: u64 = 2000;
        let server = Server::start();
        let mut con = server.conn();
        produce_entries(&server, COUNT, 20, 0);
        // A short idle threshold: a read whose reply was cut off leaves its
        // entries pending under the worker's own name, and the worker's own
        // XAUTOCLAIM picks them up again.
        let worker = spawn_worker(
            &server,
            "work --consumer flaky --workers 16 --handle-ms 2 --reclaim-idle-ms 1000",
        );
        for _ in 0..10 {
            sleep(Duration::from_millis(100));
            // Drops every client connection but this one (SKIPME is the default).
            let _: RedisResult<u64> = redis::cmd("CLIENT")
                .arg(&["KILL", "TYPE", "normal"][..])
                .query(&mut con);
        }
        wait_until(
            "every entry handled and acknowledged",
            Duration::from_secs(120),
            || handled_count(&mut con) == COUNT && pending(&mut con).0 == 0,
        );
        sigterm(&worker);
        let (status, summary, log) = finish_with_log(worker, Duration::from_secs(60));
        eprint!("{log}");
        assert!(status.success(), "exit status {status}");
        assert!(log.contains("retrying"), "no retry logged:\n{log}");
        assert!(field(&summary, "handled") >= COUNT, "{summary}");
    }
}
