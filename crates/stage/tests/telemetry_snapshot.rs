//! Introspection: a supervisor's tree snapshot shows each process's statistics, each
//! stage's kind, subscriptions, demand, buffer and event counts, and a
//! ConsumerSupervisor's children; it serialises to the JSON the observer reads.

mod support;

use arbor_actor::{Context, Exit, GenServer, Init};
use arbor_registry::Registry;
use arbor_stage::{ConsumerSupervisor, Stage, StageKind, SubscribeOptions, SubscribeTo};
use arbor_supervisor::{ChildSpec, NodeState, Supervisor, SupervisorOptions, TreeNode};
use support::{collect, Counter, Crash, Doubler, Probe, Seen};
use tokio::sync::mpsc;

fn node<'a>(tree: &'a TreeNode, id: &str) -> &'a TreeNode {
    tree.children
        .iter()
        .find(|child| child.id == id)
        .unwrap_or_else(|| panic!("no node {id} in\n{tree}"))
}

/// producer → doubler → sink under one supervisor, found by name through a registry.
async fn pipeline() -> (Supervisor, mpsc::UnboundedReceiver<Seen>) {
    let names: Registry<&str> = Registry::unique("stages");
    let options = SubscribeOptions::new().max_demand(10).min_demand(5);
    let producer = Stage::producer(Counter::default(), 0)
        .via(names.via("numbers", ()))
        .child_spec("numbers")
        .unwrap();
    let doubler = Stage::producer_consumer(Doubler, ())
        .via(names.via("doubler", ()))
        .subscribe_to(
            SubscribeTo::via::<Counter, _, _>(&names, "numbers"),
            options.clone(),
        )
        .child_spec("doubler")
        .unwrap();
    let (probe, seen) = Probe::new();
    let sink = Stage::consumer(probe, ())
        .subscribe_to(
            SubscribeTo::via::<Doubler, _, _>(&names, "doubler"),
            options,
        )
        .child_spec("sink")
        .unwrap();
    let tree = Supervisor::start(
        [names.child_spec("registry"), producer, doubler, sink],
        SupervisorOptions::rest_for_one().name("pipeline"),
    )
    .await
    .unwrap();
    (tree, seen)
}

#[tokio::test]
async fn the_tree_of_a_running_pipeline_shows_stage_details_and_rising_counts() {
    let (tree, mut seen) = pipeline().await;
    collect(&mut seen, 100).await;
    let first = tree.tree().await.unwrap();

    let numbers = node(&first, "numbers").stage.unwrap();
    assert_eq!(numbers.kind, StageKind::Producer);
    assert_eq!(numbers.subscriptions, 1);
    assert!(numbers.events_out >= 100);
    assert!(numbers.demand >= numbers.events_out);
    let doubler = node(&first, "doubler").stage.unwrap();
    assert_eq!(doubler.kind, StageKind::ProducerConsumer);
    assert_eq!(doubler.subscriptions, 2);
    assert!(doubler.events_in >= 100 && doubler.events_out >= 100);
    let sink = node(&first, "sink").stage.unwrap();
    assert_eq!(sink.kind, StageKind::Consumer);
    assert_eq!(sink.subscriptions, 1);
    assert!(sink.events_in >= 100);
    assert_eq!(sink.events_out, 0);
    assert!(sink.demand >= sink.events_in);
    assert!(node(&first, "sink").stats.messages > 0);
    assert_eq!(node(&first, "registry").stage, None);
    assert_eq!(node(&first, "sink").stats.mailbox, None);

    collect(&mut seen, 100).await;
    let second = tree.tree().await.unwrap();
    let later = node(&second, "sink");
    assert!(later.stage.unwrap().events_in >= sink.events_in + 100);
    assert!(later.stats.messages > node(&first, "sink").stats.messages);
    tree.stop(Exit::shutdown()).await;
}

#[tokio::test]
async fn a_restarted_stage_shows_its_restarts_and_a_new_actor() {
    let (tree, mut seen) = pipeline().await;
    collect(&mut seen, 50).await;
    let before = tree.tree().await.unwrap();
    let numbers = tree.which_children().await.unwrap()[1]
        .state
        .child()
        .cloned()
        .unwrap();
    Stage::<Counter>::from_child(&numbers)
        .unwrap()
        .cast(Crash)
        .unwrap();
    // rest_for_one: the sink is stopped, then started again after the producer.
    while !matches!(seen.recv().await, Some(Seen::Terminated(_))) {}
    collect(&mut seen, 50).await;
    let after = tree.tree().await.unwrap();

    for id in ["numbers", "doubler", "sink"] {
        assert_eq!(node(&before, id).stats.restarts, 0);
        assert_eq!(node(&after, id).stats.restarts, 1, "{id}");
        assert_ne!(node(&after, id).actor, node(&before, id).actor);
    }
    assert_eq!(node(&after, "registry").stats.restarts, 0);
    tree.stop(Exit::shutdown()).await;
}

#[tokio::test]
async fn a_snapshot_serialises_with_stats_and_stage_fields() {
    let (tree, mut seen) = pipeline().await;
    collect(&mut seen, 20).await;
    let json = serde_json::to_value(tree.tree().await.unwrap()).unwrap();

    assert_eq!(json["id"], "pipeline");
    assert!(json["stats"]["messages"].is_u64());
    assert_eq!(json["stats"]["restarts"], 0);
    assert!(json["stats"]["mailbox"].is_null());
    assert!(json["stage"].is_null());
    let children = json["children"].as_array().unwrap();
    let by_id = |id: &str| children.iter().find(|child| child["id"] == id).unwrap();
    assert!(by_id("registry")["stage"].is_null());
    let numbers = &by_id("numbers")["stage"];
    assert_eq!(numbers["kind"], "producer");
    assert_eq!(by_id("doubler")["stage"]["kind"], "producer_consumer");
    let sink = &by_id("sink")["stage"];
    assert_eq!(sink["kind"], "consumer");
    for field in [
        "subscriptions",
        "demand",
        "buffered",
        "events_in",
        "events_out",
    ] {
        assert!(sink[field].is_u64(), "{field} in {sink}");
    }
    assert!(sink["events_in"].as_u64().unwrap() >= 20);
    tree.stop(Exit::shutdown()).await;
}

/// A child that stays until stopped and reports its start.
#[derive(Clone)]
struct Job {
    started: mpsc::UnboundedSender<u64>,
}

impl GenServer for Job {
    type Args = u64;
    type State = ();
    async fn init(&self, event: u64, _ctx: &mut Context<Self>) -> Init<()> {
        let _ = self.started.send(event);
        Init::Ready(())
    }
}

#[tokio::test]
async fn a_consumer_supervisors_children_appear_under_it() {
    let names: Registry<&str> = Registry::unique("jobs");
    let producer = Stage::producer(Counter::default(), 0)
        .via(names.via("events", ()))
        .child_spec("events")
        .unwrap();
    let (started, mut jobs) = mpsc::unbounded_channel();
    let job = Job { started };
    let children = ConsumerSupervisor::children(move |event| {
        ChildSpec::worker(format!("job-{event}"), job.clone(), event)
    });
    let runner = Stage::consumer(children, ())
        .subscribe_to(
            SubscribeTo::via::<Counter, _, _>(&names, "events"),
            // Jobs never exit: the first three events take all the demand.
            SubscribeOptions::new().max_demand(3),
        )
        .child_spec("runner")
        .unwrap();
    let tree = Supervisor::start(
        [names.child_spec("registry"), producer, runner],
        SupervisorOptions::one_for_one(),
    )
    .await
    .unwrap();
    for _ in 0..3 {
        jobs.recv().await.unwrap();
    }

    let snapshot = tree.tree().await.unwrap();
    let runner = node(&snapshot, "runner");
    assert_eq!(runner.stage.unwrap().kind, StageKind::Consumer);
    let mut ids: Vec<&str> = runner.children.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["job-0", "job-1", "job-2"], "{snapshot}");
    assert!(runner
        .children
        .iter()
        .all(|job| job.state == NodeState::Running && job.stats.messages == 0));
    tree.stop(Exit::shutdown()).await;
}
