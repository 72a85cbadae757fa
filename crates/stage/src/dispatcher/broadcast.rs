//! A dispatcher that sends every event to every consumer, paced by the slowest.

use std::fmt;

use crate::{DispatchError, Dispatcher, InfoToken, Outbox, Selector, Subscriber, SubscriptionTag};

/// Sends every event to every consumer, never faster than the slowest one asks
/// (gen_stage's `GenStage.BroadcastDispatcher`).
///
/// Events are dispatched only as far as *every* consumer has demand: the dispatcher
/// tracks how many events all consumers can take (the minimum of their demands) and
/// forwards upstream only that. A consumer that subscribes with no demand therefore
/// stops dispatch until it asks. Cancelling the slowest consumer can release demand.
///
/// A consumer may subscribe with a [`Selector`]: it then receives only the events the
/// selector accepts. Each refused event is counted in [`Outbox::discard`] (once per
/// refusing consumer), and, as gen_stage does, asked for again on that consumer's
/// behalf, so refused events do not use up its demand. That extra demand comes out of
/// [`Outbox::take_demand`].
///
/// # Examples
///
/// ```
/// use arbor_stage::{BroadcastDispatcher, Dispatcher, Selector, Subscriber, SubscriptionTag};
/// use arbor_stage::plumbing::{Outbox};
///
/// # fn main() -> Result<(), arbor_stage::DispatchError> {
/// let (all, even) = (SubscriptionTag::new(1), SubscriptionTag::new(2));
/// let mut dispatcher = BroadcastDispatcher::new();
/// let mut out = Outbox::new();
/// dispatcher.subscribe(Subscriber::new(all, 10))?;
/// dispatcher.subscribe(Subscriber::new(even, 10).selector(Selector::new(|n: &u32| n % 2 == 0)))?;
/// assert_eq!(dispatcher.ask(all, 4, &mut out)?, 0); // `even` has not asked yet
/// assert_eq!(dispatcher.ask(even, 3, &mut out)?, 3); // the slowest asks for 3
///
/// assert_eq!(dispatcher.dispatch(vec![1, 2, 3, 4], &mut out), vec![4]);
/// assert_eq!(out.take_batches(), vec![(all, vec![1, 2, 3]), (even, vec![2])]);
/// assert_eq!(out.take_discarded(), 2); // `even` refused 1 and 3
/// # Ok(())
/// # }
/// ```
///
/// # Pitfalls
///
/// A consumer that subscribes late misses what was dispatched before, and one that
/// never asks stalls everybody. Start the producer in
/// [`DemandMode::Accumulate`](crate::DemandMode::Accumulate) and switch it to forward
/// once every consumer is subscribed.
pub struct BroadcastDispatcher<E> {
    consumers: Vec<Consumer<E>>,
    /// Events every consumer can take now (gen_stage's `waiting`); each consumer's own
    /// demand is this plus its `extra`.
    ready: usize,
    /// Demand forwarded upstream and not yet met by dispatched events.
    requested: usize,
}

struct Consumer<E> {
    tag: SubscriptionTag,
    /// Demand beyond `ready`.
    extra: usize,
    selector: Option<Selector<E>>,
}

impl<E> BroadcastDispatcher<E> {
    /// A dispatcher with no consumers.
    pub fn new() -> Self {
        BroadcastDispatcher {
            consumers: Vec::new(),
            ready: 0,
            requested: 0,
        }
    }

    /// How many events every consumer can take now: the next dispatch sends at most
    /// this many.
    pub fn ready(&self) -> usize {
        self.ready
    }

    fn position(&self, tag: SubscriptionTag) -> Option<usize> {
        self.consumers
            .iter()
            .position(|consumer| consumer.tag == tag)
    }

    /// Moves the demand all consumers share into `ready` and returns how much more to
    /// forward upstream (gen_stage's `sync_demands`).
    fn sync(&mut self) -> usize {
        let shared = self
            .consumers
            .iter()
            .map(|consumer| consumer.extra)
            .min()
            .unwrap_or(0);
        for consumer in &mut self.consumers {
            consumer.extra -= shared;
        }
        self.ready = self.ready.saturating_add(shared);
        let request = self.ready.saturating_sub(self.requested);
        self.requested = self.requested.saturating_add(request);
        request
    }
}

impl<E> Default for BroadcastDispatcher<E> {
    fn default() -> Self {
        Self::new()
    }
}

// By hand, so that `BroadcastDispatcher<E>: Debug` does not need `E: Debug`.
impl<E> fmt::Debug for BroadcastDispatcher<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let consumers: Vec<(SubscriptionTag, usize)> = self
            .consumers
            .iter()
            .map(|consumer| (consumer.tag, consumer.extra))
            .collect();
        f.debug_struct("BroadcastDispatcher")
            .field("consumers", &consumers)
            .field("ready", &self.ready)
            .field("requested", &self.requested)
            .finish()
    }
}

impl<E> Consumer<E> {
    /// Sends this consumer the `events` its selector accepts. Refused events are
    /// counted and credited back to its demand, as gen_stage asks for them again on the
    /// consumer's behalf. Returns whether any was refused.
    fn receive(&mut self, events: impl Iterator<Item = E>, out: &mut Outbox<E>) -> bool {
        // From a `Vec`'s own iterator, `collect` reuses the allocation.
        let mut kept: Vec<E> = events.collect();
        let refused = self
            .selector
            .as_ref()
            .map_or(0, |selector| selector.retain(&mut kept));
        out.send(self.tag, kept);
        out.discard(refused);
        self.extra = self.extra.saturating_add(refused);
        refused > 0
    }
}

impl<E: Clone + Send + 'static> Dispatcher<E> for BroadcastDispatcher<E> {
    fn name(&self) -> &'static str {
        "BroadcastDispatcher"
    }

    fn subscribe(&mut self, subscriber: Subscriber<E>) -> Result<usize, DispatchError> {
        if self.position(subscriber.tag).is_some() {
            return Err(DispatchError::AlreadySubscribed(subscriber.tag));
        }
        subscriber.expect_no_partition()?;
        // The newcomer can take nothing yet, so nobody can: `ready` goes back into
        // each existing consumer's own demand.
        for consumer in &mut self.consumers {
            consumer.extra = consumer.extra.saturating_add(self.ready);
        }
        self.ready = 0;
        self.consumers.push(Consumer {
            tag: subscriber.tag,
            extra: 0,
            selector: subscriber.selector,
        });
        Ok(0)
    }

    fn cancel(&mut self, tag: SubscriptionTag, _out: &mut Outbox<E>) -> usize {
        let Some(at) = self.position(tag) else {
            return 0;
        };
        self.consumers.remove(at);
        if self.consumers.is_empty() {
            self.ready = 0;
            return 0;
        }
        // The one that left may have been the slowest.
        self.sync()
    }

    fn ask(
        &mut self,
        tag: SubscriptionTag,
        demand: usize,
        _out: &mut Outbox<E>,
    ) -> Result<usize, DispatchError> {
        let at = self
            .position(tag)
            .ok_or(DispatchError::UnknownSubscription(tag))?;
        let consumer = &mut self.consumers[at];
        consumer.extra = consumer.extra.saturating_add(demand);
        Ok(self.sync())
    }

    fn dispatch(&mut self, mut events: Vec<E>, out: &mut Outbox<E>) -> Vec<E> {
        let now = self.ready.min(events.len());
        let Some((last, others)) = self.consumers.split_last_mut().filter(|_| now > 0) else {
            return events;
        };
        let later = events.split_off(now);
        self.ready -= now;
        self.requested = self.requested.saturating_sub(now);

        let mut refused = false;
        for consumer in others {
            refused |= consumer.receive(events.iter().cloned(), out);
        }
        // The last consumer takes the batch itself rather than a copy.
        refused |= last.receive(events.into_iter(), out);
        if refused {
            let demand = self.sync();
            out.add_demand(demand);
        }
        later
    }

    fn info(&mut self, token: InfoToken, out: &mut Outbox<E>) {
        out.release(token);
    }
}
