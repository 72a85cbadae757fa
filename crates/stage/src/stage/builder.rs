//! `StageBuilder`: a stage's options before it starts, and the ways to start it.

use std::fmt;
use std::sync::Arc;

use arbor_actor::ractor::ActorCell;
use arbor_actor::{Naming, StartOptions};
use arbor_supervisor::{Child, ChildSpec};

use super::Stage;
use crate::runtime::{Config, Ops, ProducerConfig, StageServer, StartAnswer};
use crate::subscription::Subscription;
use crate::{
    BufferKeep, BufferSize, DemandDispatcher, DemandMode, Dispatcher, GenStage, InvalidOptions,
    Producer, StageStartError, SubscribeOptions, SubscribeTo,
};

impl<S: Producer> StageBuilder<S> {
    /// Whether demand reaches `handle_demand` at once or accumulates until
    /// [`Stage::set_demand_mode`] switches to forward. Default: [`DemandMode::Forward`].
    ///
    /// A producer's setting only: on a producer-consumer (whose demand is its consumers')
    /// it does not compile.
    ///
    /// ```compile_fail
    /// use arbor_actor::{Init, Outcome};
    /// use arbor_stage::{DemandMode, GenStage, ProducerConsumer, Stage, StageContext, SubscriptionTag};
    ///
    /// struct Relay;
    /// impl GenStage for Relay {
    ///     type Args = ();
    ///     type State = ();
    ///     type In = u64;
    ///     type Out = u64;
    ///     async fn init(&self, _: (), _ctx: &mut StageContext<Self>) -> Init<()> { Init::Ready(()) }
    /// }
    /// impl ProducerConsumer for Relay {
    ///     async fn handle_events(&self, events: Vec<u64>, _: SubscriptionTag, _: &mut (), ctx: &mut StageContext<Self>) -> Outcome {
    ///         ctx.emit_all(events);
    ///         Outcome::NoReply
    ///     }
    /// }
    ///
    /// let _ = Stage::producer_consumer(Relay, ()).demand_mode(DemandMode::Accumulate);
    /// ```
    pub fn demand_mode(mut self, mode: DemandMode) -> Self {
        self.producer.demand_mode = mode;
        self
    }
}

/// Configures a stage before it starts: its name, its producer options (dispatcher,
/// buffer, demand mode) and its subscriptions. Made by [`Stage::producer`],
/// [`Stage::producer_consumer`] and [`Stage::consumer`]; see [`Stage`] for an example.
#[must_use = "a stage builder does nothing until `start`, `start_link` or `child_spec`"]
pub struct StageBuilder<S: GenStage> {
    stage: S,
    args: S::Args,
    ops: Ops<S>,
    producer: ProducerConfig<S::Out>,
    subscribe_to: Vec<Subscription<S::In>>,
    start: StartOptions,
}

impl<S: GenStage> StageBuilder<S> {
    /// The behaviour being configured (for builder methods of one behaviour).
    pub(crate) fn stage_mut(&mut self) -> &mut S {
        &mut self.stage
    }

    pub(super) fn new(stage: S, args: S::Args, ops: Ops<S>, buffer_size: BufferSize) -> Self {
        StageBuilder {
            stage,
            args,
            ops,
            producer: ProducerConfig {
                dispatcher: Arc::new(|| Box::new(DemandDispatcher::new())),
                buffer_size,
                buffer_keep: BufferKeep::default(),
                demand_mode: DemandMode::default(),
            },
            subscribe_to: Vec::new(),
            start: StartOptions::new(),
        }
    }

    /// Names the stage in logs.
    pub fn name(mut self, name: &str) -> Self {
        self.start = self.start.name(name);
        self
    }

    /// Registers the stage in `naming` before it starts (a registry's `via` name), so
    /// consumers can subscribe to it by name.
    pub fn via(mut self, naming: impl Naming) -> Self {
        self.start = self.start.via(naming);
        self
    }

    /// The dispatcher of this producer: `make` builds a fresh one for each start.
    /// Default: [`DemandDispatcher`].
    pub fn dispatcher<D: Dispatcher<S::Out>>(
        mut self,
        make: impl Fn() -> D + Send + Sync + 'static,
    ) -> Self {
        self.producer.dispatcher = Arc::new(move || Box::new(make()));
        self
    }

    /// How many events the producer buffers when no consumer asked for them. Default:
    /// 10 000 for producers, unbounded for producer-consumers.
    pub fn buffer_size(mut self, size: BufferSize) -> Self {
        self.producer.buffer_size = size;
        self
    }

    /// Which events a full buffer keeps. Default: [`BufferKeep::Last`].
    pub fn buffer_keep(mut self, keep: BufferKeep) -> Self {
        self.producer.buffer_keep = keep;
        self
    }

    /// Subscribes the stage to `producer` when it starts (and at every restart, looking
    /// a registry name up again).
    pub fn subscribe_to(
        mut self,
        producer: impl Into<SubscribeTo<S::In>>,
        options: SubscribeOptions<S::In>,
    ) -> Self {
        self.subscribe_to.push(Subscription {
            to: producer.into(),
            options,
        });
        self
    }

    fn validate(&self) -> Result<(), InvalidOptions> {
        for subscription in &self.subscribe_to {
            subscription.options.demand()?;
        }
        Ok(())
    }

    fn into_parts(
        self,
        start_answer: Option<Arc<StartAnswer>>,
    ) -> (StageServer<S>, S::Args, StartOptions) {
        let config = Config {
            ops: self.ops,
            producer: self.producer,
            subscribe_to: self.subscribe_to,
        };
        let runtime = StageServer {
            stage: self.stage,
            config: Arc::new(config),
            start_answer,
        };
        (runtime, self.args, self.start)
    }

    /// Starts the server with `options`; a start failed by an initial subscription
    /// returns that subscription's typed error.
    async fn launch(self, link: Option<ActorCell>) -> Result<Stage<S>, StageStartError> {
        self.validate()?;
        let answer = Arc::new(StartAnswer::default());
        let (runtime, args, mut options) = self.into_parts(Some(Arc::clone(&answer)));
        if let Some(supervisor) = link {
            options = options.link(supervisor);
        }
        let start = runtime.config.ops.start;
        let server = match start(runtime, args, options).await {
            Ok(server) => server,
            Err(error) => {
                return Err(match answer.recorded() {
                    Some(Err(subscribe)) => StageStartError::Subscribe(subscribe),
                    Some(Ok(())) | None => error.into(),
                });
            }
        };
        Stage::accepted(server, answer).await
    }

    /// Starts the stage, unlinked, and returns once its `init` and its initial
    /// subscriptions are done.
    ///
    /// # Errors
    ///
    /// [`StageStartError::InvalidOptions`] before anything starts;
    /// [`StageStartError::Start`] when `init` fails; [`StageStartError::Subscribe`] with the
    /// typed [`SubscribeError`](crate::SubscribeError) when an initial subscription fails
    /// (a producer not running, a name nobody holds) or is refused, unless its cancel mode
    /// is `Temporary`.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the start: no stage is left running, whether `init` or the
    /// initial subscriptions were under way.
    pub async fn start(self) -> Result<Stage<S>, StageStartError> {
        self.launch(None).await
    }

    /// Starts the stage linked under `supervisor`.
    ///
    /// # Errors
    ///
    /// As [`StageBuilder::start`].
    ///
    /// # Cancel safety
    ///
    /// As [`StageBuilder::start`].
    pub async fn start_link(self, supervisor: ActorCell) -> Result<Stage<S>, StageStartError> {
        self.launch(Some(supervisor)).await
    }

    /// A child spec that starts this stage under a supervisor, with the same options at
    /// every restart.
    ///
    /// # Errors
    ///
    /// [`InvalidOptions`] when a subscription's options are invalid.
    pub fn child_spec(self, id: impl Into<String>) -> Result<ChildSpec, InvalidOptions>
    where
        S: Clone,
        S::Args: Clone + Sync,
    {
        self.validate()?;
        let id = id.into();
        let (runtime, args, mut options) = self.into_parts(None);
        if options.name.is_none() && options.via.is_none() {
            options = options.name(id.as_str());
        }
        // As `ChildSpec::worker_with`, with the start that gives the stage its protocol.
        let start = runtime.config.ops.start;
        Ok(ChildSpec::from_fn(id, move |supervisor| {
            let started = start(
                runtime.clone(),
                args.clone(),
                options.clone().link(supervisor),
            );
            async move { started.await.map(Child::from) }
        }))
    }
}

impl<S: GenStage + Clone> Clone for StageServer<S> {
    fn clone(&self) -> Self {
        StageServer {
            stage: self.stage.clone(),
            config: Arc::clone(&self.config),
            start_answer: self.start_answer.clone(),
        }
    }
}

impl<S: GenStage> fmt::Debug for StageBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StageBuilder")
            .field("kind", &self.ops.kind)
            .field("subscriptions", &self.subscribe_to.len())
            .finish_non_exhaustive()
    }
}
