//! Graceful shutdown: stopping a pipeline with messages in every stage loses none and
//! acknowledges each exactly once; a processor crash leaves the producers alone.

mod support;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use arbor_broadway::{
    BatchTrigger, BatcherOptions, Broadway, CallerAcknowledger, ProcessorOptions, ProducerOptions,
    TestProducer,
};
use arbor_supervisor::Supervisor;
use support::{all_acks, messages, Job, Recorder, Seen};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_drains_every_stage_flushes_partial_batches_and_acks_all_once() {
    let seen = Arc::new(Seen {
        batch_delay: Duration::from_millis(1),
        ..Seen::default()
    });
    let pipeline = Broadway::builder("drain", Recorder, Arc::clone(&seen))
        .producer(TestProducer::new())
        .producer_options(ProducerOptions::new().concurrency(2))
        .processors(ProcessorOptions::new().concurrency(3))
        .batcher(
            "default",
            BatcherOptions::new()
                .batch_size(7)
                .batch_timeout(Duration::from_secs(3600))
                .concurrency(2),
        )
        .start()
        .await
        .unwrap();
    let (acknowledger, calls) = CallerAcknowledger::channel();
    pipeline
        .producers()
        .push(0, messages((0..600).map(Job::ok), &acknowledger))
        .unwrap();
    pipeline
        .producers()
        .push(1, messages((600..1000).map(Job::ok), &acknowledger))
        .unwrap();
    drop(acknowledger);
    pipeline.stop().await;
    assert!(!pipeline.supervisor().is_alive());

    let acks = all_acks(calls).await;
    let mut count: HashMap<u64, usize> = HashMap::new();
    for (id, ok) in &acks {
        assert!(ok);
        *count.entry(*id).or_default() += 1;
    }
    assert_eq!(count.len(), 1000, "every message acknowledged");
    assert!(count.values().all(|&n| n == 1), "none twice");
    let batches = seen.batches.lock().unwrap();
    assert!(batches
        .iter()
        .all(|(info, _)| info.trigger != BatchTrigger::Timeout));
    // 1000 is not a multiple of 7: the last batch of each partition was flushed partial.
    assert!(batches
        .iter()
        .any(|(info, _)| info.trigger == BatchTrigger::Flush && info.size < 7));
}

#[tokio::test]
async fn stopping_an_idle_pipeline_without_batchers_is_prompt() {
    let pipeline = Broadway::builder("idle", Recorder, Arc::new(Seen::default()))
        .producer(TestProducer::new())
        .processors(ProcessorOptions::new().concurrency(2))
        .start()
        .await
        .unwrap();
    assert!(pipeline
        .test_message(Job::ok(1))
        .await
        .unwrap()
        .is_successful());
    pipeline.stop().await;
    assert!(!pipeline.supervisor().is_alive());
}

#[tokio::test]
async fn a_pipeline_in_a_tree_drains_when_the_tree_stops() {
    let (spec, producers) = Broadway::builder("in_tree", Recorder, Arc::new(Seen::default()))
        .producer(TestProducer::new())
        .processors(ProcessorOptions::new().concurrency(2))
        .batcher(
            "default",
            BatcherOptions::new()
                .batch_size(10)
                .batch_timeout(Duration::from_secs(3600)),
        )
        .child_spec("bookings")
        .unwrap();
    let tree = Supervisor::start([spec], arbor_supervisor::SupervisorOptions::one_for_one())
        .await
        .unwrap();
    let (acknowledger, calls) = CallerAcknowledger::channel();
    producers
        .push(0, messages((0..25).map(Job::ok), &acknowledger))
        .unwrap();
    drop(acknowledger);
    tree.stop(arbor_actor::Exit::shutdown()).await;
    let acks = all_acks(calls).await;
    assert_eq!(acks.len(), 25);
}

#[tokio::test]
async fn a_processor_crash_does_not_restart_the_producers() {
    let pipeline = Broadway::builder("isolated", Recorder, Arc::new(Seen::default()))
        .producer(TestProducer::new())
        .processors(ProcessorOptions::new().concurrency(2))
        .start()
        .await
        .unwrap();
    let supervisor = pipeline.supervisor();
    let producer = supervisor.find_child("producer_0").await.unwrap().unwrap();
    let processor = supervisor.find_child("processor_1").await.unwrap().unwrap();
    processor.cell().kill();
    // The processor comes back (a new actor), the producer is the same one.
    loop {
        let now = supervisor.find_child("processor_1").await.unwrap();
        if now.is_some_and(|child| child.id() != processor.id()) {
            break;
        }
        tokio::task::yield_now().await;
    }
    let same = supervisor.find_child("producer_0").await.unwrap().unwrap();
    assert_eq!(same.id(), producer.id());
    assert!(pipeline
        .test_batch((0..20).map(Job::ok).collect())
        .await
        .unwrap()
        .iter()
        .all(|a| a.is_successful()));
    pipeline.stop().await;
}

/// Holds every message until the test lets it go, telling the test when it has one.
struct Held {
    entered: tokio::sync::mpsc::UnboundedSender<u64>,
    gate: Arc<tokio::sync::Semaphore>,
}

impl arbor_broadway::Pipeline for Held {
    type Data = u64;
    type Context = ();
    async fn handle_message(
        &self,
        _: &str,
        message: &mut arbor_broadway::Message<u64>,
        _: &(),
    ) -> Result<(), arbor_broadway::BoxError> {
        let _ = self.entered.send(*message.data());
        self.gate.acquire().await?.forget();
        Ok(())
    }
}

#[tokio::test]
async fn a_stage_crash_loses_its_messages_unacknowledged_never_acked_twice() {
    let (entered, mut inside) = tokio::sync::mpsc::unbounded_channel();
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let held = Held {
        entered,
        gate: Arc::clone(&gate),
    };
    let pipeline = Broadway::builder("crash", held, ())
        .producer(TestProducer::new())
        .processors(
            ProcessorOptions::new()
                .concurrency(1)
                .max_demand(10)
                .min_demand(0),
        )
        .start()
        .await
        .unwrap();
    let producers = pipeline.producers().clone();
    let lost = tokio::spawn(async move { producers.test_batch((0..10).collect()).await });
    // The processor holds all ten (one chunk) and is inside the first.
    assert_eq!(inside.recv().await, Some(0));
    let processor = pipeline
        .supervisor()
        .find_child("processor_0")
        .await
        .unwrap()
        .unwrap();
    processor.cell().kill();
    assert_eq!(
        lost.await.unwrap(),
        Err(arbor_broadway::TestError::Lost { missing: 10 })
    );
    // The restarted processor handles new messages.
    gate.add_permits(100);
    let acked = pipeline.test_batch(vec![42]).await.unwrap();
    assert_eq!(acked, vec![arbor_broadway::Acked::Successful(42)]);
    pipeline.stop().await;
}
