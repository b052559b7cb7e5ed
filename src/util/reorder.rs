//! The reorder buffer of the ordered concurrent adapters.

use std::collections::VecDeque;

/// Outputs keyed by sequence number, released strictly in sequence order.
///
/// Slot `i` holds the output for `next + i`. Memory is bounded by the adapters,
/// which never have more than `workers + reorder_capacity` sequence numbers
/// between `next` and the newest item taken.
#[derive(Debug)]
pub(crate) struct ReorderBuffer<T> {
    slots: VecDeque<Option<T>>,
    next: u64,
    filled: usize,
}

impl<T> ReorderBuffer<T> {
    pub(crate) fn new() -> Self {
        Self {
            slots: VecDeque::new(),
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

    /// Stores the output of item `seq` (`seq >= next_seq()`).
    #[inline]
    pub(crate) fn insert(&mut self, seq: u64, value: T) {
        debug_assert!(seq >= self.next, "output stored twice");
        let idx = (seq - self.next) as usize;
        self.filled += 1;
        if idx == self.slots.len() {
            // The common case: outputs finish roughly in order.
            self.slots.push_back(Some(value));
            return;
        }
        while idx > self.slots.len() {
            self.slots.push_back(None);
        }
        if idx == self.slots.len() {
            self.slots.push_back(Some(value));
        } else {
            debug_assert!(self.slots[idx].is_none(), "output stored twice");
            self.slots[idx] = Some(value);
        }
    }

    /// Releases the output of item `next_seq()` if it is here.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        match self.slots.front_mut() {
            Some(slot @ Some(_)) => {
                let value = slot.take();
                self.slots.pop_front();
                self.next += 1;
                self.filled -= 1;
                value
            }
            _ => None,
        }
    }

    /// Marks item `next_seq()` as released without storing it (it went straight
    /// to the consumer).
    pub(crate) fn skip(&mut self) {
        debug_assert!(self.slots.front().map_or(true, Option::is_none));
        self.slots.pop_front();
        self.next += 1;
    }

    /// Drops every output stored for items after `seq`.
    pub(crate) fn truncate_after(&mut self, seq: u64) {
        let keep = (seq + 1).saturating_sub(self.next) as usize;
        if keep < self.slots.len() {
            self.filled -= self.slots.drain(keep..).filter(Option::is_some).count();
        }
    }

    pub(crate) fn clear(&mut self) {
        self.slots.clear();
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
