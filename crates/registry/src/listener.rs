//! Listeners: hear of every registration and unregistration as it happens.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

use arbor_actor::Pid;
use tokio::sync::mpsc;

use crate::registry::{Key, Value};
use crate::Registry;

/// One change to a registry, as its listeners hear it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryEvent<K, V> {
    /// `pid` registered under `key` with `value`.
    Registered {
        /// The key.
        key: K,
        /// The actor.
        pid: Pid,
        /// The entry's value.
        value: V,
    },
    /// An entry of `pid` under `key` went: unregistered, or its actor stopped.
    Unregistered {
        /// The key.
        key: K,
        /// The actor.
        pid: Pid,
    },
}

/// The events of one listener (changes made by one thread arrive in the order made); from
/// [`Registry::listen`]. Unbounded: a listener that stops reading holds the backlog.
pub struct RegistryEvents<K, V> {
    events: mpsc::UnboundedReceiver<RegistryEvent<K, V>>,
}

impl<K, V> RegistryEvents<K, V> {
    /// The next event; `None` once the registry is gone.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: no event is lost when the future is dropped.
    pub async fn recv(&mut self) -> Option<RegistryEvent<K, V>> {
        self.events.recv().await
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<RegistryEvent<K, V>> {
        self.events.try_recv().ok()
    }
}

impl<K, V> fmt::Debug for RegistryEvents<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryEvents").finish_non_exhaustive()
    }
}

/// The registry's listeners; registration pays one atomic load when there are none.
pub(crate) struct Listeners<K, V> {
    any: AtomicBool,
    senders: RwLock<Vec<mpsc::UnboundedSender<RegistryEvent<K, V>>>>,
}

impl<K, V> Default for Listeners<K, V> {
    fn default() -> Self {
        Listeners {
            any: AtomicBool::new(false),
            senders: RwLock::new(Vec::new()),
        }
    }
}

impl<K: Key, V: Value> Listeners<K, V> {
    fn add(&self) -> RegistryEvents<K, V> {
        let (sender, events) = mpsc::unbounded_channel();
        let mut senders = match self.senders.write() {
            Ok(senders) => senders,
            Err(poisoned) => poisoned.into_inner(),
        };
        senders.push(sender);
        self.any.store(true, Ordering::Release);
        RegistryEvents { events }
    }

    /// Sends the event `make` builds to every listener; forgets listeners that are gone.
    pub(crate) fn notify(&self, make: impl FnOnce() -> RegistryEvent<K, V>) {
        if !self.any.load(Ordering::Acquire) {
            return;
        }
        let event = make();
        let mut gone = false;
        {
            let senders = match self.senders.read() {
                Ok(senders) => senders,
                Err(poisoned) => poisoned.into_inner(),
            };
            for sender in senders.iter() {
                gone |= sender.send(event.clone()).is_err();
            }
        }
        if gone {
            self.forget_closed();
        }
    }

    fn forget_closed(&self) {
        let mut senders = match self.senders.write() {
            Ok(senders) => senders,
            Err(poisoned) => poisoned.into_inner(),
        };
        senders.retain(|sender| !sender.is_closed());
        self.any.store(!senders.is_empty(), Ordering::Release);
    }
}

impl<K: Key, V: Value> Registry<K, V> {
    /// Starts listening: every later registration and unregistration (explicit, or
    /// because the actor stopped) arrives on the returned receiver (Elixir's
    /// `listeners`). Dropping the receiver stops the listening.
    pub fn listen(&self) -> RegistryEvents<K, V> {
        self.inner.listeners.add()
    }
}
