//! `partition_by` keeps the messages of one key on one stage, in order.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use arbor_broadway::{BatcherOptions, Broadway, ProcessorOptions, ProducerOptions, TestProducer};
use support::{Job, Recorder, Seen};

fn jobs(n: u64, keys: u64) -> Vec<Job> {
    (0..n)
        .map(|id| Job {
            key: id % keys,
            ..Job::ok(id)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processors_partitioned_by_key_handle_each_key_in_order() {
    let seen = Arc::new(Seen::default());
    let pipeline = Broadway::builder("by_key", Recorder, Arc::clone(&seen))
        .producer(TestProducer::new())
        .processors(
            ProcessorOptions::new()
                .concurrency(4)
                .max_demand(4)
                .min_demand(1)
                .partition_by(|message: &arbor_broadway::Message<Job>| message.data().key),
        )
        .start()
        .await
        .unwrap();
    let acked = pipeline.test_batch(jobs(400, 7)).await.unwrap();
    assert_eq!(acked.len(), 400);
    let handled = seen.handled.lock().unwrap().clone();
    let mut last: HashMap<u64, u64> = HashMap::new();
    for (key, id) in handled {
        if let Some(previous) = last.insert(key, id) {
            assert!(previous < id, "key {key}: {id} handled after {previous}");
        }
    }
    pipeline.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batchers_partitioned_by_key_keep_each_key_on_one_batch_processor_in_order() {
    let seen = Arc::new(Seen::default());
    let pipeline = Broadway::builder("batch_by_key", Recorder, Arc::clone(&seen))
        .producer(TestProducer::new())
        .producer_options(ProducerOptions::new().concurrency(1))
        .processors(ProcessorOptions::new().concurrency(1))
        .batcher(
            "default",
            BatcherOptions::new()
                .batch_size(5)
                .batch_timeout(Duration::from_millis(20))
                .concurrency(3)
                .partition_by(|message: &arbor_broadway::Message<Job>| message.data().key),
        )
        .start()
        .await
        .unwrap();
    pipeline.test_batch(jobs(200, 5)).await.unwrap();
    let batches = seen.batches.lock().unwrap().clone();
    let mut last: HashMap<u64, u64> = HashMap::new();
    for (info, ids) in batches {
        let partition = info.partition.unwrap();
        for id in ids {
            assert_eq!(
                (id % 5) as usize % 3,
                partition,
                "message {id} in partition {partition}"
            );
            if let Some(previous) = last.insert(id % 5, id) {
                assert!(previous < id);
            }
        }
    }
    pipeline.stop().await;
}
