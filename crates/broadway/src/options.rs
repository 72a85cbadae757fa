//! The pipeline's options, grouped as Broadway's are: the producer's, the processors',
//! and each batcher's. Every default is written on its field.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::error::BuildError;
use crate::message::Message;

/// Picks a partition for a message: messages with the same key go to the same stage,
/// one after the other (Broadway's `partition_by`).
pub struct PartitionBy<T> {
    key: KeyFn<T>,
}

type KeyFn<T> = Arc<dyn Fn(&Message<T>) -> u64 + Send + Sync>;

impl<T> PartitionBy<T> {
    /// Partitions by `key(message) % stages`.
    pub fn new(key: impl Fn(&Message<T>) -> u64 + Send + Sync + 'static) -> Self {
        PartitionBy { key: Arc::new(key) }
    }

    /// The partition of `message` among `stages` (at least 1).
    pub(crate) fn partition(&self, message: &Message<T>, stages: usize) -> usize {
        let stages = stages.max(1) as u64;
        // The remainder is below `stages`, itself a usize.
        ((self.key)(message) % stages) as usize
    }
}

impl<T> Clone for PartitionBy<T> {
    fn clone(&self) -> Self {
        PartitionBy {
            key: Arc::clone(&self.key),
        }
    }
}

impl<T> fmt::Debug for PartitionBy<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PartitionBy").finish_non_exhaustive()
    }
}

/// At most `allowed_messages` per `interval`, across all producers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimiting {
    /// Messages allowed in each interval.
    pub allowed_messages: usize,
    /// The interval's length.
    pub interval: Duration,
}

/// The producers' options.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use arbor_broadway::ProducerOptions;
///
/// let options = ProducerOptions::new().concurrency(2).rate_limiting(100, Duration::from_secs(1));
/// assert_eq!(options.concurrency, 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerOptions {
    /// How many producer stages run. Default: 1.
    pub concurrency: usize,
    /// A limit on how many messages all producers emit per interval. Default: none.
    pub rate_limiting: Option<RateLimiting>,
}

impl Default for ProducerOptions {
    fn default() -> Self {
        ProducerOptions {
            concurrency: 1,
            rate_limiting: None,
        }
    }
}

impl ProducerOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets how many producer stages run.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Emits at most `allowed_messages` per `interval`, across all producers.
    pub fn rate_limiting(mut self, allowed_messages: usize, interval: Duration) -> Self {
        self.rate_limiting = Some(RateLimiting {
            allowed_messages,
            interval,
        });
        self
    }

    pub(crate) fn validate(&self) -> Result<(), BuildError> {
        if self.concurrency == 0 {
            return Err(BuildError::ZeroConcurrency("producers".into()));
        }
        match self.rate_limiting {
            Some(limit) if limit.allowed_messages == 0 || limit.interval.is_zero() => {
                Err(BuildError::InvalidRateLimit(limit))
            }
            _ => Ok(()),
        }
    }
}

/// The processors' options.
///
/// # Examples
///
/// ```
/// use arbor_broadway::ProcessorOptions;
///
/// let options = ProcessorOptions::<String>::new().concurrency(4).max_demand(10).min_demand(5);
/// assert_eq!(options.max_demand - options.min_demand, 5); // the chunk size
/// ```
pub struct ProcessorOptions<T> {
    /// How many processor stages run. Default: twice the machine's parallelism.
    pub concurrency: usize,
    /// The demand each processor keeps asked of each producer. Default: 10.
    pub max_demand: usize,
    /// The demand below which it asks again. Default: 5.
    pub min_demand: usize,
    /// Sends the messages of one key to one processor. Default: none.
    pub partition_by: Option<PartitionBy<T>>,
}

impl<T> Default for ProcessorOptions<T> {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        ProcessorOptions {
            concurrency: cores * 2,
            max_demand: 10,
            min_demand: 5,
            partition_by: None,
        }
    }
}

impl<T> ProcessorOptions<T> {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets how many processor stages run.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Sets `max_demand`.
    pub fn max_demand(mut self, max_demand: usize) -> Self {
        self.max_demand = max_demand;
        self
    }

    /// Sets `min_demand`.
    pub fn min_demand(mut self, min_demand: usize) -> Self {
        self.min_demand = min_demand;
        self
    }

    /// Routes messages to processors by `key(message) % concurrency`.
    pub fn partition_by(
        mut self,
        key: impl Fn(&Message<T>) -> u64 + Send + Sync + 'static,
    ) -> Self {
        self.partition_by = Some(PartitionBy::new(key));
        self
    }

    pub(crate) fn validate(&self) -> Result<(), BuildError> {
        if self.concurrency == 0 {
            return Err(BuildError::ZeroConcurrency("processors".into()));
        }
        if self.max_demand == 0 || self.min_demand >= self.max_demand {
            return Err(BuildError::InvalidDemand {
                min_demand: self.min_demand,
                max_demand: self.max_demand,
            });
        }
        Ok(())
    }
}

impl<T> Clone for ProcessorOptions<T> {
    fn clone(&self) -> Self {
        ProcessorOptions {
            concurrency: self.concurrency,
            max_demand: self.max_demand,
            min_demand: self.min_demand,
            partition_by: self.partition_by.clone(),
        }
    }
}

impl<T> fmt::Debug for ProcessorOptions<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessorOptions")
            .field("concurrency", &self.concurrency)
            .field("max_demand", &self.max_demand)
            .field("min_demand", &self.min_demand)
            .field("partition_by", &self.partition_by.is_some())
            .finish()
    }
}

/// One batcher's options.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use arbor_broadway::BatcherOptions;
///
/// let options = BatcherOptions::<String>::new().batch_size(75).batch_timeout(Duration::from_secs(2));
/// assert_eq!(options.batch_size, 75);
/// ```
pub struct BatcherOptions<T> {
    /// The most messages a batch holds. Default: 100.
    pub batch_size: usize,
    /// How long a batch waits for more messages, from its first one. Default: 1 s.
    pub batch_timeout: Duration,
    /// How many batch processors run `handle_batch` for this batcher. Default: 1.
    pub concurrency: usize,
    /// Sends the messages of one key to one batch processor. Default: none.
    pub partition_by: Option<PartitionBy<T>>,
}

impl<T> Default for BatcherOptions<T> {
    fn default() -> Self {
        BatcherOptions {
            batch_size: 100,
            batch_timeout: Duration::from_secs(1),
            concurrency: 1,
            partition_by: None,
        }
    }
}

impl<T> BatcherOptions<T> {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the batch size.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Sets the batch timeout.
    pub fn batch_timeout(mut self, batch_timeout: Duration) -> Self {
        self.batch_timeout = batch_timeout;
        self
    }

    /// Sets how many batch processors run.
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency;
        self
    }

    /// Routes messages to batch processors by `key(message) % concurrency`.
    pub fn partition_by(
        mut self,
        key: impl Fn(&Message<T>) -> u64 + Send + Sync + 'static,
    ) -> Self {
        self.partition_by = Some(PartitionBy::new(key));
        self
    }

    pub(crate) fn validate(&self, name: &str) -> Result<(), BuildError> {
        if self.concurrency == 0 {
            return Err(BuildError::ZeroConcurrency(format!("batcher {name:?}")));
        }
        if self.batch_size == 0 {
            return Err(BuildError::ZeroBatchSize(name.to_owned()));
        }
        if self.batch_timeout.is_zero() {
            return Err(BuildError::ZeroBatchTimeout(name.to_owned()));
        }
        Ok(())
    }
}

impl<T> Clone for BatcherOptions<T> {
    fn clone(&self) -> Self {
        BatcherOptions {
            batch_size: self.batch_size,
            batch_timeout: self.batch_timeout,
            concurrency: self.concurrency,
            partition_by: self.partition_by.clone(),
        }
    }
}

impl<T> fmt::Debug for BatcherOptions<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatcherOptions")
            .field("batch_size", &self.batch_size)
            .field("batch_timeout", &self.batch_timeout)
            .field("concurrency", &self.concurrency)
            .field("partition_by", &self.partition_by.is_some())
            .finish()
    }
}
