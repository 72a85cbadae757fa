//! Listeners hear every registration and unregistration.

mod support;

use arbor_registry::{Registry, RegistryEvent};
use support::worker;

#[tokio::test]
async fn listeners_hear_register_unregister_and_stop() {
    let registry: Registry<&str, u32> = Registry::duplicate("topics");
    let mut first = registry.listen();
    let mut second = registry.listen();
    let server = worker().await;

    registry.register("a", &server, 1).unwrap();
    registry.unregister(&"a", &server);
    registry.register("b", &server, 2).unwrap();
    server.kill();
    server.wait().await;

    let expected = vec![
        RegistryEvent::Registered {
            key: "a",
            pid: server.pid(),
            value: 1,
        },
        RegistryEvent::Unregistered {
            key: "a",
            pid: server.pid(),
        },
        RegistryEvent::Registered {
            key: "b",
            pid: server.pid(),
            value: 2,
        },
        RegistryEvent::Unregistered {
            key: "b",
            pid: server.pid(),
        },
    ];
    for listener in [&mut first, &mut second] {
        let mut heard = Vec::new();
        for _ in 0..expected.len() {
            heard.push(listener.recv().await.unwrap());
        }
        assert_eq!(heard, expected);
        assert_eq!(listener.try_recv(), None);
    }
}

#[tokio::test]
async fn a_dropped_listener_is_forgotten_and_failed_registrations_are_silent() {
    let registry: Registry<&str> = Registry::unique("names");
    let dropped = registry.listen();
    drop(dropped);
    let mut kept = registry.listen();
    let holder = worker().await;
    let other = worker().await;

    registry.register("a", &holder, ()).unwrap();
    assert!(registry.register("a", &other, ()).is_err());
    registry.register("b", &other, ()).unwrap();

    assert!(matches!(
        kept.recv().await,
        Some(RegistryEvent::Registered { key: "a", .. })
    ));
    assert!(matches!(
        kept.recv().await,
        Some(RegistryEvent::Registered { key: "b", .. })
    ));
    assert_eq!(kept.try_recv(), None);
}
