//! Regression (issue 14): configuration panics pointed into the crate
//! (`src/concurrent/mod.rs:27:5`). Every method, builder and free function that
//! validates is `#[track_caller]`, so the panic is reported at the caller's
//! line: this file.
#![cfg(all(feature = "time", feature = "blocking"))]

use futures::stream;
use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use std::time::Duration;
use stream_plus::{Overflow, StreamExtPlus, TryStreamExtPlus};

thread_local! {
    static LOCATION: RefCell<Option<(String, u32)>> = const { RefCell::new(None) };
}

/// Runs `f`, which must panic, and returns where the panic was reported and
/// its message.
fn panic_site(f: impl FnOnce()) -> (String, u32, String) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let loc = info.location().map(|l| (l.file().to_string(), l.line()));
            let ours = LOCATION.with(|cell| {
                let mut cell = cell.borrow_mut();
                let watching = cell.is_some();
                if watching {
                    *cell = loc.clone();
                }
                watching
            });
            if !ours {
                default(info);
            }
        }));
    });
    LOCATION.with(|cell| *cell.borrow_mut() = Some((String::new(), 0)));
    let payload = panic::catch_unwind(AssertUnwindSafe(f)).expect_err("no panic");
    let (file, line) = LOCATION.with(|cell| cell.borrow_mut().take()).unwrap();
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    (file, line, message)
}

macro_rules! at_caller {
    ($expected:literal, $call:expr) => {{
        let line = line!();
        let (file, at, message) = panic_site(|| {
            let _made = $call;
        });
        assert!(message.contains($expected), "message {message:?}");
        assert!(
            file.ends_with("panic_location.rs"),
            "{message}: reported at {file}:{at}"
        );
        assert!(
            (line..=line + 8).contains(&at),
            "{message}: line {at}, called at {line}"
        );
    }};
}

fn one() -> stream::Iter<std::vec::IntoIter<u32>> {
    stream::iter(vec![1])
}

fn ok_one() -> stream::Iter<std::vec::IntoIter<Result<u32, ()>>> {
    stream::iter(vec![Ok(1)])
}

const ZERO: Duration = Duration::ZERO;
const MS: Duration = Duration::from_millis(1);

#[test]
fn concurrency_panics_at_the_callers_line() {
    at_caller!(
        "map_concurrent: workers",
        one().map_concurrent(0, |x| async move { x })
    );
    at_caller!(
        "map_concurrent_unordered: workers",
        one().map_concurrent_unordered(0, |x| async move { x })
    );
    at_caller!(
        "reorder_capacity: n",
        one()
            .map_concurrent(1, |x| async move { x })
            .reorder_capacity(0)
    );
    at_caller!(
        "try_map_concurrent: workers",
        ok_one().try_map_concurrent(0, |x| async move { Ok(x) })
    );
    at_caller!(
        "try_map_concurrent_unordered: workers",
        ok_one().try_map_concurrent_unordered(0, |x| async move { Ok(x) })
    );
    at_caller!("map_blocking: workers", one().map_blocking(0, |x| x));
    at_caller!(
        "map_blocking_unordered: workers",
        one().map_blocking_unordered(0, |x| x)
    );
    at_caller!(
        "try_map_blocking: workers",
        ok_one().try_map_blocking(0, Ok)
    );
    at_caller!(
        "try_map_blocking_unordered: workers",
        ok_one().try_map_blocking_unordered(0, Ok)
    );
}

#[test]
fn flow_and_fan_out_panic_at_the_callers_line() {
    at_caller!(
        "buffer_with: capacity",
        one().buffer_with(0, Overflow::Backpressure)
    );
    at_caller!("decouple: capacity", one().decouple(0));
    at_caller!("broadcast: consumers", one().broadcast(0, 1));
    at_caller!("broadcast: capacity", one().broadcast(1, 0));
}

#[test]
fn time_operators_panic_at_the_callers_line() {
    at_caller!("debounce: quiet", one().debounce(ZERO));
    at_caller!("debounce: max_wait", one().debounce(2 * MS).max_wait(MS));
    at_caller!("throttle_first: period", one().throttle_first(ZERO));
    at_caller!("sample: period", one().sample(ZERO));
    at_caller!("space_out: period", one().space_out(ZERO));
    at_caller!("rate_limit: count", one().rate_limit(0, MS));
    at_caller!("rate_limit: per", one().rate_limit(1, ZERO));
    at_caller!("rate_limit: burst", one().rate_limit(1, MS).burst(0));
    at_caller!("batch_timeout: max", one().batch_timeout(0, MS));
    at_caller!("batch_timeout: timeout", one().batch_timeout(1, ZERO));
    at_caller!("idle_timeout: limit", one().idle_timeout(ZERO));
    at_caller!("interval: period", stream_plus::interval(ZERO));
}

#[test]
fn failure_handling_panics_at_the_callers_line() {
    use stream_plus::Backoff;
    at_caller!("Backoff::exponential: first", Backoff::exponential(ZERO));
    at_caller!("Backoff::fixed: d", Backoff::fixed(ZERO));
    at_caller!(
        "Backoff::factor: factor",
        Backoff::exponential(MS).factor(0.5)
    );
    at_caller!(
        "Backoff::factor: factor",
        Backoff::exponential(MS).factor(f64::NAN)
    );
    at_caller!("Backoff::max_delay: d", Backoff::fixed(MS).max_delay(ZERO));
    at_caller!("Backoff::jitter: jitter", Backoff::fixed(MS).jitter(1.5));
    at_caller!("Backoff::jitter: jitter", Backoff::fixed(MS).jitter(-0.1));
    at_caller!("Backoff::attempts: n", Backoff::fixed(MS).attempts(0));
    at_caller!("sleep: d", stream_plus::sleep(ZERO));
    at_caller!("timeout: d", stream_plus::timeout(ZERO, async {}));
}
