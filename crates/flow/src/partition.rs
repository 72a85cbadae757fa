//! `PartitionOptions`: how many stages a partition has, how events are routed to them,
//! their demand, and their window.

use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

use arbor_stage::{InvalidOptions, PartitionDispatcher, Partitions};

use crate::materialize::{partition_of, Demand, DispatcherMaker};
use crate::Window;

/// Builds, for a partition of so many stages, what makes each producer's dispatcher. Made
/// where the user's key or hash still has its type, so that it is inlined in the
/// dispatcher's loop over a batch rather than called through a pointer per event.
type Router<T> = Arc<dyn Fn(usize) -> Result<DispatcherMaker<T>, InvalidOptions> + Send + Sync>;

/// A [`Router`] over `hash`, which names an event's stage among `stages` (or none).
fn router<T: 'static>(
    hash: impl Fn(&T, usize) -> Option<usize> + Clone + Send + Sync + 'static,
) -> Router<T> {
    Arc::new(move |stages| {
        let hash = hash.clone();
        let maker = PartitionDispatcher::maker(Partitions::count(stages), move |event: &T| {
            hash(event, stages)
        })?;
        let maker: DispatcherMaker<T> = Arc::new(maker);
        Ok(maker)
    })
}

/// How a partition routes events to its stages.
pub(crate) enum Routing<T> {
    /// Not set: any stage (a shuffle, or a one-stage partition).
    Any,
    /// The stage a key hashes to.
    Key(Router<T>),
    /// The stage a hash function names (or none: dropped).
    Hash(Router<T>),
}

impl<T> Clone for Routing<T> {
    fn clone(&self) -> Self {
        match self {
            Routing::Any => Routing::Any,
            Routing::Key(router) => Routing::Key(Arc::clone(router)),
            Routing::Hash(router) => Routing::Hash(Arc::clone(router)),
        }
    }
}

impl<T> Routing<T> {
    /// What makes the dispatcher of each producer feeding `stages` stages (`None`: any
    /// stage takes any event).
    pub(crate) fn dispatcher(
        &self,
        stages: usize,
    ) -> Result<Option<DispatcherMaker<T>>, InvalidOptions> {
        match self {
            Routing::Any => Ok(None),
            Routing::Key(router) | Routing::Hash(router) => router(stages).map(Some),
        }
    }
}

/// Options of [`Flow::partition`](crate::Flow::partition) (Elixir's `Flow.partition/2`
/// options): stages, routing, demand, window. Every field has a default.
///
/// # Options
///
/// - `stages`: how many stages. Default: the number of cores.
/// - routing: [`new`](Self::new) hashes the whole event; [`by_key`](Self::by_key) a key
///   (a function, or a field through a closure); [`by_hash`](Self::by_hash) names the
///   stage itself, or drops the event with `None` (a stage index out of range fails the
///   flow). With one stage none is consulted.
/// - `max_demand` / `min_demand`: each stage's subscriptions. Default: arbor-stage's
///   (1000, and half of `max_demand`).
/// - `window`: see [`Window`]. Default: global.
///
/// # Examples
///
/// ```
/// use arbor_flow::PartitionOptions;
///
/// let by_country = PartitionOptions::by_key(|(country, _): &(String, u32)| country.clone())
///     .stages(4)
///     .max_demand(500);
/// # let _ = by_country;
/// ```
pub struct PartitionOptions<T> {
    pub(crate) stages: Option<usize>,
    pub(crate) routing: Routing<T>,
    pub(crate) demand: Demand,
    pub(crate) window: Window<T>,
}

impl<T: Hash + 'static> PartitionOptions<T> {
    /// Routes each event by the hash of the whole event (Flow's default).
    pub fn new() -> Self {
        Self::with(Routing::Key(router(|event: &T, stages| {
            Some(partition_of(event, stages))
        })))
    }
}

impl<T: Hash + 'static> Default for PartitionOptions<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: 'static> PartitionOptions<T> {
    fn with(routing: Routing<T>) -> Self {
        PartitionOptions {
            stages: None,
            routing,
            demand: Demand::default(),
            window: Window::global(),
        }
    }

    /// Routes each event by the hash of `key(event)`: events with equal keys meet in the
    /// same stage.
    pub fn by_key<K: Hash>(key: impl Fn(&T) -> K + Send + Sync + 'static) -> Self {
        let key = Arc::new(key);
        Self::with(Routing::Key(router(move |event, stages| {
            Some(partition_of(&key(event), stages))
        })))
    }

    /// Routes each event to the stage `hash` names; `None` drops the event (counted and
    /// logged by the upstream producer). An index of `stages` or more fails the flow.
    pub fn by_hash(hash: impl Fn(&T) -> Option<usize> + Send + Sync + 'static) -> Self {
        let hash = Arc::new(hash);
        Self::with(Routing::Hash(router(move |event, _| hash(event))))
    }

    /// For [`Flow::shuffle`](crate::Flow::shuffle): no routing, any stage takes any event.
    pub fn any() -> Self {
        Self::with(Routing::Any)
    }

    /// How many stages. Default: the number of cores.
    pub fn stages(mut self, stages: usize) -> Self {
        self.stages = Some(stages);
        self
    }

    /// Each stage's `max_demand` per producer.
    pub fn max_demand(mut self, max_demand: usize) -> Self {
        self.demand.max = Some(max_demand);
        self
    }

    /// Each stage's `min_demand` per producer.
    pub fn min_demand(mut self, min_demand: usize) -> Self {
        self.demand.min = Some(min_demand);
        self
    }

    /// The partition's window. Default: [`Window::global`].
    pub fn window(mut self, window: Window<T>) -> Self {
        self.window = window;
        self
    }
}

impl<T> fmt::Debug for PartitionOptions<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let routing = match self.routing {
            Routing::Any => "any",
            Routing::Key(_) => "key",
            Routing::Hash(_) => "hash",
        };
        f.debug_struct("PartitionOptions")
            .field("stages", &self.stages)
            .field("routing", &routing)
            .field("demand", &self.demand)
            .field("window", &self.window)
            .finish()
    }
}

/// The default number of stages: the cores this process may use.
pub(crate) fn default_stages() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
