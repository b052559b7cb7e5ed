//! `observe`: the same items, and a point in a `Stats` that counts where the
//! time of the stage it wraps goes (the state machine is `point::Meter`).

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use futures_core::stream::{FusedStream, Stream};
use pin_project_lite::pin_project;

use super::point::{Enter, Meter};
use super::Stats;
use crate::util::stream_accessors;

pin_project! {
    /// Stream for the [`observe`](crate::StreamExtPlus::observe) method.
    #[must_use = "streams do nothing unless polled"]
    pub struct Observe<St> {
        #[pin]
        stream: St,
        meter: Meter,
        // For an observed concurrent stage: how many of its futures run now.
        in_flight: Option<fn(&St) -> usize>,
    }
}

impl<St: fmt::Debug> fmt::Debug for Observe<St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Observe")
            .field("stream", &self.stream)
            .field("meter", &self.meter)
            .finish_non_exhaustive()
    }
}

impl<St> Observe<St> {
    pub(crate) fn new(stream: St, stats: &Stats, name: String) -> Self {
        Self {
            stream,
            meter: Meter::new(stats.registry().clone(), name, 0),
            in_flight: None,
        }
    }

    /// An observed concurrent stage, which also reports its running futures
    /// and its workers.
    pub(crate) fn with_gauges(
        stream: St,
        stats: &Stats,
        name: String,
        in_flight: fn(&St) -> usize,
        workers: usize,
    ) -> Self {
        Self {
            stream,
            meter: Meter::new(stats.registry().clone(), name, workers),
            in_flight: Some(in_flight),
        }
    }

    stream_accessors!(
        stream: St,
        "Consumes the adapter and returns the underlying stream. The point stops counting and keeps its totals."
    );
}

impl<St: Stream> Stream for Observe<St> {
    type Item = St::Item;

    #[inline]
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<St::Item>> {
        let mut this = self.project();
        let meter = this.meter;
        let polled = if meter.in_run() {
            // Most polls of a ready stream: only the count.
            this.stream.as_mut().poll_next(cx)
        } else {
            if meter.is_ended() {
                return Poll::Ready(None);
            }
            let enter = Enter::new(meter.id());
            meter.before_poll(enter.outer());
            this.stream.as_mut().poll_next(cx)
        };
        match &polled {
            Poll::Ready(Some(_)) => meter.yielded(),
            Poll::Pending => {
                let in_flight = this.in_flight.map_or(0, |f| f(&this.stream));
                meter.pending(in_flight);
            }
            Poll::Ready(None) => meter.ended(),
        }
        polled
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.meter.is_ended() {
            (0, Some(0))
        } else {
            self.stream.size_hint()
        }
    }
}

impl<St: Stream> FusedStream for Observe<St> {
    fn is_terminated(&self) -> bool {
        self.meter.is_ended()
    }
}

/// The inherent `observe` of the concurrent stages: like the trait method, and
/// the stage's running futures and workers are reported too. Expands inside an
/// impl block of an adapter with `in_flight(&self)` and a `workers` count.
macro_rules! observe_with_gauges {
    ($workers:expr) => {
        /// Like [`observe`](crate::StreamExtPlus::observe), and the point also
        /// reports this stage's running futures (`in_flight`, as of its last
        /// `Pending`) and its configured `workers`.
        pub fn observe(
            self,
            stats: &crate::Stats,
            name: impl Into<String>,
        ) -> crate::adapters::Observe<Self> {
            #[allow(clippy::redundant_closure_call)]
            let workers = ($workers)(&self);
            crate::observe::Observe::with_gauges(self, stats, name.into(), Self::in_flight, workers)
        }
    };
}
pub(crate) use observe_with_gauges;
