//! The handles cross threads: a plan can be built on one task and run on another, a
//! stream read from any task, a running flow stopped from anywhere.

use arbor_flow::{Flow, FlowError, FlowStream, InvalidFlow, PartitionOptions, RunningFlow, Window};

fn send<T: Send>() {}
fn send_sync<T: Send + Sync>() {}

#[test]
fn plans_streams_and_running_flows_cross_threads() {
    send::<Flow<String>>();
    send::<Flow<u64, String>>();
    send::<FlowStream<u64>>();
    send_sync::<RunningFlow>();
    send_sync::<PartitionOptions<u64>>();
    send_sync::<Window<u64>>();
    send_sync::<FlowError>();
    send_sync::<InvalidFlow>();
}
