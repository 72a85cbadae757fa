//! The default dispatcher: each event goes to one consumer, the one with the most
//! pending demand first.

use std::cmp::Reverse;
use std::fmt;
use std::marker::PhantomData;

use super::shuffle::Shuffle;
use crate::{DispatchError, Dispatcher, InfoToken, Outbox, Subscriber, SubscriptionTag};

/// Options of a [`DemandDispatcher`], with gen_stage's defaults.
///
/// # Examples
///
/// ```
/// use arbor_stage::DemandDispatcherOptions;
///
/// let options = DemandDispatcherOptions::default().shuffle_demands_on_first_dispatch(true).max_demand(50);
/// assert!(options.shuffle_demands_on_first_dispatch);
/// assert_eq!(DemandDispatcherOptions::default().max_demand, None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
#[must_use]
pub struct DemandDispatcherOptions {
    /// Shuffle consumers of equal demand once, before the first dispatch, so the first
    /// subscriber is not always served first. Default: `false`.
    pub shuffle_demands_on_first_dispatch: bool,
    /// The `max_demand` consumers are expected to use; a consumer declaring another one,
    /// or asking for more at once, is warned about. Default: none, meaning the first
    /// subscriber's `max_demand`.
    pub max_demand: Option<usize>,
    /// Seed for the shuffle, for reproducible runs. Default: none, meaning a random seed.
    pub shuffle_seed: Option<u64>,
}

impl DemandDispatcherOptions {
    /// Sets [`shuffle_demands_on_first_dispatch`](Self::shuffle_demands_on_first_dispatch).
    pub fn shuffle_demands_on_first_dispatch(mut self, shuffle: bool) -> Self {
        self.shuffle_demands_on_first_dispatch = shuffle;
        self
    }

    /// Sets [`max_demand`](Self::max_demand).
    pub fn max_demand(mut self, max_demand: usize) -> Self {
        self.max_demand = Some(max_demand);
        self
    }

    /// Sets [`shuffle_seed`](Self::shuffle_seed).
    pub fn shuffle_seed(mut self, seed: u64) -> Self {
        self.shuffle_seed = Some(seed);
        self
    }
}

/// Sends each event to exactly one consumer, filling the consumer with the most pending
/// demand first (gen_stage's `GenStage.DemandDispatcher`, the default dispatcher).
///
/// Consumers are kept ordered by pending demand; among equal demands, the one that
/// reached that demand first is served first. A batch is cut into consecutive slices:
/// the consumer with most demand gets the first slice (as many events as it asked for),
/// the next one the following slice, and so on until the events or the demand run out.
/// When one consumer takes a whole batch, the batch is moved to it without copying.
///
/// Demand forwarded upstream for a consumer that then cancelled is remembered: events
/// arriving for it are handed to the next asks instead of being asked for again.
///
/// # Options
///
/// See [`DemandDispatcherOptions`].
///
/// # Examples
///
/// ```
/// use arbor_stage::{DemandDispatcher, Dispatcher, Subscriber, SubscriptionTag};
/// use arbor_stage::plumbing::{Outbox};
///
/// # fn main() -> Result<(), arbor_stage::DispatchError> {
/// let (a, b) = (SubscriptionTag::new(1), SubscriptionTag::new(2));
/// let mut dispatcher = DemandDispatcher::new();
/// let mut out = Outbox::new();
/// dispatcher.subscribe(Subscriber::new(a, 10))?;
/// dispatcher.subscribe(Subscriber::new(b, 10))?;
/// dispatcher.ask(a, 2, &mut out)?;
/// dispatcher.ask(b, 3, &mut out)?;
///
/// assert!(dispatcher.dispatch(vec![1, 2, 3, 4], &mut out).is_empty());
/// assert_eq!(out.take_batches(), vec![(b, vec![1, 2, 3]), (a, vec![4])]);
///
/// // `a` cancels while one event it asked for is still on its way: the next ask
/// // is served by that event rather than forwarded.
/// assert_eq!(dispatcher.cancel(a, &mut out), 0);
/// assert_eq!(dispatcher.ask(b, 4, &mut out)?, 3);
/// # Ok(())
/// # }
/// ```
///
/// # Pitfalls
///
/// Give every consumer the same `max_demand`: a consumer asking for more is served
/// first and grows greedy, starving the others. The dispatcher logs a warning when
/// `max_demand`s differ.
pub struct DemandDispatcher<E> {
    /// Largest pending demand first; equal demands in the order they were reached.
    demands: Vec<Pending>,
    /// Demand forwarded upstream on behalf of consumers that have since cancelled
    /// (gen_stage's `pending`).
    orphaned: usize,
    max_demand: Option<usize>,
    /// Present until the first dispatch when shuffling is asked for.
    shuffle: Option<Shuffle>,
    // `fn() -> E`: the dispatcher holds no `E`, so it is Send and Sync whatever `E` is.
    events: PhantomData<fn() -> E>,
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    tag: SubscriptionTag,
    demand: usize,
}

impl<E> DemandDispatcher<E> {
    /// A dispatcher with the default options.
    pub fn new() -> Self {
        Self::with_options(DemandDispatcherOptions::default())
    }

    /// A dispatcher with these options.
    pub fn with_options(options: DemandDispatcherOptions) -> Self {
        let shuffle = options.shuffle_demands_on_first_dispatch.then(|| {
            options
                .shuffle_seed
                .map_or_else(Shuffle::from_entropy, Shuffle::from_seed)
        });
        DemandDispatcher {
            demands: Vec::new(),
            orphaned: 0,
            max_demand: options.max_demand,
            shuffle,
            events: PhantomData,
        }
    }

    /// The pending demand of each consumer, most pending first: the order in which the
    /// next dispatch serves them.
    pub fn demands(&self) -> impl Iterator<Item = (SubscriptionTag, usize)> + '_ {
        self.demands
            .iter()
            .map(|pending| (pending.tag, pending.demand))
    }

    /// Demand already forwarded upstream for consumers that have since cancelled.
    pub fn orphaned_demand(&self) -> usize {
        self.orphaned
    }

    fn position(&self, tag: SubscriptionTag) -> Option<usize> {
        self.demands.iter().position(|pending| pending.tag == tag)
    }

    /// Inserts after every consumer with at least as much demand, so ties stay FIFO.
    fn insert(&mut self, pending: Pending) {
        let at = self
            .demands
            .iter()
            .position(|other| other.demand < pending.demand)
            .unwrap_or(self.demands.len());
        self.demands.insert(at, pending);
    }

    fn shuffle_once(&mut self) {
        if let Some(mut shuffle) = self.shuffle.take() {
            shuffle.shuffle(&mut self.demands);
            // The stable sort restores "most demand first" and keeps the shuffled order
            // among equals, so the shuffle only breaks ties.
            self.demands.sort_by_key(|pending| Reverse(pending.demand));
        }
    }

    fn check_max_demand(&self, tag: SubscriptionTag, demand: usize) {
        if let Some(expected) = self.max_demand.filter(|&expected| demand > expected) {
            tracing::warn!(
                subscription = %tag,
                demand,
                expected_max_demand = expected,
                "demand dispatcher got more demand than the expected max_demand at once; \
                 consumers with different max_demand overload the greedy ones"
            );
        }
    }
}

impl<E> Default for DemandDispatcher<E> {
    fn default() -> Self {
        Self::new()
    }
}

// By hand, so that `DemandDispatcher<E>: Debug` does not need `E: Debug`.
impl<E> fmt::Debug for DemandDispatcher<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DemandDispatcher")
            .field("demands", &self.demands)
            .field("orphaned", &self.orphaned)
            .field("max_demand", &self.max_demand)
            .field("shuffle_pending", &self.shuffle.is_some())
            .finish()
    }
}

impl<E: 'static> Dispatcher<E> for DemandDispatcher<E> {
    fn name(&self) -> &'static str {
        "DemandDispatcher"
    }

    fn subscribe(&mut self, subscriber: Subscriber<E>) -> Result<usize, DispatchError> {
        let tag = subscriber.tag;
        if self.position(tag).is_some() {
            return Err(DispatchError::AlreadySubscribed(tag));
        }
        subscriber.expect_no_partition()?;
        match self.max_demand {
            None => self.max_demand = Some(subscriber.max_demand),
            Some(expected) if expected != subscriber.max_demand => tracing::warn!(
                subscription = %tag,
                max_demand = subscriber.max_demand,
                expected_max_demand = expected,
                "demand dispatcher consumers use different max_demand; \
                 the ones asking for more will be served first"
            ),
            Some(_) => {}
        }
        self.demands.push(Pending { tag, demand: 0 });
        Ok(0)
    }

    fn cancel(&mut self, tag: SubscriptionTag, _out: &mut Outbox<E>) -> usize {
        if let Some(at) = self.position(tag) {
            let gone = self.demands.remove(at);
            self.orphaned = self.orphaned.saturating_add(gone.demand);
        }
        0
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
        self.check_max_demand(tag, demand);
        let mut pending = self.demands.remove(at);
        pending.demand = pending.demand.saturating_add(demand);
        self.insert(pending);
        let covered = self.orphaned.min(demand);
        self.orphaned -= covered;
        Ok(demand - covered)
    }

    fn dispatch(&mut self, mut events: Vec<E>, out: &mut Outbox<E>) -> Vec<E> {
        self.shuffle_once();
        while let Some(&head) = self.demands.first() {
            if head.demand == 0 || events.is_empty() {
                break;
            }
            let now = head.demand.min(events.len());
            // The consumer keeps the front (and the batch's allocation); only a tail
            // that does not fit is copied out.
            let later = if now == events.len() {
                Vec::new()
            } else {
                events.split_off(now)
            };
            out.send(head.tag, events);
            events = later;
            self.demands.remove(0);
            self.insert(Pending {
                tag: head.tag,
                demand: head.demand - now,
            });
        }
        // Leftovers are what orphaned demand was asked for: the buffer now holds them.
        self.orphaned = self.orphaned.saturating_sub(events.len());
        events
    }

    fn info(&mut self, token: InfoToken, out: &mut Outbox<E>) {
        out.release(token);
    }
}
