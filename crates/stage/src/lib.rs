//! Demand-driven pipelines: producers emit events only when consumers ask for them, so a
//! slow stage slows the stages before it instead of growing their mailboxes.
//!
//! This crate is being built (see the project's issues): it will hold GenStage's
//! producers, producer-consumers and consumers, the demand, broadcast and partition
//! dispatchers, and `ConsumerSupervisor`, every stage being a supervised
//! [`arbor_actor::Server`]-like actor.
//!
//! Its pure core is here already, usable and testable without a runtime:
//!
//! - [`Dispatcher`] and the built-in [`DemandDispatcher`], [`BroadcastDispatcher`] and
//!   [`PartitionDispatcher`]: which consumer gets which event, and what demand goes
//!   upstream;
//! - [`Buffer`]: a producer's events waiting for demand, with [`BufferSize`] and
//!   [`BufferKeep`];
//! - [`DemandCounter`]: a consumer's asks and batches; [`DemandGate`]: a producer's
//!   [`DemandMode`].
//!
//! ```
//! use arbor_stage::{Buffer, DemandCounter, DemandDispatcher, Dispatcher, Outbox, Subscriber, SubscriptionTag};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A consumer with max_demand 10 and min_demand 5 subscribes and asks.
//! let tag = SubscriptionTag::new(1);
//! let mut consumer = DemandCounter::new(10, 5)?;
//! let mut dispatcher = DemandDispatcher::new();
//! let mut buffer = Buffer::default();
//! let mut out = Outbox::new();
//! dispatcher.subscribe(Subscriber::new(tag, consumer.max_demand()))?;
//! dispatcher.ask(tag, consumer.initial_ask(), &mut out)?;
//!
//! // The producer emits 12 events: 10 go out, 2 wait in the buffer.
//! let leftover = dispatcher.dispatch((1..=12).collect(), &mut out);
//! let _ = buffer.push(leftover);
//! let (_, events) = out.take_batches().remove(0);
//!
//! // The consumer handles them 5 at a time, asking for 5 more after each batch.
//! for batch in consumer.split(events).batches {
//!     assert_eq!((batch.events.len(), batch.ask), (5, 5));
//!     dispatcher.ask(tag, batch.ask, &mut out)?;
//! }
//! let waiting = buffer.take(10).events;
//! assert!(dispatcher.dispatch(waiting, &mut out).is_empty());
//! assert_eq!(out.take_batches(), vec![(tag, vec![11, 12])]);
//! # Ok(())
//! # }
//! ```
#![doc(test(attr(deny(warnings))))]
#![deny(clippy::unwrap_used, clippy::expect_used)]

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
mod stream;
mod subscription;

pub use behaviour::{
    Cancelled, Consumer, DemandAsk, GenStage, NoEvents, Producer, ProducerConsumer, Side,
    StageCall, StageCast, StageInfo, SubscriptionInfo,
};
pub use consumer_supervisor::{
    ConsumerSupervisor, ConsumerSupervisorState, CountChildren, TaskDone, WhichChildren,
};
pub use context::StageContext;
pub use stage::{Stage, StageBuilder};
pub use stream::{
    from_iter, from_stream, stream, EventStream, IterProducer, StreamBuilder, StreamError,
    StreamProducer, StreamState,
};

pub use buffer::{Buffer, BufferKeep, BufferSize, Pushed, Taken};
pub use demand::{Batch, DemandCounter, DemandGate, DemandMode, Split};
pub use dispatcher::{
    BroadcastDispatcher, DemandDispatcher, DemandOptions, Dispatcher, InfoToken, Outbox,
    PartitionDispatcher, PartitionKey, Partitions, Selector, Subscriber,
};
pub use error::{DispatchError, InvalidOptions, StageStartError, SubscribeError};
pub use subscription::{Cancel, SubscribeOptions, SubscribeTo, SubscriptionTag};
