//! `async_info` / `sync_info`: a message a stage queues for itself behind the events it
//! holds, as gen_stage's; and `stop_after_delivery`, which rides the same queue.

mod support;

use arbor_actor::{Exit, Init, Outcome};
use arbor_stage::{
    Consumer, DemandMode, GenStage, NoEvents, Producer, Stage, StageCast, StageContext, StageInfo,
    SubscribeOptions, SubscriptionTag,
};
use support::{collect, manual_probe_on, probe_on, Push, Seen, STALL};
use tokio::sync::mpsc;

/// An info: its label is reported when the stage handles it.
struct Marker(&'static str);

/// Reports the markers a stage handles.
#[derive(Clone)]
struct Infos(mpsc::UnboundedSender<&'static str>);

impl Infos {
    fn new() -> (Infos, mpsc::UnboundedReceiver<&'static str>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Infos(tx), rx)
    }

    fn report(&self, Marker(label): Marker) -> Outcome {
        let _ = self.0.send(label);
        Outcome::NoReply
    }
}

/// A producer that emits what it is cast and reports the markers it handles.
struct Informer(Infos);

/// Emits the events, then queues a marker from inside the callback.
struct PushThenInfo(Vec<u64>, &'static str);
/// Emits the events, then asks to stop once they are delivered.
struct PushThenStop(Vec<u64>);

impl GenStage for Informer {
    type Args = ();
    type State = ();
    type In = NoEvents;
    type Out = u64;

    async fn init(&self, _: (), _: &mut StageContext<Self>) -> Init<()> {
        Init::Ready(())
    }
}

impl Producer for Informer {
    async fn handle_demand(&self, _: usize, _: &mut (), _: &mut StageContext<Self>) -> Outcome {
        Outcome::NoReply
    }
}

impl StageCast<Push> for Informer {
    async fn handle_cast(
        &self,
        Push(events): Push,
        _: &mut (),
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        ctx.emit_batch(events);
        Outcome::NoReply
    }
}

impl StageCast<PushThenInfo> for Informer {
    async fn handle_cast(
        &self,
        PushThenInfo(events, label): PushThenInfo,
        _: &mut (),
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        ctx.async_info(Marker(label));
        // Emitted after the info is queued, yet delivered before it, as in gen_stage
        // (where the info is queued once the callback has returned its events).
        ctx.emit_batch(events);
        Outcome::NoReply
    }
}

impl StageCast<PushThenStop> for Informer {
    async fn handle_cast(
        &self,
        PushThenStop(events): PushThenStop,
        _: &mut (),
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        ctx.emit_batch(events);
        ctx.stop_after_delivery(Exit::Normal);
        Outcome::NoReply
    }
}

impl StageInfo<Marker> for Informer {
    async fn handle_info(&self, marker: Marker, _: &mut (), _: &mut StageContext<Self>) -> Outcome {
        self.0.report(marker)
    }
}

/// A consumer that only reports markers.
struct Listener(Infos);

impl GenStage for Listener {
    type Args = ();
    type State = ();
    type In = u64;
    type Out = NoEvents;

    async fn init(&self, _: (), _: &mut StageContext<Self>) -> Init<()> {
        Init::Ready(())
    }
}

impl Consumer for Listener {
    async fn handle_events(
        &self,
        _: Vec<u64>,
        _: SubscriptionTag,
        _: &mut (),
        _: &mut StageContext<Self>,
    ) -> Outcome {
        Outcome::NoReply
    }
}

impl StageInfo<Marker> for Listener {
    async fn handle_info(&self, marker: Marker, _: &mut (), _: &mut StageContext<Self>) -> Outcome {
        self.0.report(marker)
    }
}

/// The markers `producer` has handled so far. The call behind `buffered_count` queues
/// behind any marker the stage has already sent itself, so none is missed.
async fn handled(
    producer: &Stage<Informer>,
    infos: &mut mpsc::UnboundedReceiver<&'static str>,
) -> (usize, Vec<&'static str>) {
    let buffered = producer.buffered_count().await.unwrap();
    let mut labels = Vec::new();
    while let Ok(label) = infos.try_recv() {
        labels.push(label);
    }
    (buffered, labels)
}

async fn next_info(infos: &mut mpsc::UnboundedReceiver<&'static str>) -> &'static str {
    tokio::time::timeout(STALL, infos.recv())
        .await
        .expect("no info for 10 s")
        .expect("the stage stopped")
}

async fn subscribed_tag(seen: &mut mpsc::UnboundedReceiver<Seen>) -> SubscriptionTag {
    match seen.recv().await {
        Some(Seen::Subscribed(tag)) => tag,
        other => panic!("expected a subscription, got {other:?}"),
    }
}

#[tokio::test]
async fn an_info_waits_until_the_events_buffered_before_it_are_sent() {
    let (infos, mut handled_infos) = Infos::new();
    let producer = Stage::producer(Informer(infos), ()).start().await.unwrap();
    producer.cast(Push((0..5).collect())).unwrap();
    producer.sync_info(Marker("after five")).await.unwrap();
    assert_eq!(handled(&producer, &mut handled_infos).await, (5, vec![]));

    let (consumer, mut seen, tag) =
        manual_probe_on(&producer, SubscribeOptions::new().max_demand(10)).await;
    consumer.ask(tag, 3).await.unwrap();
    assert_eq!(collect(&mut seen, 3).await.1, vec![0, 1, 2]);
    assert_eq!(handled(&producer, &mut handled_infos).await, (2, vec![]));

    consumer.ask(tag, 2).await.unwrap();
    assert_eq!(collect(&mut seen, 2).await.1, vec![3, 4]);
    assert_eq!(next_info(&mut handled_infos).await, "after five");
}

#[tokio::test]
async fn an_info_queued_in_a_callback_follows_the_events_that_callback_emitted() {
    let (infos, mut handled_infos) = Infos::new();
    let producer = Stage::producer(Informer(infos), ()).start().await.unwrap();
    producer
        .cast(PushThenInfo(vec![1, 2, 3], "pushed"))
        .unwrap();
    assert_eq!(handled(&producer, &mut handled_infos).await, (3, vec![]));

    let mut seen = probe_on(&producer, SubscribeOptions::new().max_demand(10)).await;
    assert_eq!(collect(&mut seen, 3).await.1, vec![1, 2, 3]);
    assert_eq!(next_info(&mut handled_infos).await, "pushed");
}

#[tokio::test]
async fn with_nothing_buffered_an_info_comes_at_once() {
    let (infos, mut handled_infos) = Infos::new();
    let producer = Stage::producer(Informer(infos), ()).start().await.unwrap();
    producer.sync_info(Marker("now")).await.unwrap();
    assert_eq!(
        handled(&producer, &mut handled_infos).await,
        (0, vec!["now"])
    );

    producer.async_info(Marker("async")).unwrap();
    assert_eq!(
        handled(&producer, &mut handled_infos).await,
        (0, vec!["async"])
    );
}

#[tokio::test]
async fn a_consumer_gets_its_info_at_once() {
    let (infos, mut handled_infos) = Infos::new();
    let consumer = Stage::consumer(Listener(infos), ()).start().await.unwrap();
    consumer.sync_info(Marker("consumer")).await.unwrap();
    assert_eq!(next_info(&mut handled_infos).await, "consumer");
}

#[tokio::test]
async fn an_info_sent_to_a_stopped_stage_comes_back() {
    let (infos, _handled_infos) = Infos::new();
    let producer = Stage::producer(Informer(infos), ()).start().await.unwrap();
    producer.stop(Exit::Normal).unwrap();
    assert_eq!(producer.wait().await, Exit::Normal);
    let error = producer.async_info(Marker("late")).unwrap_err();
    assert_eq!(error.0 .0, "late");
    assert!(producer.sync_info(Marker("late")).await.is_err());
}

/// Starts an `Informer` in accumulate mode with a consumer already asking.
async fn accumulating() -> (
    Stage<Informer>,
    mpsc::UnboundedReceiver<&'static str>,
    mpsc::UnboundedReceiver<Seen>,
) {
    let (infos, handled_infos) = Infos::new();
    let producer = Stage::producer(Informer(infos), ())
        .demand_mode(DemandMode::Accumulate)
        .start()
        .await
        .unwrap();
    let mut seen = probe_on(&producer, SubscribeOptions::new().max_demand(10)).await;
    subscribed_tag(&mut seen).await;
    (producer, handled_infos, seen)
}

#[tokio::test]
async fn in_accumulate_mode_an_info_waits_for_the_held_events() {
    let (producer, mut handled_infos, mut seen) = accumulating().await;
    producer.cast(PushThenInfo(vec![7, 8], "held")).unwrap();
    assert_eq!(handled(&producer, &mut handled_infos).await, (0, vec![]));

    producer.set_demand_mode(DemandMode::Forward).unwrap();
    assert_eq!(collect(&mut seen, 2).await.1, vec![7, 8]);
    assert_eq!(next_info(&mut handled_infos).await, "held");
}

#[tokio::test]
async fn in_accumulate_mode_stop_after_delivery_waits_for_the_held_events() {
    let (producer, mut handled_infos, mut seen) = accumulating().await;
    producer.cast(PushThenStop(vec![4, 5, 6])).unwrap();
    assert_eq!(handled(&producer, &mut handled_infos).await, (0, vec![]));

    producer.set_demand_mode(DemandMode::Forward).unwrap();
    assert_eq!(collect(&mut seen, 3).await.1, vec![4, 5, 6]);
    assert_eq!(producer.wait().await, Exit::Normal);
}

/// A producer-consumer that passes events on and reports the markers it handles.
struct Relay(Infos);

impl GenStage for Relay {
    type Args = ();
    type State = ();
    type In = u64;
    type Out = u64;

    async fn init(&self, _: (), _: &mut StageContext<Self>) -> Init<()> {
        Init::Ready(())
    }
}

impl arbor_stage::ProducerConsumer for Relay {
    async fn handle_events(
        &self,
        events: Vec<u64>,
        _: SubscriptionTag,
        _: &mut (),
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        ctx.emit_all(events);
        Outcome::NoReply
    }
}

impl StageInfo<Marker> for Relay {
    async fn handle_info(&self, marker: Marker, _: &mut (), _: &mut StageContext<Self>) -> Outcome {
        self.0.report(marker)
    }
}

#[tokio::test]
async fn a_producer_consumers_info_waits_for_the_input_events_before_it() {
    let producer = Stage::producer(support::Pusher, ()).start().await.unwrap();
    let (infos, mut handled_infos) = Infos::new();
    let relay = Stage::producer_consumer(Relay(infos), ())
        .subscribe_to(&producer, SubscribeOptions::new().max_demand(10))
        .start()
        .await
        .unwrap();
    let (consumer, mut seen, tag) =
        manual_probe_on(&relay, SubscribeOptions::new().max_demand(10)).await;
    // Five events reach the relay, which has no downstream demand: they wait in its input.
    producer.cast(Push((0..5).collect())).unwrap();
    producer.buffered_count().await.unwrap();
    relay.sync_info(Marker("after five")).await.unwrap();
    relay.buffered_count().await.unwrap();
    assert_eq!(
        handled_infos.try_recv().ok(),
        None,
        "the info overtook the waiting events"
    );

    consumer.ask(tag, 5).await.unwrap();
    assert_eq!(collect(&mut seen, 5).await.1, vec![0, 1, 2, 3, 4]);
    assert_eq!(next_info(&mut handled_infos).await, "after five");
}
