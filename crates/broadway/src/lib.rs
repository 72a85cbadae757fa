//! Data-ingestion pipelines on arbor stages (Elixir's Broadway): producers take messages
//! from a source, processors handle them one by one, batchers group them, batch
//! processors handle the groups, and every message is acknowledged to its source exactly
//! once, as successful or failed.
//!
//! ```text
//!                    ┌─▶ [processor 0] ─┐            ┌─▶ [batch processor 0]
//!   [producer] ──────┤                  ├─▶ [batcher]┤
//!                    └─▶ [processor 1] ─┘            └─▶ [batch processor 1]
//! ```
//!
//! Every box is an arbor stage under the pipeline's supervisor (`rest_for_one`: a
//! processor's crash never restarts the producers); demand flows right to left, so a
//! slow batch processor slows the producers down instead of filling mailboxes.
//!
//! ```
//! use std::time::Duration;
//! use arbor_broadway::{Acked, BatchInfo, BatcherOptions, Broadway, BoxError, Message, Pipeline, ProcessorOptions, TestProducer};
//!
//! struct Bookings;
//! impl Pipeline for Bookings {
//!     type Data = String;
//!     type Context = ();
//!     async fn handle_message(&self, _: &str, message: &mut Message<String>, _: &()) -> Result<(), BoxError> {
//!         let event = message.data().split(',').next().unwrap_or_default().to_string();
//!         match event.as_str() {
//!             "cinema" | "musical" => message.put_batcher(event),
//!             "" => message.failed("empty booking"),
//!             _ => {}
//!         }
//!         Ok(())
//!     }
//!     async fn handle_batch(&self, _: &str, messages: &mut [Message<String>], info: &BatchInfo, _: &()) -> Result<(), BoxError> {
//!         assert!(messages.len() <= 2 && info.size == messages.len());
//!         Ok(()) // insert all the tickets at once
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let pipeline = Broadway::builder("bookings", Bookings, ())
//!     .producer(TestProducer::new())
//!     .processors(ProcessorOptions::new().concurrency(2))
//!     .batcher("cinema", BatcherOptions::new().batch_size(2))
//!     .batcher("musical", BatcherOptions::new().batch_size(2).batch_timeout(Duration::from_millis(50)))
//!     .batcher("default", BatcherOptions::new())
//!     .start()
//!     .await?;
//! let acked = pipeline.test_batch(vec!["cinema,1".into(), "musical,2".into(), ",3".into()]).await?;
//! assert!(acked[0].is_successful() && acked[1].is_successful());
//! assert_eq!(acked[2], Acked::Failed(",3".into(), "empty booking".into()));
//! pipeline.stop().await;
//! # Ok(())
//! # }
//! ```
//!
//! # The pieces
//!
//! - [`Pipeline`]: the callbacks (`handle_message`, `prepare_messages`, `handle_batch`,
//!   `handle_failed`) and a context shared by all.
//! - [`Message`]: data, metadata, status, batcher and batch key, acknowledger.
//! - [`Acknowledger`]: told once per message; [`NoopAcknowledger`],
//!   [`CallerAcknowledger`].
//! - [`MessageProducer`]: a source; [`TestProducer`] for tests; the RabbitMQ producer
//!   with the `rabbitmq` feature.
//! - [`BroadwayBuilder`] with [`ProducerOptions`], [`ProcessorOptions`],
//!   [`BatcherOptions`]; [`Broadway`], the running pipeline, and its test helpers.
//!
//! # Semantics, worked
//!
//! With processors' `max_demand: 10, min_demand: 5`, a processor handles messages in
//! chunks of at most 5: `prepare_messages` sees each chunk, the chunk's failed messages
//! go through `handle_failed` and are acknowledged (one call per acknowledger) at its
//! end, and the others go on to their batcher. A batcher with `batch_size: 100,
//! batch_timeout: 1 s` closes a batch at its 100th message, or 1 s after its first one,
//! whichever comes first; batches are kept per batch key (and partition), and each says
//! what closed it ([`BatchTrigger`]).
//!
//! # Guarantees
//!
//! - Every message is acknowledged exactly once, after its batch (or its processor chunk
//!   when there are no batchers); a callback's `Err` or panic fails only its messages.
//! - A stage crash loses the messages it held, unacknowledged (the source redelivers
//!   them); they are never acknowledged twice.
//! - Stopping the pipeline drains it: producers stop taking messages, everything in
//!   flight is processed, partial batches are flushed, all is acknowledged.
//!
//! `docs/guide-broadway.md` is the guide.
#![doc(test(attr(deny(warnings))))]
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod acknowledger;
mod batcher;
mod builder;
mod error;
mod guard;
mod message;
mod options;
mod pipeline;
mod processor;
mod producer;
mod rate_limit;
mod running;
mod source;
mod terminator;
mod testing;

#[cfg(feature = "rabbitmq")]
pub mod rabbitmq;

/// The name of the default batcher and of the processor group.
pub const DEFAULT: &str = "default";

pub use acknowledger::{
    AckAction, AckCall, AckConfig, AckData, Acked, Acknowledger, CallerAcknowledger,
    ConfigureAckError, NoopAcknowledger,
};
pub use builder::BroadwayBuilder;
pub use error::{BuildError, StartError};
pub use message::{BatcherName, Message, MetaValue, Metadata, Status};
pub use options::{BatcherOptions, PartitionBy, ProcessorOptions, ProducerOptions, RateLimiting};
pub use pipeline::{BatchInfo, BatchTrigger, BoxError, Pipeline};
pub use producer::{MessageProducer, PushError, Pusher};
pub use running::{Broadway, Producers, TestError};
pub use testing::TestProducer;
