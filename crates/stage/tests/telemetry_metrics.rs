//! Telemetry: every layer's events reach an installed `metrics` recorder, with the
//! labels `docs/guide-operations.md` lists. (The tests live here, at the top of the
//! layers they cover, so one recorder helper serves them all.)

mod support;

use std::time::Duration;

use arbor_actor::{Context, Exit, GenServer, HandleCast, Init, Outcome, Server, StartOptions};
use arbor_registry::Registry;
use arbor_stage::{BufferSize, Cancel, ConsumerSupervisor, Stage, SubscribeOptions};
use arbor_supervisor::{
    ChildSpec, DynamicSupervisor, DynamicSupervisorOptions, Supervisor, SupervisorOptions,
};
use support::metrics::Metrics;
use support::{collect, Counter, Doubler, Probe, Push, Pusher};
use tokio::sync::mpsc;

/// A worker that reports each start, and panics on `Boom`.
#[derive(Clone)]
struct Worker {
    started: mpsc::UnboundedSender<()>,
}

struct Boom;

impl GenServer for Worker {
    type Args = ();
    type State = ();
    async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
        let _ = self.started.send(());
        Init::Ready(())
    }
}

impl HandleCast<Boom> for Worker {
    async fn handle_cast(&self, _: Boom, _: &mut (), _: &mut Context<Self>) -> Outcome {
        panic!("boom on purpose")
    }
}

fn worker() -> (Worker, mpsc::UnboundedReceiver<()>) {
    let (started, rx) = mpsc::unbounded_channel();
    (Worker { started }, rx)
}

#[tokio::test]
async fn server_start_stop_and_crash_are_counted_with_name_and_reason() {
    let metrics = Metrics::install();
    let (behaviour, _) = worker();
    let calm = Server::start_with(behaviour.clone(), (), StartOptions::new().name("calm"))
        .await
        .unwrap();
    let doomed = Server::start_with(behaviour, (), StartOptions::new().name("doomed"))
        .await
        .unwrap();
    calm.stop(Exit::Normal).unwrap();
    calm.wait().await;
    doomed.cast(Boom).unwrap();
    assert!(matches!(doomed.wait().await, Exit::Panic(_)));

    let started = "arbor_server_started_total";
    assert_eq!(metrics.counter(started, &[("server", "calm")]), 1);
    assert_eq!(metrics.counter(started, &[("server", "doomed")]), 1);
    let stopped = "arbor_server_stopped_total";
    assert_eq!(
        metrics.counter(stopped, &[("server", "calm"), ("reason", "normal")]),
        1
    );
    assert_eq!(metrics.counter(stopped, &[("server", "doomed")]), 0);
    let crashed = "arbor_server_crashed_total";
    assert_eq!(
        metrics.counter(crashed, &[("server", "doomed"), ("reason", "panic")]),
        1
    );
    assert_eq!(metrics.counter(crashed, &[("server", "calm")]), 0);
}

#[tokio::test]
async fn an_unnamed_server_is_labelled_with_its_type_name() {
    let metrics = Metrics::install();
    let (behaviour, _) = worker();
    let server = Server::start(behaviour, ()).await.unwrap();
    assert_eq!(server.stats().label(), "Worker");
    assert_eq!(
        metrics.counter("arbor_server_started_total", &[("server", "Worker")]),
        1
    );
}

#[tokio::test]
async fn unnamed_servers_count_their_stops_and_crashes_under_their_type_name() {
    let metrics = Metrics::install();
    let (behaviour, _) = worker();
    let calm = Server::start(behaviour.clone(), ()).await.unwrap();
    let doomed = Server::start(behaviour, ()).await.unwrap();
    calm.stop(Exit::Normal).unwrap();
    calm.wait().await;
    doomed.cast(Boom).unwrap();
    assert!(matches!(doomed.wait().await, Exit::Panic(_)));

    let worker = [("server", "Worker")];
    assert_eq!(metrics.counter("arbor_server_started_total", &worker), 2);
    let normal = [("server", "Worker"), ("reason", "normal")];
    assert_eq!(metrics.counter("arbor_server_stopped_total", &normal), 1);
    let panic = [("server", "Worker"), ("reason", "panic")];
    assert_eq!(metrics.counter("arbor_server_crashed_total", &panic), 1);
    assert_eq!(metrics.counter("arbor_server_stopped_total", &panic), 0);
}

#[tokio::test]
async fn a_dynamic_supervisor_counts_each_child_start_and_restart_by_its_id() {
    let metrics = Metrics::install();
    let (behaviour, mut started) = worker();
    let options = DynamicSupervisorOptions::default().name("pool");
    let pool = DynamicSupervisor::start(options).await.unwrap();
    // Runs of one id and a change of id: the key kept for one id must not count another.
    for id in ["a", "a", "b", "a"] {
        let spec = ChildSpec::worker(id, behaviour.clone(), ());
        pool.start_child(spec).await.unwrap();
        started.recv().await.unwrap();
    }
    let started_total = "arbor_supervisor_child_started_total";
    let child = |id| [("supervisor", "pool"), ("child", id)];
    assert_eq!(metrics.counter(started_total, &child("a")), 3);
    assert_eq!(metrics.counter(started_total, &child("b")), 1);

    let children = pool.which_children().await.unwrap();
    assert_eq!(children[2].id, "b");
    let b = children[2].state.child().cloned().unwrap();
    b.server::<Worker>().unwrap().cast(Boom).unwrap();
    started.recv().await.unwrap();
    // Answered after the restart's handling has finished (the restarted child goes last).
    let children = pool.which_children().await.unwrap();
    assert_eq!((children[3].id.as_str(), children[3].restarts), ("b", 1));
    let restarted = "arbor_supervisor_child_restarted_total";
    assert_eq!(metrics.counter(restarted, &child("b")), 1);
    assert_eq!(metrics.counter(restarted, &child("a")), 0);
    assert_eq!(metrics.counter(started_total, &child("b")), 1);
}

#[tokio::test]
async fn supervisor_child_started_restarted_and_gave_up_are_counted() {
    let metrics = Metrics::install();
    let (behaviour, mut started) = worker();
    let spec = ChildSpec::worker("w", behaviour, ());
    let options = SupervisorOptions::one_for_one().max_restarts(1).name("sup");
    let tree = Supervisor::start([spec], options).await.unwrap();
    started.recv().await.unwrap();
    let labels = [("supervisor", "sup"), ("child", "w")];
    assert_eq!(
        metrics.counter("arbor_supervisor_child_started_total", &labels),
        1
    );

    let first = tree.which_children().await.unwrap()[0]
        .state
        .child()
        .cloned()
        .unwrap();
    first.server::<Worker>().unwrap().cast(Boom).unwrap();
    started.recv().await.unwrap();
    // Answered after the restart's handling has finished.
    let children = tree.which_children().await.unwrap();
    assert_eq!(children[0].restarts, 1);
    assert_eq!(
        metrics.counter("arbor_supervisor_child_restarted_total", &labels),
        1
    );

    let second = children[0].state.child().cloned().unwrap();
    second.server::<Worker>().unwrap().cast(Boom).unwrap();
    assert_eq!(tree.wait().await, arbor_supervisor::reached_max_intensity());
    let gave_up = [("supervisor", "sup"), ("child", "w"), ("max_restarts", "1")];
    assert_eq!(
        metrics.counter("arbor_supervisor_gave_up_total", &gave_up),
        1
    );
}

#[tokio::test]
async fn registry_register_and_unregister_are_counted_by_registry_name() {
    let metrics = Metrics::install();
    let names: Registry<&str> = Registry::unique("names");
    let (behaviour, _) = worker();
    let one = Server::start(behaviour.clone(), ()).await.unwrap();
    let two = Server::start(behaviour, ()).await.unwrap();
    names.register("one", &one, ()).unwrap();
    names.register("two", &two, ()).unwrap();
    names.unregister(&"one", &one);
    two.stop(Exit::Normal).unwrap();
    two.wait().await;

    let labels = [("registry", "names")];
    assert_eq!(
        metrics.counter("arbor_registry_registered_total", &labels),
        2
    );
    // One unregistered, one gone with its server.
    assert_eq!(
        metrics.counter("arbor_registry_unregistered_total", &labels),
        2
    );
}

#[tokio::test]
async fn a_pipeline_counts_subscriptions_events_demand_and_batches_per_stage() {
    let metrics = Metrics::install();
    let producer = Stage::producer(Counter::default(), 0)
        .name("numbers")
        .start()
        .await
        .unwrap();
    let doubler = Stage::producer_consumer(Doubler, ())
        .name("doubler")
        .subscribe_to(
            &producer,
            SubscribeOptions::new().max_demand(10).min_demand(5),
        )
        .start()
        .await
        .unwrap();
    let (probe, mut seen) = Probe::new();
    let consumer = Stage::consumer(probe, ())
        .name("sink")
        .subscribe_to(
            &doubler,
            SubscribeOptions::new().max_demand(10).min_demand(5),
        )
        .start()
        .await
        .unwrap();
    collect(&mut seen, 100).await;

    let out = |stage| metrics.counter("arbor_stage_events_out_total", &[("stage", stage)]);
    let into = |stage| metrics.counter("arbor_stage_events_in_total", &[("stage", stage)]);
    let asked = |stage| metrics.counter("arbor_stage_demand_asked_total", &[("stage", stage)]);
    assert!(out("numbers") >= 100, "{}", out("numbers"));
    assert!(into("doubler") >= 100 && out("doubler") >= 100);
    assert!(into("sink") >= 100);
    assert_eq!(into("numbers"), 0);
    assert_eq!(out("sink"), 0);
    // A consumer never holds more than it asked for.
    assert!(asked("sink") >= into("sink"));
    assert!(asked("doubler") >= into("doubler"));
    assert_eq!(asked("numbers"), 0);
    let batches = metrics.histogram("arbor_stage_batch_size", &[("stage", "sink")]);
    assert!(!batches.is_empty());
    assert!(batches.iter().all(|&size| (1.0..=10.0).contains(&size)));
    for stage in ["numbers", "sink"] {
        assert_eq!(
            metrics.counter("arbor_stage_subscribed_total", &[("stage", stage)]),
            1
        );
    }
    assert_eq!(
        metrics.counter("arbor_stage_subscribed_total", &[("stage", "doubler")]),
        2
    );

    consumer.stop(Exit::shutdown()).unwrap();
    consumer.wait().await;
    // The doubler hears of the cancel before it answers a call.
    doubler.subscriptions().await.unwrap();
    assert_eq!(
        metrics.counter("arbor_stage_cancelled_total", &[("stage", "doubler")]),
        1
    );
}

#[tokio::test]
async fn a_full_buffer_sets_the_gauge_and_counts_its_discards() {
    let metrics = Metrics::install();
    let pusher = Stage::producer(Pusher, ())
        .name("pusher")
        .buffer_size(BufferSize::Bounded(3))
        .start()
        .await
        .unwrap();
    pusher.cast(Push(vec![1, 2, 3, 4, 5])).unwrap();
    pusher.subscriptions().await.unwrap();

    let labels = [("stage", "pusher")];
    assert_eq!(metrics.gauge("arbor_stage_buffered", &labels), Some(3.0));
    let overflow = [("stage", "pusher"), ("cause", "buffer_overflow")];
    assert_eq!(metrics.counter("arbor_stage_discarded_total", &overflow), 2);
}

#[tokio::test]
async fn consumer_supervisor_children_started_and_exited_are_counted() {
    let metrics = Metrics::install();
    let producer = Stage::producer(Counter { limit: Some(4) }, 0)
        .start()
        .await
        .unwrap();
    let (done, mut finished) = mpsc::unbounded_channel();
    let tasks = ConsumerSupervisor::tasks(move |event: u64| {
        let done = done.clone();
        async move {
            let _ = done.send(event);
        }
    });
    let supervisor = Stage::consumer(tasks, ())
        .name("jobs")
        .subscribe_to(
            &producer,
            // The producer stops normally after its last event: the supervisor stays.
            SubscribeOptions::new()
                .max_demand(2)
                .min_demand(1)
                .cancel(Cancel::Transient),
        )
        .start()
        .await
        .unwrap();
    for _ in 0..4 {
        tokio::time::timeout(Duration::from_secs(10), finished.recv())
            .await
            .unwrap()
            .unwrap();
    }
    supervisor.drained().await.unwrap();

    let labels = [("supervisor", "jobs")];
    let started = "arbor_consumer_supervisor_child_started_total";
    assert_eq!(metrics.counter(started, &labels), 4);
    let exited = "arbor_consumer_supervisor_child_exited_total";
    assert_eq!(metrics.counter(exited, &labels), 4);
}
