//! A dispatcher that routes each event to the one consumer of the partition a hash
//! function picks.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;
use std::vec;

use crate::{
    DispatchError, Dispatcher, InfoToken, InvalidOptions, Outbox, PartitionKey, Subscriber,
    SubscriptionTag,
};

/// The partitions of a [`PartitionDispatcher`]: a count, or a list of names.
///
/// # Examples
///
/// ```
/// use arbor_stage::Partitions;
///
/// assert_eq!(Partitions::count(4).len(), 4);
/// assert_eq!(Partitions::names(["odd", "even"]).len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Partitions {
    /// Partitions `0..n`, named by index.
    Count(usize),
    /// One partition per name, in this order; the hash function names them by name or
    /// by their index in this list.
    Names(Vec<Arc<str>>),
}

impl Partitions {
    /// Partitions `0..n`.
    pub fn count(n: usize) -> Self {
        Partitions::Count(n)
    }

    /// One partition per name.
    pub fn names<S: Into<Arc<str>>>(names: impl IntoIterator<Item = S>) -> Self {
        Partitions::Names(names.into_iter().map(Into::into).collect())
    }

    /// How many partitions there are.
    pub fn len(&self) -> usize {
        match self {
            Partitions::Count(n) => *n,
            Partitions::Names(names) => names.len(),
        }
    }

    /// Whether there are none (which a dispatcher refuses).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn validate(&self) -> Result<(), InvalidOptions> {
        if self.is_empty() {
            return Err(InvalidOptions::NoPartitions);
        }
        if let Partitions::Names(names) = self {
            for (at, name) in names.iter().enumerate() {
                if names[..at].contains(name) {
                    return Err(InvalidOptions::DuplicatePartition(Arc::clone(name)));
                }
            }
        }
        Ok(())
    }
}

/// How a partition dispatcher's hash names the partition an event goes to: by index
/// (`usize`), or, for partitions made from names, by name (`&str`, `String`, `Arc<str>`),
/// or with a [`PartitionKey`], the way subscribers name theirs.
///
/// An index is checked with one comparison; a name is looked up in the list of names at
/// each event, so prefer indexes on a hot path.
pub trait ToPartition {
    /// The index of the partition this names among `partitions`, whose names are `names`
    /// (empty for partitions made by count).
    ///
    /// # Errors
    ///
    /// [`DispatchError::PartitionOutOfRange`] for an index past the last partition,
    /// [`DispatchError::UnknownPartition`] for a name that is not one of `names`.
    fn partition_index(
        &self,
        partitions: usize,
        names: &[Arc<str>],
    ) -> Result<usize, DispatchError>;
}

impl ToPartition for usize {
    fn partition_index(&self, partitions: usize, _: &[Arc<str>]) -> Result<usize, DispatchError> {
        if *self < partitions {
            Ok(*self)
        } else {
            Err(DispatchError::PartitionOutOfRange {
                index: *self,
                partitions,
            })
        }
    }
}

impl ToPartition for str {
    fn partition_index(&self, _: usize, names: &[Arc<str>]) -> Result<usize, DispatchError> {
        names
            .iter()
            .position(|name| **name == *self)
            .ok_or_else(|| DispatchError::UnknownPartition(PartitionKey::from(self)))
    }
}

impl<T: ToPartition + ?Sized> ToPartition for &T {
    fn partition_index(
        &self,
        partitions: usize,
        names: &[Arc<str>],
    ) -> Result<usize, DispatchError> {
        (**self).partition_index(partitions, names)
    }
}

impl ToPartition for String {
    fn partition_index(
        &self,
        partitions: usize,
        names: &[Arc<str>],
    ) -> Result<usize, DispatchError> {
        self.as_str().partition_index(partitions, names)
    }
}

impl ToPartition for Arc<str> {
    fn partition_index(
        &self,
        partitions: usize,
        names: &[Arc<str>],
    ) -> Result<usize, DispatchError> {
        (**self).partition_index(partitions, names)
    }
}

impl ToPartition for PartitionKey {
    fn partition_index(
        &self,
        partitions: usize,
        names: &[Arc<str>],
    ) -> Result<usize, DispatchError> {
        match self {
            PartitionKey::Index(index) => index.partition_index(partitions, names),
            PartitionKey::Name(name) => name.partition_index(partitions, names),
        }
    }
}

/// The user's hash, wrapped in the loop that routes a batch with it: one call through a
/// pointer per batch, with the hash inlined in the loop, rather than one per event.
type RouteFn<E> = Arc<dyn Fn(&mut vec::IntoIter<E>, &mut Routing<E>) + Send + Sync>;

/// A batch being routed: the per-partition batches, and what the routing left.
struct Routing<E> {
    routed: Vec<Vec<E>>,
    /// Events still owed to consumers: the routing stops once none are.
    waiting: usize,
    /// Events the hash routed nowhere.
    dropped: usize,
    /// The partition the hash named that does not exist: the routing stopped at it.
    invalid: Option<DispatchError>,
}

/// Wraps the user's `hash` in the loop that routes a batch, each answer checked against
/// the partitions.
fn router<E, P: ToPartition>(
    count: usize,
    names: &[Arc<str>],
    hash: impl Fn(&E) -> Option<P> + Send + Sync + 'static,
) -> RouteFn<E> {
    let names: Arc<[Arc<str>]> = names.into();
    Arc::new(
        move |events: &mut vec::IntoIter<E>, routing: &mut Routing<E>| {
            // Counted in a local: the field would be stored back at every event.
            let mut waiting = routing.waiting;
            while waiting > 0 {
                let Some(event) = events.next() else { break };
                let Some(partition) = hash(&event) else {
                    routing.dropped += 1;
                    continue;
                };
                match partition.partition_index(count, &names) {
                    // Always there: the index was checked against `count`. Were it not,
                    // the event would be counted as dropped, not lost silently.
                    Ok(index) => match routing.routed.get_mut(index) {
                        Some(batch) => {
                            batch.push(event);
                            waiting -= 1;
                        }
                        None => routing.dropped += 1,
                    },
                    Err(error) => {
                        routing.invalid = Some(error);
                        break;
                    }
                }
            }
            routing.waiting = waiting;
        },
    )
}

/// Routes each event to the consumer of one partition, chosen by a hash function
/// (gen_stage's `GenStage.PartitionDispatcher`).
///
/// Each partition has at most one consumer, which names it when subscribing
/// ([`Subscriber::partition`]). The hash function maps an event to a partition, named as
/// subscribers name them (an index, or a name: see [`ToPartition`]), or to `None` to drop
/// it (counted in [`Outbox::discard`]). A partition that does not exist is a programming
/// error: the dispatcher reports it with [`Outbox::fail`], and the producer stops with
/// [`DispatchError::PartitionOutOfRange`] or [`DispatchError::UnknownPartition`]
/// (gen_stage crashes too).
///
/// The dispatcher takes events as long as the total demand it forwarded upstream is not
/// met, whatever partition they hash to. Events for a partition whose consumer has no
/// demand (or that has no consumer yet) wait in that partition's queue, inside the
/// dispatcher, until its consumer asks. Info messages wait behind the queued events.
/// When a consumer cancels, the events queued for it are discarded (counted) and asked
/// for again upstream, as gen_stage does; the partition itself stays, ready for a new
/// consumer.
///
/// # Options
///
/// - partitions: [`Partitions::Count`] or [`Partitions::Names`]; at least one, names
///   unique.
/// - hash: `Fn(&E) -> Option<P>` where `P` names a partition ([`ToPartition`]: an index,
///   a name, a [`PartitionKey`]); [`hashed`](Self::hashed) uses [`Hash`] instead.
///
/// # Examples
///
/// ```
/// use arbor_stage::{Dispatcher, PartitionDispatcher, PartitionKey, Partitions, Subscriber, SubscriptionTag};
/// use arbor_stage::plumbing::{Outbox};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut dispatcher = PartitionDispatcher::new(Partitions::names(["even", "odd"]), |n: &u32| {
///     let parity = if n % 2 == 0 { "even" } else { "odd" };
///     (*n != 0).then_some(parity) // 0 is dropped
/// })?;
/// let (even, odd) = (SubscriptionTag::new(1), SubscriptionTag::new(2));
/// let mut out = Outbox::new();
/// dispatcher.subscribe(Subscriber::new(even, 10).partition(PartitionKey::from("even")))?;
/// dispatcher.subscribe(Subscriber::new(odd, 10).partition(PartitionKey::from("odd")))?;
/// dispatcher.ask(even, 5, &mut out)?;
/// dispatcher.ask(odd, 1, &mut out)?;
///
/// assert!(dispatcher.dispatch(vec![0, 1, 2, 3, 4], &mut out).is_empty());
/// assert_eq!(out.take_batches(), vec![(even, vec![2, 4]), (odd, vec![1])]);
/// assert_eq!(out.take_discarded(), 1);
/// assert_eq!(dispatcher.queued(), 1); // 3 waits until `odd` asks again
/// dispatcher.ask(odd, 1, &mut out)?;
/// assert_eq!(out.take_batches(), vec![(odd, vec![3])]);
/// # Ok(())
/// # }
/// ```
///
/// # Pitfalls
///
/// Partitions should receive about the same share of events. The producer cannot tell
/// which partition a demand is for, so a busy partition takes events asked for by the
/// others, and its queue grows while theirs starve. Short spikes are fine; a lasting
/// skew is not.
pub struct PartitionDispatcher<E> {
    partitions: Vec<Partition<E>>,
    /// Empty when the partitions were made by count.
    names: Vec<Arc<str>>,
    route: RouteFn<E>,
    subscriptions: HashMap<SubscriptionTag, usize>,
    /// Demand forwarded upstream and not yet met by dispatched events.
    waiting: usize,
    /// Demand forwarded upstream on behalf of consumers that have since cancelled
    /// (gen_stage's `pending`).
    orphaned: usize,
    infos: InfoBoard,
}

impl<E> PartitionDispatcher<E> {
    /// A dispatcher over `partitions`, routing each event to the partition `hash` names
    /// (`None` drops the event).
    ///
    /// # Errors
    ///
    /// [`InvalidOptions::NoPartitions`] for zero partitions,
    /// [`InvalidOptions::DuplicatePartition`] for a name given twice.
    pub fn new<P: ToPartition>(
        partitions: Partitions,
        hash: impl Fn(&E) -> Option<P> + Send + Sync + 'static,
    ) -> Result<Self, InvalidOptions> {
        let (count, names) = Self::checked(partitions)?;
        let route = router(count, &names, hash);
        Ok(Self::from_parts(count, names, route))
    }

    /// Checks `partitions` once and returns what builds a fresh dispatcher over them for
    /// each incarnation of a producer: what [`StageBuilder::dispatcher`] takes, with no
    /// error left to handle inside it.
    ///
    /// ```
    /// use arbor_stage::{PartitionDispatcher, Partitions, Stage};
    /// # use arbor_stage::{GenStage, NoEvents, Producer, StageContext};
    /// # use arbor_actor::{Init, Outcome};
    /// # struct Numbers;
    /// # impl GenStage for Numbers {
    /// #     type Args = ();
    /// #     type State = ();
    /// #     type In = NoEvents;
    /// #     type Out = u64;
    /// #     async fn init(&self, _: (), _: &mut StageContext<Self>) -> Init<()> { Init::Ready(()) }
    /// # }
    /// # impl Producer for Numbers {
    /// #     async fn handle_demand(&self, _: usize, _: &mut (), _: &mut StageContext<Self>) -> Outcome { Outcome::NoReply }
    /// # }
    ///
    /// # fn main() -> Result<(), arbor_stage::InvalidOptions> {
    /// let by_parity = PartitionDispatcher::maker(Partitions::count(2), |n: &u64| Some((n % 2) as usize))?;
    /// let _builder = Stage::producer(Numbers, ()).dispatcher(by_parity);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    ///
    /// [`StageBuilder::dispatcher`]: crate::StageBuilder::dispatcher
    pub fn maker<P: ToPartition>(
        partitions: Partitions,
        hash: impl Fn(&E) -> Option<P> + Send + Sync + 'static,
    ) -> Result<impl Fn() -> Self + Send + Sync + 'static, InvalidOptions>
    where
        E: 'static,
    {
        let (count, names) = Self::checked(partitions)?;
        let route = router(count, &names, hash);
        Ok(move || Self::from_parts(count, names.clone(), Arc::clone(&route)))
    }

    /// The partition count and names of valid `partitions`.
    fn checked(partitions: Partitions) -> Result<(usize, Vec<Arc<str>>), InvalidOptions> {
        partitions.validate()?;
        Ok(match partitions {
            Partitions::Count(n) => (n, Vec::new()),
            Partitions::Names(names) => (names.len(), names),
        })
    }

    fn from_parts(count: usize, names: Vec<Arc<str>>, route: RouteFn<E>) -> Self {
        PartitionDispatcher {
            partitions: (0..count).map(|_| Partition::new()).collect(),
            names,
            route,
            subscriptions: HashMap::new(),
            waiting: 0,
            orphaned: 0,
            infos: InfoBoard::default(),
        }
    }

    /// A dispatcher over `partitions` routing each event to `hash(event) % partitions`,
    /// with std's [`DefaultHasher`] (stable within one build of the program).
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new).
    pub fn hashed(partitions: Partitions) -> Result<Self, InvalidOptions>
    where
        E: Hash,
    {
        let count = u64::try_from(partitions.len()).unwrap_or(u64::MAX);
        Self::new(partitions, move |event: &E| {
            let mut hasher = DefaultHasher::new();
            event.hash(&mut hasher);
            let index = hasher.finish().checked_rem(count)?;
            usize::try_from(index).ok()
        })
    }

    /// How many events wait in the partitions' queues.
    pub fn queued(&self) -> usize {
        self.partitions
            .iter()
            .map(|partition| partition.events)
            .sum()
    }

    /// How many partitions there are.
    pub fn partition_count(&self) -> usize {
        self.partitions.len()
    }

    fn resolve(&self, key: &PartitionKey) -> Result<usize, DispatchError> {
        let index = match key {
            PartitionKey::Index(index) => Some(*index).filter(|&at| at < self.partitions.len()),
            PartitionKey::Name(name) => self.names.iter().position(|known| known == name),
        };
        index.ok_or_else(|| DispatchError::UnknownPartition(key.clone()))
    }
}

// By hand, so that `PartitionDispatcher<E>: Debug` does not need `E: Debug`.
impl<E> fmt::Debug for PartitionDispatcher<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartitionDispatcher")
            .field("partitions", &self.partitions)
            .field("names", &self.names)
            .field("waiting", &self.waiting)
            .field("orphaned", &self.orphaned)
            .field("infos", &self.infos)
            .finish_non_exhaustive()
    }
}

impl<E: Send + 'static> Dispatcher<E> for PartitionDispatcher<E> {
    fn name(&self) -> &'static str {
        "PartitionDispatcher"
    }

    fn subscribe(&mut self, subscriber: Subscriber<E>) -> Result<usize, DispatchError> {
        let tag = subscriber.tag;
        if self.subscriptions.contains_key(&tag) {
            return Err(DispatchError::AlreadySubscribed(tag));
        }
        let key = subscriber
            .partition
            .ok_or(DispatchError::MissingPartition)?;
        let index = self.resolve(&key)?;
        let partition = &mut self.partitions[index];
        if let Some(holder) = partition.consumer {
            return Err(DispatchError::PartitionTaken {
                partition: key,
                holder,
            });
        }
        partition.consumer = Some(tag);
        self.subscriptions.insert(tag, index);
        Ok(0)
    }

    fn cancel(&mut self, tag: SubscriptionTag, out: &mut Outbox<E>) -> usize {
        let Some(index) = self.subscriptions.remove(&tag) else {
            return 0;
        };
        let partition = &mut self.partitions[index];
        partition.consumer = None;
        let demand = std::mem::take(&mut partition.demand);
        let dropped = partition.clear(&mut self.infos, out);
        if dropped == 0 {
            self.orphaned = self.orphaned.saturating_add(demand);
            return 0;
        }
        tracing::warn!(
            subscription = %tag,
            partition = index,
            discarded = dropped,
            "partition dispatcher discarded the events queued for a cancelled consumer"
        );
        out.discard(dropped);
        // Those events used up demand other partitions asked for: ask for it again.
        self.waiting = self.waiting.saturating_add(dropped);
        dropped
    }

    fn ask(
        &mut self,
        tag: SubscriptionTag,
        demand: usize,
        out: &mut Outbox<E>,
    ) -> Result<usize, DispatchError> {
        let index = *self
            .subscriptions
            .get(&tag)
            .ok_or(DispatchError::UnknownSubscription(tag))?;
        let partition = &mut self.partitions[index];
        let unmet = partition.release(tag, demand, &mut self.infos, out);
        partition.demand = partition.demand.saturating_add(unmet);
        // Queued events used up demand other partitions asked for, so the whole ask is
        // forwarded, minus what cancelled consumers had already asked for.
        let covered = self.orphaned.min(demand);
        self.orphaned -= covered;
        let forward = demand - covered;
        self.waiting = self.waiting.saturating_add(forward);
        Ok(forward)
    }

    fn dispatch(&mut self, events: Vec<E>, out: &mut Outbox<E>) -> Vec<E> {
        let count = self.partitions.len();
        // An even spread, with some slack, saves most of the regrowth of each batch.
        let share = self.waiting.min(events.len()) / count + 16;
        let mut routing = Routing {
            routed: (0..count).map(|_| Vec::with_capacity(share)).collect(),
            waiting: self.waiting,
            dropped: 0,
            invalid: None,
        };
        let mut events = events.into_iter();
        (self.route)(&mut events, &mut routing);
        let Routing {
            routed,
            waiting,
            dropped,
            invalid,
        } = routing;
        if let Some(error) = invalid {
            // A programming error: the stage stops once what was routed before it is
            // sent, and the event it named and those after it go with the stage.
            out.fail(error);
            out.discard(1 + events.len());
            events = Vec::new().into_iter();
        }
        self.waiting = waiting;
        // A dropped event used up demand the producer was asked for, but no consumer got
        // it: ask the producer for as many again, or the partitions would wait forever.
        // (`waiting` still counts them, as the demand asked again.)
        out.discard(dropped);
        out.add_demand(dropped);
        for (partition, batch) in self.partitions.iter_mut().zip(routed) {
            partition.receive(batch, out);
        }
        events.collect()
    }

    fn info(&mut self, token: InfoToken, out: &mut Outbox<E>) {
        let holders = self.partitions.iter().filter(|p| p.events > 0).count();
        if holders == 0 {
            out.release(token);
            return;
        }
        let id = self.infos.hold(token, holders);
        for partition in self.partitions.iter_mut().filter(|p| p.events > 0) {
            partition.queue.push_back(Held::Info(id));
        }
    }
}

/// One partition: its consumer, its demand, and the events waiting for demand.
struct Partition<E> {
    consumer: Option<SubscriptionTag>,
    /// Demand not yet met; never positive while events are queued.
    demand: usize,
    /// Events waiting for demand, as they arrived in batches, with the infos dispatched
    /// after them. Never starts with an info (an info at the front is released at
    /// once), and holds no empty batch.
    queue: VecDeque<Held<E>>,
    /// How many of `queue`'s entries are events.
    events: usize,
}

enum Held<E> {
    /// Events kept as the batch they came in: released by the batch, not one by one.
    Events(std::vec::IntoIter<E>),
    /// An info waiting for the events before it; the id is an [`InfoBoard`] key.
    Info(u64),
}

impl<E> Partition<E> {
    fn new() -> Self {
        Partition {
            consumer: None,
            demand: 0,
            queue: VecDeque::new(),
            events: 0,
        }
    }

    /// Takes `batch` (events hashed here, in order): sends what the demand allows and
    /// queues the rest.
    fn receive(&mut self, mut batch: Vec<E>, out: &mut Outbox<E>) {
        let now = if self.queue.is_empty() {
            self.demand.min(batch.len())
        } else {
            0
        };
        let Some(tag) = self.consumer.filter(|_| now > 0) else {
            self.enqueue(batch);
            return;
        };
        let later = if now == batch.len() {
            Vec::new()
        } else {
            batch.split_off(now)
        };
        self.demand -= now;
        out.send(tag, batch);
        self.enqueue(later);
    }

    fn enqueue(&mut self, events: Vec<E>) {
        if !events.is_empty() {
            self.events += events.len();
            self.queue.push_back(Held::Events(events.into_iter()));
        }
    }

    /// Sends `tag` up to `demand` queued events, releasing the infos that were waiting
    /// only on them; returns the demand left unmet.
    fn release(
        &mut self,
        tag: SubscriptionTag,
        mut demand: usize,
        infos: &mut InfoBoard,
        out: &mut Outbox<E>,
    ) -> usize {
        let mut batch = Vec::new();
        loop {
            match self.queue.front_mut() {
                Some(Held::Events(queued)) if demand > 0 => {
                    let taken = demand.min(queued.len());
                    self.events -= taken;
                    demand -= taken;
                    if taken < queued.len() {
                        batch.extend(queued.by_ref().take(taken));
                    } else if let Some(Held::Events(queued)) = self.queue.pop_front() {
                        // A whole batch: as the first, it is sent in its own buffer.
                        if batch.is_empty() {
                            batch = queued.collect();
                        } else {
                            batch.extend(queued);
                        }
                    }
                }
                Some(Held::Info(id)) => {
                    infos.release(*id, out);
                    self.queue.pop_front();
                }
                _ => break,
            }
        }
        out.send(tag, batch);
        demand
    }

    /// Empties the queue, releasing its infos; returns how many events were dropped.
    fn clear(&mut self, infos: &mut InfoBoard, out: &mut Outbox<E>) -> usize {
        for held in self.queue.drain(..) {
            if let Held::Info(id) = held {
                infos.release(id, out);
            }
        }
        std::mem::take(&mut self.events)
    }
}

impl<E> fmt::Debug for Partition<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Partition")
            .field("consumer", &self.consumer)
            .field("demand", &self.demand)
            .field("queued_events", &self.events)
            .finish()
    }
}

/// Infos waiting in partition queues, with how many queues still hold each.
#[derive(Debug, Default)]
struct InfoBoard {
    held: HashMap<u64, (InfoToken, usize)>,
    next_id: u64,
}

impl InfoBoard {
    /// Records `token` as held by `holders` queues; returns the id the queues hold.
    fn hold(&mut self, token: InfoToken, holders: usize) -> u64 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.held.insert(id, (token, holders));
        id
    }

    /// One queue let go of `id`; the last one releases the token.
    fn release<E>(&mut self, id: u64, out: &mut Outbox<E>) {
        let Some((token, holders)) = self.held.get_mut(&id) else {
            return;
        };
        *holders -= 1;
        if *holders == 0 {
            out.release(*token);
            self.held.remove(&id);
        }
    }
}
