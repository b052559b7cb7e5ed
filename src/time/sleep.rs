//! `sleep` and `timeout`: the crate's clock as futures, for code that waits
//! between calls or bounds one (retries, handlers), on any runtime.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use pin_project_lite::pin_project;
use std::time::{Duration, Instant};

use super::clock::{Clock, Timer};
use super::{check_duration, Elapsed};

/// A future that completes once `d` has passed on the crate's clock,
/// counted from this call (not from the first poll).
///
/// The timer is async-io's, so it works on any runtime (and virtual under
/// [`VirtualClock`](crate::test_util::VirtualClock) with feature
/// `test-util`). Timers fire a little late, never early: tens of
/// microseconds, more on a loaded machine. `Duration::MAX`, or any deadline
/// too far for an `Instant`, never completes and never panics. Dropping it
/// releases the timer.
///
/// # Panics
///
/// If `d` is zero (API rule 7): `sleep: d must be greater than zero`.
///
/// # Examples
///
/// ```
/// use futures::executor::block_on;
/// use std::time::{Duration, Instant};
///
/// let start = Instant::now();
/// block_on(stream_plus::sleep(Duration::from_millis(10)));
/// assert!(start.elapsed() >= Duration::from_millis(10));
/// ```
#[track_caller]
pub fn sleep(d: Duration) -> Sleep {
    check_duration("sleep", "d", d);
    let clock = Clock::current();
    Sleep {
        // `None`: too far for an `Instant`, so it never comes.
        due: clock.now().checked_add(d),
        timer: clock.timer(),
    }
}

/// Future for the [`sleep`](crate::sleep) function.
#[must_use = "futures do nothing unless polled"]
#[derive(Debug)]
pub struct Sleep {
    due: Option<Instant>,
    timer: Timer,
}

impl Sleep {
    /// When it completes; `None` for a deadline too far for an `Instant`
    /// (such as `Duration::MAX` from now), which never comes.
    pub fn deadline(&self) -> Option<Instant> {
        self.due
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.due {
            Some(due) => self.timer.poll_until(due, cx),
            // Nothing will ever wake it, and nothing needs to.
            None => Poll::Pending,
        }
    }
}

/// Runs `fut` for at most `d` (counted from this call): `Ok(output)` if it
/// completes in time, else `Err(Elapsed)`, and then `fut` is dropped at once.
///
/// `fut` is polled first, so one that is ready when the deadline comes still
/// counts as in time. Same clock and precision as [`sleep`](crate::sleep).
///
/// # Panics
///
/// If `d` is zero (API rule 7): `timeout: d must be greater than zero`.
///
/// # Examples
///
/// ```
/// use futures::executor::block_on;
/// use std::time::Duration;
/// use stream_plus::{sleep, timeout, Elapsed};
///
/// let slow = sleep(Duration::from_secs(60));
/// assert_eq!(block_on(timeout(Duration::from_millis(5), slow)), Err(Elapsed));
/// assert_eq!(block_on(timeout(Duration::from_secs(5), async { 7 })), Ok(7));
/// ```
#[track_caller]
pub fn timeout<F: Future>(d: Duration, fut: F) -> Timeout<F> {
    check_duration("timeout", "d", d);
    Timeout {
        fut: Some(fut),
        sleep: sleep(d),
    }
}

pin_project! {
    /// Future for the [`timeout`](crate::timeout) function.
    #[must_use = "futures do nothing unless polled"]
    #[derive(Debug)]
    pub struct Timeout<F> {
        // `None` once it completed or the deadline passed: dropped at once.
        #[pin]
        fut: Option<F>,
        sleep: Sleep,
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let fut = this
            .fut
            .as_mut()
            .as_pin_mut()
            .expect("Timeout polled after it completed");
        if let Poll::Ready(out) = fut.poll(cx) {
            this.fut.set(None);
            this.sleep.timer.clear();
            return Poll::Ready(Ok(out));
        }
        match Pin::new(&mut *this.sleep).poll(cx) {
            Poll::Ready(()) => {
                this.fut.set(None);
                Poll::Ready(Err(Elapsed))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}
