//! The behaviour a pipeline implements: what its processors do with each message, what
//! its batch processors do with each batch, and what happens to failures.

use std::future::Future;
use std::sync::Arc;

use crate::message::Message;

/// The error a callback may return: it fails the message (or the batch) it was given,
/// with the error's text as the reason.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a batch was handed to its batch processor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BatchTrigger {
    /// It reached the batcher's `batch_size`.
    Size,
    /// Its `batch_timeout` ran out, counted from its first message.
    Timeout,
    /// The pipeline is shutting down and flushed it, partial.
    Flush,
}

/// What a batch processor knows about the batch it handles (Broadway's
/// `Broadway.BatchInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchInfo {
    /// The batcher's name.
    pub batcher: Arc<str>,
    /// The batch key its messages share, if one was set.
    pub batch_key: Option<String>,
    /// The partition (batch processor index) when the batcher has a `partition_by`.
    pub partition: Option<usize>,
    /// How many messages the batch holds.
    pub size: usize,
    /// What closed the batch.
    pub trigger: BatchTrigger,
}

/// A Broadway pipeline: the callbacks its processors and batch processors run.
///
/// Only [`handle_message`](Self::handle_message) is required. Callbacks take their
/// messages by `&mut`, so that whatever happens inside — an `Err`, a panic — the pipeline
/// still holds every message and acknowledges it, as failed. A callback's failure fails
/// only its own messages, never the stage.
///
/// # Examples
///
/// ```
/// use arbor_broadway::{Broadway, BoxError, Message, Pipeline, TestProducer};
///
/// struct Bookings;
/// impl Pipeline for Bookings {
///     type Data = String;
///     type Context = ();
///     async fn handle_message(&self, _processor: &str, message: &mut Message<String>, _: &()) -> Result<(), BoxError> {
///         match message.data().split_once(',') {
///             Some(("cinema", _)) => message.put_batcher("cinema"),
///             Some(_) => {}
///             None => message.failed("malformed"),
///         }
///         Ok(())
///     }
/// }
/// let _builder = Broadway::builder("bookings", Bookings, ()).producer(TestProducer::new());
/// ```
pub trait Pipeline: Send + Sync + 'static {
    /// The messages' data.
    type Data: Send + 'static;
    /// A value every callback is given (Broadway's `context`).
    type Context: Send + Sync + 'static;

    /// Runs once per processor chunk, before `handle_message`, to load what the chunk
    /// needs in one go. An `Err` (or a panic) fails the whole chunk.
    fn prepare_messages(
        &self,
        messages: &mut [Message<Self::Data>],
        context: &Self::Context,
    ) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = (messages, context);
        async { Ok(()) }
    }

    /// Handles one message in processor `processor`: change its data, fail it, pick its
    /// batcher and batch key. An `Err` (or a panic) fails the message.
    fn handle_message(
        &self,
        processor: &str,
        message: &mut Message<Self::Data>,
        context: &Self::Context,
    ) -> impl Future<Output = Result<(), BoxError>> + Send;

    /// Handles one batch of batcher `batcher`. An `Err` (or a panic) fails every message of
    /// the batch; failing some messages fails only those.
    fn handle_batch(
        &self,
        batcher: &str,
        messages: &mut [Message<Self::Data>],
        info: &BatchInfo,
        context: &Self::Context,
    ) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = (batcher, messages, info, context);
        async { Ok(()) }
    }

    /// Sees the failed messages of a chunk or batch just before they are acknowledged:
    /// the place to [`configure_ack`](Message::configure_ack) them. What the messages are
    /// when it returns is what gets acknowledged; a panic or `Err` here is logged and the
    /// messages are acknowledged as they were.
    fn handle_failed(
        &self,
        messages: &mut [Message<Self::Data>],
        context: &Self::Context,
    ) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = (messages, context);
        async { Ok(()) }
    }
}
