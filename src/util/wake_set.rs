//! Which of many slots (futures, streams) woke since they were last polled.
//!
//! Each slot gets one [`Waker`], created once and reused for every poll of
//! whatever the slot holds. Waking it sets the slot's bit in a word of 64 bits
//! (and, when the word was empty, the word's bit in a summary word: words
//! from the second on; the first word, which is all there is up to 64 slots,
//! is read directly), and wakes the task polling the slots when it made a
//! word (or the summary) go from empty to marked: the one wake-up that the
//! task needs to come and take the bits. That task takes the bits with one
//! swap per marked word and polls only those slots: the cost of a wake-up
//! does not grow with the number of idle slots, and nothing is allocated
//! after a slot's first use.
//!
//! A slot is handed out once per round: bits taken by [`WakeSet::next`] are
//! handed out in index order, and bits set meanwhile wait for the next round,
//! so a slot that wakes itself on every poll cannot starve the others.

use core::task::Waker;
use std::task::Wake;

use super::sync::{Arc, AtomicU64, AtomicWaker, Ordering};

/// Slots per word of bits.
const WORD: usize = 64;

/// What the slots' wakers share with the polling side.
#[derive(Debug)]
struct Shared {
    /// Bit `w % 64` is set when word `w` (or `w + 64`, `w + 128`, ...) may
    /// have bits set; words from 1 on (word 0 is read directly).
    summary: AtomicU64,
    /// The task that polls the slots.
    parent: AtomicWaker,
}

/// The bits of 64 slots.
#[derive(Debug)]
struct Word {
    bits: AtomicU64,
    /// This word's bit in `Shared::summary`; 0 for word 0, which has none.
    summary_bit: u64,
    shared: Arc<Shared>,
}

impl Word {
    /// Sets `mask`; returns whether this made the word (for word 0) or the
    /// summary (for the others) go from empty to marked, so that the parent
    /// must be woken. Otherwise whoever marked it first has woken the parent
    /// (or is about to) since it last took the bits, or it is the parent
    /// itself ([`WakeSet::mark`]), which polls the set again anyway.
    #[inline]
    fn mark(&self, mask: u64) -> bool {
        let before = self.bits.fetch_or(mask, Ordering::AcqRel);
        if before != 0 {
            return false;
        }
        if self.summary_bit == 0 {
            return true;
        }
        let summary = self
            .shared
            .summary
            .fetch_or(self.summary_bit, Ordering::AcqRel);
        summary == 0
    }
}

/// The waker of one slot.
#[derive(Debug)]
struct SlotWaker {
    word: Arc<Word>,
    mask: u64,
}

impl Wake for SlotWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    #[inline]
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        if self.word.mark(self.mask) {
            self.word.shared.parent.wake();
        }
    }
}

/// The polling side: hands out the slots woken since their last poll.
#[derive(Debug)]
pub(crate) struct WakeSet {
    shared: Arc<Shared>,
    words: Vec<Arc<Word>>,
    /// Bits taken from `words` and not yet handed out, word by word.
    local: Vec<u64>,
    /// The words of `local` that got bits in this round, so that handing
    /// them out never scans the idle ones.
    round: Vec<usize>,
    /// How far `next` has got in `round`.
    cursor: usize,
}

impl WakeSet {
    /// An empty set; it allocates when its first waker is made.
    pub(crate) fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                summary: AtomicU64::new(0),
                parent: AtomicWaker::new(),
            }),
            words: Vec::new(),
            local: Vec::new(),
            round: Vec::new(),
            cursor: 0,
        }
    }

    /// The waker of slot `index`. Slots are numbered from 0 without gaps: the
    /// caller makes one per new slot, in order, and keeps it.
    pub(crate) fn waker(&mut self, index: usize) -> Waker {
        let w = index / WORD;
        while self.words.len() <= w {
            let n = self.words.len();
            self.words.push(Arc::new(Word {
                bits: AtomicU64::new(0),
                summary_bit: if n == 0 { 0 } else { 1 << (n % WORD) },
                shared: self.shared.clone(),
            }));
            self.local.push(0);
        }
        Waker::from(std::sync::Arc::new(SlotWaker {
            word: self.words[w].clone(),
            mask: 1 << (index % WORD),
        }))
    }

    /// Registers the task that polls the slots. Call it before [`next`]
    /// (`WakeSet::next`) in every poll, so that no wake-up is missed.
    #[inline]
    pub(crate) fn register(&self, waker: &Waker) {
        self.shared.parent.register(waker);
    }

    /// Marks slot `index` as woken without waking the task: for the polling
    /// task itself (a new slot, or one that has more to give). It is handed out
    /// in the next round. The caller must take that round in this poll or
    /// return `Ready` (so that it is polled again): while the mark is there, a
    /// slot's wake-up may not wake the task.
    pub(crate) fn mark(&self, index: usize) {
        self.words[index / WORD].mark(1 << (index % WORD));
    }

    /// The next woken slot of this round; when the round is over, starts the
    /// next one with the slots woken since. `None`: no slot has woken.
    #[inline]
    pub(crate) fn next(&mut self) -> Option<usize> {
        loop {
            if let Some(index) = self.next_in_round() {
                return Some(index);
            }
            if !self.take_round() {
                return None;
            }
        }
    }

    /// Whether a wake-up of the task is already owed for what is left: the
    /// current round is handed out and a slot has been marked since it was
    /// taken (whoever marked it wakes the task). A caller that stops early
    /// wakes the task itself unless this is true.
    #[inline]
    pub(crate) fn wake_owed(&self) -> bool {
        let round_left = self.round[self.cursor.min(self.round.len())..]
            .iter()
            .any(|&w| self.local[w] != 0);
        !round_left
            && (self.shared.summary.load(Ordering::Relaxed) != 0
                || self
                    .words
                    .first()
                    .is_some_and(|w| w.bits.load(Ordering::Relaxed) != 0))
    }

    /// The next woken slot of the current round; `None` once it is over
    /// (slots woken since wait for [`take_round`](Self::take_round)).
    #[inline]
    pub(crate) fn next_in_round(&mut self) -> Option<usize> {
        while let Some(&w) = self.round.get(self.cursor) {
            let bits = self.local[w];
            if bits != 0 {
                self.local[w] = bits & (bits - 1);
                return Some(w * WORD + bits.trailing_zeros() as usize);
            }
            self.cursor += 1;
        }
        None
    }

    /// Takes the bits set since the last round into `local`, and lists the
    /// words that got some in `round`. Returns whether there were any.
    #[inline]
    pub(crate) fn take_round(&mut self) -> bool {
        self.round.clear();
        self.cursor = 0;
        if let Some(first) = self.words.first() {
            if first.bits.load(Ordering::Relaxed) != 0 {
                self.local[0] = first.bits.swap(0, Ordering::AcqRel);
                self.round.push(0);
            }
        }
        if self.shared.summary.load(Ordering::Relaxed) != 0 {
            self.take_later_words();
        }
        !self.round.is_empty()
    }

    /// The part of [`take_round`](Self::take_round) for the words past the
    /// first (more than 64 slots).
    #[inline(never)]
    fn take_later_words(&mut self) {
        // The summary is cleared before the words: a bit set after a word was
        // taken sets the summary again (its word was empty), so it is seen in
        // the next round.
        let mut summary = self.shared.summary.swap(0, Ordering::AcqRel);
        while summary != 0 {
            let first = summary.trailing_zeros() as usize;
            summary &= summary - 1;
            for w in (first..self.words.len()).step_by(WORD).filter(|&w| w != 0) {
                let bits = self.words[w].bits.swap(0, Ordering::AcqRel);
                if bits != 0 {
                    self.local[w] = bits;
                    self.round.push(w);
                }
            }
        }
    }
}

#[cfg(all(test, not(stream_plus_loom)))]
mod tests {
    use super::WakeSet;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    struct CountWakes(AtomicUsize);

    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn set_with(slots: usize) -> (WakeSet, Vec<Waker>, Arc<CountWakes>) {
        let mut set = WakeSet::new();
        let wakers = (0..slots).map(|i| set.waker(i)).collect();
        let parent = Arc::new(CountWakes(AtomicUsize::new(0)));
        set.register(&Waker::from(parent.clone()));
        (set, wakers, parent)
    }

    fn drain(set: &mut WakeSet) -> Vec<usize> {
        std::iter::from_fn(|| set.next()).collect()
    }

    #[test]
    fn hands_out_each_woken_slot_once_across_many_words() {
        // 300 slots: five words.
        let (mut set, wakers, parent) = set_with(300);
        let woken = [0, 1, 63, 64, 65, 127, 128, 200, 299];
        for &i in &woken {
            wakers[i].wake_by_ref();
            wakers[i].wake_by_ref(); // a second wake before the poll is absorbed
        }
        assert_eq!(drain(&mut set), woken);
        assert_eq!(drain(&mut set), Vec::<usize>::new());
        // Only the first wake after a registration reaches the parent (it is
        // then forgotten until the next registration).
        assert_eq!(parent.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn words_that_share_a_summary_bit_are_all_read() {
        // 65 words: word 0 and word 64 share summary bit 0.
        let (mut set, wakers, _) = set_with(64 * 65);
        wakers[64 * 64 + 3].wake_by_ref();
        wakers[5].wake_by_ref();
        assert_eq!(drain(&mut set), [5, 64 * 64 + 3]);
    }

    #[test]
    fn a_wake_during_a_round_waits_for_the_next_round() {
        let (mut set, wakers, _) = set_with(4);
        wakers[2].wake_by_ref();
        wakers[3].wake_by_ref();
        assert_eq!(set.next(), Some(2));
        // Slot 2 wakes itself while its round is still being handed out.
        wakers[2].wake_by_ref();
        assert_eq!(set.next(), Some(3));
        assert_eq!(set.next(), Some(2));
        assert_eq!(set.next(), None);
    }

    #[test]
    fn mark_queues_without_waking_the_parent() {
        let (mut set, _wakers, parent) = set_with(3);
        set.mark(1);
        assert_eq!(parent.0.load(Ordering::SeqCst), 0);
        assert_eq!(drain(&mut set), [1]);
    }
}
