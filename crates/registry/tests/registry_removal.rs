//! An actor's entries go when it stops, on every stop path, before the stop can be seen.

mod support;

use std::time::Duration;

use arbor_actor::ractor::{Actor, ActorProcessingErr, ActorRef};
use arbor_actor::{Exit, Pid, Server, StartError, StartOptions};
use arbor_registry::{Registry, RegistryEvent};
use support::{worker, Crash, Ping, StopWith, Worker, REFUSE};

/// Each way a server can stop.
#[derive(Debug, Clone, Copy)]
enum StopPath {
    Normal,
    Shutdown,
    Panic,
    Kill,
    RactorStop,
}

const PATHS: [StopPath; 5] = [
    StopPath::Normal,
    StopPath::Shutdown,
    StopPath::Panic,
    StopPath::Kill,
    StopPath::RactorStop,
];

fn stop(server: &Server<Worker>, path: StopPath) {
    match path {
        StopPath::Normal => {
            let server = server.clone();
            tokio::spawn(async move { server.call(StopWith(Exit::Normal)).await });
        }
        StopPath::Shutdown => server.stop(Exit::shutdown()).unwrap(),
        StopPath::Panic => server.cast(Crash).unwrap(),
        StopPath::Kill => server.kill(),
        StopPath::RactorStop => server.cell().stop(None),
    }
}

#[tokio::test]
async fn entries_go_on_every_stop_path() {
    for path in PATHS {
        let registry: Registry<&str, u32> = Registry::duplicate("topics");
        let mut events = registry.listen();
        let server = worker().await;
        registry.register("a", &server, 1).unwrap();
        registry.register("b", &server, 2).unwrap();
        assert!(matches!(
            events.recv().await,
            Some(RegistryEvent::Registered { .. })
        ));
        assert!(matches!(
            events.recv().await,
            Some(RegistryEvent::Registered { .. })
        ));

        stop(&server, path);
        server.wait().await;

        assert!(registry.lookup(&"a").is_empty(), "{path:?}");
        assert!(registry.keys(&server).is_empty(), "{path:?}");
        assert_eq!(registry.count(), 0, "{path:?}");
        // Removed, not only hidden: both removals were announced.
        let mut gone = Vec::new();
        for _ in 0..2 {
            match events.recv().await {
                Some(RegistryEvent::Unregistered { key, pid }) => {
                    assert_eq!(pid, server.pid());
                    gone.push(key);
                }
                other => panic!("{path:?}: expected an unregistration, got {other:?}"),
            }
        }
        gone.sort_unstable();
        assert_eq!(gone, vec!["a", "b"], "{path:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_a_call_fails_no_lookup_returns_the_stopped_server() {
    let registry: Registry<u32> = Registry::unique("names");
    for round in 0..400_u32 {
        let server = worker().await;
        registry.register(round, &server, ()).unwrap();
        let path = PATHS[round as usize % PATHS.len()];
        let stopper = {
            let server = server.clone();
            tokio::spawn(async move {
                tokio::task::yield_now().await;
                stop(&server, path);
            })
        };
        // Race lookups against the stop from another thread until the stop shows; a stop
        // that never shows fails the round instead of hanging the test.
        let raced = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let seen = registry.lookup(&round);
                match server.call(Ping).await {
                    // A server may still answer once its stop is decided (a kill takes
                    // effect at its next await), and is unnamed by then: a miss is allowed.
                    Ok(_) => assert!(seen.len() <= 1),
                    Err(_) => {
                        assert!(
                            registry.lookup(&round).is_empty(),
                            "round {round} ({path:?}): a stopped server was looked up"
                        );
                        assert!(registry.whereis(&round).is_err());
                        return;
                    }
                }
            }
        })
        .await;
        assert!(
            raced.is_ok(),
            "round {round} ({path:?}): the stop never showed"
        );
        stopper.await.unwrap();
    }
    assert_eq!(registry.count(), 0);
}

#[tokio::test]
async fn a_server_that_fails_init_leaves_its_name_free() {
    let registry: Registry<&str> = Registry::unique("names");
    let options = StartOptions::new().via(registry.via("job", ()));
    let refused = Server::start_with(Worker::default(), REFUSE, options.clone()).await;
    assert!(matches!(refused, Err(StartError::Init(_))));
    assert!(registry.lookup(&"job").is_empty());

    let second = Server::start_with(Worker::default(), 0, options)
        .await
        .unwrap();
    assert_eq!(registry.whereis(&"job").unwrap(), second.pid());
}

#[tokio::test]
async fn registering_while_the_server_stops_never_leaves_a_stale_entry() {
    let registry: Registry<u32> = Registry::duplicate("topics");
    for _ in 0..200 {
        let server = worker().await;
        let registering = {
            let (registry, pid) = (registry.clone(), server.pid());
            tokio::spawn(async move {
                for key in 0..20 {
                    // Refused once the stop is decided; that is fine.
                    let _ = registry.register(key, pid.clone(), ());
                }
            })
        };
        server.kill();
        server.wait().await;
        registering.await.unwrap();
        assert!(registry.keys(&server).is_empty());
        assert_eq!(registry.count(), 0);
    }
}

/// A plain ractor actor, with no arbor stop hook.
struct Plain;

impl Actor for Plain {
    type Msg = ();
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
}

#[tokio::test]
async fn plain_ractor_actors_are_skipped_once_stopped_and_purged_on_read() {
    let registry: Registry<&str> = Registry::duplicate("topics");
    let (actor, handle) = Actor::spawn(None, Plain, ()).await.unwrap();
    let pid = Pid::from(actor.get_cell());
    registry.register("t", pid.clone(), ()).unwrap();
    assert_eq!(registry.lookup(&"t"), vec![(pid.clone(), ())]);

    actor.stop(None);
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .unwrap()
        .unwrap();
    assert!(registry.lookup(&"t").is_empty());
    // The read purged it: registering the same actor's key again is refused as dead.
    assert!(registry.keys(&pid).is_empty());
    assert_eq!(registry.count(), 0);
}
