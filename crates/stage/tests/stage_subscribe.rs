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
    assert_eq!(
        producer.subscriptions().await.unwrap(),
        arbor_stage::Subscriptions::new(1, 0)
    );
    assert_eq!(
        consumer.subscriptions().await.unwrap(),
        arbor_stage::Subscriptions::new(0, 1)
    );
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
        .async_subscribe(
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
async fn a_typed_name_reaches_a_stage_to_subscribe_to_and_to_call() {
    let names: Registry<&str> = Registry::unique("stages");
    let counter: arbor_registry::Named<Stage<Counter>, &str> = names.named("counter");
    assert!(counter.get().is_err(), "nobody holds the name yet");
    let producer = Stage::producer(Counter::default(), 0)
        .via(names.via("counter", ()))
        .start()
        .await
        .unwrap();
    assert_eq!(counter.get().unwrap().pid(), producer.pid());
    let (probe, mut seen) = Probe::new();
    Stage::consumer(probe, ())
        .subscribe_to(
            &counter,
            SubscribeOptions::new().max_demand(3).min_demand(0),
        )
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
    assert_eq!(permanent.wait().await, Exit::NoProc);

    // At start, the same failure fails the start.
    let started = Stage::consumer(probe, ())
        .subscribe_to(&producer, SubscribeOptions::new())
        .start()
        .await;
    assert!(matches!(
        started,
        Err(StageStartError::Subscribe(SubscribeError::NoProc(_)))
    ));
}

#[tokio::test]
async fn a_second_subscription_of_one_consumer_to_one_producer_is_refused() {
    let producer = Stage::producer(Counter::default(), 0)
        .dispatcher(arbor_stage::BroadcastDispatcher::new)
        .start()
        .await
        .unwrap();
    let (probe, mut seen) = Probe::new();
    let consumer = Stage::consumer(probe, ()).start().await.unwrap();
    let options = || {
        SubscribeOptions::new()
            .max_demand(5)
            .min_demand(0)
            .cancel(Cancel::Temporary)
    };
    let first = consumer.subscribe(&producer, options()).await.unwrap();
    // The producer refuses the second, and the call says so.
    assert_eq!(
        consumer.subscribe(&producer, options()).await,
        Err(SubscribeError::Refused(Exit::error("already subscribed")))
    );
    // The first goes on, each event once.
    let mut events = Vec::new();
    while events.len() < 20 {
        match tokio::time::timeout(support::STALL, seen.recv())
            .await
            .unwrap()
        {
            Some(Seen::Batch(tag, batch)) => {
                assert_eq!(tag, first, "events only through the first subscription");
                events.extend(batch);
            }
            Some(Seen::Cancelled(..) | Seen::Subscribed(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let count = events.len() as u64;
    assert_eq!(events, (0..count).collect::<Vec<_>>());
    assert_eq!(
        producer.subscriptions().await.unwrap(),
        arbor_stage::Subscriptions::new(1, 0)
    );
}

/// Blocks the producer's mailbox until the gate opens.
struct Hold(tokio::sync::oneshot::Receiver<()>);

#[tokio::test]
async fn a_consumer_that_stops_before_its_subscription_is_handled_is_never_subscribed() {
    let producer = Stage::producer(support::Pusher, ()).start().await.unwrap();
    let (open, gate) = tokio::sync::oneshot::channel();
    producer.cast(Hold(gate)).unwrap();
    let (probe, _seen) = Probe::new();
    let consumer = Stage::consumer(probe, ()).start().await.unwrap();
    consumer
        .async_subscribe(&producer, SubscribeOptions::new().cancel(Cancel::Temporary))
        .unwrap();
    // A call is a barrier: the subscription request is in the producer's mailbox.
    consumer.subscriptions().await.unwrap();
    consumer.kill();
    consumer.wait().await;
    open.send(()).unwrap();
    // The dead consumer holds no subscription, and so no demand that would swallow events.
    assert_eq!(
        producer.subscriptions().await.unwrap(),
        arbor_stage::Subscriptions::new(0, 0)
    );
}

impl arbor_stage::StageCast<Hold> for support::Pusher {
    async fn handle_cast(
        &self,
        Hold(gate): Hold,
        _: &mut (),
        _: &mut arbor_stage::StageContext<Self>,
    ) -> arbor_actor::Outcome {
        let _ = gate.await;
        arbor_actor::Outcome::NoReply
    }
}

#[tokio::test]
async fn events_sent_to_a_consumer_that_just_died_go_back_to_the_buffer() {
    let producer = Stage::producer(support::Pusher, ()).start().await.unwrap();
    let (probe, _seen) = Probe::new();
    let doomed = Stage::consumer(probe, ())
        .subscribe_to(
            &producer,
            SubscribeOptions::new()
                .max_demand(10)
                .cancel(Cancel::Temporary),
        )
        .start()
        .await
        .unwrap();
    // The doomed consumer's demand is registered; then the producer is held, the
    // events queued behind the hold, and the consumer dies before they go out.
    assert_eq!(
        producer.subscriptions().await.unwrap(),
        arbor_stage::Subscriptions::new(1, 0)
    );
    let (open, gate) = tokio::sync::oneshot::channel();
    producer.cast(Hold(gate)).unwrap();
    producer.cast(support::Push((0..5).collect())).unwrap();
    doomed.kill();
    doomed.wait().await;
    open.send(()).unwrap();
    // Nothing was lost: a new consumer gets all five.
    assert_eq!(producer.buffered_count().await.unwrap(), 5);
    let mut seen = support::probe_on(&producer, SubscribeOptions::new().max_demand(10)).await;
    let (_, events) = collect(&mut seen, 5).await;
    assert_eq!(events, vec![0, 1, 2, 3, 4]);
}

#[tokio::test]
async fn a_partition_asked_of_a_producer_without_partitions_is_refused() {
    let producer = Stage::producer(Counter::default(), 0)
        .start()
        .await
        .unwrap();
    let (probe, _seen) = Probe::new();
    let consumer = Stage::consumer(probe, ()).start().await.unwrap();
    let options = SubscribeOptions::new()
        .partition(0)
        .cancel(Cancel::Temporary);
    assert_eq!(
        consumer.subscribe(&producer, options).await,
        Err(SubscribeError::Refused(Exit::error(
            "partition 0 asked of a dispatcher that has no partitions"
        )))
    );
    assert_eq!(
        producer.subscriptions().await.unwrap(),
        arbor_stage::Subscriptions::new(0, 0)
    );
}

#[tokio::test]
async fn subscribing_to_a_name_nobody_holds_stops_a_permanent_consumer_as_a_dead_producer_does() {
    let names: Registry<&str> = Registry::unique("stages-unheld");
    let to = || SubscribeTo::via::<Counter, _, _>(&names, "nobody");
    let (probe, _seen) = Probe::new();
    let temporary = Stage::consumer(probe.clone(), ()).start().await.unwrap();
    let refused = temporary
        .subscribe(to(), SubscribeOptions::new().cancel(Cancel::Temporary))
        .await;
    assert!(matches!(refused, Err(SubscribeError::NotRegistered(_))));
    assert!(temporary.is_alive());

    for cancel in [Cancel::Permanent, Cancel::Transient] {
        let consumer = Stage::consumer(probe.clone(), ()).start().await.unwrap();
        let refused = consumer
            .subscribe(to(), SubscribeOptions::new().cancel(cancel))
            .await;
        assert!(matches!(refused, Err(SubscribeError::NotRegistered(_))));
        assert_eq!(consumer.wait().await, Exit::NoProc, "{cancel:?}");
    }
}

#[tokio::test]
async fn resubscribe_cancels_and_subscribes_again_with_new_options() {
    let producer = Stage::producer(Counter::default(), 0)
        .start()
        .await
        .unwrap();
    let (probe, mut seen) = Probe::manual();
    let consumer = Stage::consumer(probe, ()).start().await.unwrap();
    // Permanent, the default: a plain cancel by the producer would stop the consumer.
    let old = consumer
        .subscribe(&producer, SubscribeOptions::new().max_demand(2))
        .await
        .unwrap();
    let new = consumer
        .resubscribe(
            old,
            Exit::shutdown_with("new options"),
            SubscribeOptions::new().max_demand(5),
        )
        .await
        .unwrap();
    assert_ne!(old, new);
    // handle_cancel ran for the old one, and the consumer lives on.
    loop {
        match tokio::time::timeout(support::STALL, seen.recv())
            .await
            .unwrap()
        {
            Some(Seen::Cancelled(tag, reason)) => {
                assert_eq!(tag, old);
                assert_eq!(reason, Exit::shutdown_with("new options"));
                break;
            }
            Some(Seen::Subscribed(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    consumer.ask(new, 5).await.unwrap();
    let (_, events) = collect(&mut seen, 5).await;
    assert_eq!(events.len(), 5);
    assert!(consumer.is_alive());
    assert_eq!(
        producer.subscriptions().await.unwrap(),
        arbor_stage::Subscriptions::new(1, 0)
    );
    assert_eq!(
        consumer
            .resubscribe(old, Exit::Normal, SubscribeOptions::new())
            .await,
        Err(SubscribeError::NotSubscribed(old))
    );
}

#[tokio::test]
async fn resubscribe_async_moves_the_subscription_without_waiting() {
    let producer = Stage::producer(Counter::default(), 0)
        .start()
        .await
        .unwrap();
    let (probe, mut seen) = Probe::new();
    let consumer = Stage::consumer(probe, ()).start().await.unwrap();
    let old = consumer
        .subscribe(
            &producer,
            SubscribeOptions::new().max_demand(2).min_demand(0),
        )
        .await
        .unwrap();
    consumer
        .async_resubscribe(old, Exit::Normal, SubscribeOptions::new().max_demand(4))
        .unwrap();
    // Events go on, through a new subscription; the old one was cancelled.
    let mut new_tag = None;
    while new_tag.is_none() {
        match tokio::time::timeout(support::STALL, seen.recv())
            .await
            .unwrap()
        {
            Some(Seen::Batch(tag, _)) if tag != old => new_tag = Some(tag),
            Some(_) => {}
            None => panic!("the consumer stopped"),
        }
    }
    assert!(consumer.is_alive());
    assert_eq!(
        consumer.subscriptions().await.unwrap(),
        arbor_stage::Subscriptions::new(0, 1)
    );
}

/// A consumer that tells the test when its `init` has run and how it ended.
struct Announcer {
    inited: tokio::sync::mpsc::UnboundedSender<()>,
    ended: tokio::sync::mpsc::UnboundedSender<Exit>,
}

impl arbor_stage::GenStage for Announcer {
    type Args = ();
    type State = ();
    type In = u64;
    type Out = arbor_stage::NoEvents;

    async fn init(&self, _: (), _: &mut arbor_stage::StageContext<Self>) -> arbor_actor::Init<()> {
        let _ = self.inited.send(());
        arbor_actor::Init::Ready(())
    }

    async fn terminate(&self, reason: &Exit, _: &mut (), _: &mut arbor_stage::StageContext<Self>) {
        let _ = self.ended.send(reason.clone());
    }
}

impl arbor_stage::Consumer for Announcer {
    async fn handle_events(
        &self,
        _: Vec<u64>,
        _: arbor_stage::SubscriptionTag,
        _: &mut (),
        _: &mut arbor_stage::StageContext<Self>,
    ) -> arbor_actor::Outcome {
        arbor_actor::Outcome::NoReply
    }
}

#[tokio::test]
async fn a_start_abandoned_while_its_subscription_waits_leaves_no_stage_running() {
    let producer = Stage::producer(support::Pusher, ()).start().await.unwrap();
    let (open, gate) = tokio::sync::oneshot::channel();
    producer.cast(Hold(gate)).unwrap();
    let (inited, mut init) = tokio::sync::mpsc::unbounded_channel();
    let (ended, mut end) = tokio::sync::mpsc::unbounded_channel();
    let consumer = Announcer { inited, ended };
    let mut start = Box::pin(
        Stage::consumer(consumer, ())
            .subscribe_to(&producer, SubscribeOptions::new())
            .start(),
    );
    tokio::select! {
        biased;
        started = &mut start => panic!("the held producer cannot answer: {started:?}"),
        _ = init.recv() => {}
    }
    // The held producer never answers, so the start goes on to wait for its answer.
    for _ in 0..20 {
        assert!(futures::poll!(&mut start).is_pending());
        tokio::task::yield_now().await;
    }
    drop(start);
    let exit = tokio::time::timeout(std::time::Duration::from_secs(5), end.recv()).await;
    assert_eq!(
        exit.expect("the abandoned stage stops"),
        Some(Exit::shutdown())
    );
    open.send(()).unwrap();
}

/// A start answers from what the producer said, even when the stage has stopped by the
/// time the start reads the answer: here its producer accepts, delivers its three events
/// and ends, and the (permanent) consumer ends with it. The start succeeded; it used to be
/// reported as a refusal with the stage's exit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_whose_producer_accepted_succeeds_though_the_stage_has_already_ended() {
    for _ in 0..500 {
        let producer = arbor_stage::from_iter([1_u64, 2, 3]).start().await.unwrap();
        let (probe, mut seen) = Probe::new();
        let consumer = Stage::consumer(probe, ())
            .subscribe_to(&producer, SubscribeOptions::new())
            .start()
            .await
            .expect("the producer accepted: the start succeeds");
        let (_, events) = collect(&mut seen, 3).await;
        assert_eq!(events, vec![1, 2, 3]);
        assert_eq!(consumer.wait().await, Exit::Normal);
    }
}
