//! Compile-time contracts: the pure core's types can move between tasks, and a stage can
//! hold any dispatcher behind `Box<dyn Dispatcher<E>>`.

use std::rc::Rc;

use arbor_stage::{
    BroadcastDispatcher, Buffer, DemandCounter, DemandDispatcher, DemandGate, Dispatcher, Outbox,
    PartitionDispatcher, Partitions, Selector, Subscriber,
};

fn send_sync<T: Send + Sync>() {}

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
