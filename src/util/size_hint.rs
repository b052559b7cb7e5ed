//! Saturating arithmetic on `Stream::size_hint` pairs.

/// `hint` plus `n` items that are certain to come.
#[inline]
pub(crate) fn add(hint: (usize, Option<usize>), n: usize) -> (usize, Option<usize>) {
    let (lo, hi) = hint;
    (lo.saturating_add(n), hi.and_then(|hi| hi.checked_add(n)))
}

/// An adapter's hint: what upstream may still give (nothing once it has
/// ended; `upstream` is only asked before that) plus the `held` items taken
/// from it and not yet yielded.
#[inline]
pub(crate) fn with_held(
    upstream_done: bool,
    upstream: impl FnOnce() -> (usize, Option<usize>),
    held: usize,
) -> (usize, Option<usize>) {
    let upstream = if upstream_done {
        (0, Some(0))
    } else {
        upstream()
    };
    add(upstream, held)
}

/// Two streams' worth of items.
#[inline]
pub(crate) fn sum(a: (usize, Option<usize>), b: (usize, Option<usize>)) -> (usize, Option<usize>) {
    (
        a.0.saturating_add(b.0),
        a.1.zip(b.1).and_then(|(x, y)| x.checked_add(y)),
    )
}

/// The upper bound only: for adapters that may drop items, the lower bound is 0.
#[inline]
pub(crate) fn at_most(hint: (usize, Option<usize>)) -> (usize, Option<usize>) {
    (0, hint.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_saturates() {
        assert_eq!(add((usize::MAX, Some(usize::MAX)), 1), (usize::MAX, None));
        assert_eq!(add((1, Some(2)), 3), (4, Some(5)));
        assert_eq!(add((1, None), 3), (4, None));
    }
}
