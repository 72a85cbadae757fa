//! The shell's handles cross threads and tasks: a stop handle is shared with signal
//! handlers and workers, a running application is moved into a spawned task.

use arbor_app::{ApplicationBuilder, Outcome, Running, StopHandle, Trigger};

fn send_sync_clone<T: Send + Sync + Clone>() {}
fn send<T: Send>() {}

#[test]
fn handles_and_outcomes_are_send_sync_clone() {
    send_sync_clone::<StopHandle>();
    send_sync_clone::<Outcome>();
    send_sync_clone::<Trigger>();
}

#[test]
fn the_builder_and_a_running_application_move_between_tasks() {
    send::<ApplicationBuilder>();
    send::<Running>();
}
