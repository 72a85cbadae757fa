//! The unit of work of a pipeline: data, metadata, a status and the acknowledger that
//! tells the source how its processing ended (Broadway's `Broadway.Message`).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::acknowledger::{AckConfig, AckData, Acknowledger, ConfigureAckError, NoopAcknowledger};

/// The name of a batcher, as given to the builder and to [`Message::put_batcher`].
pub type BatcherName = Cow<'static, str>;

/// Metadata a producer attaches to a message (headers, routing key, delivery tag…).
pub type Metadata = BTreeMap<Cow<'static, str>, MetaValue>;

/// One metadata value.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A flag.
    Bool(bool),
    /// Raw bytes.
    Bytes(Vec<u8>),
    /// A nested table (AMQP headers).
    Table(Metadata),
}

/// Whether a message is still on its way or has failed, and why.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Status {
    /// Nothing went wrong (yet).
    #[default]
    Ok,
    /// A callback failed the message (or panicked, or returned an error); it will be
    /// acknowledged as failed, never forwarded.
    Failed(String),
}

/// A message flowing through a pipeline.
///
/// A producer makes it (with its acknowledger), processors change its data and may fail
/// it, batchers group it, and at the end of its way it is acknowledged exactly once, as
/// successful or failed.
///
/// # Examples
///
/// ```
/// use arbor_broadway::{Message, Status};
///
/// let mut message = Message::new("musical,1".to_string());
/// message.update_data(|line| line.to_uppercase());
/// message.put_batcher("musical");
/// assert_eq!(message.data(), "MUSICAL,1");
/// assert_eq!(message.batcher(), "musical");
///
/// message.failed("bookings-closed");
/// assert_eq!(message.status(), &Status::Failed("bookings-closed".into()));
/// ```
pub struct Message<T> {
    data: T,
    metadata: Metadata,
    status: Status,
    batcher: Option<BatcherName>,
    batch_key: Option<String>,
    acknowledger: Arc<dyn Acknowledger<T>>,
    ack_data: AckData,
    ack_config: Option<AckConfig>,
    /// The batcher's index in the pipeline, set by the processor that routes the message.
    pub(crate) batcher_index: usize,
}

impl<T: Send + 'static> Message<T> {
    /// A message with no acknowledger ([`NoopAcknowledger`]): for sources that need no
    /// acknowledgement.
    pub fn new(data: T) -> Self {
        Message::with_acknowledger(data, Arc::new(NoopAcknowledger), AckData::default())
    }
}

impl<T: 'static> Message<T> {
    /// A message that `acknowledger` will be told about, with its per-message `ack_data`
    /// (a delivery tag, for instance).
    pub fn with_acknowledger(
        data: T,
        acknowledger: Arc<dyn Acknowledger<T>>,
        ack_data: AckData,
    ) -> Self {
        Message {
            data,
            metadata: Metadata::new(),
            status: Status::Ok,
            batcher: None,
            batch_key: None,
            acknowledger,
            ack_data,
            ack_config: None,
            batcher_index: 0,
        }
    }

    /// The data.
    pub fn data(&self) -> &T {
        &self.data
    }

    /// The data, to change in place.
    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
    }

    /// Replaces the data with `f(data)`.
    pub fn update_data(&mut self, f: impl FnOnce(T) -> T)
    where
        T: Default,
    {
        let data = std::mem::take(&mut self.data);
        self.data = f(data);
    }

    /// Replaces the data.
    pub fn put_data(&mut self, data: T) {
        self.data = data;
    }

    /// Takes the message apart: its data.
    pub fn into_data(self) -> T {
        self.data
    }

    /// The metadata the producer attached.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The metadata, to change.
    pub fn metadata_mut(&mut self) -> &mut Metadata {
        &mut self.metadata
    }

    /// Sets one metadata entry (chainable, for producers and transformers).
    pub fn with_metadata(mut self, key: impl Into<Cow<'static, str>>, value: MetaValue) -> Self {
        self.metadata.insert(key.into(), value);
        self
    }

    /// The status: still fine, or failed with a reason.
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// Whether the message has failed.
    pub fn is_failed(&self) -> bool {
        matches!(self.status, Status::Failed(_))
    }

    /// Fails the message: it is acknowledged as failed and not forwarded to a batcher.
    pub fn failed(&mut self, reason: impl Into<String>) {
        self.status = Status::Failed(reason.into());
    }

    /// Sends the message to the batcher `name` (default: `"default"`). A name the
    /// pipeline has no batcher for fails the message when the processor forwards it.
    pub fn put_batcher(&mut self, name: impl Into<BatcherName>) {
        self.batcher = Some(name.into());
    }

    /// The batcher the message goes to.
    pub fn batcher(&self) -> &str {
        self.batcher.as_deref().unwrap_or(crate::DEFAULT)
    }

    /// Groups the message with others of the same key inside its batcher (dynamic
    /// batching): a batch only ever holds messages of one key.
    pub fn put_batch_key(&mut self, key: impl Into<String>) {
        self.batch_key = Some(key.into());
    }

    /// The batch key, if one was set.
    pub fn batch_key(&self) -> Option<&str> {
        self.batch_key.as_deref()
    }

    /// Changes how this message is acknowledged (for example RabbitMQ's `on_failure`),
    /// if its acknowledger supports it.
    ///
    /// # Errors
    ///
    /// [`ConfigureAckError`] when the acknowledger refuses the configuration.
    pub fn configure_ack(&mut self, config: AckConfig) -> Result<(), ConfigureAckError> {
        self.acknowledger.configure(&config)?;
        self.ack_config = Some(config);
        Ok(())
    }

    /// The configuration set with [`configure_ack`](Self::configure_ack), if any.
    pub fn ack_config(&self) -> Option<&AckConfig> {
        self.ack_config.as_ref()
    }

    /// What the acknowledger attached to this message.
    pub fn ack_data(&self) -> AckData {
        self.ack_data
    }

    /// The acknowledger (messages are grouped by it when acknowledged).
    pub fn acknowledger(&self) -> &Arc<dyn Acknowledger<T>> {
        &self.acknowledger
    }
}

impl<T: fmt::Debug + 'static> fmt::Debug for Message<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("data", &self.data)
            .field("metadata", &self.metadata)
            .field("status", &self.status)
            .field("batcher", &self.batcher())
            .field("batch_key", &self.batch_key)
            .field("ack_data", &self.ack_data)
            .finish_non_exhaustive()
    }
}
