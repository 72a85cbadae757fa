//! Builds a pipeline's supervision tree: its producers, processors, batchers and batch
//! processors as arbor stages, each started from a child spec and found again by name
//! after a restart, and the terminator that drains them at shutdown.

use std::sync::Arc;
use std::time::Duration;

use arbor_registry::Registry;
use arbor_stage::{
    BufferSize, PartitionDispatcher, Partitions, Stage, SubscribeOptions, SubscribeTo,
};
use arbor_supervisor::{ChildSpec, Restart, Supervisor, SupervisorOptions};

use crate::batcher::{Batch, BatchProcessorStage, BatcherStage};
use crate::error::{BuildError, StartError};
use crate::message::{BatcherName, Message};
use crate::options::{BatcherOptions, PartitionBy, ProcessorOptions, ProducerOptions};
use crate::pipeline::Pipeline;
use crate::processor::{Processing, ProcessorStage, RoutingProcessorStage, Shared};
use crate::producer::{MessageProducer, Transform};
use crate::rate_limit::RateLimiter;
use crate::running::{Broadway, Producers};
use crate::source::{Names, Plan, SourcePlan};
use crate::terminator::Terminator;

/// Configures and starts a pipeline (Broadway's `Broadway.start_link/2` options).
///
/// ```text
///                       pipeline (rest_for_one)
///   producer_0 … producer_p  processor_0 … processor_n  batcher_x  batch_processor_x_0 …  terminator
///        [P] ─────────────────────▶ [C] ────────────────▶ [B] ───────────▶ [BP]
/// ```
///
/// # Examples
///
/// ```
/// use arbor_broadway::{Acked, Broadway, BoxError, Message, Pipeline, ProcessorOptions, TestProducer};
///
/// struct Double;
/// impl Pipeline for Double {
///     type Data = u64;
///     type Context = ();
///     async fn handle_message(&self, _: &str, message: &mut Message<u64>, _: &()) -> Result<(), BoxError> {
///         if *message.data() == 0 {
///             return Err("zero".into());
///         }
///         *message.data_mut() *= 2;
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pipeline = Broadway::builder("double", Double, ())
///     .producer(TestProducer::new())
///     .processors(ProcessorOptions::new().concurrency(2))
///     .start()
///     .await?;
/// assert_eq!(pipeline.test_message(21).await?, Acked::Successful(42));
/// assert_eq!(pipeline.test_message(0).await?, Acked::Failed(0, "zero".into()));
/// pipeline.stop().await;
/// # Ok(())
/// # }
/// ```
pub struct BroadwayBuilder<P: Pipeline> {
    name: String,
    pipeline: Arc<P>,
    context: Arc<P::Context>,
    source: Option<Arc<dyn SourcePlan<P::Data>>>,
    producer: ProducerOptions,
    processors: ProcessorOptions<P::Data>,
    batchers: Vec<(Arc<str>, BatcherOptions<P::Data>)>,
    shutdown: Duration,
}

impl Broadway<()> {
    /// Starts configuring the pipeline `name`, running `pipeline` with `context`.
    pub fn builder<P: Pipeline>(
        name: impl Into<String>,
        pipeline: P,
        context: P::Context,
    ) -> BroadwayBuilder<P> {
        BroadwayBuilder {
            name: name.into(),
            pipeline: Arc::new(pipeline),
            context: Arc::new(context),
            source: None,
            producer: ProducerOptions::default(),
            processors: ProcessorOptions::default(),
            batchers: Vec::new(),
            shutdown: Duration::from_secs(30),
        }
    }
}

impl<P: Pipeline> BroadwayBuilder<P> {
    /// The producer, emitting messages.
    pub fn producer<Src>(self, source: Src) -> Self
    where
        Src: MessageProducer<Event = Message<P::Data>>,
    {
        self.producer_with_transformer(source, |message| message)
    }

    /// The producer, emitting raw events that `transformer` turns into messages
    /// (Broadway's `transformer`).
    pub fn producer_with_transformer<Src: MessageProducer>(
        mut self,
        source: Src,
        transformer: impl Fn(Src::Event) -> Message<P::Data> + Send + Sync + 'static,
    ) -> Self {
        let transform: Transform<Src::Event, P::Data> = Arc::new(transformer);
        self.source = Some(Arc::new(Plan {
            source: Arc::new(source),
            transform,
        }));
        self
    }

    /// The producers' options.
    pub fn producer_options(mut self, options: ProducerOptions) -> Self {
        self.producer = options;
        self
    }

    /// The processors' options.
    pub fn processors(mut self, options: ProcessorOptions<P::Data>) -> Self {
        self.processors = options;
        self
    }

    /// Adds a batcher named `name` (messages choose it with
    /// [`Message::put_batcher`]; `"default"` is the one they go to unless they do).
    pub fn batcher(
        mut self,
        name: impl Into<BatcherName>,
        options: BatcherOptions<P::Data>,
    ) -> Self {
        let name: BatcherName = name.into();
        self.batchers.push((Arc::from(&*name), options));
        self
    }

    /// How long the shutdown may take to drain the pipeline before what is left is
    /// killed (unacknowledged: the source redelivers it). Default: 30 s.
    pub fn shutdown(mut self, timeout: Duration) -> Self {
        self.shutdown = timeout;
        self
    }

    /// Starts the pipeline, unlinked; returns once every stage runs.
    ///
    /// # Errors
    ///
    /// [`StartError::Build`] for invalid options (nothing starts);
    /// [`StartError::Supervisor`] when a stage fails to start.
    pub async fn start(self) -> Result<Broadway<P::Data>, StartError> {
        let (children, producers) = self.plan()?;
        let supervisor = Supervisor::start(children, SupervisorOptions::rest_for_one()).await?;
        Ok(Broadway::new(supervisor, producers))
    }

    /// A child spec that starts the pipeline's tree under another supervisor, and the
    /// handle that reaches its producers (across restarts).
    ///
    /// # Errors
    ///
    /// [`BuildError`] for invalid options.
    pub fn child_spec(
        self,
        id: impl Into<String>,
    ) -> Result<(ChildSpec, Producers<P::Data>), BuildError> {
        let (children, producers) = self.plan()?;
        let spec = Supervisor::child_spec(id, children, SupervisorOptions::rest_for_one());
        Ok((spec, producers))
    }

    fn validate(&self) -> Result<(), BuildError> {
        self.producer.validate()?;
        self.processors.validate()?;
        for (at, (name, options)) in self.batchers.iter().enumerate() {
            options.validate(name)?;
            if self.batchers[..at].iter().any(|(other, _)| other == name) {
                return Err(BuildError::DuplicateBatcher(name.to_string()));
            }
        }
        Ok(())
    }

    /// The tree's children, in start order, and the producers' handle.
    fn plan(self) -> Result<(Vec<ChildSpec>, Producers<P::Data>), BuildError> {
        self.validate()?;
        let source = match &self.source {
            Some(source) => Arc::clone(source),
            None => return Err(BuildError::NoProducer),
        };
        let names: Names = Registry::unique(&self.name);
        let limiter = self
            .producer
            .rate_limiting
            .map(|limit| Arc::new(RateLimiter::new(limit.allowed_messages, limit.interval)));
        let shared = Shared {
            pipeline: Arc::clone(&self.pipeline),
            context: Arc::clone(&self.context),
        };
        let mut children = Vec::new();
        let mut layers: Vec<Vec<String>> = Vec::new();

        let processors = self.processors.concurrency;
        let partitions = self
            .processors
            .partition_by
            .clone()
            .map(|by| (processors, by));
        let producer_keys: Vec<String> = (0..self.producer.concurrency)
            .map(|index| format!("producer_{index}"))
            .collect();
        for (index, key) in producer_keys.iter().enumerate() {
            let spec = source
                .child_spec(&names, key, index, partitions.clone(), limiter.clone())
                .map_err(BuildError::Stage)?;
            children.push(transient(spec));
        }
        layers.push(producer_keys.clone());

        let batcher_names: Arc<[Arc<str>]> = self
            .batchers
            .iter()
            .map(|(name, _)| Arc::clone(name))
            .collect();
        let processing = Processing {
            shared: shared.clone(),
            batchers: Arc::clone(&batcher_names),
            producers: producer_keys.len(),
        };
        let processor_keys: Vec<String> = (0..processors)
            .map(|index| format!("processor_{index}"))
            .collect();
        for (index, key) in processor_keys.iter().enumerate() {
            let mut options = SubscribeOptions::new()
                .max_demand(self.processors.max_demand)
                .min_demand(self.processors.min_demand)
                .cancel(arbor_stage::Cancel::Temporary);
            if self.processors.partition_by.is_some() {
                options = options.partition(index);
            }
            let via = names.via(key.clone(), ());
            let spec = if batcher_names.is_empty() {
                let mut stage = Stage::consumer(ProcessorStage(processing.clone()), ()).via(via);
                for producer in &producer_keys {
                    stage =
                        stage.subscribe_to(source.subscribe_to(&names, producer), options.clone());
                }
                stage.child_spec(key.as_str())
            } else {
                let batchers = Arc::clone(&batcher_names);
                let route = PartitionDispatcher::maker(
                    Partitions::names(batchers.iter().cloned()),
                    |message: &Message<P::Data>| Some(message.batcher_index),
                )
                .map_err(BuildError::Stage)?;
                let mut stage =
                    Stage::producer_consumer(RoutingProcessorStage(processing.clone()), ())
                        .via(via)
                        .dispatcher(route);
                for producer in &producer_keys {
                    stage =
                        stage.subscribe_to(source.subscribe_to(&names, producer), options.clone());
                }
                stage.child_spec(key.as_str())
            };
            children.push(transient(spec.map_err(BuildError::Stage)?));
        }
        layers.push(processor_keys.clone());

        let mut batcher_keys = Vec::new();
        let mut batch_processor_keys = Vec::new();
        for (name, options) in &self.batchers {
            let key = format!("batcher_{name}");
            let stage = BatcherStage {
                name: Arc::clone(name),
                batch_size: options.batch_size,
                batch_timeout: options.batch_timeout,
                concurrency: options.concurrency,
                partition_by: options.partition_by.clone(),
                processors: processor_keys.len(),
            };
            let mut builder = Stage::producer_consumer(stage, ())
                .via(names.via(key.clone(), ()))
                .buffer_size(BufferSize::Unbounded);
            if options.partition_by.is_some() {
                let by_partition = PartitionDispatcher::maker(
                    Partitions::count(options.concurrency),
                    |batch: &Batch<P::Data>| Some(batch.info.partition.unwrap_or(0)),
                )
                .map_err(BuildError::Stage)?;
                builder = builder.dispatcher(by_partition);
            }
            let upstream = SubscribeOptions::new()
                .max_demand(options.batch_size.max(2))
                .cancel(arbor_stage::Cancel::Temporary)
                .partition(&**name);
            for processor in &processor_keys {
                let to =
                    SubscribeTo::via::<RoutingProcessorStage<P>, _, _>(&names, processor.clone());
                builder = builder.subscribe_to(to, upstream.clone());
            }
            children.push(transient(
                builder
                    .child_spec(key.as_str())
                    .map_err(BuildError::Stage)?,
            ));
            for index in 0..options.concurrency {
                let bp_key = format!("batch_processor_{name}_{index}");
                let mut downstream = SubscribeOptions::new()
                    .max_demand(1)
                    .min_demand(0)
                    .cancel(arbor_stage::Cancel::Temporary);
                if options.partition_by.is_some() {
                    downstream = downstream.partition(index);
                }
                let to = SubscribeTo::via::<BatcherStage<P::Data>, _, _>(&names, key.clone());
                let spec = Stage::consumer(
                    BatchProcessorStage {
                        shared: shared.clone(),
                    },
                    (),
                )
                .via(names.via(bp_key.clone(), ()))
                .subscribe_to(to, downstream)
                .child_spec(bp_key.as_str())
                .map_err(BuildError::Stage)?;
                children.push(transient(spec));
                batch_processor_keys.push(bp_key);
            }
            batcher_keys.push(key);
        }
        layers.push(batcher_keys);
        layers.push(batch_processor_keys);

        let terminator = Terminator {
            source: Arc::clone(&source),
            names: names.clone(),
            layers: Arc::new(layers),
            deadline: self.shutdown,
        };
        // Last to start, so first to stop: its terminate drains the others.
        children.push(terminator.child_spec());
        let producers = Producers::new(source, names, producer_keys.into());
        Ok((children, producers))
    }
}

/// A stage restarts only after a crash: at shutdown it ends normally, drained.
fn transient(spec: ChildSpec) -> ChildSpec {
    spec.restart(Restart::Transient)
}

/// How producers route to partitioned processors: one partition per processor.
pub(crate) type ProcessorPartitions<T> = Option<(usize, PartitionBy<T>)>;

impl<P: Pipeline> std::fmt::Debug for BroadwayBuilder<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BroadwayBuilder")
            .field("name", &self.name)
            .field("producer", &self.producer)
            .field("processors", &self.processors)
            .field("batchers", &self.batchers)
            .field("shutdown", &self.shutdown)
            .finish_non_exhaustive()
    }
}
