//! Unique keys: one holder per key, conflicts name the holder, and the operations only a
//! unique registry has.

mod support;

use arbor_registry::{Keys, RegisterError, Registry, RegistryError};
use support::worker;

#[tokio::test]
async fn register_then_lookup_returns_the_actor_and_value() {
    let registry: Registry<&str, u32> = Registry::unique("names");
    let server = worker().await;
    registry.register("a", &server, 7).unwrap();
    assert_eq!(registry.lookup(&"a"), vec![(server.pid(), 7)]);
    assert_eq!(registry.whereis(&"a").unwrap(), server.pid());
    assert!(registry.lookup(&"b").is_empty());
    assert_eq!(registry.key_mode(), Keys::Unique);
}

#[tokio::test]
async fn a_taken_key_fails_naming_its_holder() {
    let registry: Registry<&str> = Registry::unique("names");
    let holder = worker().await;
    let other = worker().await;
    registry.register("a", &holder, ()).unwrap();

    let refused = registry.register("a", &other, ()).unwrap_err();
    assert_eq!(
        refused,
        RegisterError::AlreadyRegistered {
            key: "\"a\"".to_string(),
            holder: holder.pid()
        }
    );
    assert!(refused.to_string().contains("already registered"));
    // The holder itself cannot take the key twice either, as in Elixir.
    assert!(matches!(
        registry.register("a", &holder, ()),
        Err(RegisterError::AlreadyRegistered { .. })
    ));
    assert_eq!(registry.lookup(&"a"), vec![(holder.pid(), ())]);
}

#[tokio::test]
async fn a_key_freed_by_unregister_can_be_taken_again() {
    let registry: Registry<&str> = Registry::unique("names");
    let first = worker().await;
    let second = worker().await;
    registry.register("a", &first, ()).unwrap();
    assert_eq!(registry.unregister(&"a", &first), 1);
    assert_eq!(registry.unregister(&"a", &first), 0);
    registry.register("a", &second, ()).unwrap();
    assert_eq!(registry.whereis(&"a").unwrap(), second.pid());
    assert_eq!(registry.keys(&first), Vec::<&str>::new());
    assert_eq!(registry.keys(&second), vec!["a"]);
}

#[tokio::test]
async fn unregistering_another_actors_key_changes_nothing() {
    let registry: Registry<&str> = Registry::unique("names");
    let holder = worker().await;
    let other = worker().await;
    registry.register("a", &holder, ()).unwrap();
    assert_eq!(registry.unregister(&"a", &other), 0);
    assert_eq!(registry.whereis(&"a").unwrap(), holder.pid());
}

#[tokio::test]
async fn registering_a_dead_actor_is_refused() {
    let registry: Registry<&str> = Registry::unique("names");
    let server = worker().await;
    server.kill();
    server.wait().await;
    assert_eq!(
        registry.register("a", &server, ()),
        Err(RegisterError::NotAlive(server.pid()))
    );
    assert_eq!(registry.count(), 0);
}

#[tokio::test]
async fn update_value_replaces_the_holders_value_and_returns_both() {
    let registry: Registry<&str, u32> = Registry::unique("names");
    let holder = worker().await;
    let other = worker().await;
    registry.register("a", &holder, 1).unwrap();

    assert_eq!(
        registry.update_value(&"a", &holder, |old| old + 10),
        Ok((11, 1))
    );
    assert_eq!(registry.values(&"a", &holder), vec![11]);
    assert!(matches!(
        registry.update_value(&"a", &other, |old| *old),
        Err(RegistryError::NotRegistered { .. })
    ));
    assert!(matches!(
        registry.update_value(&"missing", &holder, |old| *old),
        Err(RegistryError::NotRegistered { .. })
    ));
}

#[tokio::test]
async fn every_method_naming_an_actor_takes_a_server_a_pid_or_a_pid_reference() {
    let registry: Registry<&str, u32> = Registry::unique("names");
    let server = worker().await;
    let pid = server.pid();
    registry.register("a", &server, 1).unwrap();
    assert_eq!(registry.keys(&server), vec!["a"]);
    assert_eq!(registry.keys(&pid), vec!["a"]);
    assert_eq!(registry.keys(pid.clone()), vec!["a"]);
    assert_eq!(registry.values(&"a", &server), vec![1]);
    assert_eq!(registry.values(&"a", pid.clone()), vec![1]);
    assert_eq!(registry.update_value(&"a", &server, |v| v + 1), Ok((2, 1)));
    assert_eq!(registry.update_value(&"a", &pid, |v| v + 1), Ok((3, 2)));
    assert_eq!(registry.unregister_match(&"a", &server, |v| *v == 0), 0);
    assert_eq!(registry.unregister(&"a", pid.clone()), 1);
    registry.register("b", pid.clone(), 1).unwrap();
    assert_eq!(registry.unregister(&"b", &server), 1);
}

#[tokio::test]
async fn unique_only_operations_on_a_duplicate_registry_are_typed_errors() {
    let registry: Registry<&str, u32> = Registry::duplicate("topics");
    let server = worker().await;
    registry.register("a", &server, 1).unwrap();

    let only = |operation| RegistryError::UniqueOnly {
        operation,
        registry: "topics".to_string(),
    };
    assert_eq!(registry.whereis(&"a"), Err(only("whereis")));
    assert_eq!(
        registry.update_value(&"a", &server, |v| *v),
        Err(only("update_value"))
    );
    assert!(only("via").to_string().contains("unique keys"));
}

#[tokio::test]
async fn metadata_is_stored_read_typed_and_deleted() {
    let registry: Registry<&str> = Registry::unique("names");
    registry.put_meta("quota", 5_usize);
    assert_eq!(registry.meta::<usize>("quota"), Ok(5));
    assert!(matches!(
        registry.meta::<String>("quota"),
        Err(RegistryError::MetaType { .. })
    ));
    assert_eq!(
        registry.meta::<usize>("missing"),
        Err(RegistryError::NoMeta("missing".to_string()))
    );
    assert!(registry.delete_meta("quota"));
    assert!(!registry.delete_meta("quota"));
}

#[tokio::test]
async fn partitions_spread_keys_without_changing_answers() {
    let registry: Registry<u32, u32> = Registry::new(
        arbor_registry::RegistryOptions::new(Keys::Unique)
            .partitions(std::num::NonZeroUsize::new(8).unwrap()),
    );
    let server = worker().await;
    for key in 0..100 {
        registry.register(key, &server, key * 2).unwrap();
    }
    for key in 0..100 {
        assert_eq!(registry.lookup(&key), vec![(server.pid(), key * 2)]);
    }
    assert_eq!(registry.count(), 100);
    let mut keys = registry.keys(&server);
    keys.sort_unstable();
    assert_eq!(keys, (0..100).collect::<Vec<_>>());
}
