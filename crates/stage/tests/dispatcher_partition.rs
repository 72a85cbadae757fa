//! `PartitionDispatcher` without a runtime: each scenario pins one behaviour of
//! gen_stage's `GenStage.PartitionDispatcher`.

mod support;

use std::hash::{DefaultHasher, Hash, Hasher};

use arbor_stage::plumbing::{InfoToken, Outbox};
use arbor_stage::{
    DispatchError, Dispatcher, InvalidOptions, PartitionDispatcher, PartitionKey, Partitions,
    Subscriber,
};
use support::{at_level, capture_logs, tag};
use tracing::Level;

type Events = Vec<u32>;

/// Two partitions: even events to 0, odd ones to 1.
fn even_odd() -> PartitionDispatcher<u32> {
    PartitionDispatcher::new(Partitions::count(2), |n: &u32| Some(*n as usize % 2)).unwrap()
}

fn subscribe(dispatcher: &mut PartitionDispatcher<u32>, id: u64, partition: usize) {
    let subscriber = Subscriber::new(tag(id), 10).partition(PartitionKey::Index(partition));
    assert_eq!(dispatcher.subscribe(subscriber), Ok(0));
}

/// Everything an outbox collected, batches sorted by consumer number.
#[derive(Debug, Default, PartialEq, Eq)]
struct Sent {
    batches: Vec<(u64, Events)>,
    infos: Vec<InfoToken>,
    discarded: usize,
}

fn drain(out: &mut Outbox<u32>) -> Sent {
    let mut batches: Vec<_> = out
        .take_batches()
        .into_iter()
        .map(|(t, e)| (t.get(), e))
        .collect();
    batches.sort();
    Sent {
        batches,
        infos: out.take_infos(),
        discarded: out.take_discarded(),
    }
}

fn batches(batches: Vec<(u64, Events)>) -> Sent {
    Sent {
        batches,
        ..Sent::default()
    }
}

/// Asks; returns the demand forwarded upstream and what was released.
fn ask(dispatcher: &mut PartitionDispatcher<u32>, id: u64, demand: usize) -> (usize, Sent) {
    let mut out = Outbox::new();
    let forward = dispatcher.ask(tag(id), demand, &mut out).unwrap();
    (forward, drain(&mut out))
}

fn dispatch(dispatcher: &mut PartitionDispatcher<u32>, events: Events) -> (Sent, Events) {
    let mut out = Outbox::new();
    let leftover = dispatcher.dispatch(events, &mut out);
    (drain(&mut out), leftover)
}

// --- options -------------------------------------------------------------------------

#[test]
fn partition_dispatcher_refuses_zero_partitions() {
    let by_count = PartitionDispatcher::new(Partitions::count(0), |_: &u32| Some(0));
    assert_eq!(by_count.err(), Some(InvalidOptions::NoPartitions));
    let by_name = PartitionDispatcher::<u32>::hashed(Partitions::names(Vec::<&str>::new()));
    assert_eq!(by_name.err(), Some(InvalidOptions::NoPartitions));
}

#[test]
fn partition_dispatcher_refuses_a_name_given_twice() {
    let dispatcher = PartitionDispatcher::<u32>::hashed(Partitions::names(["a", "b", "a"]));
    assert_eq!(
        dispatcher.err(),
        Some(InvalidOptions::DuplicatePartition("a".into()))
    );
}

// --- subscribing ---------------------------------------------------------------------

#[test]
fn partition_dispatcher_subscribing_needs_a_partition() {
    let mut dispatcher = even_odd();
    assert_eq!(
        dispatcher.subscribe(Subscriber::new(tag(1), 10)),
        Err(DispatchError::MissingPartition)
    );
}

#[test]
fn partition_dispatcher_subscribing_needs_an_existing_partition() {
    let mut dispatcher = even_odd();
    for key in [PartitionKey::Index(2), PartitionKey::from("even")] {
        assert_eq!(
            dispatcher.subscribe(Subscriber::new(tag(1), 10).partition(key.clone())),
            Err(DispatchError::UnknownPartition(key))
        );
    }
}

#[test]
fn partition_dispatcher_allows_one_consumer_per_partition() {
    let mut dispatcher = even_odd();
    subscribe(&mut dispatcher, 1, 0);
    assert_eq!(
        dispatcher.subscribe(Subscriber::new(tag(2), 10).partition(PartitionKey::Index(0))),
        Err(DispatchError::PartitionTaken {
            partition: PartitionKey::Index(0),
            holder: tag(1),
        })
    );
    // Once the holder leaves, the partition is free again.
    dispatcher.cancel(tag(1), &mut Outbox::new());
    subscribe(&mut dispatcher, 2, 0);
}

#[test]
fn partition_dispatcher_named_partitions_answer_to_name_and_index() {
    let mut dispatcher = PartitionDispatcher::new(Partitions::names(["odd", "even"]), |n: &u32| {
        Some(if n % 2 == 0 { 1 } else { 0 })
    })
    .unwrap();
    let by_name = Subscriber::new(tag(1), 10).partition(PartitionKey::from("even"));
    let by_index = Subscriber::new(tag(2), 10).partition(PartitionKey::Index(0));
    assert_eq!(dispatcher.subscribe(by_name), Ok(0));
    assert_eq!(dispatcher.subscribe(by_index), Ok(0));
    ask(&mut dispatcher, 1, 5);
    ask(&mut dispatcher, 2, 5);
    assert_eq!(
        dispatch(&mut dispatcher, vec![1, 2, 3, 4]).0,
        batches(vec![(1, vec![2, 4]), (2, vec![1, 3])])
    );
}

#[test]
fn partition_dispatcher_refuses_duplicate_and_unknown_tags() {
    let mut dispatcher = even_odd();
    subscribe(&mut dispatcher, 1, 0);
    assert_eq!(
        dispatcher.subscribe(Subscriber::new(tag(1), 10).partition(PartitionKey::Index(1))),
        Err(DispatchError::AlreadySubscribed(tag(1)))
    );
    assert_eq!(
        dispatcher.ask(tag(9), 1, &mut Outbox::new()),
        Err(DispatchError::UnknownSubscription(tag(9)))
    );
}

// --- routing -------------------------------------------------------------------------

#[test]
fn partition_dispatcher_routes_by_hash_and_counts_none_as_discarded() {
    // Multiples of 3 are dropped; others go by parity.
    let mut dispatcher = PartitionDispatcher::new(Partitions::count(2), |n: &u32| {
        (n % 3 != 0).then_some(*n as usize % 2)
    })
    .unwrap();
    subscribe(&mut dispatcher, 1, 0);
    subscribe(&mut dispatcher, 2, 1);
    assert_eq!(ask(&mut dispatcher, 1, 4).0, 4);
    assert_eq!(ask(&mut dispatcher, 2, 4).0, 4);

    let (sent, leftover) = dispatch(&mut dispatcher, (1..=12).collect());
    assert_eq!(
        sent,
        Sent {
            batches: vec![(1, vec![2, 4, 8, 10]), (2, vec![1, 5, 7, 11])],
            infos: vec![],
            discarded: 3, // 3, 6 and 9
        }
    );
    // The 8 events asked for have been taken: 12 waits in the producer's buffer.
    assert_eq!(leftover, vec![12]);
}

#[test]
fn partition_dispatcher_takes_only_as_many_events_as_were_asked_upstream() {
    let mut dispatcher = PartitionDispatcher::new(Partitions::count(1), |_: &u32| Some(0)).unwrap();
    subscribe(&mut dispatcher, 1, 0);
    assert_eq!(ask(&mut dispatcher, 1, 3).0, 3);
    assert_eq!(
        dispatch(&mut dispatcher, vec![1]),
        (batches(vec![(1, vec![1])]), vec![])
    );
    assert_eq!(ask(&mut dispatcher, 1, 3).0, 3);
    assert_eq!(
        dispatch(&mut dispatcher, vec![2, 5, 6, 7, 8, 9, 11]),
        (batches(vec![(1, vec![2, 5, 6, 7, 8])]), vec![9, 11])
    );
}

#[test]
fn partition_dispatcher_out_of_range_hash_fails_after_sending_what_came_before() {
    let mut dispatcher =
        PartitionDispatcher::new(Partitions::count(2), |n: &u32| Some(*n as usize)).unwrap();
    subscribe(&mut dispatcher, 1, 0);
    subscribe(&mut dispatcher, 2, 1);
    ask(&mut dispatcher, 1, 5);
    ask(&mut dispatcher, 2, 5);
    let mut out = Outbox::new();
    let leftover = dispatcher.dispatch(vec![0, 1, 7, 1, 0], &mut out);
    assert!(leftover.is_empty());
    assert_eq!(
        out.take_failure(),
        Some(DispatchError::PartitionOutOfRange {
            index: 7,
            partitions: 2
        })
    );
    // What was routed before the bad event goes out; it and the rest are counted lost.
    let mut batches = out.take_batches();
    batches.sort();
    assert_eq!(batches, vec![(tag(1), vec![0]), (tag(2), vec![1])]);
    assert_eq!(out.take_discarded(), 3);
}

#[test]
fn partition_dispatcher_hash_may_name_partitions_as_subscribers_do() {
    let parity = |n: &u32| Some(if n % 2 == 0 { "even" } else { "odd" });
    let mut dispatcher =
        PartitionDispatcher::new(Partitions::names(["even", "odd"]), parity).unwrap();
    let mut out = Outbox::new();
    for (id, name) in [(1, "even"), (2, "odd")] {
        let subscriber = Subscriber::new(tag(id), 10).partition(PartitionKey::from(name));
        dispatcher.subscribe(subscriber).unwrap();
        dispatcher.ask(tag(id), 10, &mut out).unwrap();
    }
    assert!(dispatcher.dispatch(vec![1, 2, 3, 4], &mut out).is_empty());
    assert_eq!(
        out.take_batches(),
        vec![(tag(1), vec![2, 4]), (tag(2), vec![1, 3])]
    );
}

#[test]
fn partition_dispatcher_hash_naming_an_unknown_partition_fails() {
    let named = |n: &u32| Some(PartitionKey::from(if *n < 10 { "low" } else { "high" }));
    let mut dispatcher = PartitionDispatcher::new(Partitions::names(["low"]), named).unwrap();
    subscribe(&mut dispatcher, 1, 0);
    ask(&mut dispatcher, 1, 5);
    let mut out = Outbox::new();
    assert!(dispatcher.dispatch(vec![1, 2, 30, 4], &mut out).is_empty());
    assert_eq!(
        out.take_failure(),
        Some(DispatchError::UnknownPartition(PartitionKey::from("high")))
    );
    assert_eq!(out.take_batches(), vec![(tag(1), vec![1, 2])]);
    assert_eq!(out.take_discarded(), 2);
}

#[test]
fn partition_dispatcher_hashed_sends_equal_events_to_the_same_partition() {
    let mut dispatcher = PartitionDispatcher::<u32>::hashed(Partitions::count(4)).unwrap();
    for partition in 0..4 {
        subscribe(&mut dispatcher, partition as u64, partition);
        ask(&mut dispatcher, partition as u64, 1000);
    }
    let events: Events = (0..200).chain(0..200).collect();
    let (sent, leftover) = dispatch(&mut dispatcher, events);
    assert!(leftover.is_empty());
    assert_eq!(sent.batches.len(), 4, "every partition got some");
    for (partition, received) in sent.batches {
        for event in received {
            let mut hasher = DefaultHasher::new();
            event.hash(&mut hasher);
            assert_eq!(hasher.finish() % 4, partition, "event {event}");
        }
    }
}

// --- queues --------------------------------------------------------------------------

#[test]
fn partition_dispatcher_queues_events_for_a_partition_without_consumer() {
    let mut dispatcher = even_odd();
    subscribe(&mut dispatcher, 1, 1);
    assert_eq!(ask(&mut dispatcher, 1, 5).0, 5);

    // All even: partition 0 has no consumer yet, so they wait there.
    assert_eq!(
        dispatch(&mut dispatcher, vec![0, 2, 4, 6, 8]),
        (Sent::default(), vec![])
    );
    assert_eq!(dispatcher.queued(), 5);
    // The 5 asked for are taken: the rest stays with the producer.
    assert_eq!(
        dispatch(&mut dispatcher, vec![10, 12]),
        (Sent::default(), vec![10, 12])
    );

    // The consumer that takes partition 0 gets the queue as soon as it asks.
    subscribe(&mut dispatcher, 2, 0);
    assert_eq!(
        ask(&mut dispatcher, 2, 5),
        (5, batches(vec![(2, vec![0, 2, 4, 6, 8])]))
    );
    assert_eq!(dispatcher.queued(), 0);
}

#[test]
fn partition_dispatcher_queues_what_exceeds_a_partitions_demand_until_it_asks() {
    let mut dispatcher = even_odd();
    subscribe(&mut dispatcher, 1, 0);
    subscribe(&mut dispatcher, 2, 1);
    ask(&mut dispatcher, 1, 5);
    ask(&mut dispatcher, 2, 5);

    assert_eq!(
        dispatch(&mut dispatcher, vec![0, 2]),
        (batches(vec![(1, vec![0, 2])]), vec![])
    );
    assert_eq!(
        dispatch(&mut dispatcher, vec![4, 6, 8, 10, 12, 14, 16, 18]),
        (batches(vec![(1, vec![4, 6, 8])]), vec![])
    );
    assert_eq!(dispatcher.queued(), 5);

    // The whole ask goes upstream: the queued events used partition 1's demand.
    assert_eq!(
        ask(&mut dispatcher, 1, 3),
        (3, batches(vec![(1, vec![10, 12, 14])]))
    );
    assert_eq!(
        ask(&mut dispatcher, 1, 5),
        (5, batches(vec![(1, vec![16, 18])]))
    );
    // The 3 left of that ask are now ordinary demand.
    assert_eq!(
        dispatch(&mut dispatcher, vec![20]),
        (batches(vec![(1, vec![20])]), vec![])
    );
}

// --- cancellation --------------------------------------------------------------------

#[test]
fn partition_dispatcher_keeps_the_demand_of_cancelled_consumers_for_later_asks() {
    let mut dispatcher = even_odd();
    subscribe(&mut dispatcher, 1, 0);
    assert_eq!(ask(&mut dispatcher, 1, 10).0, 10);
    assert_eq!(dispatcher.cancel(tag(1), &mut Outbox::new()), 0);

    // The 10 already asked for cover the next consumer's ask, even on another partition.
    subscribe(&mut dispatcher, 2, 1);
    assert_eq!(ask(&mut dispatcher, 2, 5).0, 0);
    assert_eq!(dispatcher.cancel(tag(2), &mut Outbox::new()), 0);

    // With no consumers, the events asked for wait in their partitions' queues.
    assert_eq!(
        dispatch(&mut dispatcher, vec![0, 1, 2, 3]),
        (Sent::default(), vec![])
    );
    assert_eq!(dispatcher.queued(), 4);
}

#[test]
fn partition_dispatcher_discards_a_cancelled_consumers_queue_and_asks_again() {
    let mut dispatcher = even_odd();
    subscribe(&mut dispatcher, 1, 1);
    ask(&mut dispatcher, 1, 5);
    subscribe(&mut dispatcher, 2, 0);
    assert_eq!(
        dispatch(&mut dispatcher, vec![0, 2, 4, 6, 8]),
        (Sent::default(), vec![])
    );

    let mut out = Outbox::new();
    dispatcher.info(InfoToken::new(1), &mut out);
    assert_eq!(
        drain(&mut out),
        Sent::default(),
        "the info waits behind the queue"
    );

    let (forward, logs) = capture_logs(|| dispatcher.cancel(tag(2), &mut out));
    assert_eq!(forward, 5, "the discarded events are asked for again");
    assert_eq!(
        drain(&mut out),
        Sent {
            batches: vec![],
            infos: vec![InfoToken::new(1)],
            discarded: 5,
        }
    );
    assert_eq!(dispatcher.queued(), 0);
    assert_eq!(at_level(&logs, Level::WARN).len(), 1, "{logs:?}");
}

#[test]
fn partition_dispatcher_cancel_is_idempotent() {
    let mut dispatcher = even_odd();
    subscribe(&mut dispatcher, 1, 0);
    assert_eq!(dispatcher.cancel(tag(1), &mut Outbox::new()), 0);
    assert_eq!(dispatcher.cancel(tag(1), &mut Outbox::new()), 0);
    assert_eq!(dispatcher.cancel(tag(4), &mut Outbox::new()), 0);
}

// --- infos ---------------------------------------------------------------------------

#[test]
fn partition_dispatcher_releases_an_info_at_once_when_nothing_is_queued() {
    let mut dispatcher = even_odd();
    subscribe(&mut dispatcher, 1, 0);
    ask(&mut dispatcher, 1, 3);
    let mut out = Outbox::new();
    dispatcher.info(InfoToken::new(1), &mut out);
    assert_eq!(out.take_infos(), vec![InfoToken::new(1)]);

    // No consumer at all: nothing can be queued either.
    let mut empty = even_odd();
    empty.info(InfoToken::new(2), &mut out);
    assert_eq!(out.take_infos(), vec![InfoToken::new(2)]);
}

#[test]
fn partition_dispatcher_holds_an_info_until_every_queue_before_it_is_sent() {
    let mut dispatcher =
        PartitionDispatcher::new(Partitions::count(3), |n: &u32| Some(*n as usize % 3)).unwrap();
    for partition in 0..3 {
        subscribe(&mut dispatcher, partition as u64, partition);
    }
    ask(&mut dispatcher, 0, 1);
    ask(&mut dispatcher, 1, 1);
    ask(&mut dispatcher, 2, 4);
    // Partitions 0 and 1 each take one event and queue two.
    let (sent, _) = dispatch(&mut dispatcher, vec![0, 1, 3, 4, 6, 7]);
    assert_eq!(sent.batches, vec![(0, vec![0]), (1, vec![1])]);

    let mut out = Outbox::new();
    dispatcher.info(InfoToken::new(1), &mut out);
    assert!(out.is_empty(), "the info waits behind both queues");
    // Events queued after the info do not delay it.
    ask(&mut dispatcher, 2, 2);
    dispatch(&mut dispatcher, vec![9, 10]);
    assert_eq!(dispatcher.queued(), 6);

    assert_eq!(ask(&mut dispatcher, 0, 1), (1, batches(vec![(0, vec![3])])));
    assert_eq!(
        ask(&mut dispatcher, 0, 1),
        (1, batches(vec![(0, vec![6])])),
        "partition 1 still holds events queued before the info"
    );
    assert_eq!(
        ask(&mut dispatcher, 1, 2),
        (
            2,
            Sent {
                batches: vec![(1, vec![4, 7])],
                infos: vec![InfoToken::new(1)],
                discarded: 0,
            }
        )
    );
    assert_eq!(dispatcher.queued(), 2, "9 and 10 came after the info");
}
