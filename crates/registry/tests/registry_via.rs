//! Via-naming: servers started registered, reached by key, and found again after a
//! restart by their supervisor.

mod support;

use std::time::Duration;

use arbor_actor::{CallError, Exit, Server, StartError, StartOptions};
use arbor_registry::{Named, Registry, RegistryError, ViaCallError};
use arbor_supervisor::{ChildSpec, Supervisor, SupervisorOptions};
use support::{Bump, Crash, Ping, StopWith, Worker};
use tokio::sync::mpsc;

#[tokio::test]
async fn a_via_named_server_is_registered_before_init_runs() {
    let registry: Registry<&str, &str> = Registry::unique("names");
    let (seen, mut seen_rx) = mpsc::unbounded_channel();
    let worker = Worker {
        seen_in_init: Some(seen),
    };
    let options = StartOptions::new().via(registry.via("job", "import"));
    let server = Server::start_with(worker, 0, options).await.unwrap();

    // The log name is the via name, and the entry carries the value given.
    assert_eq!(seen_rx.recv().await.unwrap(), "names/\"job\"");
    assert_eq!(registry.lookup(&"job"), vec![(server.pid(), "import")]);
}

#[tokio::test]
async fn init_already_finds_itself_by_name() {
    use arbor_actor::{Context, GenServer, Init};

    struct SelfFinder(Registry<&'static str>);
    impl GenServer for SelfFinder {
        type Args = ();
        type State = ();
        async fn init(&self, _: (), ctx: &mut Context<Self>) -> Init<()> {
            match self.0.whereis(&"me") {
                Ok(pid) if pid == ctx.myself().pid() => Init::Ready(()),
                other => Init::Stop(Exit::error(format!("not named in init: {other:?}"))),
            }
        }
    }

    let registry: Registry<&str> = Registry::unique("names");
    let options = StartOptions::new().via(registry.via("me", ()));
    Server::start_with(SelfFinder(registry.clone()), (), options)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_via_name_of_a_duplicate_registry_fails_the_start_before_init() {
    let registry: Registry<&str> = Registry::duplicate("topics");
    let (seen, mut seen_rx) = mpsc::unbounded_channel();
    let worker = Worker {
        seen_in_init: Some(seen),
    };
    // Building the name cannot fail; the start does, as Elixir's does.
    let options = StartOptions::new().via(registry.via("job", ()));
    let refused = Server::start_with(worker, 0, options).await;
    match refused {
        Err(StartError::NameRefused { name, reason }) => {
            assert_eq!(name, "topics/\"job\"");
            assert!(reason.contains("unique keys"), "{reason}");
        }
        other => panic!("expected NameRefused, got {other:?}"),
    }
    assert!(seen_rx.try_recv().is_err(), "init never ran");
    assert_eq!(registry.count(), 0);
}

#[tokio::test]
async fn a_taken_name_fails_the_start_naming_the_holder() {
    let registry: Registry<&str> = Registry::unique("names");
    let options = StartOptions::new().via(registry.via("job", ()));
    let holder = Server::start_with(Worker::default(), 0, options.clone())
        .await
        .unwrap();

    let refused = Server::start_with(Worker::default(), 0, options).await;
    match refused {
        Err(StartError::AlreadyStarted {
            name,
            holder: held_by,
        }) => {
            assert_eq!(name, "names/\"job\"");
            assert_eq!(held_by, holder.pid());
        }
        other => panic!("expected AlreadyStarted, got {other:?}"),
    }
    assert_eq!(registry.count(), 1);
}

#[tokio::test]
async fn call_cast_and_send_by_key() {
    let registry: Registry<&str> = Registry::unique("names");
    let options = StartOptions::new().via(registry.via("counter", ()));
    Server::start_with(Worker::default(), 1, options)
        .await
        .unwrap();

    registry.cast::<Worker, _>(&"counter", Bump(10)).unwrap();
    registry.send::<Worker, _>(&"counter", Bump(100)).unwrap();
    assert_eq!(
        registry.call::<Worker, _>(&"counter", Ping).await.unwrap(),
        111
    );
}

#[tokio::test]
async fn an_unknown_name_is_a_typed_error_and_the_message_comes_back() {
    let registry: Registry<&str> = Registry::unique("names");
    let refused = registry.cast::<Worker, _>(&"nobody", Bump(3)).unwrap_err();
    assert!(matches!(
        refused.reason,
        RegistryError::NotRegistered { .. }
    ));
    assert_eq!(refused.into_inner().0, 3);
    assert!(matches!(
        registry.call::<Worker, _>(&"nobody", Ping).await,
        Err(ViaCallError::Lookup(RegistryError::NotRegistered { .. }))
    ));
}

#[tokio::test]
async fn a_name_held_by_another_behaviour_is_a_typed_error() {
    use arbor_actor::{Context, GenServer, Init};
    struct Other;
    impl GenServer for Other {
        type Args = ();
        type State = ();
        async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
            Init::Ready(())
        }
    }
    let registry: Registry<&str> = Registry::unique("names");
    let options = StartOptions::new().via(registry.via("x", ()));
    Server::start_with(Other, (), options).await.unwrap();
    assert!(matches!(
        registry.server::<Worker>(&"x"),
        Err(RegistryError::WrongBehaviour { .. })
    ));
}

#[tokio::test]
async fn a_call_to_a_name_whose_server_stops_meanwhile_reports_the_exit() {
    let registry: Registry<&str> = Registry::unique("names");
    let options = StartOptions::new().via(registry.via("job", ()));
    Server::start_with(Worker::default(), 0, options)
        .await
        .unwrap();
    let stopped = registry
        .call::<Worker, _>(&"job", StopWith(Exit::error("done")))
        .await;
    assert_eq!(
        stopped,
        Err(ViaCallError::Call(CallError::Exited(Exit::error("done"))))
    );
    assert!(registry.whereis(&"job").is_err());
}

#[tokio::test]
async fn a_restarted_server_is_reachable_again_by_the_same_name() {
    let registry: Registry<&str> = Registry::unique("names");
    let options = StartOptions::new().via(registry.via("worker", ()));
    let tree = Supervisor::start(
        [
            registry.child_spec("registry"),
            ChildSpec::worker_with("worker", Worker::default(), 5, options),
        ],
        SupervisorOptions::default(),
    )
    .await
    .unwrap();

    let worker: Named<Server<Worker>, &str> = registry.named("worker");
    let first = worker.get().unwrap();
    let mut events = registry.listen();
    first.cast(Crash).unwrap();
    assert_eq!(
        first.wait().await,
        Exit::Panic("worker crashed on purpose".into())
    );

    // The supervisor restarts it, registered again before its init.
    loop {
        match events.recv().await.unwrap() {
            arbor_registry::RegistryEvent::Registered { pid, .. } => {
                assert_ne!(pid, first.pid());
                break;
            }
            arbor_registry::RegistryEvent::Unregistered { pid, .. } => {
                assert_eq!(pid, first.pid())
            }
        }
    }
    // The same typed name reaches the new incarnation.
    assert_eq!(worker.call(Ping).await.unwrap(), 5);
    assert_ne!(worker.get().unwrap(), first);
    assert_ne!(registry.whereis(&"worker").unwrap(), first.pid());

    // Stopping the tree stops the worker, then empties the registry.
    tokio::time::timeout(Duration::from_secs(5), tree.stop(Exit::shutdown()))
        .await
        .unwrap();
    assert_eq!(registry.count(), 0);
}

#[tokio::test]
async fn a_named_handle_of_the_wrong_kind_or_an_unheld_name_is_a_typed_error() {
    let registry: Registry<&str> = Registry::unique("names");
    let missing: Named<Server<Worker>, &str> = registry.named("nobody");
    assert!(matches!(
        missing.call(Ping).await,
        Err(ViaCallError::Lookup(RegistryError::NotRegistered { .. }))
    ));
    let options = StartOptions::new().via(registry.via("worker", ()));
    Server::start_with(Worker::default(), 0, options)
        .await
        .unwrap();
    let wrong: Named<Server<Other>, &str> = registry.named("worker");
    assert!(matches!(
        wrong.get(),
        Err(RegistryError::WrongBehaviour { .. })
    ));
    let cast = registry.named::<Server<Worker>>("nobody").cast(Bump(1));
    assert!(cast.is_err());
}

/// A behaviour no test server has.
struct Other;

impl arbor_actor::GenServer for Other {
    type Args = ();
    type State = ();

    async fn init(&self, _: (), _: &mut arbor_actor::Context<Self>) -> arbor_actor::Init<()> {
        arbor_actor::Init::Ready(())
    }
}
