//! Manual demand on the consumer side, and accumulate / forward on the producer side.

mod support;

use arbor_stage::{DemandMode, Stage, SubscribeOptions};
use support::{collect, Counter, Probe, Seen};

#[tokio::test]
async fn a_manual_consumer_receives_exactly_what_it_asks_for() {
    let producer = Stage::producer(Counter::default(), 0)
        .start()
        .await
        .unwrap();
    let (probe, mut seen) = Probe::manual();
    let consumer = Stage::consumer(probe, ())
        .subscribe_to(&producer, SubscribeOptions::new().max_demand(100))
        .start()
        .await
        .unwrap();
    let Some(Seen::Subscribed(tag)) = seen.recv().await else {
        panic!("expected the subscription first");
    };
    // Nothing is asked for a manual subscription.
    producer.buffered_count().await.unwrap();
    consumer.buffered_count().await.unwrap();
    assert!(seen.try_recv().is_err());

    consumer.ask(tag, 7).unwrap();
    let (sizes, events) = collect(&mut seen, 7).await;
    assert_eq!(sizes, vec![7]);
    assert_eq!(events, (0..7).collect::<Vec<_>>());
    // And no more than that: both stages have nothing left in flight.
    producer.buffered_count().await.unwrap();
    consumer.buffered_count().await.unwrap();
    assert!(seen.try_recv().is_err());

    consumer.ask(tag, 3).unwrap();
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

    producer.demand(DemandMode::Forward).unwrap();
    let (_, events) = collect(&mut seen, 10).await;
    assert_eq!(events, (0..10).collect::<Vec<_>>());
}
