//! `BroadcastDispatcher` without a runtime: each scenario pins one behaviour of
//! gen_stage's `GenStage.BroadcastDispatcher`.

mod support;

use arbor_stage::plumbing::{InfoToken, Outbox};
use arbor_stage::{BroadcastDispatcher, DispatchError, Dispatcher, Selector, Subscriber};
use support::tag;

type Events = Vec<&'static str>;

fn subscribe(dispatcher: &mut BroadcastDispatcher<&'static str>, id: u64) {
    assert_eq!(dispatcher.subscribe(Subscriber::new(tag(id), 10)), Ok(0));
}

fn subscribe_selecting(
    dispatcher: &mut BroadcastDispatcher<&'static str>,
    id: u64,
    prefix: &'static str,
) {
    let selector = Selector::new(move |event: &&str| event.starts_with(prefix));
    assert_eq!(
        dispatcher.subscribe(Subscriber::new(tag(id), 10).selector(selector)),
        Ok(0)
    );
}

fn ask(dispatcher: &mut BroadcastDispatcher<&'static str>, id: u64, demand: usize) -> usize {
    dispatcher.ask(tag(id), demand, &mut Outbox::new()).unwrap()
}

/// What one dispatch did: batches by consumer number (sorted), leftovers, discards and
/// extra upstream demand.
#[derive(Debug, PartialEq, Eq)]
struct Dispatched {
    batches: Vec<(u64, Events)>,
    leftover: Events,
    discarded: usize,
    demand: usize,
}

fn dispatch(dispatcher: &mut BroadcastDispatcher<&'static str>, events: Events) -> Dispatched {
    let mut out = Outbox::new();
    let leftover = dispatcher.dispatch(events, &mut out);
    let mut batches: Vec<_> = out
        .take_batches()
        .into_iter()
        .map(|(t, e)| (t.get(), e))
        .collect();
    batches.sort();
    Dispatched {
        batches,
        leftover,
        discarded: out.take_discarded(),
        demand: out.take_demand(),
    }
}

fn sent(batches: Vec<(u64, Events)>, leftover: Events) -> Dispatched {
    Dispatched {
        batches,
        leftover,
        discarded: 0,
        demand: 0,
    }
}

// --- pacing --------------------------------------------------------------------------

#[test]
fn broadcast_dispatcher_forwards_demand_only_as_far_as_the_slowest_consumer_asked() {
    let mut dispatcher = BroadcastDispatcher::new();
    subscribe(&mut dispatcher, 1);
    subscribe(&mut dispatcher, 2);
    assert_eq!(
        ask(&mut dispatcher, 1, 3),
        0,
        "consumer 2 has asked for nothing"
    );
    assert_eq!(ask(&mut dispatcher, 2, 2), 2, "both can take 2");

    assert_eq!(
        dispatch(&mut dispatcher, vec!["a", "b"]),
        sent(vec![(1, vec!["a", "b"]), (2, vec!["a", "b"])], vec![])
    );

    // Consumer 1 still has 1 left; consumer 2 asks for 2: both can take 1 more.
    assert_eq!(ask(&mut dispatcher, 2, 2), 1);
    assert_eq!(
        dispatch(&mut dispatcher, vec!["c", "d"]),
        sent(vec![(1, vec!["c"]), (2, vec!["c"])], vec!["d"])
    );
    assert_eq!(
        dispatch(&mut dispatcher, vec!["d"]),
        sent(vec![], vec!["d"])
    );
}

#[test]
fn broadcast_dispatcher_stops_when_a_new_consumer_has_not_asked_yet() {
    let mut dispatcher = BroadcastDispatcher::new();
    subscribe(&mut dispatcher, 1);
    assert_eq!(ask(&mut dispatcher, 1, 10), 10);
    assert_eq!(
        dispatch(&mut dispatcher, vec!["a", "b", "c"]),
        sent(vec![(1, vec!["a", "b", "c"])], vec![])
    );

    subscribe(&mut dispatcher, 2);
    assert_eq!(dispatcher.ready(), 0);
    assert_eq!(
        dispatch(&mut dispatcher, vec!["d"]),
        sent(vec![], vec!["d"])
    );

    // 7 events are still on their way for consumer 1: consumer 2's ask is covered.
    assert_eq!(ask(&mut dispatcher, 2, 20), 0);
    assert_eq!(dispatcher.ready(), 7);
    let seven = vec!["d", "e", "f", "g", "h", "i", "j"];
    assert_eq!(
        dispatch(&mut dispatcher, seven.clone()),
        sent(vec![(1, seven.clone()), (2, seven)], vec![])
    );
}

#[test]
fn broadcast_dispatcher_paces_several_consumers_by_the_slowest() {
    let mut dispatcher = BroadcastDispatcher::new();
    for id in 1..=3 {
        subscribe(&mut dispatcher, id);
    }
    ask(&mut dispatcher, 1, 2);
    ask(&mut dispatcher, 2, 2);
    assert_eq!(ask(&mut dispatcher, 3, 3), 2);
    assert_eq!(
        dispatch(&mut dispatcher, vec!["a", "b", "c"]),
        sent(
            vec![
                (1, vec!["a", "b"]),
                (2, vec!["a", "b"]),
                (3, vec!["a", "b"])
            ],
            vec!["c"]
        )
    );
}

// --- cancellation --------------------------------------------------------------------

#[test]
fn broadcast_dispatcher_cancelling_the_slowest_consumer_releases_demand() {
    let mut dispatcher = BroadcastDispatcher::new();
    subscribe(&mut dispatcher, 1);
    assert_eq!(ask(&mut dispatcher, 1, 10), 10);
    subscribe(&mut dispatcher, 2);
    assert_eq!(ask(&mut dispatcher, 1, 5), 0);

    // Consumer 2 held everything back; without it consumer 1 can take 15.
    assert_eq!(dispatcher.cancel(tag(2), &mut Outbox::new()), 5);
    assert_eq!(dispatcher.ready(), 15);
}

#[test]
fn broadcast_dispatcher_remembers_demand_requested_for_a_consumer_that_left() {
    let mut dispatcher = BroadcastDispatcher::new();
    subscribe(&mut dispatcher, 1);
    assert_eq!(ask(&mut dispatcher, 1, 10), 10);
    assert_eq!(dispatcher.cancel(tag(1), &mut Outbox::new()), 0);
    assert_eq!(
        dispatch(&mut dispatcher, vec!["a", "b", "c"]),
        sent(vec![], vec!["a", "b", "c"])
    );

    // The 10 asked for are still coming: the next consumer's ask is covered.
    subscribe(&mut dispatcher, 2);
    assert_eq!(ask(&mut dispatcher, 2, 5), 0);
    assert_eq!(
        dispatch(&mut dispatcher, vec!["a", "b", "c"]),
        sent(vec![(2, vec!["a", "b", "c"])], vec![])
    );
    assert_eq!(dispatcher.ready(), 2);
}

#[test]
fn broadcast_dispatcher_cancel_is_idempotent() {
    let mut dispatcher = BroadcastDispatcher::<&str>::new();
    subscribe(&mut dispatcher, 1);
    assert_eq!(dispatcher.cancel(tag(1), &mut Outbox::new()), 0);
    assert_eq!(dispatcher.cancel(tag(1), &mut Outbox::new()), 0);
    assert_eq!(dispatcher.cancel(tag(7), &mut Outbox::new()), 0);
}

// --- selectors -----------------------------------------------------------------------

#[test]
fn broadcast_dispatcher_selector_filters_and_counts_each_refusal() {
    let mut dispatcher = BroadcastDispatcher::new();
    subscribe_selecting(&mut dispatcher, 1, "pre");
    subscribe_selecting(&mut dispatcher, 2, "pref");
    assert_eq!(ask(&mut dispatcher, 2, 4), 0);
    assert_eq!(ask(&mut dispatcher, 1, 4), 4);

    let events = vec!["pref-1234", "pref-5678", "pre0000", "foo0000"];
    assert_eq!(
        dispatch(&mut dispatcher, events),
        Dispatched {
            batches: vec![
                (1, vec!["pref-1234", "pref-5678", "pre0000"]),
                (2, vec!["pref-1234", "pref-5678"]),
            ],
            leftover: vec![],
            // Consumer 1 refused 1 event, consumer 2 refused 2.
            discarded: 3,
            // Refused events are asked for again on each consumer's behalf (1 and 2):
            // both can now take 1 more.
            demand: 1,
        }
    );
    assert_eq!(dispatcher.ready(), 1);
}

#[test]
fn broadcast_dispatcher_refused_events_do_not_use_up_demand() {
    let mut dispatcher = BroadcastDispatcher::new();
    subscribe_selecting(&mut dispatcher, 1, "keep");
    assert_eq!(ask(&mut dispatcher, 1, 2), 2);

    let first = dispatch(&mut dispatcher, vec!["drop-1", "keep-1", "keep-2"]);
    assert_eq!(first.batches, vec![(1, vec!["keep-1"])]);
    assert_eq!(first.leftover, vec!["keep-2"]);
    assert_eq!((first.discarded, first.demand), (1, 1));

    // The refused event was credited back: one more kept event fits, and no more.
    let second = dispatch(&mut dispatcher, vec!["keep-2", "keep-3"]);
    assert_eq!(second.batches, vec![(1, vec!["keep-2"])]);
    assert_eq!(second.leftover, vec!["keep-3"]);
}

#[test]
fn broadcast_dispatcher_sends_no_batch_to_a_consumer_refusing_all_of_it() {
    let mut dispatcher = BroadcastDispatcher::new();
    subscribe(&mut dispatcher, 1);
    subscribe_selecting(&mut dispatcher, 2, "x");
    ask(&mut dispatcher, 1, 2);
    ask(&mut dispatcher, 2, 2);
    let dispatched = dispatch(&mut dispatcher, vec!["a", "b"]);
    assert_eq!(dispatched.batches, vec![(1, vec!["a", "b"])]);
    assert_eq!(dispatched.discarded, 2);
}

// --- batches and infos ---------------------------------------------------------------

#[test]
fn broadcast_dispatcher_moves_the_batch_to_the_last_consumer_without_copying() {
    let mut dispatcher = BroadcastDispatcher::new();
    subscribe(&mut dispatcher, 1);
    ask(&mut dispatcher, 1, 10);
    let events: Events = vec!["a", "b", "c"];
    let allocation = events.as_ptr();
    let mut out = Outbox::new();
    assert!(dispatcher.dispatch(events, &mut out).is_empty());
    assert_eq!(out.take_batches()[0].1.as_ptr(), allocation);
}

#[test]
fn broadcast_dispatcher_releases_infos_at_once() {
    let mut dispatcher = BroadcastDispatcher::<&str>::new();
    subscribe(&mut dispatcher, 1);
    ask(&mut dispatcher, 1, 3);
    let mut out = Outbox::new();
    dispatcher.info(InfoToken::new(5), &mut out);
    assert_eq!(out.take_infos(), vec![InfoToken::new(5)]);
}

// --- bad input -----------------------------------------------------------------------

#[test]
fn broadcast_dispatcher_refuses_a_tag_subscribed_twice() {
    let mut dispatcher = BroadcastDispatcher::<&str>::new();
    subscribe(&mut dispatcher, 1);
    ask(&mut dispatcher, 1, 4);
    assert_eq!(
        dispatcher.subscribe(Subscriber::new(tag(1), 10)),
        Err(DispatchError::AlreadySubscribed(tag(1)))
    );
    assert_eq!(
        dispatcher.ready(),
        4,
        "a refused subscription changes nothing"
    );
}

#[test]
fn broadcast_dispatcher_refuses_demand_from_an_unknown_tag() {
    let mut dispatcher = BroadcastDispatcher::<&str>::new();
    assert_eq!(
        dispatcher.ask(tag(3), 1, &mut Outbox::new()),
        Err(DispatchError::UnknownSubscription(tag(3)))
    );
}
