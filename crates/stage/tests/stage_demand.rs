//! The demand protocol, with gen_stage's batch boundaries: a consumer asks `max_demand`,
//! handles batches of at most `max_demand - min_demand`, and re-asks as it goes.

mod support;

use arbor_stage::{Stage, SubscribeOptions};
use support::{collect, Counter, Probe};

async fn batch_sizes(max: usize, min: usize, count: usize) -> Vec<usize> {
    let producer = Stage::producer(Counter::default(), 0)
        .start()
        .await
        .unwrap();
    let (probe, mut seen) = Probe::new();
    let options = SubscribeOptions::new().max_demand(max).min_demand(min);
    let _consumer = Stage::consumer(probe, ())
        .subscribe_to(&producer, options)
        .start()
        .await
        .unwrap();
    let (sizes, events) = collect(&mut seen, count).await;
    assert_eq!(
        events,
        (0..events.len() as u64).collect::<Vec<_>>(),
        "in order, none lost"
    );
    sizes
}

#[tokio::test]
async fn max_100_min_80_handles_batches_of_20() {
    let sizes = batch_sizes(100, 80, 400).await;
    assert!(sizes.iter().all(|&size| size == 20), "{sizes:?}");
}

#[tokio::test]
async fn max_10_min_5_handles_batches_of_5() {
    let sizes = batch_sizes(10, 5, 100).await;
    assert!(sizes.iter().all(|&size| size == 5), "{sizes:?}");
}

#[tokio::test]
async fn max_1_min_0_handles_one_event_at_a_time() {
    let sizes = batch_sizes(1, 0, 50).await;
    assert!(sizes.iter().all(|&size| size == 1), "{sizes:?}");
}

#[tokio::test]
async fn defaults_ask_1000_and_handle_batches_of_500() {
    let sizes = batch_sizes(1000, 500, 3000).await;
    assert!(sizes.iter().all(|&size| size == 500), "{sizes:?}");
}
