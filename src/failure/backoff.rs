//! `Backoff`: how long to wait before each retry, as a pure function of the
//! retry's number, so that every operator that retries (and every test)
//! sees the same delays.

use core::fmt;
use std::time::Duration;

/// How long to wait before each retry, and how many attempts to make.
///
/// [`Backoff::exponential(first)`](Backoff::exponential): the delay before
/// retry `k` (k = 1, 2, ...) is `first × factor^(k-1)`, capped by
/// [`max_delay`](Backoff::max_delay). [`Backoff::fixed(d)`](Backoff::fixed):
/// always `d` (capped too). [`jitter`](Backoff::jitter) scales each delay by a
/// pseudo-random factor in `[1 - jitter, 1]`, drawn from
/// [`seed`](Backoff::seed) and `k` alone, so runs repeat.
/// [`attempts`](Backoff::attempts) counts every attempt, the first included
/// (default 3).
///
/// [`delay(k)`](Backoff::delay) is a pure function of `k`. No value overflows:
/// a delay too long for a `Duration` is `max_delay`, and `Duration::MAX` (the
/// default `max_delay`) means a wait that may never end.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use stream_plus::Backoff;
///
/// let b = Backoff::exponential(Duration::from_millis(100))
///     .max_delay(Duration::from_millis(300))
///     .attempts(4);
/// let delays: Vec<_> = (1..=4).map(|k| b.delay(k)).collect();
/// assert_eq!(
///     delays,
///     [
///         Some(Duration::from_millis(100)),
///         Some(Duration::from_millis(200)),
///         Some(Duration::from_millis(300)), // capped
///         None,                             // the 4th attempt was the last
///     ]
/// );
/// ```
#[derive(Clone, PartialEq)]
pub struct Backoff {
    first: Duration,
    factor: f64,
    max_delay: Duration,
    jitter: f64,
    seed: u64,
    attempts: u32,
}

impl fmt::Debug for Backoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backoff")
            .field("first", &self.first)
            .field("factor", &self.factor)
            .field("max_delay", &self.max_delay)
            .field("jitter", &self.jitter)
            .field("seed", &self.seed)
            .field("attempts", &self.attempts)
            .finish()
    }
}

/// The seed when none is set: any fixed value, so runs repeat.
const DEFAULT_SEED: u64 = 0x5eed_0fba_c0ff;

impl Backoff {
    /// Delays that grow: `first`, then `first × factor`, `first × factor²`, ...
    /// (factor 2.0 unless [`factor`](Backoff::factor) says otherwise).
    ///
    /// # Panics
    ///
    /// If `first` is zero: `Backoff::exponential: first must be greater than zero`.
    #[track_caller]
    pub fn exponential(first: Duration) -> Self {
        check_duration("Backoff::exponential", "first", first);
        Self::with(first, 2.0)
    }

    /// The same delay `d` before every retry.
    ///
    /// # Panics
    ///
    /// If `d` is zero: `Backoff::fixed: d must be greater than zero`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use stream_plus::Backoff;
    ///
    /// let b = Backoff::fixed(Duration::from_secs(1)).attempts(3);
    /// assert_eq!(b.delay(2), Some(Duration::from_secs(1)));
    /// assert_eq!(b.delay(3), None);
    /// ```
    #[track_caller]
    pub fn fixed(d: Duration) -> Self {
        check_duration("Backoff::fixed", "d", d);
        Self::with(d, 1.0)
    }

    fn with(first: Duration, factor: f64) -> Self {
        Self {
            first,
            factor,
            max_delay: Duration::MAX,
            jitter: 0.0,
            seed: DEFAULT_SEED,
            attempts: 3,
        }
    }

    /// How much each delay grows over the one before (default 2.0 for
    /// `exponential`; `fixed` uses 1.0 and this changes it).
    ///
    /// # Panics
    ///
    /// If `f` is below 1.0 or not a number: `Backoff::factor: factor must be at least 1.0`.
    #[track_caller]
    pub fn factor(mut self, f: f64) -> Self {
        assert!(f >= 1.0, "Backoff::factor: factor must be at least 1.0");
        self.factor = f;
        self
    }

    /// The longest delay (default `Duration::MAX`). Applies before jitter.
    ///
    /// # Panics
    ///
    /// If `d` is zero: `Backoff::max_delay: d must be greater than zero`.
    #[track_caller]
    pub fn max_delay(mut self, d: Duration) -> Self {
        check_duration("Backoff::max_delay", "d", d);
        self.max_delay = d;
        self
    }

    /// Scales each delay by a pseudo-random factor in `[1 - j, 1]` (default
    /// 0.0: no jitter), so that many clients failing together do not retry
    /// together. The factor for retry `k` depends only on the
    /// [`seed`](Backoff::seed) and `k`.
    ///
    /// # Panics
    ///
    /// If `j` is outside `0.0..=1.0`: `Backoff::jitter: jitter must be between 0.0 and 1.0`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use stream_plus::Backoff;
    ///
    /// let b = Backoff::fixed(Duration::from_millis(100)).jitter(0.5).attempts(10);
    /// let d = b.delay(1).unwrap();
    /// assert!(d >= Duration::from_millis(50) && d <= Duration::from_millis(100));
    /// assert_eq!(b.delay(1), b.clone().delay(1), "the same seed, the same delays");
    /// ```
    #[track_caller]
    pub fn jitter(mut self, j: f64) -> Self {
        assert!(
            (0.0..=1.0).contains(&j),
            "Backoff::jitter: jitter must be between 0.0 and 1.0"
        );
        self.jitter = j;
        self
    }

    /// The seed of the jitter (default: a fixed seed, so runs repeat). Give
    /// each client its own, for example from its id.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// How many attempts in all, the first included (default 3): `n - 1`
    /// retries.
    ///
    /// # Panics
    ///
    /// If `n` is 0: `Backoff::attempts: n must be at least 1`.
    #[track_caller]
    pub fn attempts(mut self, n: u32) -> Self {
        assert!(n >= 1, "Backoff::attempts: n must be at least 1");
        self.attempts = n;
        self
    }

    /// How many attempts in all, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.attempts
    }

    /// The delay before retry `k` (the attempt numbered `k + 1`), or `None`
    /// when there is no such retry: `k` is 0 (not a retry) or `k >= attempts`.
    /// `min(first × factor^(k-1), max_delay)`, then scaled by the jitter.
    pub fn delay(&self, k: u32) -> Option<Duration> {
        if k == 0 || k >= self.attempts {
            return None;
        }
        let base = grown(self.first, self.factor, k - 1).min(self.max_delay);
        if self.jitter == 0.0 {
            return Some(base);
        }
        let scale = 1.0 - self.jitter * unit(self.seed, k);
        Some(scaled(base, scale))
    }
}

/// `first × factor^n`, exact to the nanosecond where the multiplier is a
/// whole number (`fixed`, and `exponential` with a whole factor), and
/// `Duration::MAX` where the product does not fit.
fn grown(first: Duration, factor: f64, n: u32) -> Duration {
    let m = factor.powi(i32::try_from(n).unwrap_or(i32::MAX));
    if m == 1.0 {
        return first;
    }
    if m.fract() == 0.0 && m < 18_446_744_073_709_551_616.0 {
        // A whole multiplier below 2^64: nanoseconds in u128, exactly.
        let nanos = first.as_nanos().checked_mul(m as u128);
        return nanos.and_then(from_nanos).unwrap_or(Duration::MAX);
    }
    Duration::try_from_secs_f64(first.as_secs_f64() * m).unwrap_or(Duration::MAX)
}

fn from_nanos(nanos: u128) -> Option<Duration> {
    let secs = u64::try_from(nanos / 1_000_000_000).ok()?;
    Some(Duration::new(secs, (nanos % 1_000_000_000) as u32))
}

/// `d × scale` for `scale` in `[0, 1]`, without overflow.
fn scaled(d: Duration, scale: f64) -> Duration {
    Duration::try_from_secs_f64(d.as_secs_f64() * scale).unwrap_or(d)
}

/// A number in `[0, 1)` that depends only on `seed` and `k` (splitmix64).
fn unit(seed: u64, k: u32) -> f64 {
    let mut z = seed ^ u64::from(k).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[track_caller]
fn check_duration(method: &str, arg: &str, d: Duration) {
    assert!(!d.is_zero(), "{method}: {arg} must be greater than zero");
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn exponential_doubles_then_caps() {
        let b = Backoff::exponential(10 * MS).max_delay(50 * MS).attempts(6);
        let got: Vec<_> = (0..=6).map(|k| b.delay(k)).collect();
        assert_eq!(
            got,
            [
                None,
                Some(10 * MS),
                Some(20 * MS),
                Some(40 * MS),
                Some(50 * MS),
                Some(50 * MS),
                None
            ]
        );
    }

    #[test]
    fn fixed_is_capped_too() {
        let b = Backoff::fixed(100 * MS).max_delay(30 * MS);
        assert_eq!(b.delay(1), Some(30 * MS));
    }

    #[test]
    fn a_fractional_factor() {
        let b = Backoff::exponential(100 * MS).factor(1.5).attempts(4);
        assert_eq!(b.delay(2), Some(150 * MS));
        assert_eq!(b.delay(3), Some(225 * MS));
    }

    #[test]
    fn no_overflow_at_any_value() {
        let b = Backoff::exponential(Duration::MAX)
            .factor(f64::MAX)
            .attempts(u32::MAX);
        for k in [1, 2, 3, 1000, u32::MAX - 1] {
            assert_eq!(b.delay(k), Some(Duration::MAX));
        }
        assert_eq!(b.delay(u32::MAX), None);
        let b = Backoff::exponential(MS).attempts(u32::MAX).jitter(1.0);
        for k in [1, 64, 65, 10_000, u32::MAX - 1] {
            assert!(b.delay(k).is_some());
        }
        // 2^40 ms: a whole multiplier beyond u32, still exact.
        let b = Backoff::exponential(MS).attempts(100);
        assert_eq!(b.delay(41), Some(MS * 1024 * 1024 * 1024).map(|d| d * 1024));
    }

    #[test]
    fn jitter_stays_in_its_band_and_repeats() {
        let b = Backoff::fixed(1000 * MS).jitter(0.25).attempts(200);
        let mut distinct = std::collections::HashSet::new();
        for k in 1..200 {
            let d = b.delay(k).unwrap();
            assert!(d >= 750 * MS && d <= 1000 * MS, "{d:?}");
            assert_eq!(Some(d), b.delay(k));
            distinct.insert(d);
        }
        assert!(distinct.len() > 100, "the factor varies with k");
        let other = b.clone().seed(7);
        assert!(
            (1..20).any(|k| other.delay(k) != b.delay(k)),
            "another seed, other delays"
        );
    }
}
