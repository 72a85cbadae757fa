//! The errors of arbor-registry, one enum per kind of operation.

use std::fmt;

use arbor_actor::{CallError, Pid};

/// Why [`Registry::register`](crate::Registry::register) did not add an entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegisterError {
    /// The key of a unique registry is held by a live actor (possibly the same one):
    /// Elixir's `{:error, {:already_registered, pid}}`.
    #[error("key {key} is already registered by {holder}")]
    AlreadyRegistered {
        /// The key, as `Debug` shows it.
        key: String,
        /// The actor holding it.
        holder: Pid,
    },
    /// The actor has stopped, or is stopping: its entry would be stale at once.
    #[error("cannot register {0}: the actor is not alive")]
    NotAlive(Pid),
}

/// Why a lookup, update or metadata read of a [`Registry`](crate::Registry) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The operation needs a unique registry (one holder per key).
    #[error("{operation} needs a registry with unique keys; {registry} has duplicate keys")]
    UniqueOnly {
        /// The operation refused.
        operation: &'static str,
        /// The registry's name.
        registry: String,
    },
    /// No live actor holds the key (for this actor, when one was named).
    #[error("key {key} is not registered in {registry}")]
    NotRegistered {
        /// The key, as `Debug` shows it.
        key: String,
        /// The registry's name.
        registry: String,
    },
    /// The key's holder is not a server of the behaviour asked for.
    #[error("key {key} is held by {holder}, which is not a {expected} server")]
    WrongBehaviour {
        /// The key, as `Debug` shows it.
        key: String,
        /// The actor holding it.
        holder: Pid,
        /// The behaviour asked for.
        expected: &'static str,
    },
    /// No metadata under this name.
    #[error("no metadata {0:?}")]
    NoMeta(String),
    /// The metadata under this name has another type.
    #[error("metadata {name:?} is not a {expected}")]
    MetaType {
        /// The metadata's name.
        name: String,
        /// The type asked for.
        expected: &'static str,
    },
}

/// Why [`Registry::lock`](crate::Registry::lock) did not run its function.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LockError {
    /// The calling task already holds this key's lock: waiting for it would wait forever.
    #[error("the lock of key {key} in {registry} is already held by this task")]
    Reentrant {
        /// The key, as `Debug` shows it.
        key: String,
        /// The registry's name.
        registry: String,
    },
}

/// Why [`Registry::call`](crate::Registry::call) returned no reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ViaCallError {
    /// The name did not resolve to a server of the right behaviour.
    #[error(transparent)]
    Lookup(#[from] RegistryError),
    /// The server was found; the call failed.
    #[error(transparent)]
    Call(#[from] CallError),
}

/// Why [`Registry::cast`](crate::Registry::cast) or [`Registry::send`](crate::Registry::send)
/// did not deliver; the message comes back.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct ViaSendError<M> {
    /// Why: the name did not resolve, or its server stopped before the message reached it.
    pub reason: RegistryError,
    /// The message that was not delivered.
    pub message: M,
}

impl<M> ViaSendError<M> {
    /// The message that was not delivered.
    pub fn into_inner(self) -> M {
        self.message
    }
}

// By hand, so that `ViaSendError<M>: Debug` does not need `M: Debug`.
impl<M> fmt::Debug for ViaSendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ViaSendError")
            .field("reason", &self.reason)
            .finish_non_exhaustive()
    }
}
