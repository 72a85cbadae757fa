//! Subscribing: at start, at run time (sync and async), by registry name; and the
//! typed errors for bad options and impossible subscriptions.

mod support;

use arbor_actor::Exit;
use arbor_registry::Registry;
use arbor_stage::{
    Cancel, InvalidOptions, Stage, StageStartError, SubscribeError, SubscribeOptions, SubscribeTo,
};
use support::{collect, Counter, Doubler, Probe, Seen};

#[tokio::test]
async fn a_consumer_subscribes_at_run_time_and_gets_its_tag() {
    let producer = Stage::producer(Counter::default(), 0)
        .start()
        .await
        .unwrap();
    let (probe, mut seen) = Probe::new();
    let consumer = Stage::consumer(probe, ()).start().await.unwrap();
    let options = SubscribeOptions::new().max_demand(4).min_demand(2);
    let tag = consumer.subscribe(&producer, options).await.unwrap();
    assert_eq!(seen.recv().await, Some(Seen::Subscribed(tag)));
    let (_, events) = collect(&mut seen, 8).await;
    assert_eq!(events, (0..8).collect::<Vec<_>>());
    assert_eq!(producer.subscriptions().await.unwrap(), (1, 0));
    assert_eq!(consumer.subscriptions().await.unwrap(), (0, 1));
}

#[tokio::test]
async fn an_async_subscription_is_made_without_waiting() {
    let producer = Stage::producer(Counter::default(), 0)
        .start()
        .await
        .unwrap();
    let (probe, mut seen) = Probe::new();
    let consumer = Stage::consumer(probe, ()).start().await.unwrap();
    consumer
        .subscribe_async(
            &producer,
            SubscribeOptions::new().max_demand(2).min_demand(0),
        )
        .unwrap();
    let (_, events) = collect(&mut seen, 4).await;
    assert_eq!(events, vec![0, 1, 2, 3]);
}

#[tokio::test]
async fn a_consumer_subscribes_by_registry_name() {
    let names: Registry<&str> = Registry::unique("stages");
    let _producer = Stage::producer(Counter::default(), 0)
        .via(names.via("counter", ()))
        .start()
        .await
        .unwrap();
    let (probe, mut seen) = Probe::new();
    let to = SubscribeTo::via::<Counter, _, _>(&names, "counter");
    Stage::consumer(probe, ())
        .subscribe_to(to, SubscribeOptions::new().max_demand(3).min_demand(0))
        .start()
        .await
        .unwrap();
    let (_, events) = collect(&mut seen, 3).await;
    assert_eq!(events, vec![0, 1, 2]);
}

#[tokio::test]
async fn bad_demand_options_fail_the_start_with_a_typed_error() {
    let producer = Stage::producer(Counter::default(), 0)
        .start()
        .await
        .unwrap();
    let (probe, _seen) = Probe::new();
    let started = Stage::consumer(probe.clone(), ())
        .subscribe_to(
            &producer,
            SubscribeOptions::new().max_demand(10).min_demand(10),
        )
        .start()
        .await;
    assert_eq!(
        started.unwrap_err(),
        StageStartError::InvalidOptions(InvalidOptions::MinDemandNotBelowMax {
            min_demand: 10,
            max_demand: 10
        })
    );
    let consumer = Stage::consumer(probe, ()).start().await.unwrap();
    let refused = consumer
        .subscribe(&producer, SubscribeOptions::new().max_demand(0))
        .await;
    assert_eq!(
        refused,
        Err(SubscribeError::InvalidOptions(
            InvalidOptions::ZeroMaxDemand
        ))
    );
    assert!(consumer.is_alive());
}

#[tokio::test]
async fn a_producer_cannot_subscribe_and_a_stage_not_to_itself() {
    let producer = Stage::producer(Counter::default(), 0)
        .start()
        .await
        .unwrap();
    let (probe, _seen) = Probe::new();
    let consumer = Stage::consumer(probe, ()).start().await.unwrap();
    assert_eq!(
        producer.subscribe(&consumer, SubscribeOptions::new()).await,
        Err(SubscribeError::NotAConsumer)
    );
    let doubler = Stage::producer_consumer(Doubler, ()).start().await.unwrap();
    assert_eq!(
        doubler.subscribe(&doubler, SubscribeOptions::new()).await,
        Err(SubscribeError::SelfSubscription)
    );
    assert!(doubler.is_alive());
}

#[tokio::test]
async fn a_dead_producer_stops_a_permanent_consumer_and_not_a_temporary_one() {
    let producer = Stage::producer(Counter::default(), 0)
        .start()
        .await
        .unwrap();
    producer.kill();
    producer.wait().await;

    let (probe, _seen) = Probe::new();
    let temporary = Stage::consumer(probe.clone(), ()).start().await.unwrap();
    let refused = temporary
        .subscribe(&producer, SubscribeOptions::new().cancel(Cancel::Temporary))
        .await;
    assert!(matches!(refused, Err(SubscribeError::NoProc(_))));
    assert!(temporary.is_alive());

    let permanent = Stage::consumer(probe.clone(), ()).start().await.unwrap();
    let refused = permanent
        .subscribe(&producer, SubscribeOptions::new())
        .await;
    assert!(matches!(refused, Err(SubscribeError::NoProc(_))));
    assert_eq!(permanent.wait().await, Exit::error("noproc"));

    // At start, the same failure fails the start.
    let started = Stage::consumer(probe, ())
        .subscribe_to(&producer, SubscribeOptions::new())
        .start()
        .await;
    assert!(matches!(started, Err(StageStartError::Start(_))));
}
