//! `Registry::lock`: per-key locks, serialised across callers, released however the
//! function ends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arbor_registry::{LockError, Registry};
use tokio::sync::oneshot;

const SECOND: Duration = Duration::from_secs(1);

/// Runs `lockers` tasks that each take `key`'s lock `rounds` times; returns the most
/// functions ever inside at once.
async fn most_inside_at_once(registry: &Registry<&'static str>, lockers: usize) -> usize {
    let inside = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..lockers {
        let (registry, inside, peak) = (registry.clone(), inside.clone(), peak.clone());
        tasks.spawn(async move {
            for _ in 0..20 {
                registry
                    .lock("account", || async {
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        tokio::task::yield_now().await;
                        inside.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                    .unwrap();
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    peak.load(Ordering::SeqCst)
}

#[tokio::test]
async fn lockers_of_one_key_never_overlap() {
    let registry: Registry<&str> = Registry::unique("locks");
    assert_eq!(most_inside_at_once(&registry, 4).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockers_of_one_key_never_overlap_across_threads() {
    let registry: Registry<&str> = Registry::duplicate("locks");
    assert_eq!(most_inside_at_once(&registry, 4).await, 1);
}

#[tokio::test(start_paused = true)]
async fn different_keys_are_locked_independently() {
    // "a" waits, inside its lock, for a signal sent from inside "b"'s lock: it can only
    // arrive if both run at the same time.
    let registry: Registry<&str> = Registry::unique("locks");
    let (signal, signalled) = oneshot::channel();
    let a = tokio::spawn({
        let registry = registry.clone();
        async move {
            registry
                .lock("a", || async { signalled.await.is_ok() })
                .await
        }
    });
    tokio::task::yield_now().await;
    let b = registry.lock("b", || async { signal.send(()).is_ok() });
    assert_eq!(tokio::time::timeout(SECOND, b).await, Ok(Ok(true)));
    assert_eq!(
        tokio::time::timeout(SECOND, a).await.unwrap().unwrap(),
        Ok(true)
    );
}

#[tokio::test(start_paused = true)]
async fn a_waiter_runs_once_the_holder_is_done() {
    let registry: Registry<&str> = Registry::unique("locks");
    let (release, released) = oneshot::channel::<()>();
    let (entered, entered_rx) = oneshot::channel();
    let holder = tokio::spawn({
        let registry = registry.clone();
        async move {
            registry
                .lock("k", || async {
                    let _ = entered.send(());
                    let _ = released.await;
                    "holder"
                })
                .await
        }
    });
    entered_rx.await.unwrap();
    let waiting = tokio::time::timeout(SECOND, registry.lock("k", || async { "waiter" })).await;
    assert!(waiting.is_err(), "the waiter ran while the lock was held");
    release.send(()).unwrap();
    assert_eq!(holder.await.unwrap(), Ok("holder"));
    assert_eq!(
        registry.lock("k", || async { "waiter" }).await,
        Ok("waiter")
    );
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_the_function_releases_the_lock_and_reaches_the_caller() {
    let registry: Registry<&str> = Registry::unique("locks");
    let crashed = tokio::spawn({
        let registry = registry.clone();
        async move {
            registry
                .lock("k", || async { panic!("inside the lock") })
                .await
        }
    })
    .await;
    let panic = crashed.unwrap_err().into_panic();
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"inside the lock"));
    let after = tokio::time::timeout(SECOND, registry.lock("k", || async { 1 })).await;
    assert_eq!(after, Ok(Ok(1)), "the lock was released");
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_holder_releases_the_lock() {
    let registry: Registry<&str> = Registry::unique("locks");
    let abandoned =
        tokio::time::timeout(SECOND, registry.lock("k", std::future::pending::<()>)).await;
    assert!(abandoned.is_err());
    let after = tokio::time::timeout(SECOND, registry.lock("k", || async { 2 })).await;
    assert_eq!(after, Ok(Ok(2)));
}

#[tokio::test]
async fn locking_the_same_key_inside_its_lock_is_an_error_not_a_deadlock() {
    let registry: Registry<String> = Registry::unique("locks");
    let inner = registry
        .lock("k".to_string(), || async {
            let same = registry.lock("k".to_string(), || async {}).await;
            let other = registry.lock("other".to_string(), || async { 3 }).await;
            (same, other)
        })
        .await
        .unwrap();
    assert_eq!(
        inner,
        (
            Err(LockError::Reentrant {
                key: "\"k\"".into(),
                registry: "locks".into()
            }),
            Ok(3)
        )
    );
    // The refusal left the outer lock intact and released at its end.
    assert_eq!(registry.lock("k".to_string(), || async { 4 }).await, Ok(4));
}

#[tokio::test]
async fn locks_belong_to_one_registry_and_its_clones() {
    let one: Registry<&str> = Registry::unique("one");
    let other: Registry<&str> = Registry::unique("other");
    let clone = one.clone();
    let nested = one
        .lock("k", || async {
            let elsewhere = other.lock("k", || async { "free" }).await;
            let same = clone.lock("k", || async {}).await;
            (elsewhere, same.is_err())
        })
        .await;
    assert_eq!(nested, Ok((Ok("free"), true)));
}
