//! Duplicate keys: many entries per key, pub/sub with `dispatch`, matching on values.

mod support;

use std::num::NonZeroUsize;

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

        let reached = registry.dispatch(&"news", |pid, by| {
            pid.server::<Worker>().unwrap().cast(Bump(*by)).unwrap();
        });
        assert_eq!(reached, 5);
        for server in &subscribers {
            assert_eq!(server.call(Ping).await.unwrap(), 1);
        }
        assert_eq!(outsider.call(Ping).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn one_actor_may_register_a_key_many_times() {
    let registry = topics(1);
    let server = worker().await;
    registry.register("news", &server, 1).unwrap();
    registry.register("news", &server, 2).unwrap();
    registry.register("sport", &server, 3).unwrap();

    let mut values = registry.values(&"news", &server.pid());
    values.sort_unstable();
    assert_eq!(values, vec![1, 2]);
    let mut keys = registry.keys(&server.pid());
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

    assert_eq!(
        registry.unregister_match(&"n", &server.pid(), |v| *v == 2),
        1
    );
    let mut left: Vec<u32> = registry.lookup(&"n").into_iter().map(|(_, v)| v).collect();
    left.sort_unstable();
    assert_eq!(left, vec![1, 2]);
    assert_eq!(registry.values(&"n", &other.pid()), vec![2]);
    assert_eq!(registry.keys(&server.pid()), vec!["n"]);
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
