//! The registry's handles cross tasks and threads.

use arbor_registry::{RegisterError, Registry, RegistryError, RegistryEvents, Via, ViaCallError};

fn send_sync_clone<T: Send + Sync + Clone>() {}
fn send_sync<T: Send + Sync>() {}

#[test]
fn registry_types_are_send_sync() {
    send_sync_clone::<Registry<String, u64>>();
    send_sync_clone::<Via<String, u64>>();
    send_sync_clone::<RegisterError>();
    send_sync_clone::<RegistryError>();
    send_sync_clone::<ViaCallError>();
    send_sync::<RegistryEvents<String, u64>>();
}
