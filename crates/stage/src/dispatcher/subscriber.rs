//! What a dispatcher is told about a consumer when it subscribes.

use std::fmt;
use std::sync::Arc;

use crate::SubscriptionTag;

/// What a dispatcher knows about one consumer's subscription.
///
/// The stage builds it from the consumer's subscribe options and hands it to
/// [`Dispatcher::subscribe`](crate::Dispatcher::subscribe). Each dispatcher reads the
/// fields it needs and ignores the others.
///
/// # Examples
///
/// ```
/// use arbor_stage::{PartitionKey, Selector, Subscriber, SubscriptionTag};
///
/// let even = Subscriber::new(SubscriptionTag::new(1), 10).selector(Selector::new(|n: &u32| n % 2 == 0));
/// let second = Subscriber::<u32>::new(SubscriptionTag::new(2), 10).partition(PartitionKey::Index(1));
/// assert!(even.selector.is_some() && second.partition.is_some());
/// ```
#[non_exhaustive]
#[must_use]
pub struct Subscriber<E> {
    /// The subscription.
    pub tag: SubscriptionTag,
    /// The consumer's `max_demand`. The [`DemandDispatcher`](crate::DemandDispatcher)
    /// warns when consumers disagree on it.
    pub max_demand: usize,
    /// Which events this consumer wants; read by the
    /// [`BroadcastDispatcher`](crate::BroadcastDispatcher) only. Default: every event.
    pub selector: Option<Selector<E>>,
    /// The partition this consumer takes; required by the
    /// [`PartitionDispatcher`](crate::PartitionDispatcher), refused by the built-in
    /// others ([`DispatchError::NotPartitioned`](crate::DispatchError::NotPartitioned)).
    /// Default: none.
    pub partition: Option<PartitionKey>,
}

impl<E> Subscriber<E> {
    /// A subscriber with no selector and no partition.
    pub fn new(tag: SubscriptionTag, max_demand: usize) -> Self {
        Subscriber {
            tag,
            max_demand,
            selector: None,
            partition: None,
        }
    }

    /// Sets the selector.
    pub fn selector(mut self, selector: Selector<E>) -> Self {
        self.selector = Some(selector);
        self
    }

    /// Sets the partition.
    pub fn partition(mut self, partition: PartitionKey) -> Self {
        self.partition = Some(partition);
        self
    }
}

// By hand, so that neither needs `E: Clone` or `E: Debug`.
impl<E> Clone for Subscriber<E> {
    fn clone(&self) -> Self {
        Subscriber {
            tag: self.tag,
            max_demand: self.max_demand,
            selector: self.selector.clone(),
            partition: self.partition.clone(),
        }
    }
}

impl<E> fmt::Debug for Subscriber<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscriber")
            .field("tag", &self.tag)
            .field("max_demand", &self.max_demand)
            .field("selector", &self.selector)
            .field("partition", &self.partition)
            .finish()
    }
}

/// A predicate choosing which broadcast events one consumer receives (gen_stage's
/// `:selector`).
///
/// Cloning shares the function.
///
/// # Examples
///
/// ```
/// use arbor_stage::Selector;
///
/// let small = Selector::new(|n: &u32| *n < 10);
/// assert!(small.accepts(&3));
/// assert!(!small.accepts(&30));
/// ```
pub struct Selector<E>(Arc<dyn Select<E>>);

/// A selector's function, asked of one event or of a whole batch: for a batch, one call
/// through a pointer with the function inlined in the loop, rather than one per event.
trait Select<E>: Send + Sync {
    fn accepts(&self, event: &E) -> bool;

    /// Keeps the events of `batch` the function accepts; returns how many it refused.
    fn retain(&self, batch: &mut Vec<E>) -> usize;
}

struct ByFn<F>(F);

impl<E, F: Fn(&E) -> bool + Send + Sync> Select<E> for ByFn<F> {
    fn accepts(&self, event: &E) -> bool {
        (self.0)(event)
    }

    fn retain(&self, batch: &mut Vec<E>) -> usize {
        let before = batch.len();
        batch.retain(|event| (self.0)(event));
        before - batch.len()
    }
}

impl<E> Selector<E> {
    /// A selector accepting the events for which `f` returns `true`.
    pub fn new(f: impl Fn(&E) -> bool + Send + Sync + 'static) -> Self {
        Selector(Arc::new(ByFn(f)))
    }

    /// Whether the consumer wants `event`.
    pub fn accepts(&self, event: &E) -> bool {
        self.0.accepts(event)
    }

    /// Keeps the events of `batch` this selector accepts; returns how many it refused.
    pub(crate) fn retain(&self, batch: &mut Vec<E>) -> usize {
        self.0.retain(batch)
    }
}

impl<E> Clone for Selector<E> {
    fn clone(&self) -> Self {
        Selector(Arc::clone(&self.0))
    }
}

impl<E> fmt::Debug for Selector<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Selector(..)")
    }
}

/// Names one partition of a [`PartitionDispatcher`](crate::PartitionDispatcher).
///
/// Partitions made by count are named by their index; partitions made from names
/// answer to their name and to their index in the list of names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PartitionKey {
    /// The partition at this index (counting from 0).
    Index(usize),
    /// The partition with this name.
    Name(Arc<str>),
}

impl From<usize> for PartitionKey {
    fn from(index: usize) -> Self {
        PartitionKey::Index(index)
    }
}

impl From<&str> for PartitionKey {
    fn from(name: &str) -> Self {
        PartitionKey::Name(name.into())
    }
}

impl fmt::Display for PartitionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PartitionKey::Index(index) => index.fmt(f),
            PartitionKey::Name(name) => write!(f, "{name:?}"),
        }
    }
}

impl<E> Subscriber<E> {
    /// Refuses a partition: what a dispatcher without partitions answers.
    pub(crate) fn expect_no_partition(&self) -> Result<(), crate::DispatchError> {
        match &self.partition {
            Some(partition) => Err(crate::DispatchError::NotPartitioned(partition.clone())),
            None => Ok(()),
        }
    }
}
