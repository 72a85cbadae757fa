//! Where a dispatcher leaves what the stage must do once a callback returns.

use std::fmt;
use std::mem;

use crate::{DispatchError, SubscriptionTag};

/// Identifies an info message waiting for the events dispatched before it.
///
/// The stage keeps the message itself and gives dispatchers (and the
/// [`Buffer`](crate::Buffer)) only this token; each token handed in comes back out exactly
/// once, when the message may be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InfoToken(u64);

impl InfoToken {
    /// The token numbered `n`. A stage numbers the tokens it hands its dispatcher; this is
    /// for driving a dispatcher or a [`Buffer`](crate::Buffer) by hand, as their tests do.
    /// A dispatcher only passes on the tokens it is given (a token the stage does not
    /// know is ignored).
    pub fn new(n: u64) -> Self {
        InfoToken(n)
    }
}

/// What a stage must do after a [`Dispatcher`](crate::Dispatcher) callback: send batches,
/// handle released info messages, count discards and forward extra demand.
///
/// Dispatchers only append to it; the stage drains it with the `take_*` methods after
/// each callback. Send every batch before handling the infos: an info is released once
/// the events queued before it are in the batches.
///
/// # Examples
///
/// ```
/// use arbor_stage::{SubscriptionTag};
/// use arbor_stage::plumbing::{InfoToken, Outbox};
///
/// let mut out = Outbox::new();
/// out.send(SubscriptionTag::new(1), vec!["a", "b"]);
/// out.send(SubscriptionTag::new(2), vec![]); // empty batches are not kept
/// out.release(InfoToken::new(9));
/// out.discard(3);
/// assert_eq!(out.take_batches(), vec![(SubscriptionTag::new(1), vec!["a", "b"])]);
/// assert_eq!(out.take_infos(), vec![InfoToken::new(9)]);
/// assert_eq!(out.take_discarded(), 3);
/// assert_eq!(out.take_demand(), 0);
/// assert!(out.is_empty());
/// ```
pub struct Outbox<E> {
    batches: Vec<(SubscriptionTag, Vec<E>)>,
    infos: Vec<InfoToken>,
    discarded: usize,
    demand: usize,
    failure: Option<DispatchError>,
}

impl<E> Outbox<E> {
    /// An empty outbox.
    pub fn new() -> Self {
        Outbox {
            batches: Vec::new(),
            infos: Vec::new(),
            discarded: 0,
            demand: 0,
            failure: None,
        }
    }

    /// Says the dispatcher met an error it cannot go on from (a hash that names no
    /// partition): the stage stops with it once the batches queued so far are sent. The
    /// first failure is kept.
    pub fn fail(&mut self, error: DispatchError) {
        self.failure.get_or_insert(error);
    }

    /// The failure the dispatcher reported, if any.
    pub fn take_failure(&mut self) -> Option<DispatchError> {
        self.failure.take()
    }

    /// Queues `events` for the consumer `tag`. An empty batch is dropped: consumers are
    /// never sent empty batches.
    pub fn send(&mut self, tag: SubscriptionTag, events: Vec<E>) {
        if !events.is_empty() {
            self.batches.push((tag, events));
        }
    }

    /// Says the info message `token` may now be handled.
    pub fn release(&mut self, token: InfoToken) {
        self.infos.push(token);
    }

    /// Counts `count` events dropped by an explicit rule (a selector said no, a hash
    /// said none, a cancelled partition's queue).
    pub fn discard(&mut self, count: usize) {
        self.discarded = self.discarded.saturating_add(count);
    }

    /// Adds demand the stage must forward upstream, arising outside a callback's return
    /// value (for example events a selector refused, which gen_stage asks for again).
    pub fn add_demand(&mut self, demand: usize) {
        self.demand = self.demand.saturating_add(demand);
    }

    /// The batches to send, in the order they were queued; per consumer, that is the
    /// order of the events.
    pub fn take_batches(&mut self) -> Vec<(SubscriptionTag, Vec<E>)> {
        mem::take(&mut self.batches)
    }

    /// Like [`Outbox::take_batches`], but keeps the outbox's storage for the next
    /// dispatch (a stage drains its outbox after every callback).
    pub fn drain_batches(&mut self) -> std::vec::Drain<'_, (SubscriptionTag, Vec<E>)> {
        self.batches.drain(..)
    }

    /// The info messages now released, in release order.
    pub fn take_infos(&mut self) -> Vec<InfoToken> {
        mem::take(&mut self.infos)
    }

    /// How many events were discarded since the last call.
    pub fn take_discarded(&mut self) -> usize {
        mem::take(&mut self.discarded)
    }

    /// The extra demand to forward upstream since the last call.
    pub fn take_demand(&mut self) -> usize {
        mem::take(&mut self.demand)
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
            && self.infos.is_empty()
            && self.discarded == 0
            && self.demand == 0
            && self.failure.is_none()
    }
}

impl<E> Default for Outbox<E> {
    fn default() -> Self {
        Self::new()
    }
}

// By hand, so that `Outbox<E>: Debug` does not need `E: Debug`.
impl<E> fmt::Debug for Outbox<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let batches: Vec<(SubscriptionTag, usize)> = self
            .batches
            .iter()
            .map(|(tag, events)| (*tag, events.len()))
            .collect();
        f.debug_struct("Outbox")
            .field("batch_sizes", &batches)
            .field("infos", &self.infos)
            .field("discarded", &self.discarded)
            .field("demand", &self.demand)
            .field("failure", &self.failure)
            .finish()
    }
}
