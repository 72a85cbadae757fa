//! Compile-time contracts: handles and specs cross threads and clone.

use arbor_supervisor::{
    Child, ChildError, ChildSpec, DynamicSupervisor, StartChildError, Supervisor, SupervisorError,
    TreeNode,
};

fn send_sync_clone<T: Send + Sync + Clone>() {}

#[test]
fn handles_specs_and_errors_can_cross_threads() {
    send_sync_clone::<Supervisor>();
    send_sync_clone::<DynamicSupervisor>();
    send_sync_clone::<DynamicSupervisor<String>>();
    send_sync_clone::<ChildSpec>();
    send_sync_clone::<Child>();
    send_sync_clone::<TreeNode>();
    send_sync_clone::<SupervisorError>();
    send_sync_clone::<StartChildError>();
    send_sync_clone::<ChildError>();
}
