//! A producer that consumes a RabbitMQ queue (BroadwayRabbitMQ's producer), on `lapin`:
//! at most `prefetch_count` unacknowledged deliveries, each acknowledged, rejected or
//! requeued by policy once the pipeline is done with it, and a reconnect (at once, then
//! with backoff) when the connection drops.
//!
//! ```no_run
//! use arbor_broadway::rabbitmq::{RabbitMqOptions, RabbitMqProducer};
//! use arbor_broadway::{AckAction, Broadway, BoxError, Message, Pipeline};
//!
//! struct Print;
//! impl Pipeline for Print {
//!     type Data = Vec<u8>;
//!     type Context = ();
//!     async fn handle_message(&self, _: &str, message: &mut Message<Vec<u8>>, _: &()) -> Result<(), BoxError> {
//!         println!("{}", String::from_utf8_lossy(message.data()));
//!         Ok(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let options = RabbitMqOptions::new("amqp://guest:guest@127.0.0.1:5672/%2f", "bookings_queue")
//!     .prefetch_count(100)
//!     .on_failure(AckAction::RejectAndRequeueOnce);
//! let pipeline = Broadway::builder("bookings", Print, ())
//!     .producer(RabbitMqProducer::new(options))
//!     .start()
//!     .await?;
//! pipeline.stop().await; // drains: every delivery taken is acknowledged
//! # Ok(())
//! # }
//! ```
//!
//! # Guarantees
//!
//! - The broker never has more than `prefetch_count` deliveries unacknowledged per
//!   producer (QoS), so the pipeline's memory stays bounded whatever the queue holds.
//! - A message whose channel has died is not acknowledged (the broker already requeued
//!   it); the attempt is counted and logged, and nothing crashes.
//! - `RejectAndRequeueOnce` requeues a first delivery and rejects a redelivered one.

mod acknowledger;
mod metadata;
mod options;
mod producer;

pub use acknowledger::AckStats;
pub use options::{Backoff, RabbitMqOptions};
pub use producer::{Consuming, RabbitMqProducer};
