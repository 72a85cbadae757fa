//! Property tests: random subscribe / ask / dispatch / cancel / info sequences against
//! each dispatcher, checking the invariants of DESIGN.md: no event lost or duplicated
//! except by a counted rule, per-consumer order kept, never more events than asked for,
//! demand accounting consistent.
//!
//! Each harness plays the stage: leftovers go back to a buffer and are dispatched again,
//! before newer events, on the next dispatch.

use std::collections::{BTreeSet, HashMap, VecDeque};

use arbor_stage::plumbing::{InfoToken, Outbox};
use arbor_stage::{
    BroadcastDispatcher, DemandDispatcher, DispatchError, Dispatcher, PartitionDispatcher,
    PartitionKey, Partitions, Selector, Subscriber, SubscriptionTag,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// `choice` picks a selector (broadcast) or a partition (partition).
    Subscribe {
        choice: u8,
    },
    /// `who` picks a live consumer.
    Ask {
        who: u8,
        demand: u8,
    },
    Dispatch {
        count: u8,
    },
    Cancel {
        who: u8,
    },
    Info,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => any::<u8>().prop_map(|choice| Op::Subscribe { choice }),
        4 => (any::<u8>(), 0_u8..12).prop_map(|(who, demand)| Op::Ask { who, demand }),
        4 => (1_u8..16).prop_map(|count| Op::Dispatch { count }),
        1 => any::<u8>().prop_map(|who| Op::Cancel { who }),
        1 => Just(Op::Info),
    ]
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 0..80)
}

/// One consumer as the test sees it.
#[derive(Debug)]
struct Consumer {
    tag: SubscriptionTag,
    asked: usize,
    received: Vec<u32>,
    choice: u8,
}

impl Consumer {
    fn outstanding(&self) -> usize {
        self.asked - self.received.len()
    }
}

/// The stage's side of the conversation, shared by the three harnesses.
#[derive(Debug, Default)]
struct Stage {
    live: Vec<Consumer>,
    gone: Vec<Consumer>,
    next_tag: u64,
    next_event: u32,
    next_token: u64,
    /// Leftovers, dispatched again first.
    buffer: Vec<u32>,
    forwarded: usize,
    discarded: usize,
    infos_released: Vec<InfoToken>,
}

impl Stage {
    fn new_tag(&mut self) -> SubscriptionTag {
        self.next_tag += 1;
        SubscriptionTag::new(self.next_tag)
    }

    fn pick(&self, who: u8) -> Option<usize> {
        (!self.live.is_empty()).then(|| usize::from(who) % self.live.len())
    }

    /// The buffered leftovers followed by `count` new events.
    fn next_events(&mut self, count: u8) -> Vec<u32> {
        let mut events = std::mem::take(&mut self.buffer);
        events.extend(self.next_event..self.next_event + u32::from(count));
        self.next_event += u32::from(count);
        events
    }

    fn consumer(&mut self, tag: SubscriptionTag) -> &mut Consumer {
        self.live
            .iter_mut()
            .find(|consumer| consumer.tag == tag)
            .unwrap_or_else(|| panic!("events sent to {tag}, which is not subscribed"))
    }

    /// Hands the outbox's batches to their consumers, checking order and demand.
    fn deliver(&mut self, out: &mut Outbox<u32>) -> Vec<(SubscriptionTag, Vec<u32>)> {
        let batches = out.take_batches();
        for (tag, events) in &batches {
            assert!(!events.is_empty(), "empty batch for {tag}");
            let consumer = self.consumer(*tag);
            let last = consumer.received.last().copied();
            assert!(
                last.is_none_or(|last| last < events[0]) && events.is_sorted(),
                "{tag} got events out of order: after {last:?}, {events:?}"
            );
            consumer.received.extend(events);
            assert!(
                consumer.received.len() <= consumer.asked,
                "{tag} received {} events but asked for {}",
                consumer.received.len(),
                consumer.asked
            );
        }
        self.discarded += out.take_discarded();
        self.forwarded += out.take_demand();
        for token in out.take_infos() {
            assert!(
                !self.infos_released.contains(&token),
                "{token:?} released twice"
            );
            self.infos_released.push(token);
        }
        batches
    }

    fn ask<D: Dispatcher<u32>>(
        &mut self,
        dispatcher: &mut D,
        who: u8,
        demand: u8,
    ) -> Option<SubscriptionTag> {
        let at = self.pick(who)?;
        let tag = self.live[at].tag;
        let demand = usize::from(demand);
        let mut out = Outbox::new();
        self.forwarded += dispatcher.ask(tag, demand, &mut out).unwrap();
        self.live[at].asked += demand;
        self.deliver(&mut out);
        Some(tag)
    }

    fn cancel<D: Dispatcher<u32>>(
        &mut self,
        dispatcher: &mut D,
        who: u8,
        out: &mut Outbox<u32>,
    ) -> Option<Consumer> {
        let at = self.pick(who)?;
        let consumer = self.live.remove(at);
        self.forwarded += dispatcher.cancel(consumer.tag, out);
        assert_eq!(
            dispatcher.cancel(consumer.tag, out),
            0,
            "cancel must be idempotent"
        );
        Some(consumer)
    }

    /// Dispatches; returns the events taken (the rest went back to the buffer).
    fn dispatch<D: Dispatcher<u32>>(
        &mut self,
        dispatcher: &mut D,
        count: u8,
        out: &mut Outbox<u32>,
    ) -> Vec<u32> {
        let mut events = self.next_events(count);
        let leftover = dispatcher.dispatch(events.clone(), out);
        assert!(
            events.ends_with(&leftover),
            "leftovers {leftover:?} are not the tail of {events:?}"
        );
        events.truncate(events.len() - leftover.len());
        self.buffer = leftover;
        events
    }

    fn info<D: Dispatcher<u32>>(&mut self, dispatcher: &mut D) -> InfoToken {
        let token = InfoToken::new(self.next_token);
        self.next_token += 1;
        let mut out = Outbox::new();
        dispatcher.info(token, &mut out);
        self.deliver(&mut out);
        token
    }

    fn asked_total(&self) -> usize {
        self.live.iter().chain(&self.gone).map(|c| c.asked).sum()
    }

    fn received(&self) -> Vec<u32> {
        let mut all: Vec<u32> = self
            .live
            .iter()
            .chain(&self.gone)
            .flat_map(|c| c.received.iter().copied())
            .collect();
        all.sort_unstable();
        all
    }
}

// --- DemandDispatcher ----------------------------------------------------------------

fn run_demand(ops: Vec<Op>) {
    let mut dispatcher = DemandDispatcher::new();
    let mut stage = Stage::default();
    // Demand cancelled consumers still held: forwarded upstream, never received.
    let mut orphaned_by_cancel = 0;
    // gen_stage's `pending`: orphaned demand not yet covered by asks or leftovers.
    let mut orphaned = 0;
    let mut covered_total = 0;
    for op in ops {
        match op {
            Op::Subscribe { .. } => {
                let tag = stage.new_tag();
                assert_eq!(dispatcher.subscribe(Subscriber::new(tag, 10)), Ok(0));
                let duplicate = dispatcher.subscribe(Subscriber::new(tag, 10));
                assert_eq!(duplicate, Err(DispatchError::AlreadySubscribed(tag)));
                stage.live.push(Consumer {
                    tag,
                    asked: 0,
                    received: Vec::new(),
                    choice: 0,
                });
            }
            Op::Ask { who, demand } => {
                if stage.ask(&mut dispatcher, who, demand).is_some() {
                    let covered = orphaned.min(usize::from(demand));
                    orphaned -= covered;
                    covered_total += covered;
                }
            }
            Op::Cancel { who } => {
                let mut out = Outbox::new();
                if let Some(consumer) = stage.cancel(&mut dispatcher, who, &mut out) {
                    orphaned_by_cancel += consumer.outstanding();
                    orphaned += consumer.outstanding();
                    stage.gone.push(consumer);
                }
                assert!(out.is_empty());
            }
            Op::Dispatch { count } => {
                let mut out = Outbox::new();
                let taken = stage.dispatch(&mut dispatcher, count, &mut out);
                let batches = stage.deliver(&mut out);
                // Each event to exactly one consumer: the batches are consecutive slices.
                let sent: Vec<u32> = batches.into_iter().flat_map(|(_, events)| events).collect();
                assert_eq!(sent, taken);
                orphaned -= orphaned.min(stage.buffer.len());
                if !stage.buffer.is_empty() {
                    for consumer in &stage.live {
                        assert_eq!(
                            consumer.outstanding(),
                            0,
                            "leftovers while {} had demand",
                            consumer.tag
                        );
                    }
                }
            }
            Op::Info => {
                let token = stage.info(&mut dispatcher);
                assert_eq!(
                    stage.infos_released.last(),
                    Some(&token),
                    "released at once"
                );
            }
        }
        // The dispatcher's view of each consumer's demand is exactly asked - received.
        let mut seen: Vec<(SubscriptionTag, usize)> = dispatcher.demands().collect();
        let mut expected: Vec<_> = stage
            .live
            .iter()
            .map(|c| (c.tag, c.outstanding()))
            .collect();
        assert!(
            seen.windows(2).all(|w| w[0].1 >= w[1].1),
            "not most-demand-first: {seen:?}"
        );
        seen.sort();
        expected.sort();
        assert_eq!(seen, expected);
        // Everything asked was forwarded, except what cancelled consumers' demand covers.
        let asked = stage.asked_total();
        assert_eq!(stage.forwarded, asked - covered_total);
        assert!(covered_total <= orphaned_by_cancel);
        assert_eq!(dispatcher.orphaned_demand(), orphaned);
    }
    // Nothing lost or duplicated: every event was received once or is still buffered.
    let mut accounted = stage.received();
    accounted.extend(&stage.buffer);
    accounted.sort_unstable();
    assert_eq!(accounted, (0..stage.next_event).collect::<Vec<_>>());
}

// --- BroadcastDispatcher -------------------------------------------------------------

/// 0: every event; 1: even ones; 2: odd ones.
fn selector(choice: u8) -> Option<Selector<u32>> {
    match choice % 3 {
        0 => None,
        1 => Some(Selector::new(|n: &u32| n % 2 == 0)),
        _ => Some(Selector::new(|n: &u32| n % 2 == 1)),
    }
}

fn accepts(choice: u8, event: u32) -> bool {
    selector(choice).is_none_or(|selector| selector.accepts(&event))
}

fn run_broadcast(ops: Vec<Op>) {
    let mut dispatcher = BroadcastDispatcher::new();
    let mut stage = Stage::default();
    let mut taken_before = BTreeSet::new();
    for op in ops {
        match op {
            Op::Subscribe { choice } => {
                let tag = stage.new_tag();
                let mut subscriber = Subscriber::new(tag, 10);
                subscriber.selector = selector(choice);
                assert_eq!(dispatcher.subscribe(subscriber), Ok(0));
                stage.live.push(Consumer {
                    tag,
                    asked: 0,
                    received: Vec::new(),
                    choice,
                });
            }
            Op::Ask { who, demand } => {
                stage.ask(&mut dispatcher, who, demand);
            }
            Op::Cancel { who } => {
                let mut out = Outbox::new();
                if let Some(consumer) = stage.cancel(&mut dispatcher, who, &mut out) {
                    stage.gone.push(consumer);
                }
                assert!(out.is_empty());
            }
            Op::Dispatch { count } => {
                let slowest = stage
                    .live
                    .iter()
                    .map(Consumer::outstanding)
                    .min()
                    .unwrap_or(0);
                let before: HashMap<SubscriptionTag, usize> = stage
                    .live
                    .iter()
                    .map(|c| (c.tag, c.received.len()))
                    .collect();
                let discarded_before = stage.discarded;
                let mut out = Outbox::new();
                let offered = stage.buffer.len() + usize::from(count);
                let taken = stage.dispatch(&mut dispatcher, count, &mut out);
                stage.deliver(&mut out);

                // Paced by the slowest: exactly as many as every consumer can take.
                assert_eq!(taken.len(), slowest.min(offered));
                // Every accepting consumer got every taken event it accepts; each
                // refusal is counted.
                let mut refusals = 0;
                for consumer in &stage.live {
                    let got = &consumer.received[before[&consumer.tag]..];
                    let wanted: Vec<u32> = taken
                        .iter()
                        .copied()
                        .filter(|&e| accepts(consumer.choice, e))
                        .collect();
                    assert_eq!(got, wanted.as_slice(), "{}", consumer.tag);
                    refusals += taken.len() - wanted.len();
                }
                assert_eq!(stage.discarded - discarded_before, refusals);
                for event in taken {
                    assert!(taken_before.insert(event), "event {event} taken twice");
                }
            }
            Op::Info => {
                let token = stage.info(&mut dispatcher);
                assert_eq!(
                    stage.infos_released.last(),
                    Some(&token),
                    "released at once"
                );
            }
        }
        // What all can take now is what the slowest still expects.
        let slowest = stage
            .live
            .iter()
            .map(Consumer::outstanding)
            .min()
            .unwrap_or(0);
        assert_eq!(dispatcher.ready(), slowest);
        // Refused events are asked for again on the refusing consumer's behalf.
        assert!(stage.forwarded <= stage.asked_total() + stage.discarded);
    }
    let mut accounted: Vec<u32> = taken_before.into_iter().collect();
    accounted.extend(&stage.buffer);
    accounted.sort_unstable();
    assert_eq!(accounted, (0..stage.next_event).collect::<Vec<_>>());
}

// --- PartitionDispatcher -------------------------------------------------------------

/// Multiples of 7 plus 3 are dropped, the rest go by remainder. (A hash out of range
/// is a failure, not a drop: `dispatcher_partition.rs` tests it.)
fn hash(partitions: usize) -> impl Fn(&u32) -> Option<usize> + Send + Sync + 'static {
    move |&event| match event {
        e if e % 7 == 3 => None,
        e => Some(e as usize % partitions),
    }
}

fn run_partition(partitions: usize, ops: Vec<Op>) {
    let route = hash(partitions);
    let mut dispatcher =
        PartitionDispatcher::new(Partitions::count(partitions), hash(partitions)).unwrap();
    let mut stage = Stage::default();
    // The test's model of each partition: its consumer and the events routed to it and
    // not yet delivered (the dispatcher's queue), oldest first.
    let mut holder: Vec<Option<SubscriptionTag>> = vec![None; partitions];
    let mut pending: Vec<VecDeque<u32>> = vec![VecDeque::new(); partitions];
    // For each waiting info, the newest event each partition held when it arrived.
    let mut waiting_infos: HashMap<InfoToken, Vec<Option<u32>>> = HashMap::new();
    let mut dropped_by_rule = 0;

    // Checks batches against the model and infos against what they wait for.
    let settle = |stage: &mut Stage,
                  out: &mut Outbox<u32>,
                  holder: &[Option<SubscriptionTag>],
                  pending: &mut [VecDeque<u32>],
                  waiting_infos: &mut HashMap<InfoToken, Vec<Option<u32>>>| {
        let released_before = stage.infos_released.len();
        for (tag, events) in stage.deliver(out) {
            let partition = holder.iter().position(|h| *h == Some(tag)).unwrap();
            for event in events {
                assert_eq!(
                    pending[partition].pop_front(),
                    Some(event),
                    "partition {partition}"
                );
            }
        }
        for token in &stage.infos_released[released_before..] {
            let newest = waiting_infos.remove(token).unwrap();
            for (partition, newest) in newest.into_iter().enumerate() {
                if let (Some(newest), Some(&front)) = (newest, pending[partition].front()) {
                    assert!(front > newest, "{token:?} released before event {newest}");
                }
            }
        }
    };

    for op in ops {
        let mut out = Outbox::new();
        match op {
            Op::Subscribe { choice } => {
                let partition = usize::from(choice) % partitions;
                let tag = stage.new_tag();
                let key = PartitionKey::Index(partition);
                let result = dispatcher.subscribe(Subscriber::new(tag, 10).partition(key.clone()));
                match holder[partition] {
                    Some(taken_by) => assert_eq!(
                        result,
                        Err(DispatchError::PartitionTaken {
                            partition: key,
                            holder: taken_by
                        })
                    ),
                    None => {
                        assert_eq!(result, Ok(0));
                        holder[partition] = Some(tag);
                        stage.live.push(Consumer {
                            tag,
                            asked: 0,
                            received: Vec::new(),
                            choice,
                        });
                    }
                }
            }
            Op::Ask { who, demand } => {
                let Some(at) = stage.pick(who) else { continue };
                let tag = stage.live[at].tag;
                stage.forwarded += dispatcher.ask(tag, usize::from(demand), &mut out).unwrap();
                stage.live[at].asked += usize::from(demand);
            }
            Op::Cancel { who } => {
                if let Some(consumer) = stage.cancel(&mut dispatcher, who, &mut out) {
                    let partition = holder
                        .iter()
                        .position(|h| *h == Some(consumer.tag))
                        .unwrap();
                    holder[partition] = None;
                    // Its queue is dropped and counted.
                    assert_eq!(out.take_discarded(), pending[partition].len());
                    stage.discarded += pending[partition].len();
                    pending[partition].clear();
                    stage.gone.push(consumer);
                }
            }
            Op::Dispatch { count } => {
                let taken = stage.dispatch(&mut dispatcher, count, &mut out);
                let mut drops = 0;
                for event in taken {
                    match route(&event).filter(|&p| p < partitions) {
                        Some(partition) => pending[partition].push_back(event),
                        None => drops += 1,
                    }
                }
                assert_eq!(
                    out.take_discarded(),
                    drops,
                    "each drop by the hash is counted"
                );
                dropped_by_rule += drops;
                stage.discarded += drops;
            }
            Op::Info => {
                let token = InfoToken::new(stage.next_token);
                stage.next_token += 1;
                dispatcher.info(token, &mut out);
                waiting_infos.insert(token, pending.iter().map(|q| q.back().copied()).collect());
            }
        }
        settle(
            &mut stage,
            &mut out,
            &holder,
            &mut pending,
            &mut waiting_infos,
        );
        assert_eq!(
            dispatcher.queued(),
            pending.iter().map(VecDeque::len).sum::<usize>()
        );
    }

    // Every consumer of every partition now asks for plenty: the queues drain and
    // every info comes out.
    for partition in 0..partitions {
        let tag = match holder[partition] {
            Some(tag) => tag,
            None => {
                let tag = stage.new_tag();
                let key = PartitionKey::Index(partition);
                dispatcher
                    .subscribe(Subscriber::new(tag, 10).partition(key))
                    .unwrap();
                holder[partition] = Some(tag);
                let choice = u8::try_from(partition).unwrap();
                stage.live.push(Consumer {
                    tag,
                    asked: 0,
                    received: Vec::new(),
                    choice,
                });
                tag
            }
        };
        let mut out = Outbox::new();
        dispatcher.ask(tag, 10_000, &mut out).unwrap();
        stage.consumer(tag).asked += 10_000;
        settle(
            &mut stage,
            &mut out,
            &holder,
            &mut pending,
            &mut waiting_infos,
        );
    }
    assert_eq!(dispatcher.queued(), 0);
    assert!(
        waiting_infos.is_empty(),
        "infos never released: {waiting_infos:?}"
    );

    // Every event was delivered to its partition once, dropped by a counted rule, or is
    // still buffered.
    let received = stage.received();
    assert!(
        received.windows(2).all(|w| w[0] < w[1]),
        "an event was delivered twice"
    );
    for consumer in stage.live.iter().chain(&stage.gone) {
        let partition = usize::from(consumer.choice) % partitions;
        assert!(consumer
            .received
            .iter()
            .all(|e| route(e) == Some(partition)));
    }
    assert_eq!(
        received.len() + stage.buffer.len() + stage.discarded,
        stage.next_event as usize,
        "delivered + buffered + discarded must account for every event"
    );
    assert!(stage.discarded >= dropped_by_rule);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn demand_dispatcher_loses_duplicates_and_overdelivers_nothing(ops in ops()) {
        run_demand(ops);
    }

    #[test]
    fn broadcast_dispatcher_sends_every_taken_event_to_every_accepting_consumer(ops in ops()) {
        run_broadcast(ops);
    }

    #[test]
    fn partition_dispatcher_routes_each_event_to_its_partition_or_counts_it(
        partitions in 1_usize..5,
        ops in ops(),
    ) {
        run_partition(partitions, ops);
    }
}
