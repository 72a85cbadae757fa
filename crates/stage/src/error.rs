//! The errors of arbor-stage's pure core, one enum per kind of refusal.

use std::sync::Arc;

use arbor_actor::{CallError, Exit, StartError};
use arbor_registry::RegistryError;

use crate::{PartitionKey, SubscriptionTag};

/// Why a [`Dispatcher`](crate::Dispatcher) refused a subscription or a demand.
///
/// Returned by [`Dispatcher::subscribe`](crate::Dispatcher::subscribe) and
/// [`Dispatcher::ask`](crate::Dispatcher::ask). The dispatcher's state is unchanged when
/// it returns an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DispatchError {
    /// `subscribe` was given a tag the dispatcher already knows.
    #[error("subscription {0} is already subscribed")]
    AlreadySubscribed(SubscriptionTag),
    /// `ask` was given a tag the dispatcher does not know (never subscribed, or cancelled).
    #[error("unknown subscription {0}")]
    UnknownSubscription(SubscriptionTag),
    /// A [`PartitionDispatcher`](crate::PartitionDispatcher) subscriber gave no partition.
    #[error("subscribing to a partition dispatcher needs a partition")]
    MissingPartition,
    /// A subscriber named a partition, but the producer's dispatcher has no partitions
    /// (it is not a [`PartitionDispatcher`](crate::PartitionDispatcher)): the option
    /// would be silently meaningless.
    #[error("partition {0} asked of a dispatcher that has no partitions")]
    NotPartitioned(PartitionKey),
    /// A [`PartitionDispatcher`](crate::PartitionDispatcher) subscriber named a partition
    /// the dispatcher does not have.
    #[error("unknown partition {0}")]
    UnknownPartition(PartitionKey),
    /// A [`PartitionDispatcher`](crate::PartitionDispatcher) subscriber named a partition
    /// that already has a consumer: each partition has at most one.
    #[error("partition {partition} is already taken by subscription {holder}")]
    PartitionTaken {
        /// The partition asked for.
        partition: PartitionKey,
        /// The subscription that holds it.
        holder: SubscriptionTag,
    },
    /// A [`PartitionDispatcher`](crate::PartitionDispatcher)'s hash routed an event to a
    /// partition that does not exist: a programming error, which stops the producer
    /// (gen_stage crashes the same way).
    #[error("the partition hash routed an event to partition {index}, but there are {partitions} partitions")]
    PartitionOutOfRange {
        /// The index the hash returned.
        index: usize,
        /// How many partitions there are.
        partitions: usize,
    },
}

/// Why options were rejected before anything started.
///
/// Returned by [`DemandCounter::new`](crate::DemandCounter::new),
/// [`DemandCounter::with_max_demand`](crate::DemandCounter::with_max_demand),
/// [`PartitionDispatcher::new`](crate::PartitionDispatcher::new) and
/// [`PartitionDispatcher::hashed`](crate::PartitionDispatcher::hashed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidOptions {
    /// `max_demand` was 0: such a consumer could never receive anything.
    #[error("max_demand must be at least 1")]
    ZeroMaxDemand,
    /// `min_demand` was not below `max_demand`.
    #[error("min_demand ({min_demand}) must be below max_demand ({max_demand})")]
    MinDemandNotBelowMax {
        /// The `min_demand` given.
        min_demand: usize,
        /// The `max_demand` given.
        max_demand: usize,
    },
    /// A partition dispatcher was given no partitions (a count of 0 or no names).
    #[error("a partition dispatcher needs at least one partition")]
    NoPartitions,
    /// A consumer supervisor was asked for permanent children: a child that always comes
    /// back would never free its demand.
    #[error("a consumer supervisor's children must be temporary or transient")]
    PermanentChildren,
    /// A partition dispatcher was given the same partition name twice.
    #[error("partition name {0:?} is given twice")]
    DuplicatePartition(Arc<str>),
    /// A consumer supervisor's restart-intensity window was 0 seconds: no restart could
    /// ever be counted against it, so a crash loop would never stop (a Supervisor refuses
    /// it too).
    #[error("a consumer supervisor's max_seconds must be at least 1")]
    ZeroRestartWindow,
    /// A consumer supervisor's per-event attempt limit was 0: no event could ever start
    /// a child.
    #[error("a consumer supervisor's max_attempts must be at least 1")]
    ZeroAttempts,
}

/// Why a consumer could not subscribe to a producer.
///
/// Returned by [`Stage::subscribe`](crate::Stage::subscribe) and
/// [`Stage::async_subscribe`](crate::Stage::async_subscribe); a subscription made at
/// start that fails this way fails the start (unless its cancel mode is `Temporary`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubscribeError {
    /// The subscription's options are invalid (`min_demand >= max_demand`, …).
    #[error(transparent)]
    InvalidOptions(#[from] InvalidOptions),
    /// A producer cannot subscribe to another stage: it has no consumer side.
    #[error("a producer cannot subscribe to another stage")]
    NotAConsumer,
    /// A stage cannot subscribe to itself.
    #[error("a stage cannot subscribe to itself")]
    SelfSubscription,
    /// The producer is not running.
    #[error("no such producer: {0} is not running")]
    NoProc(String),
    /// The producer's name did not resolve to a stage of the expected behaviour.
    #[error(transparent)]
    NotRegistered(#[from] RegistryError),
    /// The producer refused the subscription (it is not a producer, the consumer is
    /// already subscribed to it, its dispatcher refused the options), or stopped before
    /// accepting it; the reason is the cancel the consumer received.
    #[error("the producer refused the subscription: {0}")]
    Refused(Exit),
    /// `resubscribe` named a subscription this consumer does not have.
    #[error("no subscription {0} to resubscribe")]
    NotSubscribed(SubscriptionTag),
    /// The consumer stage itself did not answer the subscribe request.
    #[error("the consumer stage did not answer")]
    Stage(#[source] CallError),
}

/// Why [`StageBuilder::start`](crate::StageBuilder::start) did not return a running stage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StageStartError {
    /// An option was invalid; nothing was started.
    #[error(transparent)]
    InvalidOptions(#[from] InvalidOptions),
    /// The stage's server did not start (its `init` or an initial subscription failed).
    #[error(transparent)]
    Start(#[from] StartError),
    /// A producer refused an initial subscription (or was gone before answering): the
    /// stage is not left running.
    #[error("an initial subscription failed")]
    Subscribe(#[source] SubscribeError),
}

/// Why [`Stage::start_child`](crate::Stage::start_child) or
/// [`Stage::terminate_child`](crate::Stage::terminate_child) on a
/// [`ConsumerSupervisor`](crate::ConsumerSupervisor) failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsumerChildError {
    /// The consumer supervisor runs tasks ([`ConsumerSupervisor::tasks`](crate::ConsumerSupervisor::tasks)):
    /// it has no child spec to start an actor child from.
    #[error("a consumer supervisor of tasks has no actor children to start")]
    TaskTemplate,
    /// The child built from the event did not start (`Ignored` included: gen_stage's
    /// `:ignore`).
    #[error("child {id:?} failed to start")]
    Start {
        /// The id of the child's spec.
        id: String,
        /// Why it did not start.
        #[source]
        error: StartError,
    },
    /// The actor is not a child of this consumer supervisor (anymore).
    #[error("no child {0} in this consumer supervisor")]
    NotFound(String),
    /// The consumer supervisor could not be reached.
    #[error("consumer supervisor unreachable")]
    Supervisor(#[from] CallError),
}
