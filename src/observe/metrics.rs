//! Feature `metrics`: each point also records to the `metrics` facade's global
//! recorder, label `stage`.
//!
//! The handles are taken when the point is built, so the recorder must be
//! installed before the pipeline is. A point reports deltas (never absolute
//! values), so points that share a name add up, and it reports at most every
//! [`FLUSH_NS`] and when it ends: the facade's calls stay off the per-item path.

use metrics::{counter, gauge, Counter, Gauge};

/// The longest a point keeps figures to itself, in nanoseconds.
const FLUSH_NS: u64 = 100_000_000;

pub(crate) struct Sink {
    items: Counter,
    /// busy, backpressured, idle.
    seconds: [Counter; 3],
    in_flight: Gauge,
    workers: Gauge,
    reported_items: u64,
    reported_seconds: [u64; 3],
    reported_in_flight: usize,
    workers_count: usize,
    flushed_at: Option<u64>,
}

impl core::fmt::Debug for Sink {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sink")
            .field("reported_items", &self.reported_items)
            .finish_non_exhaustive()
    }
}

impl Sink {
    pub(crate) fn new(name: &str, workers: usize) -> Self {
        let label = || metrics::Label::new("stage", name.to_owned());
        let workers_gauge = gauge!("stream_plus_workers", vec![label()]);
        workers_gauge.increment(workers as f64);
        Self {
            items: counter!("stream_plus_items_total", vec![label()]),
            seconds: [
                counter!("stream_plus_busy_seconds_total", vec![label()]),
                counter!("stream_plus_backpressured_seconds_total", vec![label()]),
                counter!("stream_plus_idle_seconds_total", vec![label()]),
            ],
            in_flight: gauge!("stream_plus_in_flight", vec![label()]),
            workers: workers_gauge,
            reported_items: 0,
            reported_seconds: [0; 3],
            reported_in_flight: 0,
            workers_count: workers,
            flushed_at: None,
        }
    }

    /// Reports the totals (nanoseconds) if the last report is old enough or
    /// `force` is set. Seconds are reported whole: the facade's counters are
    /// integers, so a counter in seconds moves once per second of that state.
    pub(crate) fn record(&mut self, now: u64, items: u64, nanos: [u64; 3], force: bool) {
        if !force
            && self
                .flushed_at
                .is_some_and(|at| now.saturating_sub(at) < FLUSH_NS)
        {
            return;
        }
        self.flushed_at = Some(now);
        self.items.increment(items - self.reported_items);
        self.reported_items = items;
        for ((counter, reported), total) in self
            .seconds
            .iter()
            .zip(self.reported_seconds.iter_mut())
            .zip(nanos)
        {
            let seconds = total / 1_000_000_000;
            if seconds > *reported {
                counter.increment(seconds - *reported);
                *reported = seconds;
            }
        }
    }

    pub(crate) fn set_in_flight(&mut self, in_flight: usize) {
        if in_flight != self.reported_in_flight {
            self.in_flight
                .increment(in_flight as f64 - self.reported_in_flight as f64);
            self.reported_in_flight = in_flight;
        }
    }

    /// The point is gone: its gauges no longer count.
    pub(crate) fn retire(&mut self) {
        self.set_in_flight(0);
        self.workers.decrement(self.workers_count as f64);
        self.workers_count = 0;
    }
}
