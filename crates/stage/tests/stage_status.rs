//! `Stage::status`: a stage's kind, dispatcher, buffer, demand mode and subscriptions.

mod support;

use arbor_stage::{
    BroadcastDispatcher, BufferKeep, BufferSize, DemandMode, Stage, StageKind, SubscribeOptions,
};
use support::{Doubler, Probe, Push, Pusher};

#[tokio::test]
async fn a_status_names_the_kind_the_dispatcher_the_buffer_and_the_peers() {
    let producer = Stage::producer(Pusher, ())
        .name("numbers")
        .dispatcher(BroadcastDispatcher::new)
        .buffer_size(BufferSize::Bounded(3))
        .buffer_keep(BufferKeep::First)
        .demand_mode(DemandMode::Accumulate)
        .start()
        .await
        .unwrap();
    let doubler = Stage::producer_consumer(Doubler, ())
        .name("doubler")
        .subscribe_to(&producer, SubscribeOptions::new())
        .start()
        .await
        .unwrap();
    let (probe, _seen) = Probe::new();
    let consumer = Stage::consumer(probe, ())
        .name("printer")
        .subscribe_to(&doubler, SubscribeOptions::new())
        .start()
        .await
        .unwrap();
    producer.cast(Push((0..5).collect())).unwrap();

    let status = producer.status().await.unwrap();
    assert_eq!(status.kind, StageKind::Producer);
    assert_eq!(status.dispatcher, "BroadcastDispatcher");
    assert_eq!(status.demand_mode, Some(DemandMode::Accumulate));
    assert_eq!(status.buffer_size, BufferSize::Bounded(3));
    assert_eq!(status.buffer_keep, BufferKeep::First);
    assert!(status.producers.is_empty());
    let names: Vec<_> = status
        .consumers
        .iter()
        .map(|peer| peer.pid.name())
        .collect();
    assert_eq!(names, [Some("doubler")]);

    let status = doubler.status().await.unwrap();
    assert_eq!(status.kind, StageKind::ProducerConsumer);
    assert_eq!(status.dispatcher, "DemandDispatcher");
    assert_eq!(status.demand_mode, None);
    assert_eq!(status.producers[0].pid, producer.pid());
    assert_eq!(status.consumers[0].pid, consumer.pid());

    let status = consumer.status().await.unwrap();
    assert_eq!(status.kind, StageKind::Consumer);
    assert_eq!(status.producers.len(), 1);
    assert!(status.consumers.is_empty());
}

#[tokio::test]
async fn a_status_counts_what_a_full_buffer_kept_and_discarded() {
    let producer = Stage::producer(Pusher, ())
        .buffer_size(BufferSize::Bounded(3))
        .start()
        .await
        .unwrap();
    producer.cast(Push((0..5).collect())).unwrap();
    let status = producer.status().await.unwrap();
    assert_eq!((status.buffered, status.discarded), (3, 2));
}
