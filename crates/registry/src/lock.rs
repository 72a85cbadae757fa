//! Per-key locks: run a function while no other caller holds the same key's lock
//! (Elixir's `Registry.lock/3`).
//!
//! Each key that is locked or waited for has one async mutex in a map; the last caller to
//! let go of a key removes its entry, so the map only holds the keys in use.

use std::any::Any;
use std::future::Future;
use std::sync::Arc;

use dashmap::DashMap;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::registry::{Key, Value};
use crate::{LockError, Registry};

/// A lock held by the function running in this scope: its registry (by address) and key.
type HeldLock = (usize, Arc<dyn Any + Send + Sync>);

tokio::task_local! {
    /// The locks held by the `lock` functions this future runs inside of, innermost last.
    static HELD: Vec<HeldLock>;
}

/// The locks of one registry, by key.
pub(crate) struct Locks<K> {
    slots: DashMap<K, Slot>,
}

impl<K: Key> Default for Locks<K> {
    fn default() -> Self {
        Locks {
            slots: DashMap::new(),
        }
    }
}

/// One key's lock. `users` counts the callers holding or waiting for it; it only changes
/// under the map's shard lock, so the entry is removed exactly when it drops to 0.
#[derive(Default)]
struct Slot {
    users: usize,
    mutex: Arc<Mutex<()>>,
}

impl<K: Key> Locks<K> {
    /// How many keys are locked or waited for.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }
}

/// A caller's claim on one key's lock: waiting, then holding. Dropping it (on return,
/// on a panic in the function, or when the caller's future is dropped) lets go.
struct Claim<'a, K: Key> {
    locks: &'a Locks<K>,
    key: K,
    guard: Option<OwnedMutexGuard<()>>,
}

impl<K: Key> Drop for Claim<'_, K> {
    fn drop(&mut self) {
        // The mutex is released before the entry may go: a caller that finds no entry
        // makes a new mutex, which must not be locked while this one still is.
        drop(self.guard.take());
        self.locks.slots.remove_if_mut(&self.key, |_, slot| {
            slot.users = slot.users.saturating_sub(1);
            slot.users == 0
        });
    }
}

impl<K: Key, V: Value> Registry<K, V> {
    /// Runs `f` while holding the lock of `key`, and returns what its future returns
    /// (Elixir's `Registry.lock/3`). Callers of `lock` with the same key (in this registry
    /// and its clones) run one at a time, in the order they asked; other keys are not
    /// affected. `f` runs in the caller's task, once the lock is held.
    ///
    /// The lock has nothing to do with registrations: any key may be locked, registered
    /// or not. Waiting does not block the thread (each key has an async mutex), and the
    /// lock is let go however `f` ends: it returns, it panics (the panic then goes on to
    /// the caller), or the caller drops the `lock` future. Nothing stays poisoned, and a
    /// key's lock takes no memory once no one holds or waits for it.
    ///
    /// # Errors
    ///
    /// [`LockError::Reentrant`] when called from inside a function that holds the lock of
    /// `key` (a `lock` inside `f` on the same key), which could only wait for itself.
    /// A lock taken by another task that `f` waits for is not detected: it deadlocks.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before `f` runs gives up the place in line; dropping it while
    /// `f` runs abandons `f` at its current `.await` and lets go of the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use arbor_registry::Registry;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let accounts: Registry<String> = Registry::unique("accounts");
    /// let balance = Arc::new(AtomicUsize::new(100));
    ///
    /// // Read, think, write: no other `lock` on "alice" runs in between.
    /// let left = accounts
    ///     .lock("alice".to_string(), || async {
    ///         let now = balance.load(Ordering::SeqCst);
    ///         tokio::task::yield_now().await;
    ///         balance.store(now - 30, Ordering::SeqCst);
    ///         now - 30
    ///     })
    ///     .await?;
    /// assert_eq!(left, 70);
    ///
    /// // A function that needs no `.await` is an `async` block all the same.
    /// let doubled = accounts.lock("bob".to_string(), || async { 2 * 21 }).await?;
    /// assert_eq!(doubled, 42);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn lock<F, Fut>(&self, key: K, f: F) -> Result<Fut::Output, LockError>
    where
        F: FnOnce() -> Fut,
        Fut: Future,
    {
        let registry = Arc::as_ptr(&self.inner) as usize;
        let mut held = HELD.try_with(Clone::clone).unwrap_or_default();
        let reentrant = held.iter().any(|(holder, locked)| {
            *holder == registry && locked.downcast_ref::<K>() == Some(&key)
        });
        if reentrant {
            return Err(LockError::Reentrant {
                key: format!("{key:?}"),
                registry: self.name().to_string(),
            });
        }
        let locks = &self.inner.locks;
        let mutex = {
            let mut slot = locks.slots.entry(key.clone()).or_default();
            slot.users += 1;
            Arc::clone(&slot.mutex)
        };
        let mut claim = Claim {
            locks,
            key,
            guard: None,
        };
        claim.guard = Some(mutex.lock_owned().await);
        held.push((registry, Arc::new(claim.key.clone())));
        let output = HELD.scope(held, f()).await;
        drop(claim);
        Ok(output)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn the_map_does_not_grow_over_distinct_keys() {
        let registry: Registry<u32> = Registry::unique("locks");
        for key in 0..10_000 {
            let got = registry.lock(key, || async move { key }).await;
            assert_eq!(got, Ok(key));
        }
        assert_eq!(registry.inner.locks.len(), 0);
    }

    #[tokio::test]
    async fn a_panic_leaves_no_entry_behind() {
        let registry: Registry<&'static str> = Registry::unique("locks");
        let panicking = registry.clone();
        let crashed = tokio::spawn(async move {
            let _ = panicking
                .lock("k", || async { panic!("inside the lock") })
                .await;
        })
        .await;
        assert!(crashed.is_err_and(|error| error.is_panic()));
        assert_eq!(registry.inner.locks.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn cancelled_holders_and_waiters_leave_no_entry_behind() {
        let registry: Registry<&'static str> = Registry::unique("locks");
        let (entered, entered_rx) = tokio::sync::oneshot::channel();
        let holder = tokio::spawn({
            let registry = registry.clone();
            async move {
                registry
                    .lock("k", || async move {
                        let _ = entered.send(());
                        std::future::pending::<()>().await;
                    })
                    .await
            }
        });
        assert_eq!(entered_rx.await, Ok(()));
        // A waiter that gives up, then the holder cancelled.
        let waited =
            tokio::time::timeout(Duration::from_millis(10), registry.lock("k", || async {})).await;
        assert!(waited.is_err(), "the lock is held");
        assert_eq!(registry.inner.locks.len(), 1);
        holder.abort();
        assert!(holder.await.is_err_and(|error| error.is_cancelled()));
        assert_eq!(registry.inner.locks.len(), 0);
        assert_eq!(registry.lock("k", || async { 1 }).await, Ok(1));
    }
}
