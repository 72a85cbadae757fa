//! Compile-time contracts: the pure core's types and the stage handles can move between
//! tasks, and a stage can hold any dispatcher behind `Box<dyn Dispatcher<E>>`.

mod support;

use std::rc::Rc;

use arbor_stage::plumbing::{Buffer, DemandCounter, DemandGate, Outbox};
use arbor_stage::{
    BroadcastDispatcher, ConsumerSupervisor, DemandDispatcher, Dispatcher, PartitionDispatcher,
    Partitions, Selector, Stage, StageBuilder, StageStartError, SubscribeError, SubscribeOptions,
    SubscribeTo, Subscriber,
};
use support::{Counter, Probe};

fn send_sync<T: Send + Sync>() {}
fn send_sync_clone<T: Send + Sync + Clone>() {}
fn send<T: Send>() {}

#[test]
fn stage_handles_and_options_can_cross_threads() {
    send_sync_clone::<Stage<Counter>>();
    send_sync_clone::<Stage<Probe>>();
    send_sync_clone::<Stage<ConsumerSupervisor<u64>>>();
    send_sync_clone::<SubscribeOptions<u64>>();
    send_sync_clone::<SubscribeTo<u64>>();
    send_sync::<SubscribeError>();
    send_sync::<StageStartError>();
    send::<StageBuilder<Counter>>();
}

#[test]
fn pure_core_types_are_send_and_sync() {
    send_sync::<DemandDispatcher<u32>>();
    send_sync::<BroadcastDispatcher<u32>>();
    send_sync::<PartitionDispatcher<u32>>();
    send_sync::<Buffer<u32>>();
    send_sync::<Outbox<u32>>();
    send_sync::<Subscriber<u32>>();
    send_sync::<Selector<u32>>();
    send_sync::<DemandCounter>();
    send_sync::<DemandGate>();
}

#[test]
fn demand_dispatcher_is_send_even_for_events_that_are_not() {
    // It holds no event, so a stage of `Rc`s could still move it between threads.
    send_sync::<DemandDispatcher<Rc<u32>>>();
}

#[test]
fn every_dispatcher_fits_behind_one_trait_object() {
    let dispatchers: Vec<Box<dyn Dispatcher<u32>>> = vec![
        Box::new(DemandDispatcher::new()),
        Box::new(BroadcastDispatcher::new()),
        Box::new(PartitionDispatcher::hashed(Partitions::count(2)).unwrap()),
    ];
    for mut dispatcher in dispatchers {
        let mut out = Outbox::new();
        // Nobody subscribed: everything comes back.
        assert_eq!(dispatcher.dispatch(vec![1, 2], &mut out), vec![1, 2]);
    }
}
