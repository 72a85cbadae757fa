//! Cancel modes: what a consumer does when its producer stops or cancels.

mod support;

use arbor_actor::Exit;
use arbor_stage::{Cancel, Stage, SubscribeOptions};
use support::{collect, Counter, Probe, Seen};

/// Starts a producer of `limit` events (it then stops normally) or an endless one, and
/// a consumer of it in `cancel` mode.
async fn pair(
    cancel: Cancel,
    limit: Option<u64>,
) -> (
    Stage<Counter>,
    Stage<Probe>,
    tokio::sync::mpsc::UnboundedReceiver<Seen>,
) {
    let producer = Stage::producer(Counter { limit }, 0).start().await.unwrap();
    let (probe, seen) = Probe::new();
    let options = SubscribeOptions::new().max_demand(10).cancel(cancel);
    let consumer = Stage::consumer(probe, ())
        .subscribe_to(&producer, options)
        .start()
        .await
        .unwrap();
    (producer, consumer, seen)
}

async fn cancelled_reason(seen: &mut tokio::sync::mpsc::UnboundedReceiver<Seen>) -> Exit {
    loop {
        match seen.recv().await.unwrap() {
            Seen::Cancelled(_, reason) => return reason,
            Seen::Batch(..) | Seen::Subscribed(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_finite_producer_delivers_everything_before_its_consumers_hear_it_stopped() {
    let (producer, consumer, mut seen) = pair(Cancel::Permanent, Some(25)).await;
    let (_, events) = collect(&mut seen, 25).await;
    assert_eq!(events, (0..25).collect::<Vec<_>>());
    assert_eq!(producer.wait().await, Exit::Normal);
    assert_eq!(cancelled_reason(&mut seen).await, Exit::Normal);
    // Permanent: the consumer follows, with the same reason.
    assert_eq!(consumer.wait().await, Exit::Normal);
}

#[tokio::test]
async fn permanent_consumers_stop_with_their_producers_reason() {
    let (producer, consumer, mut seen) = pair(Cancel::Permanent, None).await;
    producer.stop(Exit::error("boom")).unwrap();
    assert_eq!(cancelled_reason(&mut seen).await, Exit::error("boom"));
    assert_eq!(consumer.wait().await, Exit::error("boom"));
}

#[tokio::test]
async fn transient_consumers_stop_only_on_abnormal_exits() {
    let (producer, consumer, mut seen) = pair(Cancel::Transient, None).await;
    producer.stop(Exit::shutdown()).unwrap();
    assert_eq!(cancelled_reason(&mut seen).await, Exit::shutdown());
    consumer.subscriptions().await.unwrap();
    assert!(consumer.is_alive());

    let (producer, consumer, mut seen) = pair(Cancel::Transient, None).await;
    producer.kill();
    assert_eq!(cancelled_reason(&mut seen).await, Exit::Killed);
    assert_eq!(consumer.wait().await, Exit::Killed);
}

#[tokio::test]
async fn temporary_consumers_outlive_their_producers() {
    let (producer, consumer, mut seen) = pair(Cancel::Temporary, None).await;
    producer.stop(Exit::error("boom")).unwrap();
    assert_eq!(cancelled_reason(&mut seen).await, Exit::error("boom"));
    assert_eq!(
        consumer.subscriptions().await.unwrap(),
        arbor_stage::Subscriptions::new(0, 0)
    );
    assert!(consumer.is_alive());
}

#[tokio::test]
async fn a_consumer_that_dies_is_forgotten_by_its_producer() {
    let (producer, consumer, _seen) = pair(Cancel::Permanent, None).await;
    assert_eq!(
        producer.subscriptions().await.unwrap(),
        arbor_stage::Subscriptions::new(1, 0)
    );
    consumer.kill();
    consumer.wait().await;
    // The stop hook's message is in the producer's mailbox before `wait` returns.
    assert_eq!(
        producer.subscriptions().await.unwrap(),
        arbor_stage::Subscriptions::new(0, 0)
    );
    assert!(producer.is_alive());
}

#[tokio::test]
async fn cancelling_from_the_consumer_applies_its_own_cancel_mode() {
    let (producer, consumer, mut seen) = pair(Cancel::Temporary, None).await;
    let Some(Seen::Subscribed(tag)) = seen.recv().await else {
        panic!("expected the subscription first");
    };
    consumer.cancel(tag, Exit::Normal).unwrap();
    assert_eq!(cancelled_reason(&mut seen).await, Exit::Normal);
    assert_eq!(
        producer.subscriptions().await.unwrap(),
        arbor_stage::Subscriptions::new(0, 0)
    );
    assert!(consumer.is_alive());
}

#[tokio::test]
async fn subscribe_and_cancel_cycles_leave_no_stop_hooks_behind() {
    let producer = Stage::producer(support::Pusher, ()).start().await.unwrap();
    let (probe, mut seen) = Probe::new();
    let consumer = Stage::consumer(probe, ()).start().await.unwrap();
    let before = (
        producer.pid().stop_hook_count(),
        consumer.pid().stop_hook_count(),
    );
    for _ in 0..10_000 {
        let options = SubscribeOptions::new().cancel(Cancel::Temporary);
        let tag = consumer.subscribe(&producer, options).await.unwrap();
        consumer.cancel(tag, Exit::Normal).unwrap();
        // Both sides are done with the subscription once the consumer has heard of it.
        loop {
            match tokio::time::timeout(support::STALL, seen.recv())
                .await
                .unwrap()
            {
                Some(Seen::Cancelled(cancelled, _)) if cancelled == tag => break,
                Some(Seen::Subscribed(_)) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    let after = (
        producer.pid().stop_hook_count(),
        consumer.pid().stop_hook_count(),
    );
    assert_eq!(after, before, "hooks held before and after 10,000 cycles");
}
