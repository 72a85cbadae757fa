//! The consumer's demand accounting and the producer's demand gate, without a runtime.
//! The golden batch boundaries are gen_stage's (`Utils.split_batches` and the
//! consumer's ask on subscribe).

mod support;

use arbor_stage::plumbing::{DemandCounter, DemandGate};
use arbor_stage::{DemandMode, InvalidOptions};
use proptest::prelude::*;

/// (batch size, ask after it) for each batch of one delivery of `count` events.
fn plan(counter: &mut DemandCounter, count: u32) -> Vec<(usize, usize)> {
    let split = counter.split((0..count).collect());
    assert_eq!(split.excess, 0);
    split
        .batches
        .iter()
        .map(|batch| (batch.events.len(), batch.ask))
        .collect()
}

// --- defaults and options ------------------------------------------------------------

#[test]
fn demand_counter_defaults_are_gen_stages() {
    assert_eq!(DemandCounter::DEFAULT_MAX_DEMAND, 1000);
    let counter = DemandCounter::default();
    assert_eq!((counter.max_demand(), counter.min_demand()), (1000, 500));
    assert_eq!(counter.initial_ask(), 1000);
    assert_eq!(counter.pending(), 1000);
}

#[test]
fn demand_counter_default_min_demand_is_half_of_max_rounded_down() {
    assert_eq!(DemandCounter::with_max_demand(10).unwrap().min_demand(), 5);
    assert_eq!(DemandCounter::with_max_demand(7).unwrap().min_demand(), 3);
    assert_eq!(DemandCounter::with_max_demand(1).unwrap().min_demand(), 0);
}

#[test]
fn demand_counter_refuses_a_max_demand_of_zero() {
    assert_eq!(DemandCounter::new(0, 0), Err(InvalidOptions::ZeroMaxDemand));
    assert_eq!(
        DemandCounter::with_max_demand(0),
        Err(InvalidOptions::ZeroMaxDemand)
    );
}

#[test]
fn demand_counter_refuses_a_min_demand_not_below_max() {
    for min_demand in [10, 11] {
        let error = DemandCounter::new(10, min_demand).unwrap_err();
        assert_eq!(
            error,
            InvalidOptions::MinDemandNotBelowMax {
                min_demand,
                max_demand: 10,
            }
        );
        assert_eq!(
            error.to_string(),
            format!("min_demand ({min_demand}) must be below max_demand (10)")
        );
    }
}

// --- golden batch boundaries ---------------------------------------------------------

#[test]
fn demand_counter_max_100_min_80_handles_batches_of_20_and_asks_20_after_each() {
    let mut counter = DemandCounter::new(100, 80).unwrap();
    assert_eq!(counter.initial_ask(), 100);
    assert_eq!(plan(&mut counter, 100), vec![(20, 20); 5]);
    assert_eq!(counter.pending(), 100);
}

#[test]
fn demand_counter_max_100_min_20_handles_80_then_the_remaining_20() {
    let mut counter = DemandCounter::new(100, 20).unwrap();
    // After 80, 20 are owed (= min_demand): ask 80. After 20 more, 80 are owed: wait.
    assert_eq!(plan(&mut counter, 100), vec![(80, 80), (20, 0)]);
    assert_eq!(counter.pending(), 80);
}

#[test]
fn demand_counter_max_10_min_5_handles_batches_of_5() {
    let mut counter = DemandCounter::new(10, 5).unwrap();
    assert_eq!(plan(&mut counter, 10), vec![(5, 5), (5, 5)]);
}

#[test]
fn demand_counter_max_1_min_0_handles_one_event_at_a_time() {
    let mut counter = DemandCounter::new(1, 0).unwrap();
    assert_eq!(counter.initial_ask(), 1);
    for _ in 0..3 {
        assert_eq!(plan(&mut counter, 1), vec![(1, 1)]);
    }
}

#[test]
fn demand_counter_asks_nothing_until_pending_falls_to_min_demand() {
    let mut counter = DemandCounter::new(100, 80).unwrap();
    assert_eq!(plan(&mut counter, 10), vec![(10, 0)]);
    assert_eq!(counter.pending(), 90);
    // 80 owed now: back up to 100.
    assert_eq!(plan(&mut counter, 10), vec![(10, 20)]);
    assert_eq!(counter.pending(), 100);
}

#[test]
fn demand_counter_keeps_events_in_order_across_batches() {
    let mut counter = DemandCounter::new(10, 7).unwrap();
    let split = counter.split((0..10).collect::<Vec<u32>>());
    let sizes: Vec<_> = split.batches.iter().map(|b| b.events.len()).collect();
    assert_eq!(sizes, vec![3, 3, 3, 1]);
    let rejoined: Vec<u32> = split.batches.into_iter().flat_map(|b| b.events).collect();
    assert_eq!(rejoined, (0..10).collect::<Vec<_>>());
}

#[test]
fn demand_counter_makes_no_batch_from_nothing() {
    let mut counter = DemandCounter::default();
    assert!(counter.split(Vec::<u8>::new()).batches.is_empty());
    assert_eq!(counter.pending(), 1000);
}

// --- excess --------------------------------------------------------------------------

#[test]
fn demand_counter_counts_events_beyond_what_was_owed() {
    let mut counter = DemandCounter::new(10, 5).unwrap();
    let split = counter.split((0..12).collect::<Vec<u32>>());

    // Every event is still handed out; only the 10 owed count against demand.
    let sizes: Vec<_> = split
        .batches
        .iter()
        .map(|b| (b.events.len(), b.ask))
        .collect();
    assert_eq!(sizes, vec![(5, 5), (5, 5), (2, 0)]);
    assert_eq!(split.excess, 2);
    assert_eq!(counter.excess_total(), 2);
    assert_eq!(counter.pending(), 10);
}

#[test]
fn demand_counter_asks_made_within_a_delivery_do_not_excuse_its_excess() {
    let mut counter = DemandCounter::new(2, 0).unwrap();
    // Owed 2 when 4 arrive: the re-ask after the first 2 cannot have been seen yet.
    let split = counter.split(vec![1, 2, 3, 4]);
    assert_eq!(split.excess, 2);
    assert_eq!(counter.excess_total(), 2);
}

proptest! {
    /// With a producer that never sends more than it owes, batches stay within
    /// max - min, events keep their order, asks add up, and pending stays above
    /// min_demand and at most max_demand.
    #[test]
    fn demand_counter_accounting_balances(
        max_demand in 1_usize..200,
        min_ratio in 0.0_f64..1.0,
        deliveries in prop::collection::vec(0.0_f64..=1.0, 1..30),
    ) {
        let min_demand = ((max_demand as f64) * min_ratio) as usize % max_demand;
        let mut counter = DemandCounter::new(max_demand, min_demand).unwrap();
        let mut asked = counter.initial_ask();
        let mut received = 0;
        let mut next = 0_u64;
        for fraction in deliveries {
            let count = ((counter.pending() as f64) * fraction) as usize;
            let events: Vec<u64> = (next..next + count as u64).collect();
            next += count as u64;
            let split = counter.split(events.clone());
            prop_assert_eq!(split.excess, 0);
            let mut rejoined = Vec::new();
            for batch in split.batches {
                prop_assert!(!batch.events.is_empty());
                prop_assert!(batch.events.len() <= max_demand - min_demand);
                received += batch.events.len();
                asked += batch.ask;
                rejoined.extend(batch.events);
            }
            prop_assert_eq!(rejoined, events);
            prop_assert_eq!(counter.pending(), asked - received);
            prop_assert!(counter.pending() > min_demand);
            prop_assert!(counter.pending() <= max_demand);
        }
    }
}

// --- the producer's demand gate ------------------------------------------------------

#[test]
fn demand_gate_forwards_by_default() {
    let mut gate = DemandGate::default();
    assert_eq!(gate.mode(), DemandMode::Forward);
    assert_eq!(gate.demand(7), 7);
    assert_eq!(gate.accumulated(), 0);
}

#[test]
fn demand_gate_accumulates_until_switched_to_forward() {
    let mut gate = DemandGate::new(DemandMode::Accumulate);
    assert_eq!(gate.demand(10), 0);
    assert_eq!(gate.demand(4), 0);
    assert_eq!(gate.accumulated(), 14);
    assert!(
        gate.set_mode(DemandMode::Accumulate).is_empty(),
        "still accumulating"
    );
    assert_eq!(gate.set_mode(DemandMode::Forward), vec![10, 4], "as asked");
    assert_eq!(gate.accumulated(), 0);
    assert!(
        gate.set_mode(DemandMode::Forward).is_empty(),
        "released only once"
    );
    assert_eq!(gate.demand(2), 2);
}
