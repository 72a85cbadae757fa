//! The arbor side of the GenStage benches, and how one run of a pipeline is timed: shared
//! by the `stage` bench and the `scaling` curves, so that both measure exactly the same
//! work. The raw side is in [`crate::pipeline`].
//!
//! | piece | arbor | raw tokio ([`crate::pipeline`]) |
//! |---|---|---|
//! | producer of `0..events` | [`Numbers`] | [`source`](crate::pipeline::source) |
//! | producer-consumer (each event × 2) | [`Doubler`] | [`map_stage`](crate::pipeline::map_stage) |
//! | consumer summing into a [`Tally`] | [`Summer`] | [`sink`](crate::pipeline::sink) |
//!
//! A run is [`Prepared`] (built and subscribed, the producer closed, not timed), then
//! [`Prepared::run`] opens the producer, times the move to the last event handled, stops
//! the pipeline and checks the checksum (not timed).

use std::future::Future;
use std::hint::black_box;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arbor_actor::{Exit, Init, Outcome};
use arbor_stage::{
    Consumer, DemandMode, GenStage, NoEvents, Producer, ProducerConsumer, Stage, StageBuilder,
    StageContext, SubscribeOptions, SubscriptionTag,
};
use tokio::sync::oneshot;

use crate::pipeline::{batch_sum, step, RawRun, Tally};

/// How long a run may take before the bench calls it stalled (debug builds included).
pub const STALL: Duration = Duration::from_secs(120);
/// How long stopping a pipeline may take.
pub const TEARDOWN: Duration = Duration::from_secs(10);

/// A boxed, sendable future: the teardown of a pipeline whatever its legs.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

// ---------------------------------------------------------------------------------------
// arbor stages: the same work as the raw legs
// ---------------------------------------------------------------------------------------

/// Emits `0..events` as consumers ask, then stops once everything is delivered.
#[derive(Debug, Clone, Copy, Default)]
pub struct Numbers;

/// [`Numbers`]' state: the next event and the end of the range.
#[derive(Debug)]
pub struct Range {
    next: u64,
    end: u64,
}

impl GenStage for Numbers {
    type Args = u64;
    type State = Range;
    type In = NoEvents;
    type Out = u64;

    async fn init(&self, events: u64, _ctx: &mut StageContext<Self>) -> Init<Range> {
        Init::Ready(Range {
            next: 0,
            end: events,
        })
    }
}

impl Producer for Numbers {
    async fn handle_demand(
        &self,
        demand: usize,
        range: &mut Range,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        if range.next == range.end {
            return Outcome::NoReply;
        }
        let end = range.end.min(range.next + demand as u64);
        ctx.emit_all(range.next..end);
        range.next = end;
        if end == range.end {
            // Once: a second call would replace the first stop token.
            ctx.stop_after_delivery(Exit::Normal);
        }
        Outcome::NoReply
    }
}

/// Applies [`step`] to each event, in place (the raw producer-consumer does the same).
#[derive(Debug, Clone, Copy, Default)]
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
        _from: SubscriptionTag,
        _: &mut (),
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        ctx.emit_batch(events.into_iter().map(step).collect());
        Outcome::NoReply
    }
}

/// Sums each batch and reports it to the run's tally.
#[derive(Debug)]
pub struct Summer {
    /// Where the consumer reports.
    pub tally: Arc<Tally>,
}

impl GenStage for Summer {
    type Args = ();
    type State = u64;
    type In = u64;
    type Out = NoEvents;

    async fn init(&self, _: (), _ctx: &mut StageContext<Self>) -> Init<u64> {
        Init::Ready(0)
    }
}

impl Consumer for Summer {
    async fn handle_events(
        &self,
        events: Vec<u64>,
        _from: SubscriptionTag,
        total: &mut u64,
        _ctx: &mut StageContext<Self>,
    ) -> Outcome {
        let sum = batch_sum(&events);
        *total = black_box(total.wrapping_add(sum));
        self.tally.add(events.len() as u64, sum);
        Outcome::NoReply
    }
}

// ---------------------------------------------------------------------------------------
// one run
// ---------------------------------------------------------------------------------------

/// A pipeline built and subscribed, its producer closed.
pub struct Prepared {
    /// Opens the producer.
    pub go: Box<dyn FnOnce() + Send>,
    /// Fires when the consumers have handled every expected event.
    pub done: oneshot::Receiver<()>,
    /// Where the consumers report.
    pub tally: Arc<Tally>,
    /// Stops (or waits for) every stage; panics on an unexpected exit.
    pub teardown: BoxFuture<()>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("tally", &self.tally)
            .finish_non_exhaustive()
    }
}

/// Waits for a stage to stop on its own (its producer ended) and checks it stopped
/// normally: every arbor stage ends this way once a finite producer is done.
pub fn normal_exit<S: GenStage>(stage: &Stage<S>, what: &'static str) -> BoxFuture<()> {
    let stage = stage.clone();
    Box::pin(async move {
        let exit = stage.wait().await;
        assert_eq!(exit, Exit::Normal, "the {what} stopped abnormally");
    })
}

impl Prepared {
    /// An arbor pipeline whose producer is `producer` and whose other stages end with
    /// `stages` (the producer's own exit is awaited first).
    pub fn arbor(
        producer: Stage<Numbers>,
        stages: Vec<BoxFuture<()>>,
        (tally, done): (Arc<Tally>, oneshot::Receiver<()>),
    ) -> Prepared {
        let mut all = vec![normal_exit(&producer, "producer")];
        all.extend(stages);
        Prepared {
            go: Box::new(move || {
                producer
                    .set_demand_mode(DemandMode::Forward)
                    .expect("the producer is running");
            }),
            done,
            tally,
            teardown: Box::pin(async move {
                for stage in all {
                    stage.await;
                }
            }),
        }
    }

    /// A raw tokio pipeline (one of [`crate::pipeline`]'s `spawn_*`).
    pub fn raw(run: RawRun, (tally, done): (Arc<Tally>, oneshot::Receiver<()>)) -> Prepared {
        let RawRun { go, tasks } = run;
        Prepared {
            go: Box::new(move || {
                let _ = go.send(());
            }),
            done,
            tally,
            teardown: Box::pin(async move {
                for task in tasks {
                    task.await.expect("a raw pipeline task panicked");
                }
            }),
        }
    }

    /// Opens the producer and waits until the consumers have handled every expected event
    /// (timed), then stops the pipeline and checks that the events' sum is `sum` (not
    /// timed). Returns the time of the move. `label` names the run in panics.
    ///
    /// # Panics
    ///
    /// When the run stalls for [`STALL`], the pipeline does not stop within [`TEARDOWN`],
    /// a stage stops abnormally, or events were lost or duplicated.
    pub async fn run(self, label: &str, sum: u64) -> Duration {
        crate::allocs::open_window();
        let started = Instant::now();
        (self.go)();
        let finished = tokio::time::timeout(STALL, self.done).await;
        let elapsed = started.elapsed();
        crate::allocs::close_window();
        let tally = self.tally;
        match finished {
            Ok(Ok(())) => {}
            Ok(Err(_)) => panic!("{label}: the tally was dropped"),
            Err(_) => panic!(
                "{label}: stalled, {} events still expected after {STALL:?}",
                tally.remaining(),
            ),
        }
        tokio::time::timeout(TEARDOWN, self.teardown)
            .await
            .unwrap_or_else(|_| panic!("{label}: the pipeline did not stop within {TEARDOWN:?}"));
        assert_eq!(tally.sum(), sum, "{label}: events lost or duplicated");
        elapsed
    }
}

/// Starts `producer` (built with `demand_mode(DemandMode::Accumulate)`) and `consumers`
/// [`Summer`]s subscribed to it, consumer `i` with `options(i)`, all reporting to the
/// tally: a producer → consumers pipeline with the producer's dispatcher.
///
/// # Panics
///
/// When a stage does not start.
pub async fn arbor_fan_out(
    producer: StageBuilder<Numbers>,
    consumers: usize,
    options: impl Fn(usize) -> SubscribeOptions<u64>,
    tally: (Arc<Tally>, oneshot::Receiver<()>),
) -> Prepared {
    let producer = producer.start().await.expect("start the producer");
    let mut stages = Vec::with_capacity(consumers);
    for consumer in 0..consumers {
        let summer = Summer {
            tally: Arc::clone(&tally.0),
        };
        let consumer = Stage::consumer(summer, ())
            .subscribe_to(&producer, options(consumer))
            .start()
            .await
            .expect("start a consumer");
        stages.push(normal_exit(&consumer, "consumer"));
    }
    Prepared::arbor(producer, stages, tally)
}

// ---------------------------------------------------------------------------------------
// an idle stage, for the memory curves
// ---------------------------------------------------------------------------------------

/// A consumer stage that does nothing with its events: started with no subscription, it
/// is what an idle stage costs (the `arbor_stage` leg of [`crate::spawn_idle`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct IdleConsumer;

impl GenStage for IdleConsumer {
    type Args = ();
    type State = ();
    type In = u64;
    type Out = NoEvents;

    async fn init(&self, _: (), _ctx: &mut StageContext<Self>) -> Init<()> {
        Init::Ready(())
    }
}

impl Consumer for IdleConsumer {
    async fn handle_events(
        &self,
        _events: Vec<u64>,
        _from: SubscriptionTag,
        _: &mut (),
        _ctx: &mut StageContext<Self>,
    ) -> Outcome {
        Outcome::NoReply
    }
}

/// Starts an [`IdleConsumer`] with no subscription.
///
/// # Errors
///
/// When the stage does not start (no runtime).
pub async fn start_idle_consumer() -> anyhow::Result<Stage<IdleConsumer>> {
    Ok(Stage::consumer(IdleConsumer, ()).start().await?)
}
