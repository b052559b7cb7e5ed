//! The crate-wide poll budget (API.md rule 6).

use core::task::Context;

/// How many steps of ready work one `poll_next` may do before it yields.
///
/// Large enough that the cost of a yield (a self-wake and a trip through the
/// executor's queue) is noise against the work of the loop; small enough that an
/// always-ready source cannot starve the other tasks of a single-threaded executor.
pub(crate) const POLL_BUDGET: u32 = 256;

/// Counts the steps of one `poll_next` call.
#[derive(Debug)]
pub(crate) struct Budget {
    left: u32,
}

impl Budget {
    #[inline]
    pub(crate) fn new() -> Self {
        Self { left: POLL_BUDGET }
    }

    /// Spends one step. Returns `false` when the budget is used up; the caller
    /// has then been woken (so returning `Poll::Pending` is allowed) and must
    /// return `Poll::Pending` without further work.
    #[inline]
    pub(crate) fn spend(&mut self, cx: &mut Context<'_>) -> bool {
        if self.left == 0 {
            cx.waker().wake_by_ref();
            return false;
        }
        self.left -= 1;
        true
    }

    /// Spends one step without waking: for loops that stop early but still
    /// return `Ready` (so no wake-up is owed).
    #[inline]
    pub(crate) fn spend_quietly(&mut self) -> bool {
        if self.left == 0 {
            return false;
        }
        self.left -= 1;
        true
    }
}
