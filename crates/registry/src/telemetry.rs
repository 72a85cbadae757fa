//! The metrics a registry emits, through the [`metrics`] facade (a no-op until a
//! recorder is installed). The handles are registered once, when the registry is
//! created, so a registration only increments a counter.
//!
//! | metric | kind | labels | when |
//! |---|---|---|---|
//! | `arbor_registry_registered_total` | counter | `registry` | an entry was registered |
//! | `arbor_registry_unregistered_total` | counter | `registry` | an entry went: unregistered, or its actor stopped |
//!
//! `registry` is the registry's name ([`RegistryOptions::name`](crate::RegistryOptions::name)).

use metrics::Counter;

/// The handles of one registry.
pub(crate) struct RegistryTelemetry {
    registered: Counter,
    unregistered: Counter,
}

impl RegistryTelemetry {
    pub(crate) fn new(name: &str) -> Self {
        let registry = [("registry", name.to_owned())];
        RegistryTelemetry {
            registered: metrics::counter!("arbor_registry_registered_total", &registry),
            unregistered: metrics::counter!("arbor_registry_unregistered_total", &registry),
        }
    }

    pub(crate) fn registered(&self) {
        self.registered.increment(1);
    }

    pub(crate) fn unregistered(&self) {
        self.unregistered.increment(1);
    }
}
