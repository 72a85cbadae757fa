//! Reads: lookup, keys, values, select, match, count and dispatch. None goes through a
//! mailbox, and none returns an entry of an actor whose stop is decided.

use std::sync::Arc;

use arbor_actor::ractor::ActorId;
use arbor_actor::Pid;
use tokio::task::JoinSet;

use crate::entries::Entry;
use crate::registry::{Key, Table, Value};
use crate::{Lookup, Registry, RegistryError};

impl<K: Key, V: Value> Registry<K, V> {
    /// The live entries under `key`, as `(actor, value)` pairs.
    pub fn lookup(&self, key: &K) -> Lookup<V> {
        let mut found = Lookup::new();
        self.scan_key(key, |entry| {
            found.push((entry.pid.clone(), entry.value.clone()));
        });
        found
    }

    /// The actor holding `key` in a unique registry (Elixir's `whereis_name`).
    ///
    /// # Errors
    ///
    /// [`RegistryError::NotRegistered`] when no live actor holds it;
    /// [`RegistryError::UniqueOnly`] on a duplicate registry.
    pub fn whereis(&self, key: &K) -> Result<Pid, RegistryError> {
        self.inner.unique_only("whereis")?;
        let mut holder = None;
        self.scan_key(key, |entry| holder = Some(entry.pid.clone()));
        holder.ok_or_else(|| self.inner.not_registered(key))
    }

    /// The keys `actor` is registered under, once per entry; empty once it has stopped.
    pub fn keys(&self, actor: impl Into<Pid>) -> Vec<K> {
        let actor = actor.into();
        if actor.is_stopping() {
            return Vec::new();
        }
        self.inner.owned_keys(actor.id())
    }

    /// The values of `actor`'s entries under `key`.
    pub fn values(&self, key: &K, actor: impl Into<Pid>) -> Vec<V> {
        let actor = actor.into();
        let mut values = Vec::new();
        self.scan_key(key, |entry| {
            if entry.pid == actor {
                values.push(entry.value.clone());
            }
        });
        values
    }

    /// The live entries under `key` whose value satisfies `pattern` (Elixir's `match`).
    pub fn match_entries(&self, key: &K, pattern: impl Fn(&V) -> bool) -> Vec<(Pid, V)> {
        let mut found = Vec::new();
        self.scan_key(key, |entry| {
            if pattern(&entry.value) {
                found.push((entry.pid.clone(), entry.value.clone()));
            }
        });
        found
    }

    /// How many live entries under `key` satisfy `pattern`.
    pub fn count_match(&self, key: &K, pattern: impl Fn(&V) -> bool) -> usize {
        let mut count = 0;
        self.scan_key(key, |entry| count += usize::from(pattern(&entry.value)));
        count
    }

    /// How many live entries the registry holds. It reads every entry.
    pub fn count(&self) -> usize {
        self.count_select(|_, _, _| true)
    }

    /// How many live entries satisfy `predicate` over (key, actor, value).
    pub fn count_select(&self, predicate: impl Fn(&K, &Pid, &V) -> bool) -> usize {
        let mut count = 0;
        self.each_live(|key, entry| count += usize::from(predicate(key, &entry.pid, &entry.value)));
        count
    }

    /// Every live entry for which `select` returns something, mapped by it: the Rust
    /// answer to Elixir's match specs (filter on key, actor and value; return any
    /// shape). `select` runs under the tables' read locks: it must not call back into
    /// this registry.
    ///
    /// ```
    /// # use arbor_actor::{Context, GenServer, Init, Server};
    /// # use arbor_registry::Registry;
    /// # struct Job;
    /// # impl GenServer for Job {
    /// #     type Args = ();
    /// #     type State = ();
    /// #     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> { Init::Ready(()) }
    /// # }
    /// #[derive(Clone, PartialEq)]
    /// enum JobType { Import, Send }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let jobs: Registry<String, JobType> = Registry::unique("jobs");
    /// let import = Server::start(Job, ()).await?;
    /// let send = Server::start(Job, ()).await?;
    /// jobs.register("a1".into(), &import, JobType::Import)?;
    /// jobs.register("b2".into(), &send, JobType::Send)?;
    ///
    /// // The book's running_imports: the id and pid of every job of type import.
    /// let running_imports = jobs.select(|id, pid, kind| {
    ///     (*kind == JobType::Import).then(|| (id.clone(), pid.clone()))
    /// });
    /// assert_eq!(running_imports, vec![("a1".to_string(), import.pid())]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn select<T>(&self, select: impl Fn(&K, &Pid, &V) -> Option<T>) -> Vec<T> {
        let mut found = Vec::new();
        self.each_live(|key, entry| found.extend(select(key, &entry.pid, &entry.value)));
        found
    }

    /// Calls `deliver` once with all the live entries under `key`, as `(actor, value)`
    /// pairs, outside any lock, and returns how many there were (pub/sub: Elixir's
    /// `dispatch`). With no entry, `deliver` is not called.
    ///
    /// Elixir calls its callback once per partition that holds entries; arbor gathers
    /// them into one call (see [`Registry::dispatch_parallel`] for one call per partition,
    /// run concurrently).
    ///
    /// ```
    /// # use arbor_actor::{Context, GenServer, Init, Server};
    /// # struct Listener;
    /// # impl GenServer for Listener {
    /// #     type Args = ();
    /// #     type State = ();
    /// #     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> { Init::Ready(()) }
    /// # }
    /// use arbor_registry::Registry;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let topics: Registry<&str, u32> = Registry::duplicate("topics");
    /// let a = Server::start(Listener, ()).await?;
    /// let b = Server::start(Listener, ()).await?;
    /// topics.register("prices", &a, 100)?;
    /// topics.register("prices", &b, 200)?;
    ///
    /// let mut calls = 0;
    /// let reached = topics.dispatch(&"prices", |entries| {
    ///     calls += 1;
    ///     assert_eq!(entries.iter().map(|(_, floor)| floor).sum::<u32>(), 300);
    /// });
    /// assert_eq!((calls, reached), (1, 2));
    /// assert_eq!(topics.dispatch(&"nothing", |_| unreachable!()), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn dispatch(&self, key: &K, deliver: impl FnOnce(&[(Pid, V)])) -> usize {
        let entries = self.lookup(key);
        if entries.is_empty() {
            return 0;
        }
        deliver(&entries);
        entries.len()
    }

    /// Elixir's `dispatch` with `parallel: true`: calls `deliver` once per partition
    /// that holds live entries under `key`, with that partition's entries, each call in a
    /// tokio task of its own, all running concurrently; returns, once every call has
    /// finished, how many entries were delivered.
    ///
    /// Only a partitioned duplicate registry spreads a key's entries over partitions
    /// ([`RegistryOptions::partitions`](crate::RegistryOptions::partitions)); otherwise
    /// there is one call, made in the caller's task, as [`Registry::dispatch`] would.
    /// Outside a tokio runtime the calls are made one after the other, in the caller.
    ///
    /// # Panics
    ///
    /// When a call of `deliver` panics, the panic is resumed in the caller once every
    /// call has finished (Elixir's dispatching tasks are linked to the caller).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future aborts the calls that have not started yet.
    pub async fn dispatch_parallel<F>(&self, key: &K, deliver: F) -> usize
    where
        F: Fn(&[(Pid, V)]) + Send + Sync + 'static,
    {
        let partitions = self.inner.tables_for(key).len();
        let runtime = tokio::runtime::Handle::try_current();
        let runtime = match runtime {
            Ok(runtime) if partitions > 1 => runtime,
            _ => {
                let mut reached = 0;
                for partition in 0..partitions {
                    reached += self.dispatch_partition(key, partition, &deliver);
                }
                return reached;
            }
        };
        let deliver = Arc::new(deliver);
        let mut calls = JoinSet::new();
        for partition in 0..partitions {
            let registry = self.clone();
            let key = key.clone();
            let deliver = Arc::clone(&deliver);
            calls.spawn_on(
                async move { registry.dispatch_partition(&key, partition, &*deliver) },
                &runtime,
            );
        }
        let mut reached = 0;
        let mut panic = None;
        while let Some(call) = calls.join_next().await {
            match call {
                Ok(count) => reached += count,
                Err(error) if error.is_panic() => {
                    panic.get_or_insert(error.into_panic());
                }
                Err(error) => tracing::debug!(%error, "dispatch call cancelled"),
            }
        }
        if let Some(payload) = panic {
            std::panic::resume_unwind(payload);
        }
        reached
    }

    /// Calls `deliver` with the live entries under `key` in one of the key's partitions,
    /// if there are any; returns how many.
    fn dispatch_partition(
        &self,
        key: &K,
        partition: usize,
        deliver: &impl Fn(&[(Pid, V)]),
    ) -> usize {
        let Some(table) = self.inner.tables_for(key).get(partition) else {
            return 0;
        };
        let mut found = Lookup::new();
        self.scan_tables(key, std::slice::from_ref(table), |entry| {
            found.push((entry.pid.clone(), entry.value.clone()));
        });
        if found.is_empty() {
            return 0;
        }
        deliver(&found);
        found.len()
    }

    /// Visits every live entry under `key`, then purges the dead ones it met.
    fn scan_key(&self, key: &K, visit: impl FnMut(&Entry<V>)) {
        self.scan_tables(key, self.inner.tables_for(key), visit);
    }

    /// Visits every live entry under `key` in `tables`, then purges the dead ones it met.
    fn scan_tables(&self, key: &K, tables: &[Table<K, V>], mut visit: impl FnMut(&Entry<V>)) {
        let mut dead: Vec<ActorId> = Vec::new();
        for table in tables {
            let Some(entries) = table.get(key) else {
                continue;
            };
            for entry in entries.as_slice() {
                if !entry.pid.is_stopping() {
                    visit(entry);
                } else {
                    dead.push(entry.pid.id());
                }
            }
        }
        if !dead.is_empty() {
            self.inner.purge(key, &dead);
        }
    }

    /// Visits every live entry (dead ones are left to their stop hooks or later reads).
    fn each_live(&self, mut visit: impl FnMut(&K, &Entry<V>)) {
        for table in self.inner.tables() {
            for row in table.iter() {
                let live = row.value().as_slice().iter();
                for entry in live.filter(|entry| !entry.pid.is_stopping()) {
                    visit(row.key(), entry);
                }
            }
        }
    }
}
