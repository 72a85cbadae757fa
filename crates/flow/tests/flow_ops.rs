//! Every operation's result equals the sequential `Iterator` computation on the same
//! data, whatever the number of stages and the demand (proptest).

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use arbor_flow::{Events, Flow, PartitionOptions, State};
use proptest::prelude::*;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .expect("a runtime for the tests")
    })
}

fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}

fn options<T: std::hash::Hash + 'static>(stages: usize, demand: usize) -> PartitionOptions<T> {
    PartitionOptions::new().stages(stages).max_demand(demand)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn per_event_ops_equal_the_iterator(data in prop::collection::vec(0u32..1000, 0..400), stages in 1usize..5, demand in 1usize..50) {
        let expected: Vec<u64> = data
            .iter()
            .map(|n| u64::from(*n) * 3)
            .filter(|n| n % 2 == 0)
            .filter(|n| n % 7 != 0)
            .flat_map(|n| [n, n + 1])
            .collect();
        let flow = Flow::from_iter(data.clone())
            .partition(options(stages, demand))
            .map(|n| u64::from(n) * 3)
            .filter(|n| n % 2 == 0)
            .reject(|n| n % 7 == 0)
            .flat_map(|n| [n, n + 1]);
        let got = runtime().block_on(flow.collect()).unwrap();
        prop_assert_eq!(sorted(got), sorted(expected));
    }

    #[test]
    fn reduce_by_key_equals_a_sequential_count(data in prop::collection::vec(0u32..50, 0..500), stages in 1usize..5, demand in 1usize..50, sources in 1usize..4) {
        let mut expected: HashMap<u32, usize> = HashMap::new();
        for n in &data {
            *expected.entry(n % 11).or_default() += 1;
        }
        let chunks: Vec<Vec<u32>> = (0..sources)
            .map(|s| data.iter().copied().skip(s).step_by(sources).collect())
            .collect();
        let flow = Flow::from_iters(chunks)
            .map(|n| n % 11)
            .partition(options(stages, demand))
            .reduce(HashMap::new, |mut counts: HashMap<u32, usize>, key| {
                *counts.entry(key).or_default() += 1;
                counts
            })
            .emit(Events);
        let got = runtime().block_on(flow.collect()).unwrap();
        // Each key is counted by exactly one stage: no key appears twice.
        let keys: HashSet<u32> = got.iter().map(|(k, _)| *k).collect();
        prop_assert_eq!(keys.len(), got.len());
        prop_assert_eq!(got.into_iter().collect::<HashMap<_, _>>(), expected);
    }

    #[test]
    fn group_by_equals_a_sequential_grouping(data in prop::collection::vec(0u32..100, 0..300), stages in 1usize..5) {
        let mut expected: HashMap<u32, Vec<u32>> = HashMap::new();
        for n in &data {
            expected.entry(n % 5).or_default().push(*n);
        }
        let flow = Flow::from_iter(data.clone())
            .partition(PartitionOptions::by_key(|n: &u32| n % 5).stages(stages))
            .group_by(|n| n % 5, |n| n)
            .emit(Events);
        let got: HashMap<u32, Vec<u32>> = runtime().block_on(flow.collect()).unwrap().into_iter().collect();
        // One source: a key's values keep their order.
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn uniq_by_keeps_one_event_per_key(data in prop::collection::vec(0u32..40, 0..300), stages in 1usize..5) {
        let expected: HashSet<u32> = data.iter().copied().collect();
        let flow = Flow::from_iter(data.clone())
            .partition(options(stages, 10))
            .uniq_by(|n| *n);
        let got = runtime().block_on(flow.collect()).unwrap();
        prop_assert_eq!(got.len(), expected.len());
        prop_assert_eq!(got.into_iter().collect::<HashSet<_>>(), expected);
    }

    #[test]
    fn take_sort_equals_sort_and_take(data in prop::collection::vec(0u32..10_000, 0..400), stages in 1usize..5, n in 0usize..30) {
        let mut expected = data.clone();
        expected.sort_by(|a, b| b.cmp(a));
        expected.truncate(n);
        let flow = Flow::from_iter(data.clone())
            .partition(options(stages, 20))
            .take_sort(n, |a, b| b.cmp(a));
        let got = runtime().block_on(flow.collect()).unwrap();
        prop_assert_eq!(got, vec![expected]);
    }

    #[test]
    fn emit_and_reduce_emits_running_totals(data in prop::collection::vec(0u64..100, 0..200)) {
        let mut total = 0;
        let mut expected: Vec<u64> = data.iter().map(|n| { total += n; total }).collect();
        expected.push(total);
        let flow = Flow::from_iter(data.clone())
            .partition(PartitionOptions::new().stages(1))
            .emit_and_reduce(|| 0u64, |sum, n| (vec![sum + n], sum + n), |sum, _, _| (vec![sum], sum));
        let got = runtime().block_on(flow.collect()).unwrap();
        prop_assert_eq!(got, expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reduction_per_stage_without_partition_counts_per_stage() {
    // Before any partition, events go to whichever stage asks: the per-stage sums add
    // up to the total.
    let sums = Flow::from_iter(1..=1000u64)
        .map(|n| n)
        .reduce(|| 0u64, |sum, n| sum + n)
        .emit(State)
        .collect()
        .await
        .unwrap();
    assert_eq!(sums.iter().sum::<u64>(), 500_500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_stream_and_each_see_every_event() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    let seen = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&seen);
    let got = Flow::from_stream(futures::stream::iter(1..=100u64))
        .each(move |n| {
            counter.fetch_add(*n, Ordering::Relaxed);
        })
        .collect()
        .await
        .unwrap();
    assert_eq!(sorted(got), (1..=100).collect::<Vec<_>>());
    assert_eq!(seen.load(Ordering::Relaxed), 5050);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hash_returning_none_drops_the_event() {
    let got = Flow::from_iter(0..100u32)
        .partition(
            PartitionOptions::by_hash(|n: &u32| (n % 10 != 0).then_some((*n % 2) as usize))
                .stages(2),
        )
        .map(|n| n)
        .collect()
        .await
        .unwrap();
    let expected: Vec<u32> = (0..100).filter(|n| n % 10 != 0).collect();
    assert_eq!(sorted(got), expected);
}
