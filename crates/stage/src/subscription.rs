//! Subscriptions: their options, and the producer they name.

use std::fmt;
use std::sync::Arc;

use arbor_actor::Exit;
use arbor_registry::{Key, Named, Registry, Value};

use crate::link::UpstreamLink;
use crate::runtime::StageServer;
use crate::tag::SubscriptionTag;
use crate::{
    DemandCounter, GenStage, InvalidOptions, PartitionKey, Selector, Stage, SubscribeError,
    Subscriber,
};

/// What a consumer does when its producer cancels the subscription or stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Cancel {
    /// The consumer stops too, with the same reason (default).
    #[default]
    Permanent,
    /// The consumer stops only if the reason is abnormal (not normal, not a shutdown).
    Transient,
    /// The consumer goes on without that producer.
    Temporary,
}

impl Cancel {
    /// Whether a consumer in this mode stops when its subscription ends with `reason`.
    pub fn stops_on(self, reason: &Exit) -> bool {
        match self {
            Cancel::Permanent => true,
            Cancel::Transient => reason.is_abnormal(),
            Cancel::Temporary => false,
        }
    }
}

/// Options of one subscription, from the consumer's side; every field has a default.
///
/// # Examples
///
/// ```
/// use arbor_stage::{Cancel, SubscribeOptions};
///
/// let options: SubscribeOptions<u64> = SubscribeOptions::new()
///     .max_demand(100)
///     .min_demand(80)
///     .cancel(Cancel::Transient);
/// assert_eq!(options.demand().unwrap().initial_ask(), 100);
/// ```
#[non_exhaustive]
#[must_use]
pub struct SubscribeOptions<E> {
    /// The most events the consumer has asked for and not received yet. Default: 1000.
    pub max_demand: usize,
    /// When pending demand falls to this, the consumer asks again. Default:
    /// `max_demand / 2`.
    pub min_demand: Option<usize>,
    /// What the consumer does when the subscription ends. Default: `Permanent`.
    pub cancel: Cancel,
    /// The partition to consume, from a producer with a `PartitionDispatcher`.
    pub partition: Option<PartitionKey>,
    /// Which events to receive, from a producer with a `BroadcastDispatcher`.
    pub selector: Option<Selector<E>>,
}

impl<E> SubscribeOptions<E> {
    /// The defaults.
    pub fn new() -> Self {
        SubscribeOptions {
            max_demand: DemandCounter::DEFAULT_MAX_DEMAND,
            min_demand: None,
            cancel: Cancel::default(),
            partition: None,
            selector: None,
        }
    }

    /// Sets `max_demand`.
    pub fn max_demand(mut self, max_demand: usize) -> Self {
        self.max_demand = max_demand;
        self
    }

    /// Sets `min_demand`.
    pub fn min_demand(mut self, min_demand: usize) -> Self {
        self.min_demand = Some(min_demand);
        self
    }

    /// Sets the cancel mode.
    pub fn cancel(mut self, cancel: Cancel) -> Self {
        self.cancel = cancel;
        self
    }

    /// Sets the partition to consume.
    pub fn partition(mut self, partition: impl Into<PartitionKey>) -> Self {
        self.partition = Some(partition.into());
        self
    }

    /// Receives only the events `select` accepts (broadcast producers).
    pub fn selector(mut self, select: impl Fn(&E) -> bool + Send + Sync + 'static) -> Self {
        self.selector = Some(Selector::new(select));
        self
    }

    /// The demand counter these options describe.
    ///
    /// # Errors
    ///
    /// [`InvalidOptions`] when `max_demand` is 0 or `min_demand` is not below it.
    pub fn demand(&self) -> Result<DemandCounter, InvalidOptions> {
        let min_demand = self
            .min_demand
            .unwrap_or(DemandCounter::default_min_demand(self.max_demand));
        DemandCounter::new(self.max_demand, min_demand)
    }

    pub(crate) fn subscriber(&self, tag: SubscriptionTag) -> Subscriber<E> {
        Subscriber {
            tag,
            max_demand: self.max_demand,
            selector: self.selector.clone(),
            partition: self.partition.clone(),
        }
    }
}

impl<E> Default for SubscribeOptions<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> Clone for SubscribeOptions<E> {
    fn clone(&self) -> Self {
        SubscribeOptions {
            max_demand: self.max_demand,
            min_demand: self.min_demand,
            cancel: self.cancel,
            partition: self.partition.clone(),
            selector: self.selector.clone(),
        }
    }
}

impl<E> fmt::Debug for SubscribeOptions<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscribeOptions")
            .field("max_demand", &self.max_demand)
            .field("min_demand", &self.min_demand)
            .field("cancel", &self.cancel)
            .field("partition", &self.partition)
            .field("selector", &self.selector.is_some())
            .finish()
    }
}

type Resolve<E> = dyn Fn() -> Result<Arc<dyn UpstreamLink<E>>, SubscribeError> + Send + Sync;

/// The producer a consumer subscribes to: a stage handle, or a name in a registry that
/// is looked up at each subscription (so a restarted producer is found again).
pub struct SubscribeTo<E> {
    resolve: Arc<Resolve<E>>,
    name: Arc<str>,
}

impl<E: Send + 'static> SubscribeTo<E> {
    /// The stage `producer`, this incarnation of it.
    pub fn stage<P: GenStage<Out = E>>(producer: &Stage<P>) -> Self {
        let server = producer.server().clone();
        let name: Arc<str> = Arc::from(producer.pid().to_string());
        SubscribeTo {
            resolve: Arc::new(move || Ok(Arc::new(server.clone()) as Arc<dyn UpstreamLink<E>>)),
            name,
        }
    }

    /// The stage of behaviour `P` registered under `key` in `registry`, looked up when
    /// the subscription is made (gen_stage's `{:via, Registry, {registry, key}}`).
    pub fn via<P, K, V>(registry: &Registry<K, V>, key: K) -> Self
    where
        P: GenStage<Out = E>,
        K: Key,
        V: Value,
    {
        let name: Arc<str> = Arc::from(format!("{}/{key:?}", registry.name()));
        let registry = registry.clone();
        SubscribeTo {
            resolve: Arc::new(move || {
                let server = registry.server::<StageServer<P>>(&key)?;
                Ok(Arc::new(server) as Arc<dyn UpstreamLink<E>>)
            }),
            name,
        }
    }

    /// The stage a typed name stands for, looked up when the subscription is made (as
    /// [`SubscribeTo::via`]).
    pub fn named<P, K, V>(named: &Named<Stage<P>, K, V>) -> Self
    where
        P: GenStage<Out = E>,
        K: Key,
        V: Value,
    {
        Self::via::<P, K, V>(named.registry(), named.key().clone())
    }

    /// The producer at the other end of an existing subscription (to subscribe to it again).
    pub(crate) fn link(link: Arc<dyn UpstreamLink<E>>) -> Self {
        let name: Arc<str> = Arc::from(link.pid().to_string());
        SubscribeTo {
            resolve: Arc::new(move || Ok(Arc::clone(&link))),
            name,
        }
    }

    pub(crate) fn resolve(&self) -> Result<Arc<dyn UpstreamLink<E>>, SubscribeError> {
        (self.resolve)()
    }

    /// The producer's name or pid, for logs and errors.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<P: GenStage> From<&Stage<P>> for SubscribeTo<P::Out> {
    fn from(producer: &Stage<P>) -> Self {
        SubscribeTo::stage(producer)
    }
}

impl<P: GenStage, K: Key, V: Value> From<&Named<Stage<P>, K, V>> for SubscribeTo<P::Out> {
    fn from(producer: &Named<Stage<P>, K, V>) -> Self {
        SubscribeTo::named(producer)
    }
}

impl<E> Clone for SubscribeTo<E> {
    fn clone(&self) -> Self {
        SubscribeTo {
            resolve: Arc::clone(&self.resolve),
            name: Arc::clone(&self.name),
        }
    }
}

impl<E> fmt::Debug for SubscribeTo<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SubscribeTo").field(&self.name).finish()
    }
}

/// A subscription a consumer makes when it starts.
pub(crate) struct Subscription<E> {
    pub(crate) to: SubscribeTo<E>,
    pub(crate) options: SubscribeOptions<E>,
}

impl<E> Clone for Subscription<E> {
    fn clone(&self) -> Self {
        Subscription {
            to: self.to.clone(),
            options: self.options.clone(),
        }
    }
}
