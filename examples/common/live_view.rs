//! A live view of a pipeline's `Stats`: once per window, one line per stage.
//!
//! ```text
//! stage        items/s  busy|backpressured|idle, last window     in flight
//! source          2093  [..........................]  0%  0% 100%
//! parse           2093  [##~~~~....................]  8% 16% 76%     3/8
//! write            160  [##########################] 99%  1%  0%            <- bottleneck
//! ```
//!
//! `#` is busy (its own work holds the stage up), `~` backpressured (the next
//! stage is not asking), `.` idle (waiting for its input). The stage marked
//! `<- bottleneck` is the one busiest in the window: give it more workers, or
//! make its work cheaper. A stage mostly backpressured is waiting on a stage
//! after it; one mostly idle is waiting on one before it.

use std::time::Instant;
use stream_plus::{StageStats, Stats};

const BAR: usize = 26;

/// Remembers the previous snapshot, so each frame shows one window.
pub struct LiveView {
    stats: Stats,
    last: Vec<StageStats>,
    at: Instant,
}

impl LiveView {
    pub fn new(stats: &Stats) -> Self {
        Self {
            stats: stats.clone(),
            last: stats.snapshot(),
            at: Instant::now(),
        }
    }

    /// The lines for the window since the previous frame (or since `new`).
    pub fn frame(&mut self) -> Vec<String> {
        let seconds = self.at.elapsed().as_secs_f64().max(1e-9);
        self.at = Instant::now();
        self.lines(Some(seconds))
    }

    fn lines(&mut self, seconds: Option<f64>) -> Vec<String> {
        let now = self.stats.snapshot();
        let windows: Vec<StageStats> = now
            .iter()
            .map(|s| match self.last.iter().find(|l| l.name == s.name) {
                Some(earlier) => s.since(earlier),
                None => s.clone(),
            })
            .collect();
        self.last = now;
        // The busiest stage of the window; ties go to the earlier one.
        let bottleneck = windows
            .iter()
            .enumerate()
            .filter(|(_, w)| w.busy_ratio() > 0.0)
            .fold(None::<(usize, f64)>, |best, (i, w)| match best {
                Some((_, b)) if b >= w.busy_ratio() => best,
                _ => Some((i, w.busy_ratio())),
            })
            .map(|(i, _)| i);
        let width = windows
            .iter()
            .map(|w| w.name.len())
            .max()
            .unwrap_or(5)
            .max(5);
        windows
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let gauges = if w.workers > 0 {
                    format!("{:>4}/{}", w.in_flight, w.workers)
                } else {
                    String::new()
                };
                let rate = match seconds {
                    Some(s) => format!("{:>9.0}/s", w.items as f64 / s),
                    None => format!("{:>9} items", w.items),
                };
                format!(
                    "{:<width$} {rate} [{}] {:>3.0}% {:>3.0}% {:>3.0}% {:<8}{}",
                    w.name,
                    bar(w),
                    100.0 * w.busy_ratio(),
                    100.0 * w.backpressured_ratio(),
                    100.0 * w.idle_ratio(),
                    gauges,
                    if Some(i) == bottleneck {
                        " <- bottleneck"
                    } else {
                        ""
                    },
                )
            })
            .collect()
    }
}

impl LiveView {
    /// The same lines for the whole run, from the stages' first polls.
    pub fn whole_run(stats: &Stats) -> Vec<String> {
        let mut view = LiveView {
            stats: stats.clone(),
            last: Vec::new(),
            at: Instant::now(),
        };
        // No previous snapshot: the window is everything, and the count is
        // shown instead of a rate.
        view.lines(None)
    }
}

/// `#` busy, `~` backpressured, `.` idle, in proportion.
fn bar(w: &StageStats) -> String {
    let busy = (w.busy_ratio() * BAR as f64).round() as usize;
    let backpressured = ((w.busy_ratio() + w.backpressured_ratio()) * BAR as f64).round() as usize;
    (0..BAR)
        .map(|i| match i {
            i if i < busy => '#',
            i if i < backpressured.max(busy) => '~',
            _ if w.busy_ratio() + w.backpressured_ratio() + w.idle_ratio() == 0.0 => ' ',
            _ => '.',
        })
        .collect()
}
