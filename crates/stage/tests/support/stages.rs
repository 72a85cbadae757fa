//! Stages for tests: a counting producer, a probe consumer that reports every batch, and
//! a doubling producer-consumer.

use arbor_actor::{Exit, Init, Outcome};
use arbor_stage::{
    Consumer, DemandAsk, GenStage, NoEvents, Producer, ProducerConsumer, Side, Stage, StageCast,
    StageContext, SubscribeOptions, SubscriptionInfo, SubscriptionTag,
};
use tokio::sync::mpsc;

/// Emits 0, 1, 2, … on demand; stops after `limit` events if one is set.
#[derive(Clone, Default)]
pub struct Counter {
    pub limit: Option<u64>,
}

impl GenStage for Counter {
    type Args = u64;
    type State = u64;
    type In = NoEvents;
    type Out = u64;

    async fn init(&self, start: u64, _ctx: &mut StageContext<Self>) -> Init<u64> {
        Init::Ready(start)
    }
}

impl Producer for Counter {
    async fn handle_demand(
        &self,
        demand: usize,
        next: &mut u64,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        let end = match self.limit {
            Some(limit) => (*next + demand as u64).min(limit),
            None => *next + demand as u64,
        };
        ctx.emit_all(*next..end);
        *next = end;
        if self.limit == Some(end) {
            ctx.stop_after_delivery(Exit::Normal);
        }
        Outcome::NoReply
    }
}

/// Makes the stage panic.
pub struct Crash;

impl StageCast<Crash> for Counter {
    async fn handle_cast(&self, _: Crash, _: &mut u64, _: &mut StageContext<Self>) -> Outcome {
        panic!("counter crashed on purpose")
    }
}

/// Casts events into a producer that emits nothing on demand (the book's
/// `PageProducer.scrape_pages`).
#[derive(Clone, Default)]
pub struct Pusher;

pub struct Push(pub Vec<u64>);

impl GenStage for Pusher {
    type Args = ();
    type State = ();
    type In = NoEvents;
    type Out = u64;

    async fn init(&self, _: (), _ctx: &mut StageContext<Self>) -> Init<()> {
        Init::Ready(())
    }
}

impl Producer for Pusher {
    async fn handle_demand(&self, _: usize, _: &mut (), _: &mut StageContext<Self>) -> Outcome {
        Outcome::NoReply
    }
}

impl StageCast<Push> for Pusher {
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

/// What a probe tells the test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    Subscribed(SubscriptionTag),
    Batch(SubscriptionTag, Vec<u64>),
    Cancelled(SubscriptionTag, Exit),
    Terminated(Exit),
}

/// A consumer that forwards everything it sees to the test.
#[derive(Clone)]
pub struct Probe {
    pub seen: mpsc::UnboundedSender<Seen>,
    pub demand: DemandAsk,
}

impl Probe {
    pub fn new() -> (Probe, mpsc::UnboundedReceiver<Seen>) {
        let (seen, rx) = mpsc::unbounded_channel();
        (
            Probe {
                seen,
                demand: DemandAsk::Automatic,
            },
            rx,
        )
    }

    pub fn manual() -> (Probe, mpsc::UnboundedReceiver<Seen>) {
        let (mut probe, rx) = Probe::new();
        probe.demand = DemandAsk::Manual;
        (probe, rx)
    }
}

impl GenStage for Probe {
    type Args = ();
    type State = ();
    type In = u64;
    type Out = NoEvents;

    async fn init(&self, _: (), _ctx: &mut StageContext<Self>) -> Init<()> {
        Init::Ready(())
    }

    async fn handle_subscribe(
        &self,
        side: Side,
        subscription: SubscriptionInfo,
        _: &mut (),
        _: &mut StageContext<Self>,
    ) -> DemandAsk {
        if side == Side::Consumer {
            let _ = self.seen.send(Seen::Subscribed(subscription.tag));
        }
        self.demand
    }

    async fn handle_cancel(
        &self,
        _: Side,
        why: arbor_stage::Cancelled,
        tag: SubscriptionTag,
        _: &mut (),
        _: &mut StageContext<Self>,
    ) -> Outcome {
        let _ = self.seen.send(Seen::Cancelled(tag, why.reason().clone()));
        Outcome::NoReply
    }

    async fn terminate(&self, reason: &Exit, _: &mut (), _: &mut StageContext<Self>) {
        let _ = self.seen.send(Seen::Terminated(reason.clone()));
    }
}

impl Consumer for Probe {
    async fn handle_events(
        &self,
        events: Vec<u64>,
        from: SubscriptionTag,
        _: &mut (),
        _: &mut StageContext<Self>,
    ) -> Outcome {
        let _ = self.seen.send(Seen::Batch(from, events));
        Outcome::NoReply
    }
}

/// Doubles every event.
#[derive(Clone, Default)]
pub struct Doubler;

impl GenStage for Doubler {
    type Args = ();
    type State = ();
    type In = u64;
    type Out = u64;

    async fn init(&self, _: (), _ctx: &mut StageContext<Self>) -> Init<()> {
        Init::Ready(())
    }
}

impl ProducerConsumer for Doubler {
    async fn handle_events(
        &self,
        events: Vec<u64>,
        _: SubscriptionTag,
        _: &mut (),
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        ctx.emit_all(events.into_iter().map(|event| event * 2));
        Outcome::NoReply
    }
}

/// Starts a [`Probe`] consumer subscribed to `producer`; returns what it sees.
pub async fn probe_on<P: GenStage<Out = u64>>(
    producer: &Stage<P>,
    options: SubscribeOptions<u64>,
) -> mpsc::UnboundedReceiver<Seen> {
    let (probe, seen) = Probe::new();
    Stage::consumer(probe, ())
        .subscribe_to(producer, options)
        .start()
        .await
        .expect("the probe starts");
    seen
}

/// Starts a [`Probe`] consumer with manual demand subscribed to `producer`; returns the
/// probe's stage, what it sees, and its subscription's tag, to ask on.
pub async fn manual_probe_on<P: GenStage<Out = u64>>(
    producer: &Stage<P>,
    options: SubscribeOptions<u64>,
) -> (Stage<Probe>, mpsc::UnboundedReceiver<Seen>, SubscriptionTag) {
    let (probe, mut seen) = Probe::manual();
    let consumer = Stage::consumer(probe, ())
        .subscribe_to(producer, options)
        .start()
        .await
        .expect("the probe starts");
    match seen.recv().await {
        Some(Seen::Subscribed(tag)) => (consumer, seen, tag),
        other => panic!("expected the probe's subscription first, got {other:?}"),
    }
}

/// How long a test waits for the next event before calling the pipeline stalled.
pub const STALL: std::time::Duration = std::time::Duration::from_secs(10);

/// Reads batches until `count` events have arrived; returns the batch sizes and events.
pub async fn collect(
    seen: &mut mpsc::UnboundedReceiver<Seen>,
    count: usize,
) -> (Vec<usize>, Vec<u64>) {
    let mut sizes = Vec::new();
    let mut events = Vec::new();
    while events.len() < count {
        // A broken demand protocol shows as a stall: fail instead of hanging.
        let next = tokio::time::timeout(STALL, seen.recv()).await;
        match next
            .expect("no events for 10 s: the pipeline stalled")
            .expect("the probe stopped")
        {
            Seen::Batch(_, batch) => {
                sizes.push(batch.len());
                events.extend(batch);
            }
            Seen::Subscribed(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    (sizes, events)
}
