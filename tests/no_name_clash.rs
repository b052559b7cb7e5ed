//! API.md rule 1: with every popular extension trait in scope, each of our
//! methods still resolves without an ambiguity error. This file compiling is
//! the test; running it checks the calls do something sensible.

#![allow(unused_imports)]

use futures::stream::{self, StreamExt as _};
use futures::{SinkExt, StreamExt, TryStreamExt};
use stream_plus::{Overflow, StreamExtPlus, TryStreamExtPlus};
use tokio_stream::StreamExt as TokioStreamExt;

#[test]
fn every_method_resolves_with_all_traits_in_scope() {
    futures::executor::block_on(async {
        let a: Vec<u8> =
            StreamExt::collect(stream::iter([1u8, 2]).map_concurrent(2, |x| async move { x }))
                .await;
        assert_eq!(a, [1, 2]);
        let b: Vec<u8> = StreamExt::collect(
            stream::iter([1u8])
                .map_concurrent(1, |x| async move { x })
                .reorder_capacity(3),
        )
        .await;
        assert_eq!(b, [1]);
        let c: Vec<u8> = StreamExt::collect(
            stream::iter([1u8]).map_concurrent_unordered(2, |x| async move { x }),
        )
        .await;
        assert_eq!(c, [1]);
        let d: Vec<u8> =
            StreamExt::collect(stream::iter([1u8, 2]).switch_map(|x| stream::iter([x]))).await;
        assert_eq!(d, [2]);
        let e: Vec<Result<u8, ()>> = StreamExt::collect(
            stream::iter([Ok::<u8, ()>(1)]).try_map_concurrent(2, |x| async move { Ok(x) }),
        )
        .await;
        assert_eq!(e, [Ok(1)]);
        let f: Vec<Result<u8, ()>> = StreamExt::collect(
            stream::iter([Ok::<u8, ()>(1)])
                .try_map_concurrent_unordered(2, |x| async move { Ok(x) }),
        )
        .await;
        assert_eq!(f, [Ok(1)]);

        let one = || stream::iter([1u8]);
        assert_eq!(
            StreamExt::collect::<Vec<_>>(one().buffer_with(2, Overflow::Backpressure)).await,
            [1]
        );
        assert_eq!(StreamExt::collect::<Vec<_>>(one().conflate()).await, [1]);
        let (rx, driver) = one().decouple(1);
        let (g, ()) = futures::future::join(StreamExt::collect::<Vec<_>>(rx), driver).await;
        assert_eq!(g, [1]);
        assert_eq!(
            StreamExt::collect::<Vec<_>>(one().stage(0, |s| s).stage(1, |s| s)).await,
            [1]
        );
        assert_eq!(
            StreamExt::collect::<Vec<_>>(one().merge_with(one())).await,
            [1, 1]
        );
        assert_eq!(
            StreamExt::collect::<Vec<_>>(stream_plus::merge_all([one(), one()])).await,
            [1, 1]
        );
        assert_eq!(
            StreamExt::collect::<Vec<_>>(one().zip_latest(one())).await,
            [(1, 1)]
        );
        let mut b = one().broadcast(1, 1);
        assert_eq!(StreamExt::collect::<Vec<_>>(b.pop().unwrap()).await, [1]);
        assert_eq!(StreamExt::collect::<Vec<_>>(one().balance()).await, [1]);
        assert_eq!(StreamExt::collect::<Vec<_>>(one().dedup()).await, [1]);
        assert_eq!(
            StreamExt::collect::<Vec<_>>(one().dedup_by_key(|x| *x)).await,
            [1]
        );
        let stats = stream_plus::Stats::new();
        assert_eq!(
            StreamExt::collect::<Vec<_>>(one().observe(&stats, "one")).await,
            [1]
        );
        // The concurrent stages' inherent `observe` resolves too.
        let observed = one()
            .map_concurrent(1, futures::future::ready)
            .observe(&stats, "map");
        assert_eq!(StreamExt::collect::<Vec<_>>(observed).await, [1]);
        assert_eq!(stats.snapshot()[1].workers, 1);
    });
}

#[cfg(all(feature = "time", feature = "blocking"))]
#[test]
fn every_time_method_resolves_with_all_traits_in_scope() {
    use std::time::Duration;
    let d = Duration::from_millis(1);
    futures::executor::block_on(async {
        let one = || stream::iter([1u8]);
        assert_eq!(StreamExt::collect::<Vec<_>>(one().debounce(d)).await, [1]);
        assert_eq!(
            StreamExt::collect::<Vec<_>>(one().debounce(d).max_wait(d)).await,
            [1]
        );
        assert_eq!(
            StreamExt::collect::<Vec<_>>(one().throttle_first(d)).await,
            [1]
        );
        assert_eq!(StreamExt::collect::<Vec<_>>(one().sample(d)).await, [1]);
        assert_eq!(StreamExt::collect::<Vec<_>>(one().space_out(d)).await, [1]);
        assert_eq!(
            StreamExt::collect::<Vec<_>>(one().rate_limit(1, d)).await,
            [1]
        );
        assert_eq!(
            StreamExt::collect::<Vec<_>>(one().rate_limit(1, d).burst(1)).await,
            [1]
        );
        assert_eq!(
            StreamExt::collect::<Vec<_>>(stream::iter([Ok::<u8, ()>(1)]).try_map_blocking(1, Ok))
                .await,
            [Ok(1)]
        );
        assert_eq!(
            StreamExt::collect::<Vec<_>>(
                stream::iter([Ok::<u8, ()>(1)]).try_map_blocking_unordered(1, Ok)
            )
            .await,
            [Ok(1)]
        );
        assert_eq!(
            StreamExt::collect::<Vec<_>>(one().batch_timeout(2, d)).await,
            [vec![1]]
        );
        assert_eq!(
            StreamExt::collect::<Vec<_>>(one().idle_timeout(d)).await,
            [Ok(1)]
        );
        assert!(StreamExt::next(&mut stream_plus::interval(d))
            .await
            .is_some());
        let backoff = stream_plus::Backoff::fixed(d);
        let ok = |x: &u8| futures::future::ready(Ok::<u8, ()>(*x));
        assert_eq!(
            StreamExt::collect::<Vec<_>>(one().map_concurrent_retry(1, backoff.clone(), ok)).await,
            [Ok(1)]
        );
        assert_eq!(
            StreamExt::collect::<Vec<_>>(
                one()
                    .map_concurrent_retry_unordered(1, backoff, ok)
                    .retry_if(|_| true)
            )
            .await,
            [Ok(1)]
        );
    });
}
