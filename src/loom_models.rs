//! Loom models of the state shared between handles or threads: the channel of
//! `decouple` and `stage`, `balance`, `broadcast`, the `map_blocking` pool,
//! the wake set of `merge_all` and of the concurrent maps' slot engine (also
//! past its first word), and
//! `stage` (over a channel fed from another thread, and the wake handshake
//! of two drivers woken from other threads). Built only with `--cfg stream_plus_loom` (see README,
//! "Contributing"), where `util::sync` hands out loom's types, so the
//! models run the crate's real code. Each model has two or three threads doing
//! the real operations; loom's `block_on` parks a thread until its waker is
//! woken, so a lost wake-up shows up as a deadlock.
//!
//! The `blocking` crate's pool threads cannot run under loom: there, the pool's
//! jobs are loom threads (`blocking_pool::spawn_job`).

use core::pin::pin;
use core::task::{Context, Poll};
use futures_core::Stream;
use futures_util::future::poll_fn;
use futures_util::stream;
use loom::future::block_on;
use loom::thread;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;

use crate::flow::channel::{channel, Panics, Receiver, Sender};
use crate::util::sync::{Arc, AtomicBool, AtomicWaker, Ordering};
use crate::StreamExtPlus;

/// Runs a model with loom's default bound unless LOOM_MAX_PREEMPTIONS says
/// otherwise (CI sets 3).
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

fn next<S: Stream + Unpin>(s: &mut S) -> Option<S::Item> {
    block_on(poll_fn(|cx| Pin::new(&mut *s).poll_next(cx)))
}

fn collect<S: Stream + Unpin>(s: &mut S) -> Vec<S::Item> {
    let mut out = Vec::new();
    while let Some(x) = next(s) {
        out.push(x);
    }
    out
}

fn recv<T>(rx: &mut Receiver<T>) -> Option<T> {
    block_on(poll_fn(|cx| rx.poll_recv(cx)))
}

/// Pumps `items` into `tx` on a thread of its own until done.
fn producer(mut tx: Sender<u32>, items: Vec<u32>) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut items = pin!(stream::iter(items));
        block_on(poll_fn(|cx| {
            tx.poll_pump(items.as_mut(), cx, Panics::HandOver)
        }));
    })
}

/// Full and empty wake-ups, for a rendezvous and a one-slot channel: every
/// item arrives once, in order, and both sides finish.
#[test]
fn channel_full_and_empty_wake_ups() {
    for capacity in [0, 1] {
        model(move || {
            let (tx, mut rx) = channel(capacity);
            let sending = producer(tx, vec![0, 1, 2]);
            let mut got = Vec::new();
            while let Some(x) = recv(&mut rx) {
                got.push(x);
            }
            assert_eq!(got, [0, 1, 2]);
            sending.join().unwrap();
        });
    }
}

/// The receiver goes after one item: the sender is woken and finishes.
#[test]
fn channel_receiver_dropped() {
    model(|| {
        let (tx, mut rx) = channel(1);
        let sending = producer(tx, vec![0, 1, 2, 3]);
        assert_eq!(recv(&mut rx), Some(0));
        drop(rx);
        sending.join().unwrap();
    });
}

/// The sender (a `decouple` driver) is dropped after one poll: the receiver
/// ends after the items queued before, without hanging.
#[test]
fn channel_sender_dropped() {
    model(|| {
        let (mut tx, mut rx) = channel::<u32>(1);
        let sending = thread::spawn(move || {
            let mut items = pin!(stream::iter([0u32, 1]).chain(stream::pending()));
            let waker = futures_util::task::noop_waker();
            let _ = tx.poll_pump(
                items.as_mut(),
                &mut Context::from_waker(&waker),
                Panics::HandOver,
            );
        });
        let mut got = Vec::new();
        while let Some(x) = recv(&mut rx) {
            got.push(x);
        }
        sending.join().unwrap();
        // Item 1 was in hand (and went with the sender) unless the receiver
        // made room for it first.
        assert!(got == [0] || got == [0, 1], "{got:?}");
    });
}

/// A panic upstream is handed over: the receiver gets the item before it,
/// then the panic with its payload.
#[test]
fn channel_panic_hand_over() {
    model(|| {
        let (mut tx, mut rx) = channel::<u32>(2);
        let sending = thread::spawn(move || {
            let mut items = pin!(stream::iter([0u32, 1]).map(|x| {
                assert!(x == 0, "upstream boom");
                x
            }));
            block_on(poll_fn(|cx| {
                tx.poll_pump(items.as_mut(), cx, Panics::HandOver)
            }));
        });
        assert_eq!(recv(&mut rx), Some(0));
        let payload = panic::catch_unwind(AssertUnwindSafe(|| recv(&mut rx))).unwrap_err();
        let message = payload.downcast_ref::<&str>().copied();
        assert_eq!(message, Some("upstream boom"));
        sending.join().unwrap();
    });
}

use futures_util::StreamExt as _;

/// Pumps `items` into `tx` on this thread, waiting for room as it must.
fn pump(mut tx: Sender<u32>, items: Vec<u32>) {
    let mut items = pin!(stream::iter(items));
    block_on(poll_fn(|cx| {
        tx.poll_pump(items.as_mut(), cx, Panics::HandOver)
    }));
}

/// `balance`: clone `b` on another thread while this one feeds the source
/// (a rendezvous channel) and then drains clone `a`: every item to exactly
/// one clone, and both clones see the end.
#[test]
fn balance_every_item_once_and_the_end_reaches_all() {
    model(|| {
        let (tx, rx) = channel(0);
        let mut a = rx.balance();
        let mut b = a.clone();
        let other = thread::spawn(move || collect(&mut b));
        pump(tx, vec![1, 2]);
        let mut got = collect(&mut a);
        got.extend(other.join().unwrap());
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
    });
}

/// `balance`: a clone that waited is dropped (perhaps after it was woken):
/// the other clone still gets every item.
#[test]
fn balance_dropped_waiter_loses_nothing() {
    model(|| {
        let (tx, rx) = channel(1);
        let mut a = rx.balance();
        let mut b = a.clone();
        let other = thread::spawn(move || {
            let waker = futures_util::task::noop_waker();
            let polled = Pin::new(&mut b).poll_next(&mut Context::from_waker(&waker));
            drop(b);
            match polled {
                Poll::Ready(Some(x)) => vec![x],
                _ => Vec::new(),
            }
        });
        pump(tx, vec![1]);
        let mut got = collect(&mut a);
        got.extend(other.join().unwrap());
        assert_eq!(got, [1]);
    });
}

/// `balance`: two clones each take one item and then stay busy (they keep
/// their handles and never poll again): a clone that takes an item wakes
/// nobody, so this checks that no item is stranded while the other waits.
#[test]
fn balance_a_take_strands_nothing_for_a_waiting_clone() {
    model(|| {
        let (tx, rx) = channel(2);
        let mut a = rx.balance();
        let mut b = a.clone();
        let other = thread::spawn(move || {
            let got = next(&mut b);
            (got, b)
        });
        pump(tx, vec![1, 2]);
        let mine = next(&mut a);
        let (theirs, b) = other.join().unwrap();
        let mut got = [mine, theirs];
        got.sort_unstable();
        assert_eq!(got, [Some(1), Some(2)]);
        drop((a, b));
    });
}

/// `broadcast`: consumer `b` on another thread while this one feeds the
/// source and then drains consumer `a`, capacity 1: each sees every item in
/// order, and both end.
#[test]
fn broadcast_everyone_sees_everything_within_the_lead() {
    model(|| {
        let (tx, rx) = channel(1);
        let mut consumers = rx.broadcast(2, 1);
        let mut b = consumers.pop().unwrap();
        let mut a = consumers.pop().unwrap();
        let other = thread::spawn(move || collect(&mut b));
        pump(tx, vec![1, 2]);
        assert_eq!(collect(&mut a), [1, 2]);
        assert_eq!(other.join().unwrap(), [1, 2]);
    });
}

/// `broadcast`: a consumer dropped mid-way stops holding the other back.
#[test]
fn broadcast_consumer_dropped_mid_way() {
    model(|| {
        let mut consumers = stream::iter([1u32, 2, 3]).broadcast(2, 1);
        let mut b = consumers.pop().unwrap();
        let mut a = consumers.pop().unwrap();
        let other = thread::spawn(move || {
            let first = next(&mut b);
            drop(b);
            first
        });
        assert_eq!(collect(&mut a), [1, 2, 3]);
        assert_eq!(other.join().unwrap(), Some(1));
    });
}

/// The `map_blocking` pool with loom threads as its jobs: results come back,
/// in order for `map_blocking`, and the jobs exit when the stream is dropped.
#[cfg(feature = "blocking")]
#[test]
fn blocking_pool_hands_back_every_result() {
    model(|| {
        let mut ordered = stream::iter(0u32..3).map_blocking(2, |x| x * 2);
        assert_eq!(collect(&mut ordered), [0, 2, 4]);
    });
}

/// Dropped after one result: calls not started never start, the jobs exit
/// (loom reports a job left blocked as a deadlock).
#[cfg(feature = "blocking")]
#[test]
fn blocking_pool_cancels_on_drop() {
    use crate::util::sync::{Arc, AtomicU64, Ordering};
    model(|| {
        let calls = Arc::new(AtomicU64::new(0));
        let counted = calls.clone();
        let mut unordered = stream::iter(0u32..4).map_blocking_unordered(2, move |x| {
            counted.fetch_add(1, Ordering::SeqCst);
            x
        });
        assert!(next(&mut unordered).is_some());
        drop(unordered);
        assert!(calls.load(Ordering::SeqCst) >= 1);
    });
}

/// `stage` with its upstream fed from another thread.
#[test]
fn stage_upstream_fed_from_another_thread() {
    model(|| {
        let (tx, rx) = channel(1);
        let sending = producer(tx, vec![1, 2]);
        let mut staged = rx.stage(0, |s| s);
        assert_eq!(collect(&mut staged), [1, 2]);
        sending.join().unwrap();
    });
}

/// A one-item stream fired from another thread: the smallest upstream whose
/// waker is woken off the polling thread.
struct Signal(Arc<SignalState>);

struct SignalState {
    fired: AtomicBool,
    waker: AtomicWaker,
}

impl Signal {
    fn new() -> (Self, Arc<SignalState>) {
        let state = Arc::new(SignalState {
            fired: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        });
        (Signal(state.clone()), state)
    }
}

impl SignalState {
    fn fire(&self) {
        // An RMW, not a store: see the handshake notes in `src/flow/stage.rs`.
        self.fired.swap(true, Ordering::AcqRel);
        self.waker.wake();
    }
}

impl Stream for Signal {
    type Item = u32;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<u32>> {
        self.0.waker.register(cx.waker());
        // Fired: the one item (it never ends; the model takes what it needs).
        if self.0.fired.swap(false, Ordering::AcqRel) {
            return Poll::Ready(Some(1));
        }
        Poll::Pending
    }
}

/// `stage`'s wake handshake (`src/flow/stage.rs`): a pipeline of two drivers,
/// each with an upstream fired from a thread of its own, so both drivers'
/// wakers fire from other threads while `Staged` is being polled (between its
/// clearing of `polling` and its reading of the flags, too). Both items come
/// out; a lost wake-up parks the polling thread for good, which loom reports
/// as a deadlock. (With the handshake's RMW on the waker side replaced by a
/// plain load of `polling`, this model deadlocks.)
#[test]
fn stage_two_drivers_woken_from_other_threads() {
    model(|| {
        let (first, fire_first) = Signal::new();
        let (second, fire_second) = Signal::new();
        let one = thread::spawn(move || fire_first.fire());
        let two = thread::spawn(move || fire_second.fire());
        // Driver 1 pumps `first`; driver 2 pumps what stage 1 sends merged
        // with `second`; the last stage reads driver 2's channel.
        let mut staged = first.stage(1, |s| s.merge_with(second)).stage(1, |s| s);
        assert_eq!(next(&mut staged), Some(1));
        assert_eq!(next(&mut staged), Some(1));
        one.join().unwrap();
        two.join().unwrap();
    });
}

/// `merge_all`: one stream fed from another thread, one from this one, both
/// waking the merge's queue; every item comes out once and the merge ends.
#[test]
fn merge_all_wake_queue() {
    model(|| {
        let (tx1, rx1) = channel(0);
        let (tx2, rx2) = channel(1);
        let sending = producer(tx1, vec![1]);
        let mut merged = crate::merge_all([rx1, rx2]);
        let waker = futures_util::task::noop_waker();
        let mut first = Vec::new();
        if let Poll::Ready(Some(x)) =
            Pin::new(&mut merged).poll_next(&mut Context::from_waker(&waker))
        {
            first.push(x);
        }
        pump(tx2, vec![2]);
        let mut got = collect(&mut merged);
        got.extend(first);
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        sending.join().unwrap();
    });
}

/// The slot engine of the concurrent maps (`util::Slots` over a `WakeSet`):
/// two futures in two slots of one word, each woken from a thread of its own
/// while the consumer takes and clears the word's bits. Both outputs come out
/// once, with no lost wake-up, and the stream ends.
#[test]
fn slots_wake_set_two_threads() {
    model(|| {
        let (tx1, rx1) = channel(0);
        let (tx2, rx2) = channel(0);
        let first = producer(tx1, vec![1]);
        let second = producer(tx2, vec![2]);
        let mut outs = stream::iter([rx1, rx2]).map_concurrent_unordered(2, |mut rx| async move {
            poll_fn(|cx| rx.poll_recv(cx)).await
        });
        let mut got = collect(&mut outs);
        got.sort_unstable();
        assert_eq!(got, [Some(1), Some(2)]);
        first.join().unwrap();
        second.join().unwrap();
    });
}

/// The wake set past its first word: slot 0 (word 0, read directly) and slot
/// 64 (word 1, found through the summary) woken from two threads while the
/// consumer takes rounds, registering its waker only once nothing woken is
/// left (as `Slots::poll_next` does). Each wake-up wakes the task only when it
/// makes its word or the summary go from empty to marked; both slots are
/// handed out, with no lost wake-up.
#[test]
fn wake_set_two_words_woken_from_two_threads() {
    model(|| {
        let mut set = crate::util::WakeSet::new();
        let wakers: Vec<_> = (0..65).map(|i| set.waker(i)).collect();
        let (zero, sixty_four) = (wakers[0].clone(), wakers[64].clone());
        drop(wakers);
        let a = thread::spawn(move || zero.wake());
        let b = thread::spawn(move || sixty_four.wake());
        let mut got = Vec::new();
        block_on(poll_fn(|cx| {
            let mut registered = false;
            loop {
                while let Some(index) = set.next() {
                    got.push(index);
                }
                if got.len() == 2 {
                    return Poll::Ready(());
                }
                if registered {
                    return Poll::Pending;
                }
                set.register(cx.waker());
                registered = true;
            }
        }));
        got.sort_unstable();
        assert_eq!(got, [0, 64]);
        a.join().unwrap();
        b.join().unwrap();
    });
}

/// The retrying maps drain their slots with `Slots::poll_woken` (one
/// registration, one round a call) rather than `poll_next`: two attempts in
/// two slots of one word, woken from two threads while the consumer drains.
/// Both outputs come out once and the stream ends. (Nothing fails here, so no
/// timer is armed.)
#[test]
fn slots_poll_woken_two_threads() {
    model(|| {
        let (tx1, rx1) = channel(0);
        let (tx2, rx2) = channel(0);
        let first = producer(tx1, vec![1]);
        let second = producer(tx2, vec![2]);
        let rxs = [
            std::sync::Mutex::new(Some(rx1)),
            std::sync::Mutex::new(Some(rx2)),
        ];
        let backoff = crate::Backoff::fixed(std::time::Duration::from_secs(1));
        let mut outs =
            stream::iter([0usize, 1]).map_concurrent_retry_unordered(2, backoff, move |&i| {
                let mut rx = rxs[i].lock().unwrap().take().expect("one attempt per item");
                async move { Ok::<_, ()>(poll_fn(|cx| rx.poll_recv(cx)).await) }
            });
        let mut got: Vec<_> = collect(&mut outs).into_iter().map(Result::unwrap).collect();
        got.sort_unstable();
        assert_eq!(got, [Some(1), Some(2)]);
        first.join().unwrap();
        second.join().unwrap();
    });
}

/// The same engine, one future woken twice: from another thread while the
/// consumer polls, and by itself. The ordered map yields its output once.
#[test]
fn slots_future_woken_from_two_sides() {
    model(|| {
        let (tx, rx) = channel(1);
        let sending = producer(tx, vec![1, 2]);
        let mut outs = stream::iter([rx]).map_concurrent(1, |mut rx| async move {
            let a = poll_fn(|cx| rx.poll_recv(cx)).await;
            let b = poll_fn(|cx| rx.poll_recv(cx)).await;
            (a, b)
        });
        assert_eq!(collect(&mut outs), [(Some(1), Some(2))]);
        sending.join().unwrap();
    });
}

/// An observed point's sequence lock: a snapshot on another thread never sees
/// half a transition. On virtual time no time passes inside a poll, so the
/// wait that the transition closes is counted busy at the same time as
/// `waited`: a read that took the new `waited` with the old `busy` would show
/// more time waited than busy.
#[cfg(feature = "test-util")]
#[test]
fn observe_point_read_while_it_changes() {
    model(|| {
        let clock = crate::test_util::VirtualClock::new();
        let registry = std::sync::Arc::new(crate::observe::Registry::default());
        let mut meter = clock.enter(|| crate::observe::Meter::new(registry, "s".into(), 0));
        meter.before_poll(0);
        meter.pending(0);
        clock.advance(std::time::Duration::from_millis(10));
        let point = meter.point();
        let reader = thread::spawn(move || {
            let p = point.read();
            assert!(
                p.waited <= p.busy + p.idle,
                "torn: waited {} busy {}",
                p.waited,
                p.busy
            );
        });
        // Closes the wait: busy and waited both grow by 10 ms.
        meter.before_poll(0);
        reader.join().unwrap();
        drop(meter);
    });
}
