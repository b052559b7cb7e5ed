use futures::StreamExt;
use std::time::{Duration, Instant};
use stream_plus::StreamExtPlus;
#[test]
fn scratch_retry_in_keyed() {
    smol::block_on(async {
        let t = Instant::now();
        let n = futures::stream::iter(0..1000u32)
            .chain(futures::stream::pending())
            .map_concurrent_by_key_unordered(
                8,
                |x| x % 10,
                |x| {
                    let mut n = 0;
                    let fail = if x % 10 == 0 { 2 } else { 0 };
                    async move {
                        stream_plus::retry(
                            stream_plus::Backoff::exponential(Duration::from_millis(20))
                                .attempts(4),
                            || {
                                n += 1;
                                let k = n;
                                async move {
                                    stream_plus::sleep(Duration::from_millis(1)).await;
                                    if k <= fail {
                                        Err("x")
                                    } else {
                                        Ok(())
                                    }
                                }
                            },
                        )
                        .await
                    }
                },
            )
            .take(1000)
            .count()
            .await;
        println!("{n} {:?}", t.elapsed());
    });
}
