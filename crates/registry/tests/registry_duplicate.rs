//! Duplicate keys: many entries per key, pub/sub with `dispatch`, matching on values.

mod support;

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use arbor_actor::Server;
use arbor_registry::{Keys, Registry, RegistryOptions};
use support::{worker, Bump, Ping, Worker};

fn topics(partitions: usize) -> Registry<&'static str, u32> {
    Registry::new(
        RegistryOptions::new(Keys::Duplicate)
            .name("topics")
            .partitions(NonZeroUsize::new(partitions).unwrap()),
    )
}

#[tokio::test]
async fn dispatch_reaches_every_subscriber_of_a_topic_once() {
    for partitions in [1, 4] {
        let registry = topics(partitions);
        let mut subscribers = Vec::new();
        for _ in 0..5 {
            let server = worker().await;
            registry.register("news", &server, 1).unwrap();
            subscribers.push(server);
        }
        let outsider = worker().await;
        registry.register("sport", &outsider, 1).unwrap();

        let mut calls = 0;
        let reached = registry.dispatch(&"news", |entries| {
            calls += 1;
            for (pid, by) in entries {
                pid.server::<Worker>().unwrap().cast(Bump(*by)).unwrap();
            }
        });
        assert_eq!(reached, 5);
        assert_eq!(
            calls, 1,
            "one call with every entry, whatever the partitions"
        );
        for server in &subscribers {
            assert_eq!(server.call(Ping).await.unwrap(), 1);
        }
        assert_eq!(outsider.call(Ping).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn dispatch_to_a_key_with_no_live_entry_calls_nothing() {
    let registry = topics(4);
    let server = worker().await;
    registry.register("news", &server, 1).unwrap();
    server.kill();
    server.wait().await;
    assert_eq!(registry.dispatch(&"news", |_| panic!("called")), 0);
    assert_eq!(registry.dispatch(&"never", |_| panic!("called")), 0);
    let parallel = registry.dispatch_parallel(&"news", |_| panic!("called"));
    assert_eq!(parallel.await, 0);
}

/// Registers workers under "news" until their entries sit in at least two partitions
/// (a few at most: 100 in one partition would mean keys are not spread at all).
async fn spread_over_partitions(registry: &Registry<&'static str, u32>) -> Vec<Server<Worker>> {
    let mut subscribers = Vec::new();
    for _ in 0..100 {
        let server = worker().await;
        registry.register("news", &server, 1).unwrap();
        subscribers.push(server);
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        registry
            .dispatch_parallel(&"news", move |_| {
                counted.fetch_add(1, Ordering::SeqCst);
            })
            .await;
        if calls.load(Ordering::SeqCst) >= 2 {
            return subscribers;
        }
    }
    panic!("100 entries under one key all sat in one partition");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_dispatch_calls_once_per_partition_concurrently() {
    let registry = topics(4);
    let subscribers = spread_over_partitions(&registry).await;

    // (calls inside now, most calls ever inside at once). Each call waits (on a condition
    // variable, bounded) until two calls have been inside together: only calls that run
    // at the same time get there.
    let inside = Arc::new((Mutex::new((0_usize, 0_usize)), Condvar::new()));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let reached = registry
        .dispatch_parallel(&"news", {
            let (inside, seen) = (Arc::clone(&inside), Arc::clone(&seen));
            move |entries| {
                seen.lock()
                    .unwrap()
                    .extend(entries.iter().map(|(pid, _)| pid.clone()));
                let (counts, changed) = &*inside;
                let mut counts = counts.lock().unwrap();
                counts.0 += 1;
                counts.1 = counts.1.max(counts.0);
                changed.notify_all();
                let (mut counts, _) = changed
                    .wait_timeout_while(counts, Duration::from_secs(5), |counts| counts.1 < 2)
                    .unwrap();
                counts.0 -= 1;
            }
        })
        .await;
    assert_eq!(reached, subscribers.len());
    let peak = inside.0.lock().unwrap().1;
    assert!(peak >= 2, "the calls ran one after the other");
    let mut seen = seen.lock().unwrap().clone();
    let mut expected: Vec<_> = subscribers.iter().map(Server::pid).collect();
    seen.sort_by_key(|pid| pid.id());
    expected.sort_by_key(|pid| pid.id());
    assert_eq!(seen, expected, "every entry exactly once");
}

#[tokio::test]
async fn parallel_dispatch_on_one_partition_is_one_call_in_the_caller() {
    let registry: Registry<&'static str, u32> = Registry::unique("names");
    let server = worker().await;
    registry.register("a", &server, 7).unwrap();
    let caller = std::thread::current().id();
    let reached = registry
        .dispatch_parallel(&"a", move |entries| {
            assert_eq!(std::thread::current().id(), caller);
            assert_eq!(entries.len(), 1);
        })
        .await;
    assert_eq!(reached, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_a_parallel_dispatch_reaches_the_caller() {
    let registry = topics(4);
    spread_over_partitions(&registry).await;
    let dispatching = registry.clone();
    let crashed = tokio::spawn(async move {
        dispatching
            .dispatch_parallel(&"news", |_| panic!("subscriber list corrupt"))
            .await
    })
    .await;
    let panic = crashed.unwrap_err().into_panic();
    assert_eq!(
        panic.downcast_ref::<&str>(),
        Some(&"subscriber list corrupt")
    );
}

#[tokio::test]
async fn one_actor_may_register_a_key_many_times() {
    let registry = topics(1);
    let server = worker().await;
    registry.register("news", &server, 1).unwrap();
    registry.register("news", &server, 2).unwrap();
    registry.register("sport", &server, 3).unwrap();

    let mut values = registry.values(&"news", &server);
    values.sort_unstable();
    assert_eq!(values, vec![1, 2]);
    let mut keys = registry.keys(&server);
    keys.sort_unstable();
    assert_eq!(keys, vec!["news", "news", "sport"]);
    assert_eq!(registry.count(), 3);
}

#[tokio::test]
async fn match_and_count_match_filter_on_values() {
    let registry = topics(2);
    let low = worker().await;
    let high = worker().await;
    registry.register("n", &low, 1).unwrap();
    registry.register("n", &high, 10).unwrap();

    assert_eq!(
        registry.match_entries(&"n", |v| *v > 5),
        vec![(high.pid(), 10)]
    );
    assert_eq!(registry.count_match(&"n", |v| *v > 0), 2);
    assert_eq!(registry.count_match(&"missing", |_| true), 0);
}

#[tokio::test]
async fn unregister_match_removes_only_matching_entries_of_that_actor() {
    let registry = topics(1);
    let server = worker().await;
    let other = worker().await;
    registry.register("n", &server, 1).unwrap();
    registry.register("n", &server, 2).unwrap();
    registry.register("n", &other, 2).unwrap();

    assert_eq!(registry.unregister_match(&"n", &server, |v| *v == 2), 1);
    let mut left: Vec<u32> = registry.lookup(&"n").into_iter().map(|(_, v)| v).collect();
    left.sort_unstable();
    assert_eq!(left, vec![1, 2]);
    assert_eq!(registry.values(&"n", &other), vec![2]);
    assert_eq!(registry.keys(&server), vec!["n"]);
}

#[tokio::test]
async fn select_maps_entries_across_partitions() {
    let registry = topics(4);
    let mut servers = Vec::new();
    for value in 0..20 {
        let server = worker().await;
        registry
            .register(if value % 2 == 0 { "even" } else { "odd" }, &server, value)
            .unwrap();
        servers.push(server);
    }
    let mut evens = registry.select(|key, _, value| (*key == "even").then_some(*value));
    evens.sort_unstable();
    assert_eq!(evens, (0..20).step_by(2).collect::<Vec<_>>());
    assert_eq!(registry.count_select(|_, _, value| *value >= 10), 10);
}
