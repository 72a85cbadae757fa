//! The pipeline's errors: invalid options found before anything starts, and failures to
//! start.

use arbor_stage::InvalidOptions;
use arbor_supervisor::SupervisorError;
use thiserror::Error;

use crate::options::RateLimiting;

/// Invalid pipeline options, returned by [`BroadwayBuilder::start`](crate::BroadwayBuilder::start)
/// and [`BroadwayBuilder::child_spec`](crate::BroadwayBuilder::child_spec) before anything starts.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum BuildError {
    /// A stage group has `concurrency: 0`.
    #[error("{0} need a concurrency of at least 1")]
    ZeroConcurrency(String),
    /// A batcher has `batch_size: 0`.
    #[error("batcher {0:?} needs a batch_size of at least 1")]
    ZeroBatchSize(String),
    /// A batcher has a zero `batch_timeout`.
    #[error("batcher {0:?} needs a batch_timeout above zero")]
    ZeroBatchTimeout(String),
    /// Two batchers share a name.
    #[error("batcher {0:?} is declared twice")]
    DuplicateBatcher(String),
    /// `min_demand` is not below `max_demand`.
    #[error("processors need min_demand below max_demand, got min_demand {min_demand} and max_demand {max_demand}")]
    InvalidDemand {
        /// The `min_demand` given.
        min_demand: usize,
        /// The `max_demand` given.
        max_demand: usize,
    },
    /// A rate limit allows nothing, or has a zero interval.
    #[error("rate limiting needs allowed_messages and interval above zero, got {0:?}")]
    InvalidRateLimit(RateLimiting),
    /// The builder was given no producer.
    #[error("the pipeline has no producer")]
    NoProducer,
    /// A stage refused its options.
    #[error("invalid stage options")]
    Stage(#[source] InvalidOptions),
}

/// Returned by [`BroadwayBuilder::start`](crate::BroadwayBuilder::start).
#[derive(Debug, Error)]
pub enum StartError {
    /// The options are invalid.
    #[error("invalid pipeline options")]
    Build(#[from] BuildError),
    /// The pipeline's supervision tree failed to start (a producer's `init` failed, for
    /// instance).
    #[error("the pipeline failed to start")]
    Supervisor(#[from] SupervisorError),
}
