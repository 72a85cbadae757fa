//! Every message is acknowledged exactly once, whatever fails where.

mod support;

use std::sync::Arc;
use std::time::Duration;

use arbor_broadway::{Acked, BatcherOptions, Broadway, ProcessorOptions, TestProducer};
use proptest::prelude::*;
use support::{Job, Recorder, Seen};

fn job() -> impl Strategy<Value = (bool, bool, u8, bool)> {
    (
        any::<bool>(),
        prop::bool::weighted(0.1),
        0u8..4,
        any::<bool>(),
    )
}

fn expected_failure(job: &Job) -> Option<String> {
    if job.panic {
        Some(format!("panic: job {} panicked", job.id))
    } else if job.fail {
        Some(format!("job {} failed", job.id))
    } else if job.batcher == Some("nope") {
        Some("unknown batcher \"nope\"".into())
    } else {
        None
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn each_message_is_acked_once_with_its_outcome(
        specs in prop::collection::vec(job(), 1..120),
        batched in any::<bool>(),
        chunk in 1usize..8,
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async {
            let jobs: Vec<Job> = specs.iter().enumerate().map(|(id, &(fail, panic, batcher, keyed))| Job {
                id: id as u64,
                fail,
                panic,
                batcher: [None, Some("a"), Some("b"), Some("nope")][usize::from(batcher)],
                batch_key: keyed.then(|| format!("k{}", id % 3)),
                ..Job::default()
            }).collect();
            let mut builder = Broadway::builder("props", Recorder, Arc::new(Seen::default()))
                .producer(TestProducer::new())
                .processors(ProcessorOptions::new().concurrency(3).max_demand(chunk + 1).min_demand(1));
            if batched {
                for name in ["default", "a", "b"] {
                    builder = builder.batcher(name, BatcherOptions::new().batch_size(4).batch_timeout(Duration::from_millis(5)).concurrency(2));
                }
            }
            let pipeline = builder.start().await.unwrap();
            let acked = pipeline.test_batch(jobs.clone()).await.unwrap();
            prop_assert_eq!(acked.len(), jobs.len());
            for (job, outcome) in jobs.iter().zip(&acked) {
                let unknown_without_batchers = !batched && job.batcher.is_some() && !job.fail && !job.panic;
                match (expected_failure(job), outcome) {
                    (_, Acked::Successful(_)) if unknown_without_batchers => {}
                    (None, Acked::Successful(data)) => prop_assert_eq!(data, job),
                    (Some(reason), Acked::Failed(_, got)) => prop_assert_eq!(&reason, got),
                    (expected, got) => prop_assert!(false, "job {:?}: expected {:?}, got {:?}", job, expected, got),
                }
            }
            pipeline.stop().await;
            Ok(())
        })?;
    }
}
