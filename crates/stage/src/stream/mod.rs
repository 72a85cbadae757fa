//! Stream adapters: producers fed by an iterator or a `Stream`, and a `Stream` fed by
//! producers.
//!
//! - [`from_iter`] and [`from_stream`] start a producer that emits, as consumers ask,
//!   what an iterator or a [`futures_core::Stream`] yields, and stops normally once its
//!   last item is delivered (gen_stage's `GenStage.from_enumerable`).
//! - [`stream`] builds an [`EventStream`]: a `Stream` of the events of one or more
//!   producers, which asks them for events only as it is read (gen_stage's
//!   `GenStage.stream`).
//!
//! ```
//! use arbor_stage::{Cancel, SubscribeOptions};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let words = arbor_stage::from_iter(["demand", "drives", "delivery"]).start().await?;
//! let mut events = arbor_stage::stream()
//!     .subscribe_to(&words, SubscribeOptions::new().cancel(Cancel::Transient))
//!     .start()
//!     .await?;
//! let mut initials = String::new();
//! while let Some(word) = events.next().await {
//!     initials.extend(word?.chars().next());
//! }
//! assert_eq!(initials, "ddd");
//! # Ok(())
//! # }
//! ```

mod consumer;
mod producer;

pub use consumer::{stream, EventStream, StreamBuilder, StreamError};
pub use producer::{
    from_iter, from_stream, IterProducer, IterState, OnCancel, StreamProducer, StreamState,
};
