//! Manual demand on the consumer side, and accumulate / forward on the producer side.

mod support;

use std::time::Duration;

use arbor_actor::Exit;
use arbor_stage::{Cancel, DemandMode, Stage, SubscribeError, SubscribeOptions};
use support::{collect, manual_probe_on, Counter, Probe, Seen};

#[tokio::test]
async fn a_manual_consumer_receives_exactly_what_it_asks_for() {
    let producer = Stage::producer(Counter::default(), 0)
        .start()
        .await
        .unwrap();
    let (consumer, mut seen, tag) =
        manual_probe_on(&producer, SubscribeOptions::new().max_demand(100)).await;
    // Nothing is asked for a manual subscription.
    producer.buffered_count().await.unwrap();
    consumer.buffered_count().await.unwrap();
    assert!(seen.try_recv().is_err());

    consumer.ask(tag, 7).await.unwrap();
    let (sizes, events) = collect(&mut seen, 7).await;
    assert_eq!(sizes, vec![7]);
    assert_eq!(events, (0..7).collect::<Vec<_>>());
    // And no more than that: both stages have nothing left in flight.
    producer.buffered_count().await.unwrap();
    consumer.buffered_count().await.unwrap();
    assert!(seen.try_recv().is_err());

    consumer.ask(tag, 3).await.unwrap();
    let (_, events) = collect(&mut seen, 3).await;
    assert_eq!(events, vec![7, 8, 9]);
}

#[tokio::test]
async fn an_accumulating_producer_holds_demand_until_forwarded() {
    let producer = Stage::producer(Counter::default(), 0)
        .demand_mode(DemandMode::Accumulate)
        .start()
        .await
        .unwrap();
    let (probe, mut seen) = Probe::new();
    let consumer = Stage::consumer(probe, ())
        .subscribe_to(
            &producer,
            SubscribeOptions::new().max_demand(10).min_demand(0),
        )
        .start()
        .await
        .unwrap();
    assert!(matches!(seen.recv().await, Some(Seen::Subscribed(_))));
    producer.buffered_count().await.unwrap();
    consumer.buffered_count().await.unwrap();
    assert!(
        seen.try_recv().is_err(),
        "no event before demand is forwarded"
    );

    producer.set_demand_mode(DemandMode::Forward).unwrap();
    let (_, events) = collect(&mut seen, 10).await;
    assert_eq!(events, (0..10).collect::<Vec<_>>());
}

/// A producer that reports each `handle_demand` it gets, and emits that many.
struct Recorder(tokio::sync::mpsc::UnboundedSender<usize>);

impl arbor_stage::GenStage for Recorder {
    type Args = ();
    type State = u64;
    type In = arbor_stage::NoEvents;
    type Out = u64;

    async fn init(&self, _: (), _: &mut arbor_stage::StageContext<Self>) -> arbor_actor::Init<u64> {
        arbor_actor::Init::Ready(0)
    }
}

impl arbor_stage::Producer for Recorder {
    async fn handle_demand(
        &self,
        demand: usize,
        next: &mut u64,
        ctx: &mut arbor_stage::StageContext<Self>,
    ) -> arbor_actor::Outcome {
        let _ = self.0.send(demand);
        let end = *next + demand as u64;
        ctx.emit_all(*next..end);
        *next = end;
        arbor_actor::Outcome::NoReply
    }
}

#[tokio::test]
async fn forwarding_again_replays_each_held_demand_as_it_was_asked() {
    let (asked, mut demands) = tokio::sync::mpsc::unbounded_channel();
    let producer = Stage::producer(Recorder(asked), ())
        .demand_mode(DemandMode::Accumulate)
        .start()
        .await
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..2 {
        let (probe, rx) = Probe::manual();
        let consumer = Stage::consumer(probe, ())
            .subscribe_to(&producer, SubscribeOptions::new().max_demand(10))
            .start()
            .await
            .unwrap();
        seen.push((consumer, rx));
    }
    for (consumer, rx) in &mut seen {
        let Some(Seen::Subscribed(tag)) = rx.recv().await else {
            panic!("expected the subscription first");
        };
        consumer.ask(tag, 2).await.unwrap();
        // A call is a barrier: the consumer has sent its ask.
        consumer.buffered_count().await.unwrap();
    }
    producer.buffered_count().await.unwrap();
    assert!(demands.try_recv().is_err(), "held while accumulating");

    producer.set_demand_mode(DemandMode::Forward).unwrap();
    assert_eq!(demands.recv().await, Some(2));
    assert_eq!(demands.recv().await, Some(2));
    // Each consumer gets one batch of its two events.
    for (_, rx) in &mut seen {
        let (sizes, _) = collect(rx, 2).await;
        assert_eq!(sizes, vec![2]);
    }
}

#[tokio::test]
async fn an_ask_for_an_unknown_subscription_is_refused_with_a_typed_error() {
    let (probe, _seen) = Probe::manual();
    let consumer = Stage::consumer(probe, ()).start().await.unwrap();
    let unknown = support::tag(999_999);
    let refused = consumer.ask(unknown, 5).await;
    assert!(
        matches!(refused, Err(SubscribeError::NotSubscribed(tag)) if tag == unknown),
        "{refused:?}"
    );
    assert!(consumer.is_alive());
}

#[tokio::test]
async fn an_ask_for_an_ended_subscription_is_refused() {
    let producer = Stage::producer(Counter::default(), 0)
        .start()
        .await
        .unwrap();
    let (probe, _seen) = Probe::manual();
    let consumer = Stage::consumer(probe, ()).start().await.unwrap();
    let tag = consumer
        .subscribe(&producer, SubscribeOptions::new().cancel(Cancel::Temporary))
        .await
        .unwrap();
    consumer.ask(tag, 1).await.unwrap();
    producer
        .stop_and_wait(Exit::Normal, Duration::from_secs(5))
        .await
        .unwrap();
    // The producer's stop reached the consumer before the barrier's answer.
    consumer.buffered_count().await.unwrap();
    assert!(matches!(
        consumer.ask(tag, 1).await,
        Err(SubscribeError::NotSubscribed(_))
    ));
}
