//! `Stats`, the shared handle that observed points register in, and
//! `StageStats`, one stage's figures.

use std::fmt;
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::util::sync::{lock_ignoring_poison, AtomicU64, Mutex, Ordering};

use super::point::{Point, Totals};

/// Where the time of each stage of a pipeline goes.
///
/// A shared handle: clones see the same stages. Pass it to
/// [`observe`](crate::StreamExtPlus::observe) at each point of a pipeline that
/// you want to see, then read it from anywhere (another task, another thread,
/// a signal handler's task) with [`snapshot`](Stats::snapshot) or
/// [`bottleneck`](Stats::bottleneck).
///
/// Each observed point counts its time in three parts, like Flink's operators:
/// **busy** (its own work holds it up), **backpressured** (it has an item and
/// the stage after it is not asking) and **idle** (it waits for its input).
/// See [`observe`](crate::StreamExtPlus::observe) for exactly when.
///
/// # Examples
///
/// ```
/// use futures::{executor::block_on, stream, StreamExt};
/// use stream_plus::{Stats, StreamExtPlus};
///
/// let stats = Stats::new();
/// let out: Vec<u32> = block_on(
///     stream::iter(1..=3)
///         .observe(&stats, "source")
///         .map_concurrent(2, |x| async move { x * 10 })
///         .observe(&stats, "times ten")
///         .collect(),
/// );
/// assert_eq!(out, [10, 20, 30]);
///
/// let stages = stats.snapshot();
/// assert_eq!(stages[0].name, "source");
/// assert_eq!(stages[1].name, "times ten");
/// assert_eq!(stages[1].items, 3);
/// assert_eq!(stages[1].workers, 2);
/// ```
#[derive(Clone, Default)]
pub struct Stats {
    registry: Arc<Registry>,
}

/// One stage's figures, from [`Stats::snapshot`].
///
/// The times are cumulative since the stage was first polled (for a stage
/// observed at several points under one name, summed over them); a snapshot
/// counts the time spent in the current state up to the moment it is taken.
/// For the figures of a window, take two snapshots and use
/// [`since`](StageStats::since).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use stream_plus::StageStats;
///
/// let earlier = StageStats {
///     name: "fetch".into(),
///     items: 10,
///     busy: Duration::from_millis(300),
///     backpressured: Duration::from_millis(100),
///     idle: Duration::from_millis(600),
///     in_flight: 4,
///     workers: 4,
/// };
/// let now = StageStats {
///     items: 30,
///     busy: Duration::from_millis(1100),
///     idle: Duration::from_millis(800),
///     ..earlier.clone()
/// };
/// let window = now.since(&earlier);
/// assert_eq!(window.items, 20);
/// assert_eq!(window.busy, Duration::from_millis(800));
/// assert_eq!(window.busy_ratio(), 0.8);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StageStats {
    /// The name given to [`observe`](crate::StreamExtPlus::observe).
    pub name: String,
    /// Items that passed the observed point.
    pub items: u64,
    /// Time the stage's own work held it up: it returned `Pending` while its
    /// input had items (or it has no observed input), or it was inside a poll.
    pub busy: Duration,
    /// Time it had yielded an item and the next stage had not asked again.
    pub backpressured: Duration,
    /// Time it returned `Pending` while the observed point upstream of it was
    /// waiting too.
    pub idle: Duration,
    /// Futures or calls running now, for an observed concurrent stage (as of
    /// its last `Pending`; `0` once it ended or was dropped); `0` for any
    /// other stream.
    pub in_flight: usize,
    /// The configured workers of an observed concurrent stage (summed over
    /// its live points; once all are dropped, those of the last one); `0` for
    /// any other stream.
    pub workers: usize,
}

impl StageStats {
    fn total(&self) -> Duration {
        self.busy + self.backpressured + self.idle
    }

    fn share(&self, part: Duration) -> f64 {
        let total = self.total();
        if total.is_zero() {
            0.0
        } else {
            part.as_secs_f64() / total.as_secs_f64()
        }
    }

    /// `busy` as a share of `busy + backpressured + idle` (0.0 when that is zero).
    pub fn busy_ratio(&self) -> f64 {
        self.share(self.busy)
    }

    /// `backpressured` as a share of `busy + backpressured + idle` (0.0 when
    /// that is zero).
    pub fn backpressured_ratio(&self) -> f64 {
        self.share(self.backpressured)
    }

    /// `idle` as a share of `busy + backpressured + idle` (0.0 when that is zero).
    pub fn idle_ratio(&self) -> f64 {
        self.share(self.idle)
    }

    /// The figures of the window from `earlier` to `self`: the differences of
    /// `items`, `busy`, `backpressured` and `idle` (saturating at zero), and
    /// `self`'s gauges (`in_flight`, `workers`) as they are.
    pub fn since(&self, earlier: &StageStats) -> StageStats {
        StageStats {
            name: self.name.clone(),
            items: self.items.saturating_sub(earlier.items),
            busy: self.busy.saturating_sub(earlier.busy),
            backpressured: self.backpressured.saturating_sub(earlier.backpressured),
            idle: self.idle.saturating_sub(earlier.idle),
            in_flight: self.in_flight,
            workers: self.workers,
        }
    }

    fn from_totals(name: &str, t: &Totals) -> Self {
        Self {
            name: name.to_owned(),
            items: t.items,
            busy: Duration::from_nanos(t.busy),
            backpressured: Duration::from_nanos(t.backpressured),
            idle: Duration::from_nanos(t.idle),
            in_flight: usize::try_from(t.in_flight).unwrap_or(usize::MAX),
            workers: usize::try_from(t.workers).unwrap_or(usize::MAX),
        }
    }
}

impl Stats {
    /// A handle with no stages yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// One entry per observed name, in the order the names were first
    /// registered, with the time of each point's current state counted up to
    /// now.
    ///
    /// Takes the handle's lock for as long as it reads the points; the
    /// observed streams never wait for it while items flow (only when a point
    /// is created or dropped, or finds out which point is upstream of it).
    pub fn snapshot(&self) -> Vec<StageStats> {
        self.registry
            .totals()
            .iter()
            .map(|(name, t)| StageStats::from_totals(name, t))
            .collect()
    }

    /// The name of the stage with the largest busy ratio since it was first
    /// polled; ties go to the earliest registered name. `None` before any
    /// stage was polled.
    pub fn bottleneck(&self) -> Option<String> {
        let mut best: Option<(String, f64)> = None;
        for (name, t) in self.registry.totals() {
            if !t.polled {
                continue;
            }
            let ratio = StageStats::from_totals(&name, &t).busy_ratio();
            if best.as_ref().map_or(true, |(_, b)| ratio > *b) {
                best = Some((name, ratio));
            }
        }
        best.map(|(name, _)| name)
    }

    pub(crate) fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }
}

impl fmt::Debug for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stats")
            .field("stages", &self.snapshot())
            .finish()
    }
}

/// The points of one `Stats`, by stage.
#[derive(Debug)]
pub(crate) struct Registry {
    /// Bumped whenever a point learns its parent or leaves, so points re-read
    /// which one is upstream of them.
    pub(crate) generation: AtomicU64,
    stages: Mutex<Stages>,
}

#[derive(Debug, Default)]
struct Stages {
    list: Vec<Stage>,
    /// The point created last, the upstream of one created after it that
    /// reads a stage boundary.
    last: Option<Weak<Point>>,
}

#[derive(Debug)]
struct Stage {
    name: String,
    live: Vec<Arc<Point>>,
    /// The totals of the points that were dropped.
    retired: Totals,
    /// The workers of the point dropped last: what a stage with no live points
    /// shows.
    last_workers: u64,
}

impl Default for Registry {
    fn default() -> Self {
        Self {
            generation: AtomicU64::new(0),
            stages: Mutex::new(Stages::default()),
        }
    }
}

impl Registry {
    /// Adds `point` to stage `name`; returns the point created before it.
    pub(crate) fn register(&self, name: &str, point: &Arc<Point>) -> Option<Weak<Point>> {
        let mut stages = lock_ignoring_poison(&self.stages);
        match stages.list.iter_mut().find(|s| s.name == name) {
            Some(stage) => stage.live.push(point.clone()),
            None => stages.list.push(Stage {
                name: name.to_owned(),
                live: vec![point.clone()],
                retired: Totals::default(),
                last_workers: 0,
            }),
        }
        stages.last.replace(Arc::downgrade(point))
    }

    /// The live points first polled inside the poll of point `id`.
    pub(crate) fn children_of(&self, id: u64) -> Vec<Arc<Point>> {
        let stages = lock_ignoring_poison(&self.stages);
        stages
            .list
            .iter()
            .flat_map(|s| s.live.iter())
            .filter(|p| p.parent.load(Ordering::Relaxed) == id)
            .cloned()
            .collect()
    }

    /// Moves a dropped point's totals into its stage.
    pub(crate) fn retire(&self, point: &Arc<Point>) {
        let mut stages = lock_ignoring_poison(&self.stages);
        for stage in &mut stages.list {
            if let Some(i) = stage.live.iter().position(|p| Arc::ptr_eq(p, point)) {
                stage.live.swap_remove(i);
                let mut t = point.totals();
                stage.last_workers = t.workers;
                t.in_flight = 0;
                t.workers = 0;
                stage.retired.add(&t);
                break;
            }
        }
        drop(stages);
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    fn totals(&self) -> Vec<(String, Totals)> {
        let stages = lock_ignoring_poison(&self.stages);
        stages
            .list
            .iter()
            .map(|stage| {
                let mut t = stage.retired;
                for point in &stage.live {
                    t.add(&point.totals());
                }
                if stage.live.is_empty() {
                    t.workers = stage.last_workers;
                }
                (stage.name.clone(), t)
            })
            .collect()
    }
}
