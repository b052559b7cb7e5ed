//! One observed point: where its time goes, measured by the adapter that owns
//! it ([`Meter`]) and published ([`Point`]) for `Stats::snapshot` and for the
//! point downstream of it.
//!
//! Design. A point is always in one state: not yet polled, inside a poll,
//! backpressured (it has yielded and is not polled again yet), waiting (it
//! returned `Pending`), in a run of ready items (see below), or ended. Its
//! owner is the only writer: it keeps the closed totals in plain fields and
//! publishes them with plain stores inside a sequence lock (`seq` odd while a
//! transition is written), never a read-modify-write and never a lock, so the
//! cost of a point is a few stores. Readers (a snapshot on any thread, the
//! point downstream) retry until they read an even, unchanged `seq`, so they
//! never see half a transition. The item count is a store of its own, outside
//! the sequence lock.
//!
//! The clock is read only where the state changes in a way that matters: on
//! the first poll, on every `Pending` and the poll after it, at the end, and,
//! in a run of items that are ready one after the other, for one item in every
//! [`SAMPLE`] (its poll, and the time until the poll after it). The other polls
//! of a run touch only the item count: no clock, and no marking of the current
//! point (so a point first polled inside such a poll, which only a stream
//! created late can be, does not see this one as its parent). The rest of the
//! run is split between busy and backpressured in the proportion that sample
//! measured. A clock read per item would cost more than the item itself on
//! ready streams (tens of nanoseconds against a few). Under `VirtualClock` no
//! time passes inside a poll, so a run is all backpressured and the figures
//! stay exact.
//!
//! Waiting time is split between idle and busy by the point upstream of this
//! one: idle while it waits too. Each point publishes `waited`, its total time
//! spent waiting, which only grows while it waits; the idle part of a wait from
//! `t0` to `t1` is the upstream's `waited(t1) - waited(t0)`, exact even when
//! the upstream changes state meanwhile (a `stage` driver polls it between our
//! polls).

use std::cell::Cell;
use std::sync::atomic::AtomicU64 as StdAtomicU64;
use std::time::Instant;

use std::sync::{Arc, Weak};

use crate::util::sync::{fence, lock_ignoring_poison, AtomicU64, Mutex, Ordering};

use super::stats::Registry;

/// In a run of ready items, one item in this many is timed (a power of two).
pub(crate) const SAMPLE: u32 = 256;

/// The share of a run counted busy is kept in units of `1 / SHARE_ONE`.
const SHARE_ONE: u64 = 1 << 20;

// The states, in the low bits of `Point::open` (the start of the state's
// interval, in nanoseconds since the point's epoch, in the high bits).
const START: u64 = 0;
const POLLING: u64 = 1;
const BACKPRESSURED: u64 = 2;
const WAITING: u64 = 3;
const RUN: u64 = 4;
const ENDED: u64 = 5;
const KIND_BITS: u32 = 3;

#[cfg(feature = "time")]
use crate::time::clock::Clock;

/// Without feature `time` there is no virtual clock: real time only.
#[cfg(not(feature = "time"))]
#[derive(Clone, Debug, Default)]
struct Clock;

#[cfg(not(feature = "time"))]
impl Clock {
    fn current() -> Self {
        Clock
    }

    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// Where the time of a stage went, in nanoseconds, and its gauges.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Totals {
    pub(crate) polled: bool,
    pub(crate) items: u64,
    pub(crate) busy: u64,
    pub(crate) backpressured: u64,
    pub(crate) idle: u64,
    pub(crate) in_flight: u64,
    pub(crate) workers: u64,
}

impl Totals {
    pub(crate) fn add(&mut self, other: &Totals) {
        self.polled |= other.polled;
        self.items += other.items;
        self.busy += other.busy;
        self.backpressured += other.backpressured;
        self.idle += other.idle;
        self.in_flight += other.in_flight;
        self.workers += other.workers;
    }
}

/// The published half of a point.
#[derive(Debug)]
pub(crate) struct Point {
    pub(crate) id: u64,
    epoch: Instant,
    clock: Clock,
    seq: AtomicU64,
    items: AtomicU64,
    busy: AtomicU64,
    backpressured: AtomicU64,
    idle: AtomicU64,
    waited: AtomicU64,
    /// The current state and when it began.
    open: AtomicU64,
    /// Waiting: the upstream's `waited` when the wait began. A run: the share
    /// of it counted busy.
    mark: AtomicU64,
    in_flight: AtomicU64,
    workers: AtomicU64,
    /// The first observed point whose poll polled this one (0: none).
    pub(crate) parent: AtomicU64,
    /// The point whose waiting makes ours idle, for a snapshot taken while we wait.
    upstream: Mutex<Option<Arc<Point>>>,
}

/// What one consistent read of a point gives.
#[derive(Clone, Copy)]
pub(crate) struct Published {
    items: u64,
    pub(crate) busy: u64,
    backpressured: u64,
    pub(crate) idle: u64,
    pub(crate) waited: u64,
    open: u64,
    mark: u64,
    in_flight: u64,
    workers: u64,
}

impl Point {
    fn new(clock: Clock, workers: usize) -> Self {
        static IDS: StdAtomicU64 = StdAtomicU64::new(1);
        Self {
            id: IDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            epoch: clock.now(),
            clock,
            seq: AtomicU64::new(0),
            items: AtomicU64::new(0),
            busy: AtomicU64::new(0),
            backpressured: AtomicU64::new(0),
            idle: AtomicU64::new(0),
            waited: AtomicU64::new(0),
            open: AtomicU64::new(START),
            mark: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            workers: AtomicU64::new(workers as u64),
            parent: AtomicU64::new(0),
            upstream: Mutex::new(None),
        }
    }

    fn nanos(&self, at: Instant) -> u64 {
        let d = at.saturating_duration_since(self.epoch);
        u64::try_from(d.as_nanos()).unwrap_or(u64::MAX >> KIND_BITS)
    }

    pub(crate) fn read(&self) -> Published {
        loop {
            let before = self.seq.load(Ordering::Acquire);
            if before & 1 == 1 {
                crate::util::sync::spin_loop();
                continue;
            }
            let published = Published {
                items: self.items.load(Ordering::Relaxed),
                busy: self.busy.load(Ordering::Relaxed),
                backpressured: self.backpressured.load(Ordering::Relaxed),
                idle: self.idle.load(Ordering::Relaxed),
                waited: self.waited.load(Ordering::Relaxed),
                open: self.open.load(Ordering::Relaxed),
                mark: self.mark.load(Ordering::Relaxed),
                in_flight: self.in_flight.load(Ordering::Relaxed),
                workers: self.workers.load(Ordering::Relaxed),
            };
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) == before {
                return published;
            }
        }
    }

    /// Total time spent waiting up to `now`, the open wait included.
    fn waited_at(&self, now: Instant) -> u64 {
        let p = self.read();
        let mut waited = p.waited;
        if p.open & 7 == WAITING {
            waited += self.nanos(now).saturating_sub(p.open >> KIND_BITS);
        }
        waited
    }

    /// Everything up to now, the state the point is in included.
    pub(crate) fn totals(&self) -> Totals {
        let now = self.clock.now();
        let p = self.read();
        let mut t = Totals {
            polled: p.open & 7 != START,
            items: p.items,
            busy: p.busy,
            backpressured: p.backpressured,
            idle: p.idle,
            in_flight: p.in_flight,
            workers: p.workers,
        };
        let span = self.nanos(now).saturating_sub(p.open >> KIND_BITS);
        match p.open & 7 {
            POLLING => t.busy += span,
            BACKPRESSURED => t.backpressured += span,
            WAITING => {
                let upstream = lock_ignoring_poison(&self.upstream).clone();
                let idle =
                    upstream.map_or(0, |u| u.waited_at(now).saturating_sub(p.mark).min(span));
                t.idle += idle;
                t.busy += span - idle;
            }
            RUN => {
                let busy = split(span, p.mark);
                t.busy += busy;
                t.backpressured += span - busy;
            }
            _ => {}
        }
        t
    }
}

/// The busy part of `span` when `share / SHARE_ONE` of it is busy.
fn split(span: u64, share: u64) -> u64 {
    ((span as u128 * share as u128) / SHARE_ONE as u128) as u64
}

thread_local! {
    /// The id of the observed point being polled on this thread (0: none).
    static CURRENT: Cell<u64> = const { Cell::new(0) };
    /// The id of the point that last polled a `stage` boundary on this thread.
    static BOUNDARY: Cell<u64> = const { Cell::new(0) };
}

/// Runs `f` as if no observed point were being polled: for the drivers of a
/// `stage`, which are polled inside the poll of whatever wraps `Staged` but are
/// not that stream's upstream.
#[inline]
pub(crate) fn detached<R>(f: impl FnOnce() -> R) -> R {
    let _restore = Enter::new(0);
    f()
}

/// Marks, for the observed point polling it, that its input crossed a stage
/// boundary (a channel filled by a driver), so that its upstream is the point
/// created before it rather than one it polls.
#[inline]
pub(crate) fn note_boundary() {
    BOUNDARY.with(|b| b.set(CURRENT.with(Cell::get)));
}

/// Makes a point the current one for the length of its inner poll, and
/// restores the outer one after (on unwind too).
pub(crate) struct Enter {
    outer: u64,
}

impl Enter {
    #[inline]
    pub(crate) fn new(id: u64) -> Self {
        Self {
            outer: CURRENT.with(|c| c.replace(id)),
        }
    }

    /// The point whose poll this one runs inside (0: none).
    #[inline]
    pub(crate) fn outer(&self) -> u64 {
        self.outer
    }
}

impl Drop for Enter {
    #[inline]
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.outer));
    }
}

/// The owner's half of a point: the state machine and its totals.
#[derive(Debug)]
pub(crate) struct Meter {
    point: Arc<Point>,
    registry: Arc<Registry>,
    kind: u64,
    since: u64,
    mark: u64,
    busy: u64,
    backpressured: u64,
    idle: u64,
    waited: u64,
    items: u64,
    /// The busy share of a run, from the last timed item.
    share: u64,
    /// How long the poll of the last timed item took.
    sampled_busy: u64,
    seq: u64,
    parent_known: bool,
    upstream: Option<Arc<Point>>,
    /// The point created just before this one in the same `Stats`.
    fallback: Option<Weak<Point>>,
    over_boundary: bool,
    generation: u64,
    #[cfg(feature = "metrics")]
    sink: super::metrics::Sink,
}

impl Meter {
    pub(crate) fn new(registry: Arc<Registry>, name: String, workers: usize) -> Self {
        let point = Arc::new(Point::new(Clock::current(), workers));
        let fallback = registry.register(&name, &point);
        Self {
            #[cfg(feature = "metrics")]
            sink: super::metrics::Sink::new(&name, workers),
            point,
            registry,
            kind: START,
            since: 0,
            mark: 0,
            busy: 0,
            backpressured: 0,
            idle: 0,
            waited: 0,
            items: 0,
            share: 0,
            sampled_busy: 0,
            seq: 0,
            parent_known: false,
            upstream: None,
            fallback,
            over_boundary: false,
            generation: u64::MAX,
        }
    }

    #[inline]
    pub(crate) fn id(&self) -> u64 {
        self.point.id
    }

    /// The published half, for the loom model.
    #[cfg(all(test, stream_plus_loom))]
    pub(crate) fn point(&self) -> Arc<Point> {
        self.point.clone()
    }

    #[inline]
    pub(crate) fn is_ended(&self) -> bool {
        self.kind == ENDED
    }

    fn now(&self) -> (Instant, u64) {
        let at = self.point.clock.now();
        (at, self.point.nanos(at))
    }

    /// In a run of ready items, and this item is not one to time: the poll
    /// needs no clock and no bookkeeping but the count.
    #[inline]
    pub(crate) fn in_run(&self) -> bool {
        self.kind == RUN && self.items % SAMPLE as u64 != 0
    }

    /// Called before a poll of the inner stream that is not [`in_run`], with
    /// the point this poll runs inside.
    ///
    /// [`in_run`]: Meter::in_run
    pub(crate) fn before_poll(&mut self, outer: u64) {
        if !self.parent_known {
            self.learn_parent(outer);
        }
        self.before_poll_slow();
    }

    #[cold]
    fn learn_parent(&mut self, outer: u64) {
        self.parent_known = true;
        if outer != 0 {
            self.point.parent.store(outer, Ordering::Relaxed);
            self.registry.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    fn before_poll_slow(&mut self) {
        let (at, now) = self.now();
        let span = now.saturating_sub(self.since);
        match self.kind {
            START => {}
            // Polled again after a panic in the inner poll.
            POLLING => self.busy += span,
            BACKPRESSURED => {
                // The timed item's poll and the time until this poll.
                self.backpressured += span;
                let total = self.sampled_busy + span;
                if total > 0 {
                    let measured = split_share(self.sampled_busy, total);
                    self.share = (self.share + measured) / 2;
                }
                self.enter(RUN, now, self.share);
                return;
            }
            WAITING => self.close_wait(at, span),
            RUN => self.close_run(span),
            _ => return,
        }
        self.enter(POLLING, now, 0);
    }

    fn close_wait(&mut self, at: Instant, span: u64) {
        let idle = match &self.upstream {
            Some(upstream) => upstream.waited_at(at).saturating_sub(self.mark).min(span),
            None => 0,
        };
        self.idle += idle;
        self.busy += span - idle;
        self.waited += span;
    }

    fn close_run(&mut self, span: u64) {
        let busy = split(span, self.share);
        self.busy += busy;
        self.backpressured += span - busy;
    }

    /// After the inner stream yielded an item.
    #[inline(always)]
    pub(crate) fn yielded(&mut self) {
        self.items += 1;
        self.point.items.store(self.items, Ordering::Relaxed);
        if self.kind != RUN {
            self.yielded_slow();
        }
    }

    fn yielded_slow(&mut self) {
        if self.kind == POLLING {
            let (_, now) = self.now();
            self.sampled_busy = now.saturating_sub(self.since);
            self.busy += self.sampled_busy;
            self.enter(BACKPRESSURED, now, 0);
        }
    }

    /// After the inner stream returned `Pending`, with its running futures.
    pub(crate) fn pending(&mut self, in_flight: usize) {
        let (at, now) = self.now();
        let span = now.saturating_sub(self.since);
        match self.kind {
            POLLING => self.busy += span,
            RUN => self.close_run(span),
            _ => {}
        }
        if BOUNDARY.with(Cell::get) == self.point.id && !self.over_boundary {
            self.over_boundary = true;
            self.generation = u64::MAX;
        }
        self.find_upstream();
        self.mark = match &self.upstream {
            Some(upstream) => upstream.waited_at(at),
            None => 0,
        };
        self.point
            .in_flight
            .store(in_flight as u64, Ordering::Relaxed);
        #[cfg(feature = "metrics")]
        self.sink.set_in_flight(in_flight);
        self.enter(WAITING, now, self.mark);
    }

    /// After the inner stream ended (or the adapter is dropped).
    pub(crate) fn ended(&mut self) {
        if self.kind == ENDED || self.kind == START {
            self.kind = ENDED;
            return;
        }
        let (at, now) = self.now();
        let span = now.saturating_sub(self.since);
        match self.kind {
            POLLING => self.busy += span,
            BACKPRESSURED => self.backpressured += span,
            WAITING => self.close_wait(at, span),
            RUN => self.close_run(span),
            _ => {}
        }
        self.point.in_flight.store(0, Ordering::Relaxed);
        #[cfg(feature = "metrics")]
        self.sink.set_in_flight(0);
        self.enter(ENDED, now, 0);
    }

    /// Re-reads which point is upstream when the points of the `Stats` changed.
    fn find_upstream(&mut self) {
        let generation = self.registry.generation.load(Ordering::Acquire);
        if generation == self.generation {
            return;
        }
        self.generation = generation;
        let mut children = self.registry.children_of(self.point.id);
        self.upstream = match children.len() {
            1 => children.pop(),
            0 if self.over_boundary => self.fallback.as_ref().and_then(|w| w.upgrade()),
            // None, or several (fan-in): waiting counts as busy.
            _ => None,
        };
        *lock_ignoring_poison(&self.point.upstream) = self.upstream.clone();
    }

    /// Publishes the closed totals and the new state.
    fn enter(&mut self, kind: u64, now: u64, mark: u64) {
        self.kind = kind;
        self.since = now;
        let p = &self.point;
        self.seq += 1;
        p.seq.store(self.seq, Ordering::Relaxed);
        fence(Ordering::Release);
        p.busy.store(self.busy, Ordering::Relaxed);
        p.backpressured.store(self.backpressured, Ordering::Relaxed);
        p.idle.store(self.idle, Ordering::Relaxed);
        p.waited.store(self.waited, Ordering::Relaxed);
        p.mark.store(mark, Ordering::Relaxed);
        p.open.store(now << KIND_BITS | kind, Ordering::Relaxed);
        self.seq += 1;
        p.seq.store(self.seq, Ordering::Release);
        #[cfg(feature = "metrics")]
        self.sink.record(
            now,
            self.items,
            [self.busy, self.backpressured, self.idle],
            kind == ENDED,
        );
    }
}

impl Drop for Meter {
    /// Stops counting and moves the point's totals into its stage, so a
    /// pipeline rebuilt under the same names does not grow its `Stats`.
    fn drop(&mut self) {
        self.ended();
        #[cfg(feature = "metrics")]
        self.sink.retire();
        self.registry.retire(&self.point);
    }
}

/// `part / total` in units of `1 / SHARE_ONE`.
fn split_share(part: u64, total: u64) -> u64 {
    ((part as u128 * SHARE_ONE as u128) / total as u128) as u64
}
