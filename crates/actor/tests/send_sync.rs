//! Compile-time contracts: handles are `Send + Sync + Clone`, errors are `Send + Sync`.

mod support;

use arbor_actor::{
    CallError, Context, Envelope, Exit, Pid, ReplyTo, SendError, Server, StartError, StartOptions,
    StopError, TimerRef,
};
use support::Probe;

fn send_sync_clone<T: Send + Sync + Clone>() {}
fn send_sync<T: Send + Sync>() {}
fn send<T: Send>() {}

#[test]
fn handles_and_errors_can_cross_threads() {
    send_sync_clone::<Server<Probe>>();
    send_sync_clone::<Exit>();
    send_sync_clone::<Pid>();
    send_sync_clone::<StartOptions>();
    send_sync::<TimerRef>();
    send_sync::<ReplyTo<u32>>();
    send_sync::<CallError>();
    send_sync::<StartError>();
    send_sync::<StopError>();
    send_sync::<SendError<u32>>();
    send_sync::<Context<Probe>>();
    send::<Envelope<Probe>>();
}
