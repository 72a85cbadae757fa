//! Stages in supervision trees: restarted by their supervisor, found again by name.

mod support;

use std::time::Duration;

use arbor_actor::Exit;
use arbor_registry::Registry;
use arbor_stage::{Stage, SubscribeOptions, SubscribeTo};
use arbor_supervisor::{Supervisor, SupervisorOptions};
use support::{Counter, Crash, Probe, Seen};
use tokio::sync::mpsc::UnboundedReceiver;

/// Reads the probe until it has seen `count` events of one subscription, from the start.
async fn first_events(seen: &mut UnboundedReceiver<Seen>, count: usize) -> Vec<u64> {
    let mut events = Vec::new();
    loop {
        match seen.recv().await.expect("probe gone") {
            Seen::Subscribed(_) => events.clear(),
            Seen::Batch(_, batch) => events.extend(batch),
            Seen::Cancelled(..) | Seen::Terminated(_) => {}
        }
        if events.len() >= count {
            return events;
        }
    }
}

#[tokio::test]
async fn rest_for_one_restarts_producer_and_consumer_and_events_flow_again() {
    let names: Registry<&str> = Registry::unique("pipeline");
    let producer = Stage::producer(Counter::default(), 0)
        .via(names.via("producer", ()))
        .child_spec("producer")
        .unwrap();
    let (probe, mut seen) = Probe::new();
    let options = SubscribeOptions::new().max_demand(10).min_demand(5);
    let consumer = Stage::consumer(probe, ())
        .subscribe_to(
            SubscribeTo::via::<Counter, _, _>(&names, "producer"),
            options,
        )
        .child_spec("consumer")
        .unwrap();
    let tree = Supervisor::start(
        [names.child_spec("registry"), producer, consumer],
        SupervisorOptions::rest_for_one(),
    )
    .await
    .unwrap();

    assert_eq!(
        first_events(&mut seen, 30).await[..30],
        (0..30).collect::<Vec<_>>()[..]
    );
    let first = Stage::<Counter>::whereis(&names, &"producer").unwrap();
    first.cast(Crash).unwrap();
    assert!(matches!(first.wait().await, Exit::Panic(_)));

    // The consumer is stopped and started again after the new producer, which it finds
    // by name: a fresh subscription, counting from 0 again.
    while !matches!(seen.recv().await, Some(Seen::Terminated(_))) {}
    assert_eq!(
        first_events(&mut seen, 30).await[..30],
        (0..30).collect::<Vec<_>>()[..]
    );
    let second = Stage::<Counter>::whereis(&names, &"producer").unwrap();
    assert_ne!(second, first);
    assert_eq!(
        second.subscriptions().await.unwrap(),
        arbor_stage::Subscriptions::new(1, 0)
    );

    tokio::time::timeout(Duration::from_secs(5), tree.stop(Exit::shutdown()))
        .await
        .unwrap();
    assert!(!second.is_alive());
    assert_eq!(names.count(), 0);
}

#[tokio::test]
async fn a_via_named_stage_cannot_start_twice() {
    let names: Registry<&str> = Registry::unique("pipeline");
    let via = || names.via("producer", ());
    Stage::producer(Counter::default(), 0)
        .via(via())
        .start()
        .await
        .unwrap();
    let again = Stage::producer(Counter::default(), 0)
        .via(via())
        .start()
        .await;
    assert!(matches!(
        again,
        Err(arbor_stage::StageStartError::Start(
            arbor_actor::StartError::AlreadyStarted { .. }
        ))
    ));
}

#[tokio::test]
async fn a_stage_child_of_a_supervisor_is_found_again_as_a_stage() {
    let spec = Stage::producer(Counter::default(), 0)
        .child_spec("counter")
        .unwrap();
    let tree = arbor_supervisor::Supervisor::start([spec], Default::default())
        .await
        .unwrap();
    let info = tree.which_children().await.unwrap().remove(0);
    let child = info.state.child().cloned().unwrap();
    let counter = Stage::<Counter>::from_child(&child).expect("a Counter stage");
    assert_eq!(counter.buffered_count().await.unwrap(), 0);
    assert!(
        Stage::<support::Pusher>::from_child(&child).is_none(),
        "not a Pusher"
    );
}
