//! The producer's options: rate limiting, transformer, concurrency.

mod support;

use std::sync::Arc;
use std::time::Duration;

use arbor_broadway::{
    Acked, BoxError, Broadway, Message, MessageProducer, ProcessorOptions, ProducerOptions, Pusher,
    TestProducer,
};
use support::{Job, Recorder, Seen};

#[tokio::test(start_paused = true)]
async fn rate_limiting_never_exceeds_the_allowance_per_interval() {
    let seen = Arc::new(Seen::default());
    let start = tokio::time::Instant::now();
    let pipeline = Broadway::builder("limited", Recorder, Arc::clone(&seen))
        .producer(TestProducer::new())
        .producer_options(
            ProducerOptions::new()
                .concurrency(2)
                .rate_limiting(10, Duration::from_secs(1)),
        )
        .processors(ProcessorOptions::new().concurrency(2))
        .start()
        .await
        .unwrap();
    let first = pipeline.producers().clone();
    let a = tokio::spawn(async move { first.test_batch((0..20).map(Job::ok).collect()).await });
    let b = pipeline
        .test_batch((20..35).map(Job::ok).collect())
        .await
        .unwrap();
    let a = a.await.unwrap().unwrap();
    assert_eq!(a.len() + b.len(), 35);
    let times = seen.times.lock().unwrap().clone();
    let mut per_window = std::collections::BTreeMap::<u128, usize>::new();
    for at in times {
        *per_window
            .entry((at - start).as_millis() / 1000)
            .or_default() += 1;
    }
    assert!(per_window.values().all(|&n| n <= 10), "{per_window:?}");
    assert_eq!(
        per_window.len(),
        4,
        "35 messages at 10 a second take 4 windows: {per_window:?}"
    );
    pipeline.stop().await;
}

/// The book's custom producer: emits page names on demand, one producer per index.
struct Pages;
impl MessageProducer for Pages {
    type Event = String;
    type State = (usize, u64);
    async fn init(&self, index: usize, _: Pusher<String>) -> Result<(usize, u64), BoxError> {
        Ok((index, 0))
    }
    async fn handle_demand(&self, demand: usize, (index, next): &mut (usize, u64)) -> Vec<String> {
        let start = *next;
        *next += demand as u64;
        (start..*next).map(|n| format!("{index}:{n}")).collect()
    }
}

struct Count(tokio::sync::mpsc::UnboundedSender<String>);
impl arbor_broadway::Pipeline for Count {
    type Data = String;
    type Context = ();
    async fn handle_message(
        &self,
        _: &str,
        message: &mut Message<String>,
        _: &(),
    ) -> Result<(), BoxError> {
        let _ = self.0.send(message.data().clone());
        Ok(())
    }
}

#[tokio::test]
async fn a_transformer_turns_raw_events_into_messages_from_every_producer() {
    let (seen, mut names) = tokio::sync::mpsc::unbounded_channel();
    let pipeline = Broadway::builder("pages", Count(seen), ())
        .producer_with_transformer(Pages, |page: String| Message::new(page.to_uppercase()))
        .producer_options(ProducerOptions::new().concurrency(2))
        .processors(ProcessorOptions::new().concurrency(2))
        .start()
        .await
        .unwrap();
    let mut from = [false, false];
    while from != [true, true] {
        let name = names.recv().await.unwrap();
        from[usize::from(name.starts_with('1'))] = true;
    }
    // Messages pushed by the test helpers skip the transformer.
    let acked = pipeline.test_message("x".into()).await.unwrap();
    assert_eq!(acked, Acked::Successful("x".into()));
    pipeline.stop().await;
}

/// A producer that cannot start.
struct Broken;
impl MessageProducer for Broken {
    type Event = Message<String>;
    type State = ();
    async fn init(&self, _: usize, _: Pusher<Message<String>>) -> Result<(), BoxError> {
        Err("no source".into())
    }
}

#[tokio::test]
async fn a_producer_that_fails_to_start_fails_the_pipeline_start() {
    let (seen, _names) = tokio::sync::mpsc::unbounded_channel();
    let started = Broadway::builder("broken", Count(seen), ())
        .producer(Broken)
        .start()
        .await;
    assert!(matches!(
        started,
        Err(arbor_broadway::StartError::Supervisor(_))
    ));
}

#[tokio::test]
async fn pushing_to_a_producer_that_does_not_exist_is_an_error() {
    let (seen, _names) = tokio::sync::mpsc::unbounded_channel();
    let pipeline = Broadway::builder("push", Count(seen), ())
        .producer(TestProducer::new())
        .start()
        .await
        .unwrap();
    assert_eq!(pipeline.producers().names(), ["producer_0"]);
    let pushed = pipeline
        .producers()
        .push(1, vec![Message::new("x".to_string())]);
    assert_eq!(pushed, Err(arbor_broadway::PushError::ProducerDown));
    pipeline.stop().await;
    let after = pipeline
        .producers()
        .push(0, vec![Message::new("x".to_string())]);
    assert_eq!(after, Err(arbor_broadway::PushError::ProducerDown));
}

#[tokio::test]
async fn a_missing_producer_is_a_typed_error() {
    let (seen, _names) = tokio::sync::mpsc::unbounded_channel();
    let built = Broadway::builder("none", Count(seen), ()).start().await;
    assert!(matches!(
        built,
        Err(arbor_broadway::StartError::Build(
            arbor_broadway::BuildError::NoProducer
        ))
    ));
}

#[tokio::test(start_paused = true)]
async fn a_drain_waits_for_messages_held_back_by_the_rate_limit() {
    let seen = Arc::new(Seen::default());
    let start = tokio::time::Instant::now();
    let pipeline = Broadway::builder("limited_drain", Recorder, Arc::clone(&seen))
        .producer(TestProducer::new())
        .producer_options(ProducerOptions::new().rate_limiting(5, Duration::from_secs(1)))
        .processors(ProcessorOptions::new().concurrency(1))
        .start()
        .await
        .unwrap();
    let (acknowledger, calls) = arbor_broadway::CallerAcknowledger::channel();
    let messages = support::messages((0..12).map(Job::ok), &acknowledger);
    drop(acknowledger);
    pipeline.producers().push(0, messages).unwrap();
    pipeline.stop().await;
    let acks = support::all_acks(calls).await;
    assert_eq!(acks.len(), 12);
    assert!(acks.iter().all(|(_, ok)| *ok));
    // 12 messages at 5 a second: the last ones left in the third window.
    assert!(start.elapsed() >= Duration::from_secs(2));
}
