//! The producer buffer: events nobody asked for wait there, a full buffer discards by
//! `BufferKeep`, and every discard is counted.

mod support;

use arbor_stage::{BufferKeep, BufferSize, Stage, SubscribeOptions};
use support::{collect, probe_on, Push, Pusher};

async fn overflow(keep: BufferKeep) -> (u64, Vec<u64>) {
    let producer = Stage::producer(Pusher, ())
        .buffer_size(BufferSize::Bounded(10))
        .buffer_keep(keep)
        .start()
        .await
        .unwrap();
    producer.cast(Push((0..15).collect())).unwrap();
    assert_eq!(producer.buffered_count().await.unwrap(), 10);
    let discarded = producer.discarded_count().await.unwrap();

    let mut seen = probe_on(&producer, SubscribeOptions::new().max_demand(100)).await;
    let (_, events) = collect(&mut seen, 10).await;
    assert_eq!(producer.buffered_count().await.unwrap(), 0);
    (discarded, events)
}

#[tokio::test]
async fn a_full_buffer_keeping_last_drops_the_oldest_and_counts_them() {
    let (discarded, events) = overflow(BufferKeep::Last).await;
    assert_eq!(discarded, 5);
    assert_eq!(events, (5..15).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_full_buffer_keeping_first_drops_the_newest_and_counts_them() {
    let (discarded, events) = overflow(BufferKeep::First).await;
    assert_eq!(discarded, 5);
    assert_eq!(events, (0..10).collect::<Vec<_>>());
}

#[tokio::test]
async fn events_cast_in_reach_a_waiting_consumer_without_buffering() {
    let producer = Stage::producer(Pusher, ()).start().await.unwrap();
    let mut seen = probe_on(
        &producer,
        SubscribeOptions::new().max_demand(10).min_demand(0),
    )
    .await;
    producer.cast(Push(vec![1, 2, 3])).unwrap();
    let (_, events) = collect(&mut seen, 3).await;
    assert_eq!(events, vec![1, 2, 3]);
    assert_eq!(producer.buffered_count().await.unwrap(), 0);
    assert_eq!(producer.discarded_count().await.unwrap(), 0);
}

#[tokio::test]
async fn an_unbounded_buffer_discards_nothing() {
    let producer = Stage::producer(Pusher, ())
        .buffer_size(BufferSize::Unbounded)
        .start()
        .await
        .unwrap();
    producer.cast(Push((0..50_000).collect())).unwrap();
    assert_eq!(producer.buffered_count().await.unwrap(), 50_000);
    assert_eq!(producer.discarded_count().await.unwrap(), 0);
}

#[test]
fn discards_are_logged_with_the_stage_name_and_the_count() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ((), logs) = support::capture_logs(|| {
        runtime.block_on(async {
            let producer = Stage::producer(Pusher, ())
                .name("page_producer")
                .buffer_size(BufferSize::Bounded(2))
                .start()
                .await
                .unwrap();
            producer.cast(Push(vec![1, 2, 3, 4, 5])).unwrap();
            assert_eq!(producer.discarded_count().await.unwrap(), 3);
        })
    });
    let warnings = support::at_level(&logs, tracing::Level::WARN);
    assert_eq!(warnings.len(), 1, "{logs:?}");
    let text = &warnings[0].text;
    assert!(
        text.contains("page_producer") && text.contains("discarded 3 events"),
        "{text}"
    );
}

/// A pusher that reports its discards itself and silences the default warning.
struct Quiet(std::sync::mpsc::Sender<usize>);

impl arbor_stage::GenStage for Quiet {
    type Args = ();
    type State = ();
    type In = arbor_stage::NoEvents;
    type Out = u64;

    async fn init(&self, _: (), _: &mut arbor_stage::StageContext<Self>) -> arbor_actor::Init<()> {
        arbor_actor::Init::Ready(())
    }

    fn format_discarded(&self, discarded: usize, _: &()) -> bool {
        let _ = self.0.send(discarded);
        false
    }
}

impl arbor_stage::Producer for Quiet {
    async fn handle_demand(
        &self,
        _: usize,
        _: &mut (),
        _: &mut arbor_stage::StageContext<Self>,
    ) -> arbor_actor::Outcome {
        arbor_actor::Outcome::NoReply
    }
}

impl arbor_stage::StageCast<Push> for Quiet {
    async fn handle_cast(
        &self,
        Push(events): Push,
        _: &mut (),
        ctx: &mut arbor_stage::StageContext<Self>,
    ) -> arbor_actor::Outcome {
        ctx.emit_batch(events);
        arbor_actor::Outcome::NoReply
    }
}

/// Overflows a buffer of 10 by 5 on one thread; returns the warnings logged.
fn overflow_logs<S>(producer: S) -> Vec<support::Log>
where
    S: arbor_stage::Producer<Args = (), Out = u64> + arbor_stage::StageCast<Push>,
{
    let (_, logs) = support::capture_logs(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let producer = Stage::producer(producer, ())
                .buffer_size(BufferSize::Bounded(10))
                .start()
                .await
                .unwrap();
            producer.cast(Push((0..15).collect())).unwrap();
            assert_eq!(producer.discarded_count().await.unwrap(), 5);
        });
    });
    support::at_level(&logs, tracing::Level::WARN)
        .into_iter()
        .cloned()
        .collect()
}

#[test]
fn format_discarded_can_silence_the_warning_and_the_default_logs_it() {
    let (tx, rx) = std::sync::mpsc::channel();
    let warnings = overflow_logs(Quiet(tx));
    assert_eq!(rx.try_recv(), Ok(5), "the stage heard of the five discards");
    assert!(
        !warnings.iter().any(|log| log.text.contains("discarded")),
        "{warnings:?}"
    );
    let warnings = overflow_logs(Pusher);
    assert!(
        warnings
            .iter()
            .any(|log| log.text.contains("has discarded 5 events")),
        "{warnings:?}"
    );
}

#[tokio::test]
async fn a_producer_is_drained_once_its_buffer_is_empty() {
    let producer = Stage::producer(support::Pusher, ()).start().await.unwrap();
    producer.drained().await.unwrap();
    producer.cast(support::Push((0..5).collect())).unwrap();
    let mut drained = Box::pin(producer.drained());
    assert!(futures::poll!(&mut drained).is_pending());
    // A call is a barrier: the five events wait in the buffer, with no consumer.
    assert_eq!(producer.buffered_count().await.unwrap(), 5);
    assert!(futures::poll!(&mut drained).is_pending());
    let mut seen = support::probe_on(&producer, SubscribeOptions::new().max_demand(10)).await;
    support::collect(&mut seen, 5).await;
    drained.await.unwrap();
}
