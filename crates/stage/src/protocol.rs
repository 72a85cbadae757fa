//! The messages stages exchange, and the rules both sides follow.
//!
//! A subscription links one consumer to one producer under a [`SubscriptionTag`] the
//! consumer picks. Every message names the subscription it belongs to.
//!
//! Consumer → producer ([`Upward`]):
//! - `Subscribe` MUST be the first message of a subscription. The producer MUST answer a
//!   subscription it refuses (it is not a producer, the tag is taken, the dispatcher
//!   refuses it) with `Cancelled`.
//! - `Ask(n)` MUST only follow `Subscribe`. The producer MUST NOT send, over the whole
//!   subscription, more events than the sum of the asks it received.
//! - `Cancel` ends the subscription; the producer MUST answer with `Cancelled`, after
//!   which it sends nothing more.
//! - `ConsumerDown` is sent by the consumer's stop hook, after its last message: the
//!   producer forgets the subscription without answering.
//!
//! Producer → consumer ([`Downward`]):
//! - `Accepted` answers a `Subscribe` the producer took, before any `Events` of it: a
//!   consumer's `subscribe` call returns once its producer has accepted or refused.
//! - `Events` carries a non-empty batch, in the order the producer emitted them.
//! - `Cancelled` ends the subscription; the consumer applies its `cancel` mode.
//! - `ProducerDown` is sent by the producer's stop hook. For a stop the producer decides
//!   itself (a callback's stop, a panic, a stop request it reached), the hook runs on
//!   its own thread after every `Events` it sent, so the consumer sees the last events
//!   before it hears of the stop. A kill runs the hook on the killer's thread: events
//!   the producer sends after that arrive behind `ProducerDown` and are dropped, counted
//!   as lost.
//!
//! Both sides MAY receive messages for a subscription they no longer know (crossing in
//! flight): they drop them, counting dropped events.
//!
//! Events travel as an [`InFlight`] batch: one that is dropped before its consumer took
//! it (the consumer stopped with it in its mailbox or its input queue) counts its events
//! as lost, and says so in the log.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arbor_actor::Exit;

use crate::link::DownstreamLink;
use crate::{GenStage, Subscriber, SubscriptionTag};

/// What a consumer tells its producer.
pub(crate) enum Upward<E> {
    /// Boxed: sent once per subscription, it would otherwise size every message.
    Subscribe(Box<Subscribe<E>>),
    Ask {
        tag: SubscriptionTag,
        demand: usize,
    },
    Cancel {
        tag: SubscriptionTag,
        reason: Exit,
    },
    ConsumerDown {
        tag: SubscriptionTag,
        reason: Exit,
    },
}

/// A consumer's request to subscribe.
pub(crate) struct Subscribe<E> {
    pub(crate) consumer: Arc<dyn DownstreamLink<E>>,
    pub(crate) subscriber: Subscriber<E>,
    pub(crate) min_demand: usize,
}

/// Everything stages tell each other: what a stage's server receives through its own
/// [`Protocol`](arbor_actor::Protocol), unerased, in one mailbox with the user's messages.
pub(crate) enum StageMessage<S: GenStage> {
    /// From a consumer of this stage.
    Upward(Upward<S::Out>),
    /// From a producer of this stage.
    Downward(Downward<S::In>),
}

/// What a producer tells its consumers.
pub(crate) enum Downward<E> {
    Accepted { tag: SubscriptionTag },
    Events(InFlight<E>),
    Cancelled { tag: SubscriptionTag, reason: Exit },
    ProducerDown { tag: SubscriptionTag, reason: Exit },
}

impl<E> fmt::Debug for Upward<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Upward::Subscribe(subscribe) => write!(f, "Subscribe({})", subscribe.subscriber.tag),
            Upward::Ask { tag, demand } => write!(f, "Ask({tag}, {demand})"),
            Upward::Cancel { tag, reason } => write!(f, "Cancel({tag}, {reason})"),
            Upward::ConsumerDown { tag, reason } => write!(f, "ConsumerDown({tag}, {reason})"),
        }
    }
}

impl<E> fmt::Debug for Downward<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Downward::Accepted { tag } => write!(f, "Accepted({tag})"),
            Downward::Events(batch) => write!(f, "Events({}, {})", batch.tag, batch.events.len()),
            Downward::Cancelled { tag, reason } => write!(f, "Cancelled({tag}, {reason})"),
            Downward::ProducerDown { tag, reason } => write!(f, "ProducerDown({tag}, {reason})"),
        }
    }
}

/// Events lost since the process started: sent to a consumer that stopped before
/// handling them. Only ever raised, and only when events are lost.
static LOST: AtomicU64 = AtomicU64::new(0);

/// How many events, since the process started, were sent to a consumer that stopped
/// before it handled them: events still in its mailbox or its input queue when it
/// crashed or stopped, and events that arrived for a subscription it had already ended.
///
/// Each such loss is also logged, as a warning naming the subscription and the count
/// (events of an ended subscription at debug level: gen_stage drops those by design).
/// Events a producer could not send because its consumer was already gone are not lost:
/// they go back to the producer's buffer.
///
/// ```
/// // A fresh process has lost nothing.
/// assert_eq!(arbor_stage::lost_events(), 0);
/// ```
pub fn lost_events() -> u64 {
    LOST.load(Ordering::Relaxed)
}

/// A batch of events on its way to a consumer. Its consumer takes the events with
/// [`InFlight::take`]; a batch dropped with its events still in it counts them as lost.
pub(crate) struct InFlight<E> {
    pub(crate) tag: SubscriptionTag,
    events: Vec<E>,
}

impl<E> InFlight<E> {
    pub(crate) fn new(tag: SubscriptionTag, events: Vec<E>) -> Self {
        InFlight { tag, events }
    }

    /// How many events the batch holds.
    pub(crate) fn len(&self) -> usize {
        self.events.len()
    }

    /// The events, now the consumer's: the batch no longer counts them.
    pub(crate) fn take(mut self) -> Vec<E> {
        std::mem::take(&mut self.events)
    }

    /// Drops the events of a subscription the consumer has ended, counting them.
    pub(crate) fn discard_ended(mut self) {
        let dropped = std::mem::take(&mut self.events).len();
        LOST.fetch_add(dropped as u64, Ordering::Relaxed);
        crate::telemetry::lost(dropped);
        tracing::debug!(subscription = %self.tag, dropped, "events of an ended subscription dropped");
    }
}

impl<E> Drop for InFlight<E> {
    fn drop(&mut self) {
        // Checked here, not in `count_lost`: every handled delivery drops an empty batch.
        if !self.events.is_empty() {
            count_lost(self.tag, self.events.len());
        }
    }
}

/// Counts down the events of a delivery as the consumer hands them to its callback;
/// dropped before all were handed (the stage stopped or crashed in between), it counts
/// the rest as lost.
pub(crate) struct Unhanded {
    tag: SubscriptionTag,
    left: usize,
}

impl Unhanded {
    pub(crate) fn new(tag: SubscriptionTag, events: usize) -> Self {
        Unhanded { tag, left: events }
    }

    /// The subscription the delivery came on.
    pub(crate) fn tag(&self) -> SubscriptionTag {
        self.tag
    }

    pub(crate) fn handed(&mut self, events: usize) {
        self.left = self.left.saturating_sub(events);
    }
}

impl Drop for Unhanded {
    fn drop(&mut self) {
        if self.left > 0 {
            count_lost(self.tag, self.left);
        }
    }
}

#[cold]
fn count_lost(tag: SubscriptionTag, lost: usize) {
    let total = LOST.fetch_add(lost as u64, Ordering::Relaxed) + lost as u64;
    crate::telemetry::lost(lost);
    tracing::warn!(
        subscription = %tag,
        lost,
        total,
        "events lost: their consumer stopped before handling them"
    );
}
