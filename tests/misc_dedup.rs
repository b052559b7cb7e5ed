//! `dedup` and `dedup_by_key`: consecutive repeats dropped.

mod support;

use futures::stream::{self, FusedStream, StreamExt};
use futures_test::stream::StreamTestExt;
use proptest::prelude::*;
use stream_plus::StreamExtPlus;
use support::{matrix_test, on_every_executor, Script};

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn matches_vec_dedup(items in prop::collection::vec(0u8..4, 0..80)) {
        let mut expected = items.clone();
        expected.dedup();
        let mut by_key = items.clone();
        by_key.dedup_by_key(|x| *x / 2);
        on_every_executor(|| {
            let (items, expected, by_key) = (items.clone(), expected.clone(), by_key.clone());
            async move {
                let out: Vec<u8> = stream::iter(items.clone()).interleave_pending().dedup().collect().await;
                assert_eq!(out, expected);
                let out: Vec<u8> = stream::iter(items).interleave_pending().dedup_by_key(|x| *x / 2).collect().await;
                assert_eq!(out, by_key);
            }
        });
    }
}

matrix_test! {
    async fn long_runs_of_repeats() {
        let out: Vec<u32> = stream::iter(std::iter::repeat(7).take(10_000).chain([8])).dedup().collect().await;
        assert_eq!(out, [7, 8]);
    }

    async fn fused_after_end() {
        let mut s = Script::items([1u8, 1, 2]).dedup();
        let out: Vec<u8> = s.by_ref().collect().await;
        assert_eq!(out, [1, 2]);
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
        let mut s = Script::items([1u8, 1, 2]).dedup_by_key(|x| *x);
        let out: Vec<u8> = s.by_ref().collect().await;
        assert_eq!(out, [1, 2]);
        assert!(s.is_terminated());
        assert_eq!(s.next().await, None);
    }

    async fn drop_releases_the_held_item() {
        let item = std::sync::Arc::new(1);
        let mut s = stream::iter(vec![item.clone()]).chain(stream::pending()).dedup();
        assert!(s.next().await.is_some());
        assert_eq!(std::sync::Arc::strong_count(&item), 2); // the clone it compares with
        drop(s);
        assert_eq!(std::sync::Arc::strong_count(&item), 1);
    }

    #[should_panic(expected = "key failed")]
    async fn panic_in_key_reaches_poller() {
        let _: Vec<u8> = stream::iter([1u8, 2]).dedup_by_key(|x| if *x == 2 { panic!("key failed") } else { *x }).collect().await;
    }
}
