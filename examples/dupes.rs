//! Finds duplicate files under a directory: a real job built on stream-plus.
//!
//! ```text
//! cargo run --release --example dupes -- [DIR] [--runtime smol|tokio|async-std]
//!     [--workers N] [--io N] [--min-size BYTES] [--no-progress] [--summary-only] [--stats]
//! ```
//!
//! `--stats` observes each stage (`observe`) and prints, every second on
//! stderr and for the whole run after the summary, one line per stage: its
//! items, a bar of busy / backpressured / idle time, its running calls and
//! workers, and the bottleneck (see `common/live_view.rs`).
//!
//! The pipeline, one stream from the walk to the groups:
//!
//! 1. walk the tree (`walkdir` on the `blocking` pool, as a `Stream`; symlinks
//!    are not followed);
//! 2. read every file's size, 16 at a time (`map_concurrent_unordered` over
//!    `async_fs::symlink_metadata`); hard links to a file already seen are
//!    skipped, as fdupes and jdupes do;
//! 3. keep only files whose size has been seen more than once; this is a
//!    streaming filter, so hashing starts while the walk is still going;
//! 4. hash the first 4 KiB of each candidate on the CPU pool
//!    (`map_blocking_unordered`, BLAKE3) and keep only (size, head) pairs seen
//!    more than once;
//! 5. hash the whole of what is left on the pool (files of at most 4 KiB are
//!    already fully hashed) and group by (size, hash).
//!
//! Duplicate sets are printed largest file first, then a summary. A status
//! line on stderr, refreshed by `stream_plus::interval`, shows progress when
//! stderr is a terminal. Ctrl-C ends the stream (`take_until`), which drops
//! every stage at once; the sets found so far and a partial summary are
//! printed, and the exit code is 130. A second Ctrl-C exits at once.
//! Unreadable files and directories are reported as warnings and skipped.
//!
//! The same pipeline runs on smol (the default), on tokio (multi-thread,
//! spawned onto a worker) and on async-std: nothing in it belongs to a runtime.

use futures::future::{self, Either, Future, FutureExt};
use futures::stream::{self, Stream, StreamExt};
use std::collections::hash_map::{Entry, HashMap};
use std::collections::HashSet;
use std::fs::File;
use std::hash::Hash;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};
use stream_plus::StreamExtPlus;

mod common;
use common::live_view::LiveView;
use common::Runtime;

/// Bytes hashed in the first pass; files no larger than this are done after it.
const HEAD: u64 = 4096;

type Digest = [u8; 32];

#[derive(Clone, Debug)]
struct Options {
    root: PathBuf,
    runtime: Runtime,
    /// Hashing jobs on the CPU pool.
    workers: usize,
    /// `metadata` calls in flight.
    io: usize,
    /// Smaller files are ignored (default 1: empty files are not duplicates).
    min_size: u64,
    progress: bool,
    summary_only: bool,
    /// `--stats`: each stage observed here.
    stages: Option<stream_plus::Stats>,
}

const USAGE: &str = "usage: dupes [DIR] [--runtime smol|tokio|async-std] [--workers N] [--io N] \
                     [--min-size BYTES] [--no-progress] [--summary-only] [--stats]";

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
        let mut opts = Options {
            root: PathBuf::from("."),
            runtime: Runtime::Smol,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            io: 16,
            min_size: 1,
            progress: io::stderr().is_terminal(),
            summary_only: false,
            stages: None,
        };
        let mut root = None;
        while let Some(arg) = args.next() {
            let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
            match arg.as_str() {
                "--runtime" => opts.runtime = Runtime::from_name(&value("--runtime")?)?,
                "--workers" => opts.workers = count(&value("--workers")?, "--workers")?,
                "--io" => opts.io = count(&value("--io")?, "--io")?,
                "--min-size" => {
                    let v = value("--min-size")?;
                    opts.min_size = v.parse().map_err(|_| format!("bad --min-size {v:?}"))?;
                }
                "--no-progress" => opts.progress = false,
                "--summary-only" => opts.summary_only = true,
                "--stats" => opts.stages = Some(stream_plus::Stats::new()),
                "-h" | "--help" => {
                    println!("{USAGE}");
                    std::process::exit(0);
                }
                flag if flag.starts_with('-') => return Err(format!("unknown flag {flag}")),
                dir if root.is_none() => root = Some(PathBuf::from(dir)),
                extra => return Err(format!("unexpected argument {extra:?}")),
            }
        }
        if let Some(root) = root {
            opts.root = root;
        }
        Ok(opts)
    }
}

fn count(v: &str, name: &str) -> Result<usize, String> {
    match v.parse() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("{name} must be a whole number >= 1, got {v:?}")),
    }
}

/// Counters the stages bump and the status line reads.
#[derive(Debug, Default)]
struct Stats {
    files: AtomicU64,
    bytes: AtomicU64,
    candidates: AtomicU64,
    hashed_files: AtomicU64,
    hashed_bytes: AtomicU64,
    warnings: AtomicU64,
    /// Whether a status line is on screen (a warning clears it first).
    status_shown: AtomicBool,
}

impl Stats {
    fn warn(&self, path: &Path, err: impl std::fmt::Display) {
        self.warnings.fetch_add(1, Relaxed);
        let clear = if self.status_shown.swap(false, Relaxed) {
            "\r\x1b[2K"
        } else {
            ""
        };
        eprintln!("{clear}warning: {}: {err} (skipped)", path.display());
    }

    fn status_line(&self, start: Instant) -> String {
        let files = self.files.load(Relaxed);
        format!(
            "{} files ({}), {} candidates, {} hashed ({}), {:.0} files/s",
            files,
            human(self.bytes.load(Relaxed)),
            self.candidates.load(Relaxed),
            self.hashed_files.load(Relaxed),
            human(self.hashed_bytes.load(Relaxed)),
            files as f64 / start.elapsed().as_secs_f64().max(1e-9),
        )
    }
}

#[derive(Debug)]
struct FileInfo {
    path: PathBuf,
    size: u64,
}

/// One set of identical files.
#[derive(Debug, PartialEq, Eq)]
struct DupSet {
    size: u64,
    paths: Vec<PathBuf>,
}

#[derive(Debug)]
struct Report {
    sets: Vec<DupSet>,
    stats: Arc<Stats>,
    interrupted: bool,
    elapsed: Duration,
}

/// Every regular file under `root`, as the walk finds it.
fn walk(root: &Path, stats: Arc<Stats>) -> impl Stream<Item = PathBuf> + Send + 'static {
    let entries = walkdir::WalkDir::new(root).into_iter();
    blocking::Unblock::with_capacity(256, entries).filter_map(move |entry| {
        future::ready(match entry {
            Ok(e) if e.file_type().is_file() => Some(e.into_path()),
            Ok(_) => None,
            Err(err) => {
                let path = err.path().unwrap_or(Path::new("?")).to_path_buf();
                stats.warn(&path, err);
                None
            }
        })
    })
}

/// Lets an item through once another item with the same key has been seen.
/// The first of a key waits until its twin arrives (then both go); later
/// ones go at once. Memory: one entry per distinct key.
fn seen_twice<S, K>(
    items: S,
    mut key: impl FnMut(&S::Item) -> K + Send + 'static,
) -> impl Stream<Item = S::Item> + Send + 'static
where
    S: Stream + Send + 'static,
    S::Item: Send + 'static,
    K: Hash + Eq + Send + 'static,
{
    let mut first: HashMap<K, Option<S::Item>> = HashMap::new();
    items.flat_map(move |item| {
        let (earlier, this) = match first.entry(key(&item)) {
            Entry::Vacant(slot) => {
                slot.insert(Some(item));
                (None, None)
            }
            Entry::Occupied(mut slot) => (slot.get_mut().take(), Some(item)),
        };
        stream::iter(earlier.into_iter().chain(this))
    })
}

/// BLAKE3 of the first `HEAD` bytes.
fn hash_head(path: &Path) -> io::Result<Digest> {
    let mut buf = [0u8; HEAD as usize];
    let mut file = File::open(path)?;
    let mut len = 0;
    while len < buf.len() {
        match file.read(&mut buf[len..])? {
            0 => break,
            n => len += n,
        }
    }
    Ok(*blake3::hash(&buf[..len]).as_bytes())
}

/// BLAKE3 of the whole file, and how many bytes that was.
fn hash_all(path: &Path) -> io::Result<(Digest, u64)> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(File::open(path)?)?;
    Ok((*hasher.finalize().as_bytes(), hasher.count()))
}

/// The whole job over `paths`; `interrupt` resolving ends it early, with the
/// sets found so far.
async fn find_dupes<P, I>(paths: P, opts: Options, stats: Arc<Stats>, interrupt: I) -> Report
where
    P: Stream<Item = PathBuf> + Send + 'static,
    I: Future<Output = ()> + Send + 'static,
{
    let start = Instant::now();
    let interrupted = Arc::new(AtomicBool::new(false));

    // 2. Sizes, `opts.io` at a time; hard links to a file already seen skipped.
    let st = stats.clone();
    let mut inodes = HashSet::new();
    let min_size = opts.min_size;
    // Without `--stats` the points count into a handle nobody reads.
    let stages = opts.stages.clone().unwrap_or_default();
    let sized = paths
        .observe(&stages, "walk")
        .map_concurrent_unordered(opts.io, |path| async move {
            let meta = async_fs::symlink_metadata(&path).await;
            (path, meta)
        })
        .observe(&stages, "metadata")
        .filter_map(move |(path, meta)| {
            future::ready(match meta {
                Err(err) => {
                    st.warn(&path, err);
                    None
                }
                Ok(meta) => {
                    st.files.fetch_add(1, Relaxed);
                    st.bytes.fetch_add(meta.len(), Relaxed);
                    let fresh = inodes.insert(file_id(&meta));
                    (fresh && meta.is_file() && meta.len() >= min_size).then_some(FileInfo {
                        path,
                        size: meta.len(),
                    })
                }
            })
        });

    // 3. Only sizes seen twice go on to be read.
    let st = stats.clone();
    let candidates = seen_twice(sized, |f: &FileInfo| f.size).inspect(move |_| {
        st.candidates.fetch_add(1, Relaxed);
    });

    // 4. Head hashes on the CPU pool; only (size, head) seen twice go on.
    let st = stats.clone();
    let heads = candidates
        .map_blocking_unordered(opts.workers, |f: FileInfo| {
            let head = hash_head(&f.path);
            (f, head)
        })
        .observe(&stages, "head hash")
        .filter_map(move |(f, head)| {
            future::ready(match head {
                Ok(head) => {
                    st.hashed_bytes.fetch_add(f.size.min(HEAD), Relaxed);
                    Some((f, head))
                }
                Err(err) => {
                    st.warn(&f.path, err);
                    None
                }
            })
        });
    let twins = seen_twice(heads, |(f, head): &(FileInfo, Digest)| (f.size, *head));

    // 5. Whole-file hashes for what is left; small files are already done.
    let st = stats.clone();
    let done = interrupted.clone();
    let hashed = twins
        .map_blocking_unordered(opts.workers, |(f, head): (FileInfo, Digest)| {
            let full = if f.size <= HEAD {
                Ok((head, 0))
            } else {
                hash_all(&f.path)
            };
            (f, full)
        })
        .observe(&stages, "full hash")
        .filter_map(move |(f, full)| {
            future::ready(match full {
                Ok((_, read)) if f.size > HEAD && read != f.size => {
                    st.warn(&f.path, "changed while it was read");
                    None
                }
                Ok((digest, read)) => {
                    st.hashed_files.fetch_add(1, Relaxed);
                    st.hashed_bytes
                        .fetch_add(read.saturating_sub(HEAD), Relaxed);
                    Some((f, digest))
                }
                Err(err) => {
                    st.warn(&f.path, err);
                    None
                }
            })
        })
        // Ctrl-C ends the stream here, and that drops every stage above.
        .take_until(interrupt.map(move |()| done.store(true, Relaxed)));

    let mut groups: HashMap<(u64, Digest), Vec<PathBuf>> = HashMap::new();
    let mut hashed = pin!(hashed);
    while let Some((f, digest)) = hashed.next().await {
        groups.entry((f.size, digest)).or_default().push(f.path);
    }

    let mut sets: Vec<DupSet> = groups
        .into_iter()
        .filter(|(_, paths)| paths.len() > 1)
        .map(|((size, _), mut paths)| {
            paths.sort();
            DupSet { size, paths }
        })
        .collect();
    sort_sets(&mut sets);
    Report {
        sets,
        stats,
        interrupted: interrupted.load(Relaxed),
        elapsed: start.elapsed(),
    }
}

/// Largest file first; ties by their paths, so the output is repeatable.
fn sort_sets(sets: &mut [DupSet]) {
    sets.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.paths.cmp(&b.paths)));
}

/// What identifies a file's contents on disk: hard links share it.
#[cfg(unix)]
fn file_id(meta: &std::fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

/// Without inode numbers every path counts as its own file.
#[cfg(not(unix))]
fn file_id(_meta: &std::fs::Metadata) -> (u64, u64) {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    (0, NEXT.fetch_add(1, Relaxed))
}

/// The job plus, when asked for, a status line every 100 ms on stderr.
async fn run(opts: Options, interrupt: impl Future<Output = ()> + Send + 'static) -> Report {
    let stats = Arc::new(Stats::default());
    let paths = walk(&opts.root, stats.clone());
    let show = opts.progress;
    let stages = opts.stages.clone();
    let job = find_dupes(paths, opts, stats.clone(), interrupt);
    // With `--stats`, the live view every second on stderr beside the job.
    let job = pin!(async move {
        let Some(stages) = stages else {
            return job.await;
        };
        let mut view = LiveView::new(&stages);
        let live = stream_plus::interval(Duration::from_secs(1))
            .skip(1)
            .for_each(move |_| {
                eprintln!("\r\x1b[2K{}", view.frame().join("\n"));
                future::ready(())
            });
        match future::select(pin!(job), pin!(live)).await {
            Either::Left((report, _)) => report,
            Either::Right(((), _)) => unreachable!("interval never ends"),
        }
    });
    if !show {
        return job.await;
    }
    let start = Instant::now();
    let st = stats.clone();
    let status = pin!(
        stream_plus::interval(Duration::from_millis(100)).for_each(move |_| {
            eprint!("\r\x1b[2K{}", st.status_line(start));
            st.status_shown.store(true, Relaxed);
            future::ready(())
        })
    );
    // The ticker never ends; when the job does, `select` drops the ticker.
    let report = match future::select(job, status).await {
        Either::Left((report, _)) => report,
        Either::Right(((), _)) => unreachable!("interval never ends"),
    };
    if stats.status_shown.swap(false, Relaxed) {
        eprint!("\r\x1b[2K");
    }
    report
}

fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

fn print_report(report: &Report, opts: &Options, out: &mut impl Write) -> io::Result<()> {
    if !opts.summary_only {
        for set in &report.sets {
            writeln!(
                out,
                "{} files of {} each:",
                set.paths.len(),
                human(set.size)
            )?;
            for p in &set.paths {
                writeln!(out, "  {}", p.display())?;
            }
            writeln!(out)?;
        }
    }
    let s = &report.stats;
    let files = s.files.load(Relaxed);
    let secs = report.elapsed.as_secs_f64();
    let redundant: u64 = report.sets.iter().map(|d| d.paths.len() as u64 - 1).sum();
    let reclaimable: u64 = report
        .sets
        .iter()
        .map(|d| d.size * (d.paths.len() as u64 - 1))
        .sum();
    if report.interrupted {
        writeln!(out, "interrupted: the results below are partial")?;
    }
    writeln!(
        out,
        "{files} files ({}) under {} in {secs:.2} s on {:?}: {:.0} files/s",
        human(s.bytes.load(Relaxed)),
        opts.root.display(),
        opts.runtime,
        files as f64 / secs.max(1e-9)
    )?;
    writeln!(
        out,
        "{} candidates of a shared size, {} hashed, {} read",
        s.candidates.load(Relaxed),
        s.hashed_files.load(Relaxed),
        human(s.hashed_bytes.load(Relaxed))
    )?;
    writeln!(
        out,
        "{} duplicate sets, {redundant} redundant files, {} reclaimable",
        report.sets.len(),
        human(reclaimable)
    )?;
    let warnings = s.warnings.load(Relaxed);
    if warnings > 0 {
        writeln!(out, "{warnings} warnings: those paths were skipped")?;
    }
    if let Some(stages) = &opts.stages {
        writeln!(out, "stages, whole run:")?;
        for line in LiveView::whole_run(stages) {
            writeln!(out, "  {line}")?;
        }
    }
    Ok(())
}

fn main() {
    let opts = match Options::parse(std::env::args().skip(1)) {
        Ok(opts) => opts,
        Err(msg) => {
            eprintln!("{msg}\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(err) = std::fs::metadata(&opts.root) {
        eprintln!("dupes: {}: {err}", opts.root.display());
        std::process::exit(1);
    }
    let report = opts.runtime.block_on(run(opts.clone(), common::ctrl_c()));
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if let Err(err) = print_report(&report, &opts, &mut out).and_then(|()| out.flush()) {
        // A closed pipe (`dupes | head`) is not worth a panic.
        if err.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("dupes: writing the report: {err}");
            std::process::exit(1);
        }
    }
    if report.interrupted {
        std::process::exit(130);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(root: &Path, runtime: Runtime) -> Options {
        Options {
            root: root.to_path_buf(),
            runtime,
            workers: 2,
            io: 8,
            min_size: 1,
            progress: false,
            summary_only: true,
            stages: None,
        }
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// A tree with every case the pipeline distinguishes.
    fn tree() -> (tempfile::TempDir, Vec<DupSet>) {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let big: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut big_tail = big.clone();
        *big_tail.last_mut().unwrap() ^= 1; // same size, same head, other tail
        let mut big_head = big.clone();
        big_head[0] ^= 1; // same size, other head
        let a = write(d, "a/big1", &big);
        let b = write(d, "b/deep/big2", &big);
        write(d, "big_tail", &big_tail);
        write(d, "big_head", &big_head);
        let s1 = write(d, "small1", b"hello");
        let s2 = write(d, "a/small2", b"hello");
        let s3 = write(d, "b/small3", b"hello");
        write(d, "other", b"world"); // same size as the smalls, other content
        write(d, "empty1", b""); // empty files are not duplicates by default
        write(d, "empty2", b"");
        write(d, "unique", b"only one of these");
        #[cfg(unix)]
        {
            // Neither a hard link nor a symlink is a second copy.
            std::fs::hard_link(d.join("unique"), d.join("unique_link")).unwrap();
            std::os::unix::fs::symlink(d.join("small1"), d.join("small_symlink")).unwrap();
            std::os::unix::fs::symlink(d.join("nowhere"), d.join("dangling")).unwrap();
        }
        let mut smalls = vec![s1, s2, s3];
        smalls.sort();
        let mut bigs = vec![a, b];
        bigs.sort();
        let expected = vec![
            DupSet {
                size: 100_000,
                paths: bigs,
            },
            DupSet {
                size: 5,
                paths: smalls,
            },
        ];
        (dir, expected)
    }

    /// A reference model: read every file whole and group by contents.
    fn model(root: &Path, min_size: u64) -> Vec<DupSet> {
        let mut by_content: HashMap<Vec<u8>, Vec<PathBuf>> = HashMap::new();
        let mut seen = HashSet::new();
        for e in walkdir::WalkDir::new(root).sort_by_file_name() {
            let e = e.unwrap();
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            if !meta.is_file() || meta.len() < min_size || !seen.insert(file_id(&meta)) {
                continue;
            }
            let bytes = std::fs::read(e.path()).unwrap();
            by_content.entry(bytes).or_default().push(e.into_path());
        }
        let mut sets: Vec<DupSet> = by_content
            .into_iter()
            .filter(|(_, p)| p.len() > 1)
            .map(|(bytes, mut paths)| {
                paths.sort();
                DupSet {
                    size: bytes.len() as u64,
                    paths,
                }
            })
            .collect();
        sort_sets(&mut sets);
        sets
    }

    fn dupes(opts: Options, interrupt: impl Future<Output = ()> + Send + 'static) -> Report {
        opts.runtime.block_on(run(opts, interrupt))
    }

    #[test]
    fn finds_the_same_sets_on_every_runtime() {
        let (dir, expected) = tree();
        for rt in [Runtime::Smol, Runtime::Tokio, Runtime::AsyncStd] {
            let report = dupes(opts(dir.path(), rt), future::pending());
            assert_eq!(report.sets, expected, "on {rt:?}");
            assert!(!report.interrupted);
            // 11 regular files + the hard link; symlinks are not followed.
            let files = if cfg!(unix) { 12 } else { 11 };
            assert_eq!(report.stats.files.load(Relaxed), files, "on {rt:?}");
            assert_eq!(report.stats.warnings.load(Relaxed), 0, "on {rt:?}");
        }
    }

    #[test]
    fn agrees_with_a_whole_file_model_on_a_generated_tree() {
        let dir = tempfile::tempdir().unwrap();
        // 300 files in 12 folders; contents collide by design, sizes often do.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for i in 0..300 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = [0usize, 3, 3, 4096, 4097, 9000][(seed % 6) as usize];
            let fill = (seed >> 8) % 3;
            let mut bytes = vec![fill as u8; len];
            if len > 4096 && (seed >> 16) % 2 == 0 {
                bytes[len - 1] = 7; // shares its head with the plain fills
            }
            write(dir.path(), &format!("d{}/f{i}", i % 12), &bytes);
        }
        let expected = model(dir.path(), 1);
        assert!(expected.len() >= 5, "the generator should make collisions");
        for rt in [Runtime::Smol, Runtime::Tokio, Runtime::AsyncStd] {
            let report = dupes(opts(dir.path(), rt), future::pending());
            assert_eq!(report.sets, expected, "on {rt:?}");
        }
        let mut with_empty = opts(dir.path(), Runtime::Smol);
        with_empty.min_size = 0;
        assert_eq!(
            dupes(with_empty, future::pending()).sets,
            model(dir.path(), 0)
        );
    }

    #[test]
    fn unreadable_paths_are_warnings_not_crashes() {
        let dir = tempfile::tempdir().unwrap();
        let real = write(dir.path(), "x", b"same");
        let twin = write(dir.path(), "y", b"same");
        let gone = dir.path().join("vanished");
        let paths = stream::iter(vec![real.clone(), gone, twin.clone()]);
        let stats = Arc::new(Stats::default());
        let report = smol::block_on(find_dupes(
            paths,
            opts(dir.path(), Runtime::Smol),
            stats,
            future::pending(),
        ));
        assert_eq!(report.stats.warnings.load(Relaxed), 1);
        assert_eq!(
            report.sets,
            [DupSet {
                size: 4,
                paths: vec![real, twin]
            }]
        );

        // A missing root is one warning from the walk, and an empty result.
        let missing = opts(&dir.path().join("no/such/dir"), Runtime::Smol);
        let report = dupes(missing, future::pending());
        assert!(report.sets.is_empty());
        assert_eq!(report.stats.warnings.load(Relaxed), 1);
    }

    #[test]
    fn an_interrupt_ends_the_job_with_partial_results() {
        let (dir, _) = tree();
        // An endless source of paths: only the interrupt can end this job.
        let a = dir.path().join("small1");
        let b = dir.path().join("a/small2");
        let endless = stream::iter([a, b].into_iter().cycle());
        for rt in [Runtime::Smol, Runtime::Tokio, Runtime::AsyncStd] {
            let stats = Arc::new(Stats::default());
            // Interrupt once the job has provably been running for a while
            // and has hashed the one pair there is.
            let st = stats.clone();
            let interrupt = async move {
                while st.files.load(Relaxed) < 100 || st.hashed_files.load(Relaxed) < 2 {
                    async_io::Timer::after(Duration::from_millis(1)).await;
                }
            };
            let report = rt.block_on(find_dupes(
                endless.clone(),
                opts(dir.path(), rt),
                stats,
                interrupt,
            ));
            assert!(report.interrupted, "on {rt:?}");
            // After the first sighting each path is an inode already seen and
            // is skipped, so the set stays the same while files keep counting.
            assert_eq!(report.sets.len(), 1, "on {rt:?}");
            assert!(report.stats.files.load(Relaxed) >= 100, "on {rt:?}");
        }
    }

    /// `--stats`: the summary has a line per stage, with what went through it.
    #[test]
    fn stats_show_every_stage_and_what_went_through_it() {
        let (dir, expected) = tree();
        let stages = stream_plus::Stats::new();
        let opts = Options {
            stages: Some(stages.clone()),
            ..opts(dir.path(), Runtime::Smol)
        };
        let report = dupes(opts.clone(), future::pending());
        assert_eq!(report.sets, expected);
        let mut out = Vec::new();
        print_report(&report, &opts, &mut out).unwrap();
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out
            .lines()
            .skip_while(|l| !l.starts_with("stages"))
            .collect();
        assert_eq!(lines.len(), 5, "{out}");
        for (line, stage) in lines[1..]
            .iter()
            .zip(["walk", "metadata", "head hash", "full hash"])
        {
            assert!(line.trim_start().starts_with(stage), "{out}");
        }
        assert_eq!(
            lines.iter().filter(|l| l.contains("<- bottleneck")).count(),
            1,
            "{out}"
        );
        let snap = stages.snapshot();
        let files = report.stats.files.load(Relaxed);
        assert_eq!(snap[1].items, files, "{snap:?}");
        assert_eq!(snap[1].workers, 8);
        assert_eq!(snap[2].workers, 2);
        // 2 bigs + 2 of their lookalikes + 4 smalls of 5 bytes go to the head hash.
        assert_eq!(snap[2].items, report.stats.candidates.load(Relaxed));
    }

    #[test]
    fn options_parse_and_reject() {
        let args = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        let o = Options::parse(
            args("/tmp --runtime tokio --workers 3 --io 9 --min-size 0").into_iter(),
        )
        .unwrap();
        assert_eq!(o.root, PathBuf::from("/tmp"));
        assert_eq!(
            (o.runtime, o.workers, o.io, o.min_size),
            (Runtime::Tokio, 3, 9, 0)
        );
        for bad in [
            "--workers 0",
            "--runtime glommio",
            "--frobnicate",
            "a b",
            "--io",
        ] {
            assert!(Options::parse(args(bad).into_iter()).is_err(), "{bad}");
        }
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human(0), "0 B");
        assert_eq!(human(1023), "1023 B");
        assert_eq!(human(1536), "1.5 KiB");
        assert_eq!(human(5 << 30), "5.0 GiB");
    }
}
