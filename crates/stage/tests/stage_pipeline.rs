//! Pipelines: producer-consumers between stages, the three dispatchers at work, and a
//! million events through several stages with a checksum at the end.

mod support;

use arbor_actor::{Exit, Init, Outcome};
use arbor_stage::{
    BroadcastDispatcher, Consumer, DemandMode, GenStage, NoEvents, PartitionDispatcher, Partitions,
    Stage, StageContext, SubscribeOptions, SubscriptionTag,
};
use support::{collect, manual_probe_on, probe_on, Counter, Doubler, Probe, Seen};
use tokio::sync::oneshot;

#[tokio::test]
async fn a_producer_consumer_transforms_events_in_order() {
    let producer = Stage::producer(Counter::default(), 0)
        .start()
        .await
        .unwrap();
    let doubler = Stage::producer_consumer(Doubler, ())
        .subscribe_to(
            &producer,
            SubscribeOptions::new().max_demand(10).min_demand(5),
        )
        .start()
        .await
        .unwrap();
    let mut seen = probe_on(
        &doubler,
        SubscribeOptions::new().max_demand(4).min_demand(2),
    )
    .await;
    let (sizes, events) = collect(&mut seen, 100).await;
    assert_eq!(events, (0..100).map(|n| n * 2).collect::<Vec<_>>());
    assert!(sizes.iter().all(|&size| size <= 2), "{sizes:?}");
}

#[tokio::test]
async fn a_producer_consumer_holds_upstream_events_without_downstream_demand() {
    let producer = Stage::producer(Counter::default(), 0)
        .start()
        .await
        .unwrap();
    let doubler = Stage::producer_consumer(Doubler, ())
        .subscribe_to(
            &producer,
            SubscribeOptions::new().max_demand(10).min_demand(5),
        )
        .start()
        .await
        .unwrap();
    // No consumer: the doubler got its first 10 events and handles none of them, so it
    // asks for no more and buffers nothing.
    producer.buffered_count().await.unwrap();
    assert_eq!(doubler.buffered_count().await.unwrap(), 0);
    let mut seen = probe_on(
        &doubler,
        SubscribeOptions::new().max_demand(3).min_demand(0),
    )
    .await;
    let (_, events) = collect(&mut seen, 3).await;
    assert_eq!(events, vec![0, 2, 4]);
}

#[tokio::test]
async fn demand_dispatcher_shares_events_between_consumers_without_duplicates() {
    // Demand accumulates until both consumers are subscribed.
    let producer = Stage::producer(Counter { limit: Some(1000) }, 0)
        .demand_mode(DemandMode::Accumulate)
        .start()
        .await
        .unwrap();
    let (first, mut first_seen) = Probe::new();
    let (second, mut second_seen) = Probe::new();
    let options = || SubscribeOptions::new().max_demand(10).min_demand(5);
    let a = Stage::consumer(first, ())
        .subscribe_to(&producer, options())
        .start()
        .await
        .unwrap();
    let b = Stage::consumer(second, ())
        .subscribe_to(&producer, options())
        .start()
        .await
        .unwrap();
    producer.set_demand_mode(DemandMode::Forward).unwrap();
    assert_eq!(a.wait().await, Exit::Normal);
    assert_eq!(b.wait().await, Exit::Normal);
    let mut all = drain(&mut first_seen);
    let from_second = drain(&mut second_seen);
    assert!(
        !all.is_empty() && !from_second.is_empty(),
        "both consumers got work"
    );
    all.extend(from_second);
    all.sort_unstable();
    assert_eq!(all, (0..1000).collect::<Vec<_>>());
}

#[tokio::test]
async fn broadcast_sends_every_event_to_every_consumer_with_selectors() {
    let producer = Stage::producer(Counter { limit: Some(100) }, 0)
        .dispatcher(BroadcastDispatcher::new)
        .demand_mode(DemandMode::Accumulate)
        .start()
        .await
        .unwrap();
    // Both subscribe before any event flows; then the slowest paces the producer.
    let (all, mut all_seen) = Probe::new();
    let (evens, mut evens_seen) = Probe::new();
    let everything = Stage::consumer(all, ()).start().await.unwrap();
    let only_evens = Stage::consumer(evens, ()).start().await.unwrap();
    everything
        .subscribe(&producer, SubscribeOptions::new().max_demand(10))
        .await
        .unwrap();
    only_evens
        .subscribe(
            &producer,
            SubscribeOptions::new()
                .max_demand(10)
                .selector(|n: &u64| n % 2 == 0),
        )
        .await
        .unwrap();
    producer.set_demand_mode(DemandMode::Forward).unwrap();
    assert_eq!(everything.wait().await, Exit::Normal);
    assert_eq!(only_evens.wait().await, Exit::Normal);
    assert_eq!(drain(&mut all_seen), (0..100).collect::<Vec<_>>());
    assert_eq!(
        drain(&mut evens_seen),
        (0..100).step_by(2).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn partition_routes_each_event_to_its_partition_only() {
    let producer = Stage::producer(Counter { limit: Some(100) }, 0)
        .dispatcher(
            PartitionDispatcher::maker(Partitions::count(2), |n: &u64| Some((n % 2) as usize))
                .expect("two partitions"),
        )
        .start()
        .await
        .unwrap();
    let (even, mut even_seen) = Probe::new();
    let (odd, mut odd_seen) = Probe::new();
    let evens = Stage::consumer(even, ())
        .subscribe_to(
            &producer,
            SubscribeOptions::new().max_demand(10).partition(0),
        )
        .start()
        .await
        .unwrap();
    let odds = Stage::consumer(odd, ())
        .subscribe_to(
            &producer,
            SubscribeOptions::new().max_demand(10).partition(1),
        )
        .start()
        .await
        .unwrap();
    assert_eq!(evens.wait().await, Exit::Normal);
    assert_eq!(odds.wait().await, Exit::Normal);
    assert_eq!(
        drain(&mut even_seen),
        (0..100).step_by(2).collect::<Vec<_>>()
    );
    assert_eq!(
        drain(&mut odd_seen),
        (1..100).step_by(2).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_partition_that_does_not_exist_is_refused() {
    let producer = Stage::producer(Counter::default(), 0)
        .dispatcher(
            PartitionDispatcher::maker(Partitions::count(2), |n: &u64| Some((n % 2) as usize))
                .expect("two partitions"),
        )
        .start()
        .await
        .unwrap();
    let (probe, _seen) = Probe::new();
    // The producer refuses the subscription: the start returns the refusal, typed.
    let started = Stage::consumer(probe.clone(), ())
        .subscribe_to(&producer, SubscribeOptions::new().partition(7))
        .start()
        .await;
    let Err(arbor_stage::StageStartError::Subscribe(arbor_stage::SubscribeError::Refused(exit))) =
        started
    else {
        panic!("expected the refusal, got {started:?}");
    };
    assert!(exit.to_string().contains("unknown partition 7"), "{exit}");
    // At run time, the subscribe call returns it too.
    let consumer = Stage::consumer(probe, ()).start().await.unwrap();
    let refused = consumer
        .subscribe(
            &producer,
            SubscribeOptions::new()
                .partition(9)
                .cancel(arbor_stage::Cancel::Temporary),
        )
        .await;
    assert!(
        matches!(&refused, Err(arbor_stage::SubscribeError::Refused(exit)) if exit.to_string().contains("unknown partition 9")),
        "{refused:?}"
    );
    assert!(
        consumer.is_alive(),
        "a temporary subscription's refusal leaves it running"
    );
}

/// Sums what it receives and reports once it has seen `expected` events.
struct Summer {
    expected: u64,
    done: std::sync::Mutex<Option<oneshot::Sender<u64>>>,
}

impl GenStage for Summer {
    type Args = ();
    type State = (u64, u64);
    type In = u64;
    type Out = NoEvents;
    async fn init(&self, _: (), _ctx: &mut StageContext<Self>) -> Init<(u64, u64)> {
        Init::Ready((0, 0))
    }
}

impl Consumer for Summer {
    async fn handle_events(
        &self,
        events: Vec<u64>,
        _: SubscriptionTag,
        state: &mut (u64, u64),
        _: &mut StageContext<Self>,
    ) -> Outcome {
        state.0 += events.len() as u64;
        state.1 = events.iter().fold(state.1, |sum, n| sum.wrapping_add(*n));
        if state.0 == self.expected {
            if let Some(done) = self.done.lock().unwrap().take() {
                let _ = done.send(state.1);
            }
        }
        Outcome::NoReply
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_million_events_cross_three_stages_with_the_right_checksum() {
    const EVENTS: u64 = 1_000_000;
    let producer = Stage::producer(
        Counter {
            limit: Some(EVENTS),
        },
        0,
    )
    .start()
    .await
    .unwrap();
    let doubler = Stage::producer_consumer(Doubler, ())
        .subscribe_to(&producer, SubscribeOptions::new())
        .start()
        .await
        .unwrap();
    let (done, sum) = oneshot::channel();
    let summer = Summer {
        expected: EVENTS,
        done: std::sync::Mutex::new(Some(done)),
    };
    let consumer = Stage::consumer(summer, ())
        .subscribe_to(&doubler, SubscribeOptions::new())
        .start()
        .await
        .unwrap();
    let expected: u64 = (0..EVENTS).map(|n| n * 2).sum();
    assert_eq!(sum.await.unwrap(), expected);
    // The finite producer ends normally; permanent subscriptions carry that downstream.
    assert_eq!(consumer.wait().await, Exit::Normal);
    assert_eq!(doubler.wait().await, Exit::Normal);
}

fn drain(seen: &mut tokio::sync::mpsc::UnboundedReceiver<support::Seen>) -> Vec<u64> {
    let mut events = Vec::new();
    while let Ok(seen) = seen.try_recv() {
        if let support::Seen::Batch(_, batch) = seen {
            events.extend(batch);
        }
    }
    events
}

#[tokio::test]
async fn events_the_partition_hash_drops_are_asked_for_again() {
    // A third of the events hash to no partition. Their demand must be asked again, or
    // the consumers would wait forever for events that were dropped.
    let producer = arbor_stage::from_iter(0u64..60)
        .dispatcher(
            PartitionDispatcher::maker(Partitions::count(2), |n: &u64| {
                (n % 3 != 2).then_some((n % 2) as usize)
            })
            .expect("two partitions"),
        )
        .start()
        .await
        .unwrap();
    let mut consumers = Vec::new();
    let mut seen = Vec::new();
    for partition in 0..2 {
        let (probe, events) = Probe::new();
        let options = SubscribeOptions::new()
            .max_demand(2)
            .min_demand(0)
            .partition(partition);
        consumers.push(
            Stage::consumer(probe, ())
                .subscribe_to(&producer, options)
                .start()
                .await
                .unwrap(),
        );
        seen.push(events);
    }
    for consumer in &consumers {
        // A stall is the failure this test looks for: bound it.
        let exit = tokio::time::timeout(std::time::Duration::from_secs(10), consumer.wait()).await;
        assert_eq!(exit.expect("the partition consumers stalled"), Exit::Normal);
    }
    let expected = |partition: u64| -> Vec<u64> {
        (0..60)
            .filter(|n| n % 3 != 2 && n % 2 == partition)
            .collect()
    };
    assert_eq!(drain(&mut seen[0]), expected(0));
    assert_eq!(drain(&mut seen[1]), expected(1));
}

#[tokio::test]
async fn a_partition_hash_out_of_range_stops_the_producer_with_the_error() {
    // Event 5 hashes to partition 9 of 2: a programming error.
    let producer = Stage::producer(Counter { limit: Some(100) }, 0)
        .dispatcher(
            PartitionDispatcher::maker(Partitions::count(2), |n: &u64| {
                Some(if *n == 5 { 9 } else { (n % 2) as usize })
            })
            .expect("two partitions"),
        )
        .start()
        .await
        .unwrap();
    for partition in 0..2 {
        let (probe, _seen) = Probe::new();
        Stage::consumer(probe, ())
            .subscribe_to(
                &producer,
                SubscribeOptions::new()
                    .max_demand(10)
                    .partition(partition)
                    .cancel(arbor_stage::Cancel::Temporary),
            )
            .start()
            .await
            .unwrap();
    }
    assert_eq!(
        producer.wait().await,
        Exit::error(
            "the partition hash routed an event to partition 9, but there are 2 partitions"
        )
    );
}

#[tokio::test]
async fn a_producer_consumer_hears_its_producer_stop_only_after_the_events_queued_before_it() {
    let producer = Stage::producer(support::Pusher, ()).start().await.unwrap();
    let doubler = Stage::producer_consumer(Doubler, ())
        .subscribe_to(&producer, SubscribeOptions::new().max_demand(10))
        .start()
        .await
        .unwrap();
    let (consumer, mut seen, tag) =
        manual_probe_on(&doubler, SubscribeOptions::new().max_demand(10)).await;
    // Three events reach the doubler, which has no downstream demand: they wait in its
    // input, and its producer's stop waits behind them.
    producer.cast(support::Push(vec![1, 2, 3])).unwrap();
    producer
        .stop_and_wait(Exit::Normal, support::STALL)
        .await
        .unwrap();
    doubler.buffered_count().await.unwrap();
    assert!(
        seen.try_recv().is_err(),
        "the doubler handled its input or its producer's stop without demand"
    );

    consumer.ask(tag, 5).await.unwrap();
    assert_eq!(collect(&mut seen, 3).await.1, vec![2, 4, 6]);
    // Then the stop: a permanent subscription stops the doubler with its producer's
    // reason, and the probe hears it.
    let next = tokio::time::timeout(support::STALL, seen.recv())
        .await
        .unwrap();
    assert_eq!(next, Some(Seen::Cancelled(tag, Exit::Normal)));
}
