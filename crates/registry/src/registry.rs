//! `Registry<K, V>`: the tables, registration, and removal when an actor stops.

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::Arc;

use arbor_actor::ractor::ActorId;
use arbor_actor::{OnStop, Pid};
use dashmap::mapref::entry::Entry as Slot;
use dashmap::DashMap;

use crate::entries::{Entries, Entry};
use crate::listener::{Listeners, RegistryEvent};
use crate::lock::Locks;
use crate::meta::Meta;
use crate::telemetry::RegistryTelemetry;
use crate::{Keys, RegisterError, RegistryError, RegistryOptions};

/// What a registry key may be.
pub trait Key: Eq + Hash + Clone + fmt::Debug + Send + Sync + 'static {}
impl<T: Eq + Hash + Clone + fmt::Debug + Send + Sync + 'static> Key for T {}

/// What a registry value may be.
pub trait Value: Clone + Send + Sync + 'static {}
impl<T: Clone + Send + Sync + 'static> Value for T {}

/// A process registry: keys mapped to running actors, each entry with a value, read
/// without going through any mailbox (Elixir's `Registry`).
///
/// A registry is a value, not a global: create one, clone it (cheap: a shared pointer)
/// into whatever needs it, or put it in a supervision tree with
/// [`Registry::child_spec`]. An actor's entries disappear when it stops, for any reason,
/// before anyone can observe the stop.
///
/// # Examples
///
/// ```
/// use arbor_actor::{Context, GenServer, Init, Server};
/// use arbor_registry::Registry;
///
/// struct Worker;
/// impl GenServer for Worker {
///     type Args = ();
///     type State = ();
///     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
///         Init::Ready(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let registry: Registry<String, &'static str> = Registry::unique("workers");
/// let worker = Server::start(Worker, ()).await?;
/// registry.register("w1".to_string(), &worker, "import")?;
/// assert_eq!(registry.lookup(&"w1".to_string()), vec![(worker.pid(), "import")]);
///
/// worker.kill();
/// worker.wait().await;
/// assert!(registry.lookup(&"w1".to_string()).is_empty());
/// # Ok(())
/// # }
/// ```
pub struct Registry<K, V = ()> {
    pub(crate) inner: Arc<Inner<K, V>>,
}

/// One table: each key's entries (at most one live entry in a unique registry).
pub(crate) type Table<K, V> = DashMap<K, Entries<V>>;

pub(crate) struct Inner<K, V> {
    pub(crate) options: RegistryOptions,
    tables: Box<[Table<K, V>]>,
    /// Each actor's keys, to find its entries when it stops.
    owners: DashMap<ActorId, Owner<K>>,
    spread: RandomState,
    pub(crate) meta: Meta,
    pub(crate) listeners: Listeners<K, V>,
    pub(crate) locks: Locks<K>,
    telemetry: RegistryTelemetry,
}

struct Owner<K> {
    /// How many entries the actor has under each key.
    keys: HashMap<K, usize>,
}

impl<K: Key, V: Value> Registry<K, V> {
    /// A registry shaped by `options`.
    pub fn new(options: RegistryOptions) -> Self {
        let tables = (0..options.partitions.get())
            .map(|_| DashMap::new())
            .collect();
        let telemetry = RegistryTelemetry::new(&options.name);
        Registry {
            inner: Arc::new(Inner {
                telemetry,
                options,
                tables,
                owners: DashMap::new(),
                spread: RandomState::new(),
                meta: Meta::default(),
                listeners: Listeners::default(),
                locks: Locks::default(),
            }),
        }
    }

    /// A registry with unique keys, named `name`.
    pub fn unique(name: &str) -> Self {
        Self::new(RegistryOptions::new(Keys::Unique).name(name))
    }

    /// A registry with duplicate keys, named `name`.
    pub fn duplicate(name: &str) -> Self {
        Self::new(RegistryOptions::new(Keys::Duplicate).name(name))
    }

    /// The registry's name.
    pub fn name(&self) -> &str {
        &self.inner.options.name
    }

    /// Whether keys are unique or duplicate.
    pub fn key_mode(&self) -> Keys {
        self.inner.options.keys
    }

    /// Registers `actor` (a `&Server`, a `Pid` or a `&Pid`, as every method taking an
    /// actor) under `key` with `value`. The entry goes when the actor stops,
    /// or on [`Registry::unregister`]. In a duplicate registry an actor may register the
    /// same key many times.
    ///
    /// # Errors
    ///
    /// [`RegisterError::AlreadyRegistered`] naming the holder, when the key of a unique
    /// registry is taken; [`RegisterError::NotAlive`] when the actor has stopped.
    pub fn register(&self, key: K, actor: impl Into<Pid>, value: V) -> Result<(), RegisterError> {
        let pid = actor.into();
        if pid.is_stopping() {
            return Err(RegisterError::NotAlive(pid));
        }
        self.inner.insert(key.clone(), &pid, value.clone())?;
        let first = self.inner.own(pid.id(), key.clone());
        if first {
            self.watch(&pid)?;
        }
        self.inner.telemetry.registered();
        self.inner
            .listeners
            .notify(|| RegistryEvent::Registered { key, pid, value });
        Ok(())
    }

    /// Asks to hear of `pid`'s stop: its entries go then.
    fn watch(&self, pid: &Pid) -> Result<(), RegisterError> {
        let registry = Arc::downgrade(&self.inner);
        let id = pid.id();
        let watched = pid.on_stop(move |_exit| {
            if let Some(inner) = registry.upgrade() {
                inner.remove_owner(id);
            }
        });
        match watched {
            // A plain ractor actor offers no hook: reads skip its entries once it stops
            // and purge them.
            OnStop::Registered(_) | OnStop::Unsupported => Ok(()),
            OnStop::AlreadyStopping => {
                self.inner.remove_owner(id);
                Err(RegisterError::NotAlive(pid.clone()))
            }
        }
    }

    /// Removes every entry of `actor` (a `&Server`, a `Pid` or a `&Pid`) under `key`;
    /// returns how many went.
    pub fn unregister(&self, key: &K, actor: impl Into<Pid>) -> usize {
        self.unregister_match(key, actor, |_| true)
    }

    /// Removes the entries of `actor` under `key` whose value satisfies `pattern`;
    /// returns how many went (Elixir's `unregister_match`).
    pub fn unregister_match(
        &self,
        key: &K,
        actor: impl Into<Pid>,
        pattern: impl Fn(&V) -> bool,
    ) -> usize {
        let actor = actor.into();
        let removed = self.inner.remove_entries(key, actor.id(), pattern);
        self.inner.disown(actor.id(), key, removed.len());
        for entry in removed.as_slice() {
            self.inner.notify_unregistered(key, entry);
        }
        removed.len()
    }

    /// Replaces the value of `actor`'s entry under `key` with `update(old)`, in a unique
    /// registry; returns `(new, old)`. `update` runs under the key's lock: it must not
    /// call back into this registry.
    ///
    /// # Errors
    ///
    /// [`RegistryError::UniqueOnly`] on a duplicate registry;
    /// [`RegistryError::NotRegistered`] when `actor` does not hold `key`.
    pub fn update_value(
        &self,
        key: &K,
        actor: impl Into<Pid>,
        update: impl FnOnce(&V) -> V,
    ) -> Result<(V, V), RegistryError> {
        self.inner.unique_only("update_value")?;
        let actor = actor.into();
        let table = self.inner.table(key, actor.id());
        let mut entries = table
            .get_mut(key)
            .ok_or_else(|| self.inner.not_registered(key))?;
        let entry = entries
            .as_mut_slice()
            .iter_mut()
            .find(|entry| entry.pid == actor && !entry.pid.is_stopping())
            .ok_or_else(|| self.inner.not_registered(key))?;
        let new = update(&entry.value);
        let old = std::mem::replace(&mut entry.value, new.clone());
        Ok((new, old))
    }
}

impl<K: Key, V: Value> Inner<K, V> {
    /// The table holding `key`'s entries from `actor`: by key when keys are unique, by
    /// actor when duplicate (so one actor's entries share a table, as in Elixir).
    pub(crate) fn table(&self, key: &K, actor: ActorId) -> &Table<K, V> {
        let index = match self.options.keys {
            Keys::Unique => self.pick(key),
            Keys::Duplicate => self.pick(actor),
        };
        &self.tables[index]
    }

    /// The tables that may hold `key`'s entries.
    pub(crate) fn tables_for(&self, key: &K) -> &[Table<K, V>] {
        match self.options.keys {
            Keys::Unique => std::slice::from_ref(&self.tables[self.pick(key)]),
            Keys::Duplicate => &self.tables,
        }
    }

    pub(crate) fn tables(&self) -> &[Table<K, V>] {
        &self.tables
    }

    fn pick(&self, by: impl Hash) -> usize {
        let count = self.tables.len();
        if count == 1 {
            return 0;
        }
        // The remainder is below `count`, a usize.
        (self.spread.hash_one(by) % count as u64) as usize
    }

    fn insert(&self, key: K, pid: &Pid, value: V) -> Result<(), RegisterError> {
        let entry = Entry {
            pid: pid.clone(),
            value,
        };
        let table = self.table(&key, pid.id());
        let stale = match table.entry(key) {
            Slot::Vacant(slot) => {
                slot.insert(Entries::One(entry));
                return Ok(());
            }
            Slot::Occupied(mut slot) if self.options.keys == Keys::Duplicate => {
                slot.get_mut().push(entry);
                return Ok(());
            }
            Slot::Occupied(mut slot) => {
                let held = slot.get().as_slice();
                if let Some(holder) = held.iter().find(|held| !held.pid.is_stopping()) {
                    return Err(RegisterError::AlreadyRegistered {
                        key: format!("{:?}", slot.key()),
                        holder: holder.pid.clone(),
                    });
                }
                std::mem::replace(slot.get_mut(), Entries::One(entry))
            }
        };
        // A holder that stopped and has not been removed yet: forget all of it.
        for gone in stale.into_vec() {
            self.remove_owner(gone.pid.id());
        }
        Ok(())
    }

    /// Records that `actor` has an entry under `key`; `true` when it is the actor's
    /// first entry, so the registry must watch it.
    fn own(&self, actor: ActorId, key: K) -> bool {
        let mut first = false;
        let mut owner = self.owners.entry(actor).or_insert_with(|| {
            first = true;
            Owner {
                keys: HashMap::new(),
            }
        });
        *owner.keys.entry(key).or_insert(0) += 1;
        first
    }

    /// `actor`'s keys, once per entry.
    pub(crate) fn owned_keys(&self, actor: ActorId) -> Vec<K> {
        let Some(owner) = self.owners.get(&actor) else {
            return Vec::new();
        };
        owner
            .keys
            .iter()
            .flat_map(|(key, &count)| std::iter::repeat_n(key, count))
            .cloned()
            .collect()
    }

    /// Forgets `removed` of `actor`'s entries under `key`. An actor left with no key
    /// keeps its (empty) record, so registering again does not watch it twice.
    fn disown(&self, actor: ActorId, key: &K, removed: usize) {
        if removed == 0 {
            return;
        }
        if let Some(mut owner) = self.owners.get_mut(&actor) {
            if let Some(count) = owner.keys.get_mut(key) {
                *count = count.saturating_sub(removed);
                if *count == 0 {
                    owner.keys.remove(key);
                }
            }
        }
    }

    /// Removes `actor`'s entries under `key` whose value matches; returns them.
    fn remove_entries(&self, key: &K, actor: ActorId, pattern: impl Fn(&V) -> bool) -> Entries<V> {
        let matches = |entry: &Entry<V>| entry.pid.id() == actor && pattern(&entry.value);
        let table = self.table(key, actor);
        // Usually every entry under the key goes (always, for a unique key's holder).
        let everything = |_: &K, entries: &Entries<V>| entries.as_slice().iter().all(matches);
        if let Some((_, removed)) = table.remove_if(key, everything) {
            return removed;
        }
        let Some(mut entries) = table.get_mut(key) else {
            return Entries::Many(Vec::new());
        };
        let removed = entries.take(matches);
        let now_empty = entries.is_empty();
        drop(entries);
        if now_empty {
            table.remove_if(key, |_, entries| entries.is_empty());
        }
        removed
    }

    /// Removes every entry of a stopped actor.
    pub(crate) fn remove_owner(&self, actor: ActorId) {
        let Some((_, owner)) = self.owners.remove(&actor) else {
            return;
        };
        for key in owner.keys.keys() {
            for entry in self.remove_entries(key, actor, |_| true).as_slice() {
                self.notify_unregistered(key, entry);
            }
        }
    }

    /// Removes the entries under `key` of actors found dead on a read.
    pub(crate) fn purge(&self, key: &K, dead: &[ActorId]) {
        for &actor in dead {
            self.remove_owner(actor);
            // An entry whose registration is still being recorded has no owner yet.
            self.remove_entries(key, actor, |_| true);
        }
    }

    /// Empties the registry (its tree stopped it).
    pub(crate) fn clear(&self) -> usize {
        let actors: Vec<ActorId> = self.owners.iter().map(|owner| *owner.key()).collect();
        let before: usize = self.tables.iter().map(|table| table.len()).sum();
        for actor in actors {
            self.remove_owner(actor);
        }
        for table in self.tables.iter() {
            table.clear();
        }
        before
    }

    fn notify_unregistered(&self, key: &K, entry: &Entry<V>) {
        self.telemetry.unregistered();
        self.listeners.notify(|| RegistryEvent::Unregistered {
            key: key.clone(),
            pid: entry.pid.clone(),
        });
    }

    pub(crate) fn unique_only(&self, operation: &'static str) -> Result<(), RegistryError> {
        match self.options.keys {
            Keys::Unique => Ok(()),
            Keys::Duplicate => Err(RegistryError::UniqueOnly {
                operation,
                registry: self.options.name.to_string(),
            }),
        }
    }

    pub(crate) fn not_registered(&self, key: &K) -> RegistryError {
        RegistryError::NotRegistered {
            key: format!("{key:?}"),
            registry: self.options.name.to_string(),
        }
    }
}

impl<K, V> Clone for Registry<K, V> {
    fn clone(&self) -> Self {
        Registry {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<K, V> fmt::Debug for Registry<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("name", &self.inner.options.name)
            .field("keys", &self.inner.options.keys)
            .field("partitions", &self.inner.options.partitions)
            .finish_non_exhaustive()
    }
}
