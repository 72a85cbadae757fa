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
//! - `ProducerDown` is sent by the producer's stop hook, after every `Events` the
//!   producer sent: the consumer sees the last events before it hears of the stop.
//!
//! Both sides MAY receive messages for a subscription they no longer know (crossing in
//! flight): they drop them, counting dropped events.

use std::fmt;
use std::sync::Arc;

use arbor_actor::Exit;

use crate::link::DownstreamLink;
use crate::{Subscriber, SubscriptionTag};

/// What a consumer tells its producer.
pub(crate) enum Upward<E> {
    Subscribe {
        consumer: Arc<dyn DownstreamLink<E>>,
        subscriber: Subscriber<E>,
        min_demand: usize,
    },
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
        exit: Exit,
    },
}

/// What a producer tells its consumers.
pub(crate) enum Downward<E> {
    Accepted {
        tag: SubscriptionTag,
    },
    Events {
        tag: SubscriptionTag,
        events: Vec<E>,
    },
    Cancelled {
        tag: SubscriptionTag,
        reason: Exit,
    },
    ProducerDown {
        tag: SubscriptionTag,
        exit: Exit,
    },
}

impl<E> fmt::Debug for Upward<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Upward::Subscribe { subscriber, .. } => write!(f, "Subscribe({})", subscriber.tag),
            Upward::Ask { tag, demand } => write!(f, "Ask({tag}, {demand})"),
            Upward::Cancel { tag, reason } => write!(f, "Cancel({tag}, {reason})"),
            Upward::ConsumerDown { tag, exit } => write!(f, "ConsumerDown({tag}, {exit})"),
        }
    }
}

impl<E> fmt::Debug for Downward<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Downward::Accepted { tag } => write!(f, "Accepted({tag})"),
            Downward::Events { tag, events } => write!(f, "Events({tag}, {})", events.len()),
            Downward::Cancelled { tag, reason } => write!(f, "Cancelled({tag}, {reason})"),
            Downward::ProducerDown { tag, exit } => write!(f, "ProducerDown({tag}, {exit})"),
        }
    }
}
