//! The reorder buffer of the ordered concurrent adapters.

/// Outputs keyed by sequence number, released strictly in sequence order.
///
/// A ring of slots indexed by `seq & mask`, grown (to a power of two) only when
/// the span between the next output to release and the newest output stored
/// exceeds it. The adapters bound that span by `workers + reorder_capacity`, so
/// the ring stays that small; with outputs that finish in order it never holds
/// more than a few.
#[derive(Debug)]
pub(crate) struct ReorderBuffer<T> {
    slots: Vec<Option<T>>,
    next: u64,
    filled: usize,
}

impl<T> ReorderBuffer<T> {
    pub(crate) fn new() -> Self {
        Self {
            slots: Vec::new(),
            next: 0,
            filled: 0,
        }
    }

    /// Sequence number of the next output to release.
    pub(crate) fn next_seq(&self) -> u64 {
        self.next
    }

    /// Outputs held (finished, waiting for an earlier one).
    pub(crate) fn len(&self) -> usize {
        self.filled
    }

    #[inline]
    fn index(&self, seq: u64) -> usize {
        // `slots.len()` is a power of two.
        seq as usize & (self.slots.len() - 1)
    }

    /// Stores the output of item `seq` (`seq >= next_seq()`).
    #[inline]
    pub(crate) fn insert(&mut self, seq: u64, value: T) {
        debug_assert!(seq >= self.next, "output stored twice");
        let span = (seq - self.next) as usize + 1;
        if span > self.slots.len() {
            self.grow(span);
        }
        let i = self.index(seq);
        debug_assert!(self.slots[i].is_none(), "output stored twice");
        self.slots[i] = Some(value);
        self.filled += 1;
    }

    #[cold]
    fn grow(&mut self, span: usize) {
        let len = span.next_power_of_two().max(8);
        let old = std::mem::replace(&mut self.slots, (0..len).map(|_| None).collect());
        let old_mask = old.len().wrapping_sub(1);
        for (i, slot) in old.into_iter().enumerate() {
            if let Some(value) = slot {
                // Every stored output lies in [next, next + old length).
                let seq = self.next + (i.wrapping_sub(self.next as usize) & old_mask) as u64;
                let j = self.index(seq);
                self.slots[j] = Some(value);
            }
        }
    }

    /// Releases the output of item `next_seq()` if it is here.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        if self.filled == 0 {
            return None;
        }
        let i = self.index(self.next);
        let value = self.slots[i].take()?;
        self.next += 1;
        self.filled -= 1;
        Some(value)
    }

    /// Whether the output of item `next_seq()` is here (so `pop` yields it).
    #[inline]
    pub(crate) fn head_ready(&self) -> bool {
        self.filled > 0 && self.slots[self.index(self.next)].is_some()
    }

    /// Marks item `next_seq()` as released without storing it (it went straight
    /// to the consumer).
    #[inline]
    pub(crate) fn skip(&mut self) {
        self.next += 1;
    }

    /// Drops every output stored for items after `seq`.
    pub(crate) fn truncate_after(&mut self, seq: u64) {
        let end = self.next + self.slots.len() as u64;
        for s in (seq + 1).max(self.next)..end {
            let i = self.index(s);
            if self.slots[i].take().is_some() {
                self.filled -= 1;
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.slots.iter_mut().for_each(|slot| *slot = None);
        self.filled = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::ReorderBuffer;

    #[test]
    fn releases_in_sequence_order() {
        let mut buf = ReorderBuffer::new();
        buf.insert(2, 'c');
        buf.insert(1, 'b');
        assert_eq!(buf.pop(), None);
        buf.skip(); // item 0 went straight out
        assert_eq!(buf.pop(), Some('b'));
        assert_eq!(buf.pop(), Some('c'));
        assert_eq!(buf.pop(), None);
        assert_eq!(buf.len(), 0);
        assert_eq!(buf.next_seq(), 3);
    }

    #[test]
    fn keeps_outputs_across_growth_and_wraparound() {
        let mut buf = ReorderBuffer::new();
        let mut next_out = 0u64;
        // Windows of growing width, filled back to front, with the ring index
        // wrapping many times.
        for width in [1u64, 3, 8, 9, 20, 5, 64, 2] {
            for seq in (next_out + 1..next_out + width).rev() {
                buf.insert(seq, seq);
            }
            buf.skip();
            next_out += 1;
            for _ in 1..width {
                assert_eq!(buf.pop(), Some(next_out));
                next_out += 1;
            }
            assert_eq!(buf.pop(), None);
        }
        assert_eq!(buf.len(), 0);
    }

    #[test]
    fn truncate_after_drops_later_outputs() {
        let mut buf = ReorderBuffer::new();
        buf.insert(1, 1);
        buf.insert(3, 3);
        buf.insert(4, 4);
        buf.truncate_after(2);
        assert_eq!(buf.len(), 1);
        buf.skip();
        assert_eq!(buf.pop(), Some(1));
        assert_eq!(buf.pop(), None);
    }
}
