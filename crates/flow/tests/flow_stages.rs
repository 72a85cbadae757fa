//! Flows inside GenStage pipelines: `from_stages` reads running producers (by registry
//! name), `into_stages` feeds running consumers, and a flow under a supervisor survives
//! its producer's restart (the flow fails and is restarted, subscribing to the new one).

use std::time::Duration;

use arbor_actor::{Exit, Init, Outcome};
use arbor_flow::{child_spec, Flow};
use arbor_registry::Registry;
use arbor_stage::{
    Cancel, Consumer, DemandAsk, GenStage, NoEvents, Producer, Side, Stage, StageCast,
    StageContext, SubscribeOptions, SubscribeTo, SubscriptionInfo, SubscriptionTag,
};
use arbor_supervisor::{Supervisor, SupervisorOptions};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// Emits what it is cast; tells the test when a consumer subscribes.
#[derive(Clone)]
struct Numbers(UnboundedSender<()>);

impl GenStage for Numbers {
    type Args = ();
    type State = ();
    type In = NoEvents;
    type Out = u64;
    async fn init(&self, _: (), _: &mut StageContext<Self>) -> Init<()> {
        Init::Ready(())
    }
    async fn handle_subscribe(
        &self,
        side: Side,
        _: SubscriptionInfo,
        _: &mut (),
        _: &mut StageContext<Self>,
    ) -> DemandAsk {
        if side == Side::Producer {
            let _ = self.0.send(());
        }
        DemandAsk::Automatic
    }
}

impl Producer for Numbers {
    async fn handle_demand(&self, _: usize, _: &mut (), _: &mut StageContext<Self>) -> Outcome {
        Outcome::NoReply
    }
}

struct Emit(Vec<u64>);

impl StageCast<Emit> for Numbers {
    async fn handle_cast(
        &self,
        Emit(numbers): Emit,
        _: &mut (),
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        ctx.emit_batch(numbers);
        Outcome::NoReply
    }
}

/// Forwards what it consumes to the test.
#[derive(Clone)]
struct Collector(UnboundedSender<u64>);

impl GenStage for Collector {
    type Args = ();
    type State = ();
    type In = u64;
    type Out = NoEvents;
    async fn init(&self, _: (), _: &mut StageContext<Self>) -> Init<()> {
        Init::Ready(())
    }
}

impl Consumer for Collector {
    async fn handle_events(
        &self,
        events: Vec<u64>,
        _: SubscriptionTag,
        _: &mut (),
        _: &mut StageContext<Self>,
    ) -> Outcome {
        for event in events {
            let _ = self.0.send(event);
        }
        Outcome::NoReply
    }
}

async fn next_n(rx: &mut UnboundedReceiver<u64>, n: usize) -> Vec<u64> {
    let mut got = Vec::new();
    for _ in 0..n {
        got.push(
            tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .unwrap()
                .unwrap(),
        );
    }
    got.sort();
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flow_reads_running_producers_and_feeds_running_consumers() {
    let (subscribed, mut subscriptions) = unbounded_channel();
    let producer = Stage::producer(Numbers(subscribed), ())
        .start()
        .await
        .unwrap();
    let (to_test, mut collected) = unbounded_channel();
    let collector = Stage::consumer(Collector(to_test), ())
        .start()
        .await
        .unwrap();
    let running = Flow::from_stages([SubscribeTo::stage(&producer)])
        .filter(|n| n % 2 == 1)
        .map(|n| n * 10)
        .stages(2)
        .into_stages([(
            collector.clone(),
            SubscribeOptions::new().cancel(Cancel::Transient),
        )])
        .await
        .unwrap();
    for _ in 0..2 {
        subscriptions.recv().await.unwrap();
    }
    producer.cast(Emit((1..=6).collect())).unwrap();
    assert_eq!(next_n(&mut collected, 3).await, vec![10, 30, 50]);
    // The producer ends: the flow ends with it, the transient consumer stays.
    producer
        .stop_and_wait(Exit::Normal, Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(running.wait().await, Exit::Normal);
    assert!(collector.is_alive());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervised_flow_is_restarted_with_its_producer() {
    let registry: Registry<String> = Registry::unique("flow_stages_registry");
    let (subscribed, mut subscriptions) = unbounded_channel();
    let (to_test, mut collected) = unbounded_channel();
    let producer = Stage::producer(Numbers(subscribed), ())
        .via(registry.via("numbers".to_owned(), ()))
        .child_spec("numbers")
        .unwrap();
    let collector = Stage::consumer(Collector(to_test), ())
        .via(registry.via("collector".to_owned(), ()))
        .child_spec("collector")
        .unwrap();
    let flow_registry = registry.clone();
    let flow = child_spec("flow", move |parent| {
        let registry = flow_registry.clone();
        async move {
            let collector: Stage<Collector> = Stage::whereis(&registry, &"collector".to_owned())
                .map_err(|_| arbor_flow::FlowError::Invalid(arbor_flow::InvalidFlow::NoSources))?;
            Flow::from_stages([SubscribeTo::via::<Numbers, _, _>(
                &registry,
                "numbers".to_owned(),
            )])
            .map(|n| n * 10)
            .stages(1)
            .into_stages_link(
                [(collector, SubscribeOptions::new().cancel(Cancel::Temporary))],
                parent,
            )
            .await
        }
    });
    let tree = Supervisor::start(
        vec![registry.child_spec("registry"), producer, collector, flow],
        // The flow may see its producer die before the supervisor does: one_for_all
        // restarts everything in order, producer before flow, whichever exit comes first.
        SupervisorOptions::one_for_all(),
    )
    .await
    .unwrap();
    subscriptions.recv().await.unwrap();
    let numbers: Stage<Numbers> = Stage::whereis(&registry, &"numbers".to_owned()).unwrap();
    numbers.cast(Emit(vec![1, 2])).unwrap();
    assert_eq!(next_n(&mut collected, 2).await, vec![10, 20]);

    // The producer crashes: the flow fails with it, and the supervisor restarts both,
    // the flow subscribing to the new producer by name.
    numbers.kill();
    subscriptions.recv().await.unwrap();
    let numbers: Stage<Numbers> = Stage::whereis(&registry, &"numbers".to_owned()).unwrap();
    numbers.cast(Emit(vec![3])).unwrap();
    assert_eq!(next_n(&mut collected, 1).await, vec![30]);
    tree.stop(Exit::shutdown()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_started_flow_ends_with_its_sources_and_stops_its_stages() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    let seen = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&seen);
    let running = Flow::from_iter(1..=100u64)
        .partition(arbor_flow::PartitionOptions::new().stages(3))
        .each(move |n| {
            counter.fetch_add(*n, Ordering::SeqCst);
        })
        .start()
        .await
        .unwrap();
    let supervisor = running.supervisor().clone();
    assert_eq!(running.wait().await, Exit::Normal);
    assert_eq!(seen.load(Ordering::SeqCst), 5050);
    assert!(!supervisor.is_alive());
}
