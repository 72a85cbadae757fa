//! In one process, without signals: the stop handle, the order of the stop, the
//! deadline (paused time), a root that gives up, a tree that does not start.

use std::time::Duration;

use arbor_actor::{Context, Exit, GenServer, HandleCast, Init, Outcome as CastOutcome};
use arbor_app::{Application, Outcome, Trigger};
use arbor_supervisor::{ChildSpec, Shutdown, SupervisorError, SupervisorOptions};
use tokio::sync::mpsc;

/// Reports its start and its `terminate` to the test; `hangs` never finishes the
/// latter.
#[derive(Clone)]
struct Worker {
    id: &'static str,
    hangs: bool,
    events: mpsc::UnboundedSender<String>,
}

impl GenServer for Worker {
    type Args = ();
    type State = ();

    async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
        let _ = self.events.send(format!("started {}", self.id));
        Init::Ready(())
    }

    async fn terminate(&self, _: &Exit, _: &mut (), _ctx: &mut Context<Self>) {
        let _ = self.events.send(format!("stopping {}", self.id));
        if self.hangs {
            std::future::pending::<()>().await;
        }
        let _ = self.events.send(format!("stopped {}", self.id));
    }
}

struct Crash;
impl HandleCast<Crash> for Worker {
    async fn handle_cast(&self, _: Crash, _: &mut (), _ctx: &mut Context<Self>) -> CastOutcome {
        CastOutcome::Stop(Exit::error("crashed on purpose"))
    }
}

fn workers(
    ids: &[&'static str],
    hanging: Option<&str>,
) -> (Vec<ChildSpec>, mpsc::UnboundedReceiver<String>) {
    let (events, received) = mpsc::unbounded_channel();
    let specs = ids
        .iter()
        .map(|&id| {
            let hangs = hanging == Some(id);
            let events = events.clone();
            let spec = ChildSpec::worker(id, Worker { id, hangs, events }, ());
            if hangs {
                spec.shutdown(Shutdown::Infinity)
            } else {
                spec
            }
        })
        .collect();
    (specs, received)
}

fn drain(events: &mut mpsc::UnboundedReceiver<String>) -> Vec<String> {
    std::iter::from_fn(|| events.try_recv().ok()).collect()
}

#[tokio::test]
async fn a_requested_stop_stops_the_children_in_reverse_order() {
    let (specs, mut events) = workers(&["a", "b", "c"], None);
    let app = Application::builder(specs)
        .options(SupervisorOptions::one_for_one().name("reverse_order"))
        .start()
        .await
        .expect("the tree starts");
    app.stop_handle().stop();

    let outcome = app.wait().await;

    assert_eq!(
        outcome,
        Outcome::Stopped {
            trigger: Trigger::Requested
        }
    );
    assert_eq!(outcome.code(), 0);
    assert_eq!(
        drain(&mut events),
        [
            "started a",
            "started b",
            "started c",
            "stopping c",
            "stopped c",
            "stopping b",
            "stopped b",
            "stopping a",
            "stopped a",
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_child_that_hangs_in_terminate_is_killed_at_the_deadline() {
    let (specs, mut events) = workers(&["a", "b"], Some("b"));
    let app = Application::builder(specs)
        .options(SupervisorOptions::one_for_one().name("hangs"))
        .deadline(Duration::from_secs(3));
    app.stop_handle().stop();
    let started = tokio::time::Instant::now();

    let outcome = app.run().await;

    assert_eq!(
        outcome,
        Outcome::Killed {
            trigger: Trigger::Requested,
            deadline: Duration::from_secs(3)
        }
    );
    assert_eq!(outcome.code(), 4);
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(3),
        "killed at the deadline, not before"
    );
    assert_eq!(drain(&mut events), ["started a", "started b", "stopping b"]);
}

#[tokio::test(start_paused = true)]
async fn shutdown_timeouts_within_the_deadline_are_a_clean_stop() {
    // `b` hangs, but its own 1 s shutdown timeout kills it well before the 3 s
    // deadline: the supervisor's doing, an orderly stop.
    let (mut specs, mut events) = workers(&["a", "b"], Some("b"));
    let hanging = specs.pop().expect("two specs");
    specs.push(hanging.shutdown(Shutdown::Timeout(Duration::from_secs(1))));
    let app = Application::builder(specs)
        .options(SupervisorOptions::one_for_one().name("budgeted"))
        .deadline(Duration::from_secs(3));
    app.stop_handle().stop();

    let outcome = app.run().await;

    assert_eq!(
        outcome,
        Outcome::Stopped {
            trigger: Trigger::Requested
        }
    );
    assert_eq!(
        drain(&mut events),
        [
            "started a",
            "started b",
            "stopping b",
            "stopping a",
            "stopped a"
        ]
    );
}

#[tokio::test]
async fn a_root_that_reaches_max_intensity_gave_up() {
    let (specs, _events) = workers(&["fragile"], None);
    let app = Application::builder(specs)
        .options(
            SupervisorOptions::one_for_one()
                .name("gives_up")
                .max_restarts(0),
        )
        .start()
        .await
        .expect("the tree starts");
    let fragile = app
        .supervisor()
        .find_child("fragile")
        .await
        .expect("the root answers")
        .and_then(|child| child.server::<Worker>())
        .expect("fragile runs");
    fragile.cast(Crash).expect("fragile takes casts");

    let outcome = app.wait().await;

    assert_eq!(outcome, Outcome::GaveUp);
    assert_eq!(outcome.code(), 3);
}

#[tokio::test]
async fn a_tree_that_does_not_start_is_reported_with_code_1() {
    let (mut specs, _events) = workers(&["twin"], None);
    specs.extend(workers(&["twin"], None).0);

    let outcome = Application::builder(specs).run().await;

    assert_eq!(
        outcome,
        Outcome::FailedToStart(SupervisorError::DuplicateChildId("twin".into()))
    );
    assert_eq!(outcome.code(), 1);
}

#[tokio::test]
async fn an_application_of_a_started_root_stops_it() {
    let (specs, mut events) = workers(&["a"], None);
    let root = arbor_supervisor::Supervisor::start(specs, SupervisorOptions::one_for_one())
        .await
        .expect("the tree starts");
    let app = Application::of(root.clone()).start().await.expect("starts");
    app.stop_handle().stop();

    assert_eq!(
        app.wait().await,
        Outcome::Stopped {
            trigger: Trigger::Requested
        }
    );
    assert!(!root.is_alive());
    assert_eq!(drain(&mut events), ["started a", "stopping a", "stopped a"]);
}

#[tokio::test]
async fn work_that_finishes_stops_the_tree_in_order() {
    let (specs, mut events) = workers(&["a", "b"], None);
    let app = Application::builder(specs)
        .start()
        .await
        .expect("the tree starts");
    let root = app.supervisor().clone();

    let (output, outcome) = app.run_until(async { "done" }).await;

    assert_eq!(output, Some("done"));
    assert_eq!(
        outcome,
        Outcome::Stopped {
            trigger: Trigger::Finished
        }
    );
    assert!(!root.is_alive());
    assert_eq!(
        drain(&mut events),
        [
            "started a",
            "started b",
            "stopping b",
            "stopped b",
            "stopping a",
            "stopped a"
        ]
    );
}

#[tokio::test]
async fn a_stop_asked_during_the_work_drops_it_first() {
    let (specs, mut events) = workers(&["a"], None);
    let app = Application::builder(specs)
        .start()
        .await
        .expect("the tree starts");
    let stop = app.stop_handle();
    let (dropped, work_dropped) = tokio::sync::oneshot::channel::<()>();
    let work = async move {
        let _dropped_with_the_work = dropped;
        stop.stop();
        std::future::pending::<()>().await
    };

    let (output, outcome) = app.run_until(work).await;

    assert_eq!(output, None);
    assert_eq!(
        outcome,
        Outcome::Stopped {
            trigger: Trigger::Requested
        }
    );
    assert!(work_dropped.await.is_err(), "the work was dropped");
    assert_eq!(drain(&mut events), ["started a", "stopping a", "stopped a"]);
}
