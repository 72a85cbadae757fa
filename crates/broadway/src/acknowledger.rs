//! How a pipeline tells a message's source that its processing ended: an
//! [`Acknowledger`] is called once per message, with the successful and the failed ones
//! of a stage's step grouped per acknowledger (Broadway's `Broadway.Acknowledger`).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use thiserror::Error;
use tokio::sync::mpsc;

use crate::message::{Message, Status};

/// What an acknowledger attaches to each of its messages: an id (a delivery tag) and
/// whether the source delivered it before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct AckData {
    /// The message's id at its source.
    pub id: u64,
    /// Whether the source had delivered the message before (a redelivery).
    pub redelivered: bool,
}

/// What to tell the source about one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AckAction {
    /// Acknowledge: the source forgets the message.
    Ack,
    /// Reject without requeueing: the source drops it (or dead-letters it).
    Reject,
    /// Reject and put back in the queue, to be delivered again.
    RejectAndRequeue,
    /// Requeue a first delivery; reject one that was already redelivered.
    RejectAndRequeueOnce,
}

/// Per-message acknowledgement settings ([`Message::configure_ack`]); `None` keeps the
/// acknowledger's own setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct AckConfig {
    /// What to do when the message succeeds.
    pub on_success: Option<AckAction>,
    /// What to do when the message fails.
    pub on_failure: Option<AckAction>,
}

impl AckConfig {
    /// Sets the action on success.
    pub fn on_success(mut self, action: AckAction) -> Self {
        self.on_success = Some(action);
        self
    }

    /// Sets the action on failure.
    pub fn on_failure(mut self, action: AckAction) -> Self {
        self.on_failure = Some(action);
        self
    }
}

/// Returned by [`Message::configure_ack`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigureAckError {
    /// The message's acknowledger has nothing to configure.
    #[error("the acknowledger {0} cannot be configured")]
    Unsupported(&'static str),
}

/// Tells a message's source how its processing ended.
///
/// # Contract
///
/// - The pipeline calls [`ack`](Self::ack) once per message it was given, never twice;
///   a message lost in a stage crash is never acknowledged (its source redelivers it).
/// - Each call carries both lists of one stage's step (a processor's chunk, a batch):
///   one call per acknowledger, with `successful` and `failed` in their original order.
/// - `ack` runs inside a stage: it must not block; hand slow work to a task.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use arbor_broadway::{Acknowledger, Message};
///
/// #[derive(Default)]
/// struct Count { ok: AtomicUsize, failed: AtomicUsize }
/// impl Acknowledger<u32> for Count {
///     fn ack(&self, successful: Vec<Message<u32>>, failed: Vec<Message<u32>>) {
///         self.ok.fetch_add(successful.len(), Ordering::Relaxed);
///         self.failed.fetch_add(failed.len(), Ordering::Relaxed);
///     }
/// }
/// let count = Count::default();
/// count.ack(vec![Message::new(1)], vec![]);
/// assert_eq!(count.ok.load(Ordering::Relaxed), 1);
/// ```
pub trait Acknowledger<T>: Send + Sync + 'static {
    /// Acknowledges `successful` and `failed` messages.
    fn ack(&self, successful: Vec<Message<T>>, failed: Vec<Message<T>>);

    /// Checks a per-message configuration; the default refuses all.
    ///
    /// # Errors
    ///
    /// [`ConfigureAckError::Unsupported`] unless the acknowledger overrides it.
    fn configure(&self, config: &AckConfig) -> Result<(), ConfigureAckError> {
        let _ = config;
        Err(ConfigureAckError::Unsupported(std::any::type_name::<Self>()))
    }
}

/// An acknowledger that does nothing: for sources that need no acknowledgement.
///
/// # Examples
///
/// ```
/// use arbor_broadway::{Acknowledger, Message, NoopAcknowledger};
///
/// NoopAcknowledger.ack(vec![Message::new(1)], vec![]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopAcknowledger;

impl<T> Acknowledger<T> for NoopAcknowledger {
    fn ack(&self, _successful: Vec<Message<T>>, _failed: Vec<Message<T>>) {}
}

/// How one message ended, as a [`CallerAcknowledger`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acked<T> {
    /// Acknowledged as successful, with its final data.
    Successful(T),
    /// Acknowledged as failed, with its data and the reason.
    Failed(T, String),
}

impl<T> Acked<T> {
    /// Whether the message succeeded.
    pub fn is_successful(&self) -> bool {
        matches!(self, Acked::Successful(_))
    }

    /// The message's data, however it ended.
    pub fn data(&self) -> &T {
        match self {
            Acked::Successful(data) | Acked::Failed(data, _) => data,
        }
    }
}

/// One `ack` call, as a [`CallerAcknowledger`] reports it: the ids of the messages
/// (their [`AckData::id`]) and how each ended, successful ones first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckCall<T> {
    /// `(id, outcome)` for every message of the call.
    pub messages: Vec<(u64, Acked<T>)>,
}

/// An acknowledger that sends every `ack` call to a channel (Broadway's
/// `CallerAcknowledger`): what tests use to see what was acknowledged, and how.
///
/// # Examples
///
/// ```
/// use arbor_broadway::{AckData, Acked, Acknowledger, CallerAcknowledger, Message};
///
/// let (acknowledger, mut calls) = CallerAcknowledger::channel();
/// let message = Message::with_acknowledger(7, acknowledger.clone(), AckData { id: 1, redelivered: false });
/// acknowledger.ack(vec![message], vec![]);
/// let call = calls.try_recv().unwrap();
/// assert_eq!(call.messages, vec![(1, Acked::Successful(7))]);
/// ```
pub struct CallerAcknowledger<T> {
    calls: mpsc::UnboundedSender<AckCall<T>>,
}

impl<T: Send + 'static> CallerAcknowledger<T> {
    /// An acknowledger and the receiving end of its calls.
    pub fn channel() -> (Arc<Self>, mpsc::UnboundedReceiver<AckCall<T>>) {
        let (calls, receiver) = mpsc::unbounded_channel();
        (Arc::new(CallerAcknowledger { calls }), receiver)
    }
}

impl<T: Send + 'static> Acknowledger<T> for CallerAcknowledger<T> {
    fn ack(&self, successful: Vec<Message<T>>, failed: Vec<Message<T>>) {
        let ok = successful.into_iter().map(|message| {
            (
                message.ack_data().id,
                Acked::Successful(message.into_data()),
            )
        });
        let failed = failed.into_iter().map(|message| {
            let id = message.ack_data().id;
            let reason = match message.status() {
                Status::Failed(reason) => reason.clone(),
                Status::Ok => String::new(),
            };
            (id, Acked::Failed(message.into_data(), reason))
        });
        let messages = ok.chain(failed).collect();
        if self.calls.send(AckCall { messages }).is_err() {
            tracing::debug!("ack call dropped: nobody listens to the caller acknowledger");
        }
    }

    fn configure(&self, _config: &AckConfig) -> Result<(), ConfigureAckError> {
        Ok(())
    }
}

impl<T> fmt::Debug for CallerAcknowledger<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallerAcknowledger").finish_non_exhaustive()
    }
}

/// Acknowledges `successful` and `failed` with one call per acknowledger, each carrying
/// both lists, messages in their original order.
pub(crate) fn ack_messages<T: 'static>(successful: Vec<Message<T>>, failed: Vec<Message<T>>) {
    if successful.is_empty() && failed.is_empty() {
        return;
    }
    // The common case: one source, one acknowledger, no grouping needed.
    let first = successful
        .first()
        .or(failed.first())
        .map(|message| Arc::clone(message.acknowledger()));
    if let Some(first) = first {
        let same = |message: &Message<T>| Arc::ptr_eq(message.acknowledger(), &first);
        if successful.iter().all(same) && failed.iter().all(same) {
            first.ack(successful, failed);
            return;
        }
    }
    type Group<T> = (Arc<dyn Acknowledger<T>>, Vec<Message<T>>, Vec<Message<T>>);
    let mut order: Vec<Group<T>> = Vec::new();
    let mut index: HashMap<*const (), usize> = HashMap::new();
    let mut place = |message: Message<T>, ok: bool| {
        let key = Arc::as_ptr(message.acknowledger()) as *const ();
        let at = *index.entry(key).or_insert_with(|| {
            order.push((Arc::clone(message.acknowledger()), Vec::new(), Vec::new()));
            order.len() - 1
        });
        if ok {
            order[at].1.push(message);
        } else {
            order[at].2.push(message);
        }
    };
    for message in successful {
        place(message, true);
    }
    for message in failed {
        place(message, false);
    }
    for (acknowledger, successful, failed) in order {
        acknowledger.ack(successful, failed);
    }
}
