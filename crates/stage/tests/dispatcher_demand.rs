//! `DemandDispatcher` without a runtime: each scenario pins one behaviour of gen_stage's
//! `GenStage.DemandDispatcher`.

mod support;

use arbor_stage::plumbing::{InfoToken, Outbox};
use arbor_stage::{
    DemandDispatcher, DemandDispatcherOptions, DispatchError, Dispatcher, Subscriber,
};
use support::{at_level, capture_logs, tag};
use tracing::Level;

type Events = Vec<u32>;

/// A dispatcher with consumers 1..=n subscribed (max_demand 10), none having asked yet.
fn with_consumers(n: u64) -> DemandDispatcher<u32> {
    let mut dispatcher = DemandDispatcher::new();
    for id in 1..=n {
        assert_eq!(dispatcher.subscribe(Subscriber::new(tag(id), 10)), Ok(0));
    }
    dispatcher
}

fn ask(dispatcher: &mut DemandDispatcher<u32>, id: u64, demand: usize) -> usize {
    dispatcher.ask(tag(id), demand, &mut Outbox::new()).unwrap()
}

/// Dispatches `events`; returns the batches as (consumer number, events) and the leftovers.
fn dispatch(
    dispatcher: &mut DemandDispatcher<u32>,
    events: Events,
) -> (Vec<(u64, Events)>, Events) {
    let mut out = Outbox::new();
    let leftover = dispatcher.dispatch(events, &mut out);
    let batches = out
        .take_batches()
        .into_iter()
        .map(|(t, e)| (t.get(), e))
        .collect();
    assert_eq!(
        out.take_discarded(),
        0,
        "the demand dispatcher never discards"
    );
    (batches, leftover)
}

// --- demand flow ---------------------------------------------------------------------

#[test]
fn demand_dispatcher_subscribing_asks_nothing_upstream() {
    let dispatcher = with_consumers(1);
    let demands: Vec<_> = dispatcher.demands().collect();
    assert_eq!(demands, vec![(tag(1), 0)]);
}

#[test]
fn demand_dispatcher_forwards_each_ask_upstream() {
    let mut dispatcher = with_consumers(2);
    assert_eq!(ask(&mut dispatcher, 1, 3), 3);
    assert_eq!(ask(&mut dispatcher, 2, 4), 4);
    assert_eq!(ask(&mut dispatcher, 1, 2), 2);
}

#[test]
fn demand_dispatcher_zero_ask_changes_nothing() {
    let mut dispatcher = with_consumers(1);
    assert_eq!(ask(&mut dispatcher, 1, 0), 0);
    assert_eq!(dispatcher.demands().collect::<Vec<_>>(), vec![(tag(1), 0)]);
}

// --- routing -------------------------------------------------------------------------

#[test]
fn demand_dispatcher_sends_to_most_pending_first() {
    let mut dispatcher = with_consumers(3);
    ask(&mut dispatcher, 1, 4);
    ask(&mut dispatcher, 2, 2);
    ask(&mut dispatcher, 3, 3);

    let (batches, leftover) = dispatch(&mut dispatcher, (1..=9).collect());
    assert_eq!(
        batches,
        vec![(1, vec![1, 2, 3, 4]), (3, vec![5, 6, 7]), (2, vec![8, 9])]
    );
    assert!(leftover.is_empty());
}

#[test]
fn demand_dispatcher_reorders_consumers_as_their_demand_changes() {
    let mut dispatcher = with_consumers(3);
    ask(&mut dispatcher, 1, 4);
    ask(&mut dispatcher, 2, 2);
    ask(&mut dispatcher, 3, 3);
    ask(&mut dispatcher, 3, 2); // 5: now the most
    ask(&mut dispatcher, 2, 4); // 6: now the most
    let order: Vec<_> = dispatcher.demands().map(|(t, d)| (t.get(), d)).collect();
    assert_eq!(order, vec![(2, 6), (3, 5), (1, 4)]);
}

#[test]
fn demand_dispatcher_serves_equal_demands_in_the_order_they_were_reached() {
    let mut dispatcher = with_consumers(2);
    ask(&mut dispatcher, 1, 3);
    ask(&mut dispatcher, 2, 3);

    // Consumer 1 reached 3 first; once served it falls behind consumer 2.
    assert_eq!(
        dispatch(&mut dispatcher, vec![1, 2]).0,
        vec![(1, vec![1, 2])]
    );
    assert_eq!(
        dispatch(&mut dispatcher, vec![3, 4]).0,
        vec![(2, vec![3, 4])]
    );
    // Both have 1 left; consumer 1 got there first.
    assert_eq!(
        dispatch(&mut dispatcher, vec![5, 6, 7]),
        (vec![(1, vec![5]), (2, vec![6])], vec![7])
    );
}

#[test]
fn demand_dispatcher_returns_what_nobody_asked_for_as_leftovers_in_order() {
    let mut dispatcher = with_consumers(1);
    ask(&mut dispatcher, 1, 3);
    let (batches, leftover) = dispatch(&mut dispatcher, vec![1, 2, 3, 4, 5]);
    assert_eq!(batches, vec![(1, vec![1, 2, 3])]);
    assert_eq!(leftover, vec![4, 5]);

    // No demand left: everything comes back.
    assert_eq!(dispatch(&mut dispatcher, vec![6, 7]), (vec![], vec![6, 7]));
}

#[test]
fn demand_dispatcher_without_consumers_returns_every_event() {
    let mut dispatcher = DemandDispatcher::new();
    assert_eq!(
        dispatch(&mut dispatcher, vec![1, 2, 3]),
        (vec![], vec![1, 2, 3])
    );
}

#[test]
fn demand_dispatcher_moves_a_whole_batch_to_a_single_consumer_without_copying() {
    let mut dispatcher = with_consumers(1);
    ask(&mut dispatcher, 1, 100);
    let events: Events = (0..50).collect();
    let allocation = events.as_ptr();

    let mut out = Outbox::new();
    assert!(dispatcher.dispatch(events, &mut out).is_empty());
    let batches = out.take_batches();
    assert_eq!(batches.len(), 1);
    assert_eq!(
        batches[0].1.as_ptr(),
        allocation,
        "the batch was re-allocated"
    );
}

#[test]
fn demand_dispatcher_releases_infos_at_once() {
    let mut dispatcher = with_consumers(2);
    ask(&mut dispatcher, 1, 3);
    let mut out = Outbox::<u32>::new();
    dispatcher.info(InfoToken::new(1), &mut out);
    dispatcher.info(InfoToken::new(2), &mut out);
    assert_eq!(out.take_infos(), vec![InfoToken::new(1), InfoToken::new(2)]);
}

// --- cancellation --------------------------------------------------------------------

#[test]
fn demand_dispatcher_keeps_the_demand_of_cancelled_consumers_for_later_asks() {
    let mut dispatcher = with_consumers(1);
    assert_eq!(ask(&mut dispatcher, 1, 10), 10);
    assert_eq!(dispatcher.cancel(tag(1), &mut Outbox::new()), 0);
    assert_eq!(dispatcher.orphaned_demand(), 10);

    // The 10 events already asked for will arrive: a new consumer's ask is covered.
    dispatcher.subscribe(Subscriber::new(tag(2), 10)).unwrap();
    assert_eq!(ask(&mut dispatcher, 2, 5), 0);
    assert_eq!(dispatcher.orphaned_demand(), 5);
    dispatcher.cancel(tag(2), &mut Outbox::new());
    assert_eq!(dispatcher.orphaned_demand(), 10);

    // With nobody to take them, arriving events become leftovers, and no longer need
    // to be covered.
    assert_eq!(dispatch(&mut dispatcher, vec![1, 2, 3]).1, vec![1, 2, 3]);
    assert_eq!(dispatcher.orphaned_demand(), 7);
    dispatch(&mut dispatcher, (0..10).collect());
    assert_eq!(dispatcher.orphaned_demand(), 0);
}

#[test]
fn demand_dispatcher_gives_a_cancelled_consumers_events_to_the_others() {
    let mut dispatcher = with_consumers(2);
    ask(&mut dispatcher, 1, 3);
    ask(&mut dispatcher, 2, 3);
    dispatcher.cancel(tag(1), &mut Outbox::new());

    let (batches, leftover) = dispatch(&mut dispatcher, vec![1, 2, 3, 4, 5]);
    assert_eq!(batches, vec![(2, vec![1, 2, 3])]);
    assert_eq!(leftover, vec![4, 5]);
    assert_eq!(dispatcher.orphaned_demand(), 1);
}

#[test]
fn demand_dispatcher_cancel_is_idempotent() {
    let mut dispatcher = with_consumers(1);
    ask(&mut dispatcher, 1, 4);
    assert_eq!(dispatcher.cancel(tag(1), &mut Outbox::new()), 0);
    assert_eq!(dispatcher.cancel(tag(1), &mut Outbox::new()), 0);
    assert_eq!(dispatcher.cancel(tag(99), &mut Outbox::new()), 0);
    assert_eq!(dispatcher.orphaned_demand(), 4);
}

// --- bad input -----------------------------------------------------------------------

#[test]
fn demand_dispatcher_refuses_a_tag_subscribed_twice() {
    let mut dispatcher = with_consumers(1);
    assert_eq!(
        dispatcher.subscribe(Subscriber::new(tag(1), 10)),
        Err(DispatchError::AlreadySubscribed(tag(1)))
    );
    assert_eq!(dispatcher.demands().count(), 1);
}

#[test]
fn demand_dispatcher_refuses_demand_from_an_unknown_tag() {
    let mut dispatcher = with_consumers(1);
    assert_eq!(
        dispatcher.ask(tag(2), 5, &mut Outbox::new()),
        Err(DispatchError::UnknownSubscription(tag(2)))
    );
}

// --- max_demand warnings -------------------------------------------------------------

#[test]
fn demand_dispatcher_warns_when_a_consumer_declares_another_max_demand() {
    let (_, logs) = capture_logs(|| {
        let mut dispatcher = DemandDispatcher::<u32>::new();
        dispatcher.subscribe(Subscriber::new(tag(1), 10)).unwrap();
        dispatcher.subscribe(Subscriber::new(tag(2), 10)).unwrap();
        dispatcher.subscribe(Subscriber::new(tag(3), 20)).unwrap();
    });
    let warnings = at_level(&logs, Level::WARN);
    assert_eq!(warnings.len(), 1, "{logs:?}");
    assert!(warnings[0].text.contains("max_demand=20"), "{logs:?}");
    assert!(
        warnings[0].text.contains("expected_max_demand=10"),
        "{logs:?}"
    );
}

#[test]
fn demand_dispatcher_warns_when_an_ask_exceeds_the_expected_max_demand() {
    let (_, logs) = capture_logs(|| {
        let mut dispatcher =
            DemandDispatcher::<u32>::with_options(DemandDispatcherOptions::default().max_demand(3));
        dispatcher.subscribe(Subscriber::new(tag(1), 3)).unwrap();
        assert_eq!(ask(&mut dispatcher, 1, 3), 3);
        assert_eq!(ask(&mut dispatcher, 1, 4), 4, "a warning, not an error");
    });
    let warnings = at_level(&logs, Level::WARN);
    assert_eq!(warnings.len(), 1, "{logs:?}");
    assert!(warnings[0].text.contains("demand=4"), "{logs:?}");
}

// --- shuffle_demands_on_first_dispatch -----------------------------------------------

/// Which consumer gets a first dispatch of 5 events when 4 consumers each asked for 5.
fn first_recipient(options: DemandDispatcherOptions) -> u64 {
    let mut dispatcher = DemandDispatcher::with_options(options);
    for id in 1..=4 {
        dispatcher.subscribe(Subscriber::new(tag(id), 10)).unwrap();
        ask(&mut dispatcher, id, 5);
    }
    let (batches, _) = dispatch(&mut dispatcher, vec![1, 2, 3, 4, 5]);
    assert_eq!(batches.len(), 1);
    batches[0].0
}

#[test]
fn demand_dispatcher_without_shuffle_serves_the_first_subscriber_first() {
    for _ in 0..8 {
        assert_eq!(first_recipient(DemandDispatcherOptions::default()), 1);
    }
}

#[test]
fn demand_dispatcher_shuffle_spreads_the_first_dispatch_over_equal_consumers() {
    let shuffled = DemandDispatcherOptions::default().shuffle_demands_on_first_dispatch(true);
    let mut recipients: Vec<u64> = (0..64)
        .map(|seed| first_recipient(shuffled.clone().shuffle_seed(seed)))
        .collect();
    recipients.sort_unstable();
    recipients.dedup();
    assert!(recipients.len() > 1, "every seed served {recipients:?}");

    // A seed makes the shuffle reproducible.
    let seeded = shuffled.shuffle_seed(42);
    assert_eq!(first_recipient(seeded.clone()), first_recipient(seeded));
}

#[test]
fn demand_dispatcher_shuffle_only_breaks_ties() {
    for seed in 0..32 {
        let options = DemandDispatcherOptions::default()
            .shuffle_demands_on_first_dispatch(true)
            .shuffle_seed(seed);
        let mut dispatcher = DemandDispatcher::with_options(options);
        for id in 1..=3 {
            dispatcher.subscribe(Subscriber::new(tag(id), 10)).unwrap();
        }
        ask(&mut dispatcher, 3, 2);
        // Consumers 1 and 2 never asked: a shuffle must not put them first and stall
        // the dispatch.
        assert_eq!(
            dispatch(&mut dispatcher, vec![1, 2, 3]),
            (vec![(3, vec![1, 2])], vec![3])
        );
    }
}

#[test]
fn dispatchers_without_partitions_refuse_a_partition() {
    let partitioned = || Subscriber::new(tag(1), 10).partition(arbor_stage::PartitionKey::Index(0));
    let refused = Err(DispatchError::NotPartitioned(
        arbor_stage::PartitionKey::Index(0),
    ));
    let mut demand = DemandDispatcher::<u32>::new();
    assert_eq!(demand.subscribe(partitioned()), refused);
    let mut broadcast = arbor_stage::BroadcastDispatcher::<u32>::new();
    assert_eq!(broadcast.subscribe(partitioned()), refused);
    // Refused, so not subscribed: the same tag subscribes cleanly without the option.
    assert_eq!(demand.subscribe(Subscriber::new(tag(1), 10)), Ok(0));
}
