//! Where finished outputs wait to be yielded: in input order (a
//! [`ReorderBuffer`]) or in completion order (a [`Fifo`]). The keyed maps and
//! the `map_blocking` pool are generic over it, so each order is one type and
//! the choice costs no branch per item.

use std::collections::VecDeque;

use super::ReorderBuffer;

/// Finished outputs, tagged with the sequence number of their item.
pub(crate) trait Outputs<T> {
    fn new() -> Self;
    /// Adds the output of item `seq`.
    fn push(&mut self, seq: u64, out: T);
    /// The next output to yield, if it is here.
    fn pop(&mut self) -> Option<T>;
    /// Whether `pop` yields an output now.
    fn ready(&self) -> bool;
    /// How many outputs wait.
    fn len(&self) -> usize;
}

impl<T> Outputs<T> for ReorderBuffer<T> {
    #[inline]
    fn new() -> Self {
        ReorderBuffer::new()
    }
    #[inline]
    fn push(&mut self, seq: u64, out: T) {
        self.insert(seq, out);
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        ReorderBuffer::pop(self)
    }
    #[inline]
    fn ready(&self) -> bool {
        self.head_ready()
    }
    #[inline]
    fn len(&self) -> usize {
        ReorderBuffer::len(self)
    }
}

/// Completion order: outputs leave in the order they came.
#[derive(Debug)]
pub(crate) struct Fifo<T>(VecDeque<T>);

impl<T> Outputs<T> for Fifo<T> {
    #[inline]
    fn new() -> Self {
        Fifo(VecDeque::new())
    }
    #[inline]
    fn push(&mut self, _seq: u64, out: T) {
        self.0.push_back(out);
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    #[inline]
    fn ready(&self) -> bool {
        !self.0.is_empty()
    }
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }
}
