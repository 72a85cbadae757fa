//! Demand-driven pipelines: producers emit events only when consumers ask for them, so a
//! slow stage slows the stages before it instead of growing their mailboxes (Elixir's
//! GenStage, on arbor servers).
//!
//! # Stage kinds
//!
//! A stage is a supervised server of one of three kinds: a [`Producer`] emits events, a
//! [`Consumer`] consumes them, a [`ProducerConsumer`] does both. Each implements
//! [`GenStage`] (its types and `init`) plus its kind's trait; events are typed and travel
//! in batches (`Vec`).
//!
//! ```text
//!   [A] ──events──▶ [B] ──events──▶ [C]        A: producer
//!   [A] ◀──demand── [B] ◀──demand── [C]        B: producer-consumer, C: consumer
//! ```
//!
//! Demand flows upstream, events downstream: C asks B for up to `max_demand` events, B
//! asks A, and A emits only what was asked for. A stage never receives more events than
//! it asked for.
//!
//! ```
//! use arbor_actor::{Exit, Init, Outcome};
//! use arbor_stage::{Consumer, GenStage, NoEvents, Producer, ProducerConsumer, Stage, StageContext, SubscribeOptions, SubscriptionTag};
//!
//! /// A: counts from 0 up to `limit`, then ends once all is delivered.
//! struct Numbers { limit: u64 }
//! impl GenStage for Numbers {
//!     type Args = ();
//!     type State = u64;
//!     type In = NoEvents;
//!     type Out = u64;
//!     async fn init(&self, _: (), _ctx: &mut StageContext<Self>) -> Init<u64> { Init::Ready(0) }
//! }
//! impl Producer for Numbers {
//!     async fn handle_demand(&self, demand: usize, next: &mut u64, ctx: &mut StageContext<Self>) -> Outcome {
//!         let end = (*next + demand as u64).min(self.limit);
//!         ctx.emit_all(*next..end);
//!         *next = end;
//!         if end == self.limit {
//!             ctx.stop_after_delivery(Exit::Normal);
//!         }
//!         Outcome::NoReply
//!     }
//! }
//!
//! /// B: multiplies each event.
//! struct Times(u64);
//! impl GenStage for Times {
//!     type Args = ();
//!     type State = ();
//!     type In = u64;
//!     type Out = u64;
//!     async fn init(&self, _: (), _ctx: &mut StageContext<Self>) -> Init<()> { Init::Ready(()) }
//! }
//! impl ProducerConsumer for Times {
//!     async fn handle_events(&self, events: Vec<u64>, _: SubscriptionTag, _: &mut (), ctx: &mut StageContext<Self>) -> Outcome {
//!         ctx.emit_all(events.into_iter().map(|n| n * self.0));
//!         Outcome::NoReply
//!     }
//! }
//!
//! /// C: adds everything up and reports the total when its producer ends.
//! struct Sum(tokio::sync::mpsc::UnboundedSender<u64>);
//! impl GenStage for Sum {
//!     type Args = ();
//!     type State = u64;
//!     type In = u64;
//!     type Out = NoEvents;
//!     async fn init(&self, _: (), _ctx: &mut StageContext<Self>) -> Init<u64> { Init::Ready(0) }
//!     async fn terminate(&self, _: &Exit, total: &mut u64, _ctx: &mut StageContext<Self>) {
//!         let _ = self.0.send(*total);
//!     }
//! }
//! impl Consumer for Sum {
//!     async fn handle_events(&self, events: Vec<u64>, _: SubscriptionTag, total: &mut u64, _: &mut StageContext<Self>) -> Outcome {
//!         *total += events.iter().sum::<u64>();
//!         Outcome::NoReply
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let a = Stage::producer(Numbers { limit: 1000 }, ()).start().await?;
//! let b = Stage::producer_consumer(Times(2), ())
//!     .subscribe_to(&a, SubscribeOptions::new().max_demand(100))
//!     .start()
//!     .await?;
//! let (total, mut report) = tokio::sync::mpsc::unbounded_channel();
//! let c = Stage::consumer(Sum(total), ())
//!     .subscribe_to(&b, SubscribeOptions::new().max_demand(10))
//!     .start()
//!     .await?;
//! // A ends normally after its last event; B and C follow (`Cancel::Permanent`).
//! assert_eq!(c.wait().await, Exit::Normal);
//! assert_eq!(report.recv().await, Some((0..1000).map(|n| n * 2).sum()));
//! # Ok(())
//! # }
//! ```
//!
//! # What else is here
//!
//! - Subscriptions ([`SubscribeOptions`], [`SubscribeTo`], [`Cancel`]): at start with
//!   [`StageBuilder::subscribe_to`] or at run time with [`Stage::subscribe`]; by handle or
//!   by registry name ([`SubscribeTo::via`]); manual demand with [`DemandAsk::Manual`].
//! - Producers buffer events nobody asked for ([`BufferSize`], [`BufferKeep`]; discards
//!   are counted and logged) and can accumulate demand ([`DemandMode`]).
//! - Dispatchers decide who gets which event: [`DemandDispatcher`] (default),
//!   [`BroadcastDispatcher`], [`PartitionDispatcher`], or your own [`Dispatcher`].
//! - [`ConsumerSupervisor`]: one child (actor or task) per event, at most `max_demand` at
//!   once.
//! - Streams: [`from_iter`] and [`from_stream`] make producers; [`stream()`] reads producers
//!   as a back-pressured [`EventStream`].
//! - Every stage builds a [`ChildSpec`](arbor_supervisor::ChildSpec)
//!   ([`StageBuilder::child_spec`]) and lives in supervision trees.
//!
//! The pure core — dispatchers, [`Buffer`], [`DemandCounter`] — is usable and testable
//! without a runtime. `docs/guide-stage.md` is the guide; `crates/stage/src/README.md`
//! says where demand is counted.
#![doc(test(attr(deny(warnings))))]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![forbid(unsafe_code)]

mod behaviour;
mod buffer;
mod consumer_supervisor;
mod context;
mod demand;
mod dispatcher;
mod error;
mod link;
mod protocol;
mod runtime;
mod stage;
mod status;
mod stream;
mod subscription;
mod tag;
mod telemetry;

pub use behaviour::{
    Cancelled, Consumer, DemandAsk, GenStage, NoEvents, Producer, ProducerConsumer, Side,
    StageCall, StageCast, StageInfo, SubscriptionInfo,
};
pub use consumer_supervisor::{ConsumerSupervisor, ConsumerSupervisorState};
pub use context::StageContext;
pub use protocol::lost_events;
pub use stage::{Stage, StageBuilder};
pub use status::{Peer, StageKind, StageStatus, Subscriptions};
pub use stream::{
    from_iter, from_stream, stream, EventStream, IterProducer, IterState, OnCancel, StreamBuilder,
    StreamError, StreamProducer, StreamState,
};

pub use buffer::{BufferKeep, BufferSize};
pub use demand::DemandMode;
pub use dispatcher::{
    BroadcastDispatcher, DemandDispatcher, DemandDispatcherOptions, Dispatcher,
    PartitionDispatcher, PartitionKey, Partitions, Selector, Subscriber, ToPartition,
};

pub mod plumbing {
    //! The pure core under the stages: the producer buffer, the demand counter and the
    //! dispatchers' outbox. No runtime, no actor: each is a plain value a test drives by
    //! hand. A stage uses them for you; reach for them to write a [`Dispatcher`] of your
    //! own or to test one.
    //!
    //! [`Dispatcher`]: crate::Dispatcher
    //!
    //! ```
    //! use arbor_stage::plumbing::DemandCounter;
    //!
    //! // gen_stage's rule: ask for max_demand, ask again once min_demand or fewer are owed.
    //! let mut demand = DemandCounter::new(10, 5)?;
    //! assert_eq!(demand.initial_ask(), 10);
    //! let split = demand.split((0..10).collect::<Vec<u32>>());
    //! assert_eq!(split.batches.len(), 2);
    //! # Ok::<(), arbor_stage::InvalidOptions>(())
    //! ```
    pub use crate::buffer::{Buffer, Pushed, Taken};
    pub use crate::demand::{Batch, Batches, DemandCounter, DemandGate, Split};
    pub use crate::dispatcher::{InfoToken, Outbox};
}
pub use error::{
    ConsumerChildError, DispatchError, InvalidOptions, StageStartError, SubscribeError,
};
pub use subscription::{Cancel, SubscribeOptions, SubscribeTo};
pub use tag::SubscriptionTag;

// The plumbing, at hand for the crate's own modules under its short paths.
use plumbing::{Batch, Buffer, DemandCounter, DemandGate, InfoToken, Outbox};
