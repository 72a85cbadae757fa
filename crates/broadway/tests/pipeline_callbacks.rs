//! The callbacks and the acknowledgement they lead to: Broadway's semantics for
//! handle_message, prepare_messages, handle_failed and handle_batch, pinned.

mod support;

use std::sync::Arc;
use std::time::Duration;

use arbor_broadway::{
    AckData, Acked, BatchTrigger, BatcherOptions, Broadway, BuildError, CallerAcknowledger,
    Message, ProcessorOptions, ProducerOptions, StartError, TestProducer,
};
use support::{Job, Recorder, Seen};

fn builder(seen: Seen) -> arbor_broadway::BroadwayBuilder<Recorder> {
    Broadway::builder("callbacks", Recorder, Arc::new(seen)).producer(TestProducer::new())
}

/// One processor, one batcher with `size` and `timeout`, recording into the returned `Seen`.
async fn one_batcher(size: usize, timeout: Duration) -> (Arc<Seen>, Broadway<Job>) {
    let seen = Arc::new(Seen::default());
    let pipeline = Broadway::builder("batches", Recorder, Arc::clone(&seen))
        .producer(TestProducer::new())
        .processors(ProcessorOptions::new().concurrency(1))
        .batcher(
            "default",
            BatcherOptions::new()
                .batch_size(size)
                .batch_timeout(timeout),
        )
        .start()
        .await
        .unwrap();
    (seen, pipeline)
}

#[tokio::test]
async fn handle_message_success_and_failure_are_acked_as_such() {
    let pipeline = builder(Seen::default())
        .processors(ProcessorOptions::new().concurrency(2))
        .start()
        .await
        .unwrap();
    let acked = pipeline
        .test_batch(vec![
            Job::ok(1),
            Job {
                fail: true,
                ..Job::ok(2)
            },
        ])
        .await
        .unwrap();
    assert_eq!(acked[0], Acked::Successful(Job::ok(1)));
    assert_eq!(
        acked[1],
        Acked::Failed(
            Job {
                fail: true,
                ..Job::ok(2)
            },
            "job 2 failed".into()
        )
    );
    pipeline.stop().await;
}

#[tokio::test]
async fn a_panic_fails_only_its_message_and_the_processor_lives_on() {
    let pipeline = builder(Seen::default())
        .processors(ProcessorOptions::new().concurrency(1))
        .start()
        .await
        .unwrap();
    let jobs = vec![
        Job::ok(1),
        Job {
            panic: true,
            ..Job::ok(2)
        },
        Job::ok(3),
    ];
    let acked = pipeline.test_batch(jobs).await.unwrap();
    assert!(acked[0].is_successful());
    assert!(matches!(&acked[1], Acked::Failed(_, reason) if reason.contains("job 2 panicked")));
    assert!(acked[2].is_successful());
    // The same processor still works.
    assert!(pipeline
        .test_message(Job::ok(4))
        .await
        .unwrap()
        .is_successful());
    let children = pipeline.supervisor().count_children().await.unwrap();
    assert_eq!(children.active, children.specs);
    pipeline.stop().await;
}

#[tokio::test]
async fn processors_handle_chunks_of_max_minus_min_demand() {
    let seen = Arc::new(Seen::default());
    let pipeline = Broadway::builder("chunks", Recorder, Arc::clone(&seen))
        .producer(TestProducer::new())
        .processors(
            ProcessorOptions::new()
                .concurrency(1)
                .max_demand(10)
                .min_demand(7),
        )
        .start()
        .await
        .unwrap();
    let acked = pipeline
        .test_batch((0..25).map(Job::ok).collect())
        .await
        .unwrap();
    assert_eq!(acked.len(), 25);
    // 25 messages in chunks of at most 10 - 7 = 3.
    let chunks = seen.chunks.lock().unwrap().clone();
    assert!(chunks.iter().all(|&n| (1..=3).contains(&n)), "{chunks:?}");
    assert_eq!(chunks.iter().sum::<usize>(), 25);
    pipeline.stop().await;
}

#[tokio::test]
async fn a_failing_prepare_messages_fails_the_whole_chunk() {
    let seen = Seen {
        fail_prepare: true,
        ..Seen::default()
    };
    let pipeline = builder(seen)
        .processors(ProcessorOptions::new().concurrency(1))
        .start()
        .await
        .unwrap();
    let acked = pipeline
        .test_batch(vec![Job::ok(1), Job::ok(2)])
        .await
        .unwrap();
    for outcome in acked {
        assert!(matches!(outcome, Acked::Failed(_, reason) if reason == "prepare failed"));
    }
    pipeline.stop().await;
}

#[tokio::test]
async fn an_unknown_batcher_fails_the_message_with_that_reason() {
    let pipeline = builder(Seen::default())
        .processors(ProcessorOptions::new().concurrency(1))
        .batcher("default", BatcherOptions::new().batch_size(1))
        .start()
        .await
        .unwrap();
    let job = Job {
        batcher: Some("nope"),
        ..Job::ok(1)
    };
    let acked = pipeline.test_message(job.clone()).await.unwrap();
    assert_eq!(acked, Acked::Failed(job, "unknown batcher \"nope\"".into()));
    pipeline.stop().await;
}

#[tokio::test]
async fn a_failing_batch_fails_all_its_messages() {
    let pipeline = builder(Seen::default())
        .processors(ProcessorOptions::new().concurrency(1))
        .batcher("default", BatcherOptions::new().batch_size(2))
        .start()
        .await
        .unwrap();
    let jobs = vec![
        Job::ok(1),
        Job {
            fail_batch: true,
            ..Job::ok(2)
        },
    ];
    let acked = pipeline.test_batch(jobs).await.unwrap();
    for outcome in acked {
        assert!(matches!(outcome, Acked::Failed(_, reason) if reason == "batch failed"));
    }
    pipeline.stop().await;
}

#[tokio::test]
async fn each_stage_makes_one_ack_call_per_acknowledger_with_both_lists() {
    let pipeline = builder(Seen::default())
        .processors(
            ProcessorOptions::new()
                .concurrency(1)
                .max_demand(10)
                .min_demand(0),
        )
        .start()
        .await
        .unwrap();
    let (first, mut first_calls) = CallerAcknowledger::channel();
    let (second, mut second_calls) = CallerAcknowledger::channel();
    let message = |job: Job, ack: &Arc<CallerAcknowledger<Job>>| {
        let data = AckData {
            id: job.id,
            redelivered: false,
        };
        Message::with_acknowledger(job, ack.clone(), data)
    };
    let messages = vec![
        message(Job::ok(1), &first),
        message(
            Job {
                fail: true,
                ..Job::ok(2)
            },
            &first,
        ),
        message(Job::ok(3), &second),
        message(Job::ok(4), &first),
    ];
    pipeline.producers().push(0, messages).unwrap();
    let call = first_calls.recv().await.unwrap();
    let ids: Vec<(u64, bool)> = call
        .messages
        .iter()
        .map(|(id, a)| (*id, a.is_successful()))
        .collect();
    assert_eq!(ids, vec![(1, true), (4, true), (2, false)]);
    let call = second_calls.recv().await.unwrap();
    assert_eq!(call.messages.len(), 1);
    pipeline.stop().await;
    assert!(first_calls.try_recv().is_err(), "one call only");
}

#[tokio::test]
async fn handle_failed_sees_the_failures_and_its_changes_are_acked() {
    let (acknowledger, mut calls) = CallerAcknowledger::channel();
    let seen = Arc::new(Seen::default());
    let pipeline = Broadway::builder("failed", Recorder, Arc::clone(&seen))
        .producer(TestProducer::new())
        .processors(ProcessorOptions::new().concurrency(1))
        .start()
        .await
        .unwrap();
    let job = Job {
        fail: true,
        ..Job::ok(9)
    };
    let data = AckData {
        id: 9,
        redelivered: false,
    };
    let message = Message::with_acknowledger(job, acknowledger.clone(), data);
    pipeline.producers().push(0, vec![message]).unwrap();
    let call = calls.recv().await.unwrap();
    assert_eq!(call.messages.len(), 1);
    assert!(!call.messages[0].1.is_successful());
    assert_eq!(*seen.failed_seen.lock().unwrap(), vec![9]);
    pipeline.stop().await;
}

#[tokio::test(start_paused = true)]
async fn batches_close_by_size_then_by_timeout_from_their_first_message() {
    let (seen, pipeline) = one_batcher(3, Duration::from_secs(5)).await;
    // 4 messages: one batch of 3 by size, and one of 1 after 5 s.
    let started = tokio::time::Instant::now();
    let acked = pipeline
        .test_batch((0..4).map(Job::ok).collect())
        .await
        .unwrap();
    assert!(acked.iter().all(Acked::is_successful));
    assert!(started.elapsed() >= Duration::from_secs(5));
    let batches = seen.batches.lock().unwrap().clone();
    let shape: Vec<(usize, BatchTrigger)> = batches
        .iter()
        .map(|(info, _)| (info.size, info.trigger))
        .collect();
    assert_eq!(
        shape,
        vec![(3, BatchTrigger::Size), (1, BatchTrigger::Timeout)]
    );
    pipeline.stop().await;
}

#[tokio::test]
async fn invalid_options_are_typed_errors() {
    let zero = builder(Seen::default())
        .processors(ProcessorOptions::new().concurrency(0))
        .start()
        .await;
    assert!(matches!(
        zero,
        Err(StartError::Build(BuildError::ZeroConcurrency(_)))
    ));
    let batch = builder(Seen::default())
        .batcher("default", BatcherOptions::new().batch_size(0))
        .start()
        .await;
    assert!(
        matches!(batch, Err(StartError::Build(BuildError::ZeroBatchSize(name))) if name == "default")
    );
    let demand = builder(Seen::default())
        .processors(ProcessorOptions::new().max_demand(5).min_demand(5))
        .start()
        .await;
    assert!(matches!(
        demand,
        Err(StartError::Build(BuildError::InvalidDemand { .. }))
    ));
    let producers = builder(Seen::default())
        .producer_options(ProducerOptions::new().concurrency(0))
        .start()
        .await;
    assert!(matches!(
        producers,
        Err(StartError::Build(BuildError::ZeroConcurrency(_)))
    ));
    let twice = builder(Seen::default())
        .batcher("a", BatcherOptions::new())
        .batcher("a", BatcherOptions::new())
        .start()
        .await;
    assert!(matches!(
        twice,
        Err(StartError::Build(BuildError::DuplicateBatcher(_)))
    ));
}

#[tokio::test(start_paused = true)]
async fn a_batch_timeout_is_not_extended_by_later_messages_and_keys_batch_apart() {
    let (seen, pipeline) = one_batcher(10, Duration::from_secs(4)).await;
    let keyed = |id: u64, key: &str| Job {
        batch_key: Some(key.into()),
        ..Job::ok(id)
    };
    let started = tokio::time::Instant::now();
    let first = pipeline.producers().clone();
    let early =
        tokio::spawn(async move { first.test_batch(vec![keyed(1, "a"), keyed(2, "b")]).await });
    tokio::time::sleep(Duration::from_secs(3)).await;
    let late = pipeline.test_batch(vec![keyed(3, "a")]);
    let (early, late) = tokio::join!(early, late);
    assert!(early.unwrap().unwrap().iter().all(Acked::is_successful));
    assert!(late.unwrap().iter().all(Acked::is_successful));
    let batches = seen.batches.lock().unwrap().clone();
    let mut shape: Vec<(Option<String>, Vec<u64>, BatchTrigger)> = batches
        .into_iter()
        .map(|(info, ids)| (info.batch_key, ids, info.trigger))
        .collect();
    shape.sort_by(|a, b| a.0.cmp(&b.0));
    // Message 3 joined "a"'s open batch, which still closed 4 s after message 1.
    assert_eq!(
        shape,
        vec![
            (Some("a".into()), vec![1, 3], BatchTrigger::Timeout),
            (Some("b".into()), vec![2], BatchTrigger::Timeout),
        ]
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    pipeline.stop().await;
}
