//! The tree the observer's tests watch: a registry, a two-stage pipeline (an endless
//! producer and a consumer that counts what it gets), and a nested supervisor with an
//! idle worker.
//!
//! ```text
//! app ─┬─ names     (registry)
//!      ├─ numbers   (producer, named in `names`)
//!      ├─ sink      (consumer of `numbers`, found by name: a restarted sink resubscribes)
//!      └─ workers ─── clock (an idle GenServer)
//! ```

#![allow(dead_code, unreachable_pub)] // each test binary uses its own part of it

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arbor_actor::{Context, GenServer, Init, Outcome};
use arbor_registry::Registry;
use arbor_stage::{
    Consumer, GenStage, NoEvents, Producer, Stage, StageContext, SubscribeOptions, SubscribeTo,
    SubscriptionTag,
};
use arbor_supervisor::{ChildSpec, Supervisor, SupervisorOptions};
use serde_json::Value;

/// Emits the next numbers on demand, for ever.
#[derive(Clone)]
pub struct Numbers;

impl GenStage for Numbers {
    type Args = ();
    type State = u64;
    type In = NoEvents;
    type Out = u64;

    async fn init(&self, (): (), _ctx: &mut StageContext<Self>) -> Init<u64> {
        Init::Ready(0)
    }
}

impl Producer for Numbers {
    async fn handle_demand(
        &self,
        demand: usize,
        next: &mut u64,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        let end = *next + demand as u64;
        ctx.emit_all(*next..end);
        *next = end;
        Outcome::NoReply
    }
}

/// Counts the events it gets (in `seen`, and in the `metrics` counter
/// `observer_test_events_total`), taking a little while per batch so the pipeline runs
/// at a steady few hundred events a second rather than flat out.
#[derive(Clone)]
pub struct Sink {
    pub seen: Arc<AtomicU64>,
}

impl GenStage for Sink {
    type Args = ();
    type State = ();
    type In = u64;
    type Out = NoEvents;

    async fn init(&self, (): (), _ctx: &mut StageContext<Self>) -> Init<()> {
        Init::Ready(())
    }
}

impl Consumer for Sink {
    async fn handle_events(
        &self,
        events: Vec<u64>,
        _from: SubscriptionTag,
        _: &mut (),
        _: &mut StageContext<Self>,
    ) -> Outcome {
        // The work each batch stands for; not a synchronisation.
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.seen.fetch_add(events.len() as u64, Ordering::Relaxed);
        metrics::counter!("observer_test_events_total").increment(events.len() as u64);
        Outcome::NoReply
    }
}

/// A worker that does nothing: something to restart and stop.
#[derive(Clone)]
pub struct Clock;

impl GenServer for Clock {
    type Args = ();
    type State = ();

    async fn init(&self, (): (), _ctx: &mut Context<Self>) -> Init<()> {
        Init::Ready(())
    }
}

/// The running tree, and how many events the sink has seen.
pub struct Tree {
    pub root: Supervisor,
    pub seen: Arc<AtomicU64>,
}

/// Starts the tree; `name` names the root and its registry (unique per test).
pub async fn start(name: &str) -> Tree {
    let names: Registry<&'static str> = Registry::unique(&format!("{name}_names"));
    let seen = Arc::new(AtomicU64::new(0));
    let numbers = Stage::producer(Numbers, ())
        .via(names.via("numbers", ()))
        .child_spec("numbers")
        .expect("producer spec");
    let sink = Stage::consumer(Sink { seen: seen.clone() }, ())
        .subscribe_to(
            SubscribeTo::via::<Numbers, _, _>(&names, "numbers"),
            SubscribeOptions::new().max_demand(10).min_demand(5),
        )
        .child_spec("sink")
        .expect("consumer spec");
    let workers = Supervisor::child_spec(
        "workers",
        vec![ChildSpec::worker("clock", Clock, ())],
        SupervisorOptions::one_for_one(),
    );
    let root = Supervisor::start(
        [names.child_spec("names"), numbers, sink, workers],
        SupervisorOptions::one_for_one().name(name),
    )
    .await
    .expect("the tree starts");
    Tree { root, seen }
}

/// The node at `path` (ids from the root's children down) in a tree's JSON.
pub fn node<'a>(tree: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(tree, |node, id| {
        node["children"]
            .as_array()?
            .iter()
            .find(|child| child["id"] == *id)
    })
}

/// The actor id of the running node at `path`.
pub fn actor(tree: &Value, path: &[&str]) -> Option<String> {
    let node = node(tree, path)?;
    (node["state"] == "Running").then(|| node["actor"].as_str().map(str::to_owned))?
}

/// Polls `check` until it gives `Some`, or panics at the deadline.
pub async fn eventually<T, F, Fut>(what: &str, deadline: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(start.elapsed() < deadline, "timed out waiting for {what}");
        // The pace of the polling, not a synchronisation: the check decides.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
