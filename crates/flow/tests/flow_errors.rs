//! Bad input: invalid plans are refused before anything starts; a failing function stops
//! the flow and the caller gets the reason.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arbor_actor::Exit;
use arbor_flow::{Flow, FlowError, InvalidFlow, PartitionOptions, State, Window};

fn invalid(result: Result<Vec<u64>, FlowError>) -> InvalidFlow {
    match result {
        Err(FlowError::Invalid(invalid)) => invalid,
        other => panic!("expected an invalid flow, got {other:?}"),
    }
}

fn failure(result: Result<Vec<u64>, FlowError>) -> Exit {
    match result {
        Err(FlowError::Failed { reason, .. }) => reason,
        other => panic!("expected a failed flow, got {other:?}"),
    }
}

async fn summed(window: Window<u64>) -> Result<Vec<u64>, FlowError> {
    Flow::from_iter(1..=10u64)
        .partition(PartitionOptions::new().stages(1).window(window))
        .reduce(|| 0u64, |sum, n| sum + n)
        .emit(State)
        .collect()
        .await
}

#[tokio::test]
async fn invalid_plans_are_refused_before_anything_starts() {
    let zero_stages = Flow::from_iter(1..=3u64)
        .partition(PartitionOptions::new().stages(0))
        .map(|n| n)
        .collect()
        .await;
    assert_eq!(invalid(zero_stages), InvalidFlow::ZeroStages);
    assert_eq!(
        invalid(summed(Window::count(0)).await),
        InvalidFlow::ZeroCount
    );
    assert_eq!(
        invalid(summed(Window::periodic(Duration::ZERO)).await),
        InvalidFlow::ZeroDuration("periodic")
    );
    assert_eq!(
        invalid(summed(Window::fixed(Duration::ZERO, |n| *n as i64)).await),
        InvalidFlow::ZeroDuration("fixed")
    );
    assert_eq!(
        invalid(summed(Window::global().trigger_every(0)).await),
        InvalidFlow::ZeroTriggerEvery
    );
    assert_eq!(
        invalid(summed(Window::global().trigger_every(2).trigger_every(3)).await),
        InvalidFlow::SecondTrigger
    );
    let windowed_map = Flow::from_iter(1..=3u64)
        .partition(PartitionOptions::new().stages(1).window(Window::count(2)))
        .map(|n| n)
        .collect()
        .await;
    assert_eq!(invalid(windowed_map), InvalidFlow::WindowWithoutReduce);
    let twice = Flow::from_iter(1..=3u64)
        .reduce(|| 0u64, |s, n| s + n)
        .emit(State)
        .reduce(|| 0u64, |s, n| s + n)
        .emit(State)
        .collect()
        .await;
    assert_eq!(invalid(twice), InvalidFlow::SecondReduce);
    let bad_demand = Flow::from_iter(1..=3u64)
        .partition(
            PartitionOptions::new()
                .stages(1)
                .max_demand(5)
                .min_demand(5),
        )
        .map(|n| n)
        .collect()
        .await;
    assert!(matches!(invalid(bad_demand), InvalidFlow::Demand(_)));
    let none: Vec<Vec<u64>> = Vec::new();
    assert_eq!(
        invalid(Flow::from_iters(none).collect().await),
        InvalidFlow::NoSources
    );
}

#[tokio::test]
async fn a_panicking_key_function_fails_the_flow_with_its_message() {
    let result = Flow::from_iter(1..=100u64)
        .partition(
            PartitionOptions::by_key(|n: &u64| {
                assert!(*n != 42, "no key for 42");
                *n
            })
            .stages(2),
        )
        .map(|n| n)
        .collect()
        .await;
    let reason = failure(result);
    assert!(reason.to_string().contains("no key for 42"), "{reason}");
}

#[tokio::test]
async fn a_panicking_map_fails_the_flow() {
    let result = Flow::from_iter(1..=100u64)
        .map(|n| {
            assert!(n != 7, "seven is not welcome");
            n
        })
        .collect()
        .await;
    assert!(failure(result).to_string().contains("seven is not welcome"));
}

#[tokio::test]
async fn a_hash_out_of_range_fails_the_flow() {
    let result = Flow::from_iter(1..=100u64)
        .partition(PartitionOptions::by_hash(|_| Some(5)).stages(2))
        .map(|n| n)
        .collect()
        .await;
    assert!(failure(result).is_abnormal());
}

#[test]
fn the_blocking_sink_refuses_to_run_inside_a_runtime() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let result = runtime.block_on(async { Flow::from_iter(1..=3u64).collect_blocking() });
    assert!(matches!(result, Err(FlowError::InsideRuntime)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_infinite_source_is_read_only_as_far_as_demand_allows() {
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&pulled);
    let naturals = (0u64..).inspect(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let mut events = Flow::from_iter(naturals)
        .partition(PartitionOptions::new().stages(2).max_demand(10))
        .map(|n| n * 2)
        .into_stream()
        .await
        .unwrap();
    let mut read = 0;
    while read < 5_000 {
        events.next().await.unwrap().unwrap();
        read += 1;
    }
    // The reader holds at most its max_demand (1000) per stage unread, and each stage
    // asks the source for at most 10: the source is never far ahead of the reader.
    let ahead = pulled.load(Ordering::SeqCst) - read;
    assert!(
        ahead <= 2 * 1000 + 2 * 10,
        "the source ran {ahead} events ahead"
    );
    drop(events);
}
