//! `Stage<S>`: the handle to a running stage, and `StageBuilder`, which starts one.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use arbor_actor::ractor::ActorCell;
use arbor_actor::{
    CallError, CallOutcome, Caller, Context, Exit, HandleCall, HandleCast, Naming, Outcome, Pid,
    SendError, Server, StartOptions, StopError, TimerRef,
};
use arbor_registry::{Key, Registry, RegistryError, Value};
use arbor_supervisor::{Child, ChildSpec};

use crate::runtime::{
    failed_subscription_exit, Config, Ops, ProducerConfig, Runtime, StageState, StartReply,
    SubscribeReply, UserCall, UserCast, UserInfo,
};
use crate::{
    BufferKeep, BufferSize, Consumer, DemandDispatcher, DemandMode, Dispatcher, GenStage,
    InvalidOptions, Producer, ProducerConsumer, StageCall, StageCast, StageInfo, StageStartError,
    StageStatus, SubscribeError, SubscribeOptions, SubscribeTo, SubscriptionTag,
};

/// A handle to a running stage: cheap to clone, `Send + Sync`. Like a server handle, it
/// names one incarnation; reach a restarted stage by name through a registry.
///
/// # Examples
///
/// ```
/// use arbor_actor::{Exit, Init, Outcome};
/// use arbor_stage::{BufferSize, GenStage, NoEvents, Producer, Stage, StageCast, StageContext};
///
/// /// Emits what it is cast, when consumers ask (the book's `PageProducer`).
/// struct Pages;
/// impl GenStage for Pages {
///     type Args = ();
///     type State = ();
///     type In = NoEvents;
///     type Out = String;
///     async fn init(&self, _: (), _ctx: &mut StageContext<Self>) -> Init<()> { Init::Ready(()) }
/// }
/// impl Producer for Pages {
///     async fn handle_demand(&self, _: usize, _: &mut (), _: &mut StageContext<Self>) -> Outcome {
///         Outcome::NoReply
///     }
/// }
/// struct Scrape(Vec<String>);
/// impl StageCast<Scrape> for Pages {
///     async fn handle_cast(&self, Scrape(pages): Scrape, _: &mut (), ctx: &mut StageContext<Self>) -> Outcome {
///         ctx.emit_batch(pages);
///         Outcome::NoReply
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pages: Stage<Pages> = Stage::producer(Pages, ())
///     .name("page_producer")
///     .buffer_size(BufferSize::Bounded(2))
///     .start()
///     .await?;
/// pages.cast(Scrape(vec!["a.com".into(), "b.com".into(), "c.com".into()]))?;
/// // No consumer yet: two pages wait in the buffer, the oldest was discarded.
/// assert_eq!(pages.buffered_count().await?, 2);
/// assert_eq!(pages.discarded_count().await?, 1);
/// pages.stop_and_wait(Exit::Normal, std::time::Duration::from_secs(1)).await?;
/// # Ok(())
/// # }
/// ```
pub struct Stage<S: GenStage> {
    server: Server<Runtime<S>>,
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

impl<S: GenStage> Stage<S> {
    pub(crate) fn from_server(server: Server<Runtime<S>>) -> Self {
        Stage { server }
    }

    pub(crate) fn server(&self) -> &Server<Runtime<S>> {
        &self.server
    }

    /// A producer of behaviour `stage`, to configure and start.
    pub fn producer(stage: S, args: S::Args) -> StageBuilder<S>
    where
        S: Producer,
    {
        StageBuilder::new(stage, args, Ops::producer(), BufferSize::PRODUCER_DEFAULT)
    }

    /// A producer-consumer of behaviour `stage`, to configure and start.
    pub fn producer_consumer(stage: S, args: S::Args) -> StageBuilder<S>
    where
        S: ProducerConsumer,
    {
        StageBuilder::new(
            stage,
            args,
            Ops::producer_consumer(),
            BufferSize::PRODUCER_CONSUMER_DEFAULT,
        )
    }

    /// A consumer of behaviour `stage`, to configure and start.
    pub fn consumer(stage: S, args: S::Args) -> StageBuilder<S>
    where
        S: Consumer,
    {
        StageBuilder::new(stage, args, Ops::consumer(), BufferSize::Bounded(0))
    }

    /// The stage of behaviour `S` registered under `key` in `registry`: how to reach a
    /// stage again after its supervisor restarted it.
    ///
    /// # Errors
    ///
    /// As [`Registry::server`]: no such name, or a stage of another behaviour.
    pub fn whereis<K: Key, V: Value>(
        registry: &Registry<K, V>,
        key: &K,
    ) -> Result<Self, RegistryError> {
        registry.server::<Runtime<S>>(key).map(Stage::from_server)
    }

    /// Calls the stage's [`StageCall`] handler for `M` (5 s timeout).
    ///
    /// # Errors
    ///
    /// As [`Server::call`].
    ///
    /// # Cancel safety
    ///
    /// As [`Server::call`]: dropping the future abandons the call; the request may still be
    /// handled.
    pub async fn call<M>(&self, request: M) -> Result<S::Reply, CallError>
    where
        S: StageCall<M>,
        M: Send + 'static,
    {
        self.server.call(UserCall(request)).await
    }

    /// [`Stage::call`] with its own timeout.
    ///
    /// # Errors
    ///
    /// As [`Server::call_timeout`].
    ///
    /// # Cancel safety
    ///
    /// As [`Stage::call`].
    pub async fn call_timeout<M>(
        &self,
        request: M,
        timeout: Duration,
    ) -> Result<S::Reply, CallError>
    where
        S: StageCall<M>,
        M: Send + 'static,
    {
        self.server.call_timeout(UserCall(request), timeout).await
    }

    /// Casts to the stage's [`StageCast`] handler for `M`.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the message when the stage is not running.
    pub fn cast<M>(&self, message: M) -> Result<(), SendError<M>>
    where
        S: StageCast<M>,
        M: Send + 'static,
    {
        self.server
            .cast(UserCast(message))
            .map_err(|error| SendError(error.into_inner().0))
    }

    /// Sends a plain message to the stage's [`StageInfo`] handler for `M`.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the message when the stage is not running.
    pub fn send<M>(&self, message: M) -> Result<(), SendError<M>>
    where
        S: StageInfo<M>,
        M: Send + 'static,
    {
        self.server
            .send(UserInfo(message))
            .map_err(|error| SendError(error.into_inner().0))
    }

    /// Sends `message` to the stage's [`StageInfo`] handler after `after`.
    pub fn send_after<M>(&self, after: Duration, message: M) -> TimerRef
    where
        S: StageInfo<M>,
        M: Send + 'static,
    {
        self.server.send_after(after, UserInfo(message))
    }

    /// Queues `message` for the stage's own [`StageInfo`] handler behind every event the
    /// stage holds now (gen_stage's `async_info`): a producer handles it once the events
    /// in its buffer have gone to consumers; a consumer right away. From inside the
    /// stage, use [`StageContext::async_info`](crate::StageContext::async_info).
    ///
    /// # Errors
    ///
    /// [`SendError`] with the message when the stage is not running.
    pub fn async_info<M>(&self, message: M) -> Result<(), SendError<M>>
    where
        S: StageInfo<M>,
        M: Send + 'static,
    {
        self.server
            .cast(QueueInfo(message))
            .map_err(|error| SendError(error.into_inner().0))
    }

    /// As [`async_info`](Self::async_info), returning once the message is queued
    /// (gen_stage's `sync_info`).
    ///
    /// # Errors
    ///
    /// As [`Server::call`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not withdraw the message: it is still delivered.
    pub async fn sync_info<M>(&self, message: M) -> Result<(), CallError>
    where
        S: StageInfo<M>,
        M: Send + 'static,
    {
        self.server.call(QueueInfo(message)).await
    }

    /// Sends an info the stage queued for itself; says so if the stage is gone.
    pub(crate) fn deliver_info<M>(&self, message: M)
    where
        S: StageInfo<M>,
        M: Send + 'static,
    {
        if self.server.send(UserInfo(message)).is_err() {
            tracing::warn!(stage = %self, "queued info dropped: the stage is not running");
        }
    }

    /// Subscribes this consumer to `producer` and returns once the subscription is made
    /// (gen_stage's `sync_subscribe`). If the producer is not running, a `Permanent` or
    /// `Transient` consumer stops, as in gen_stage.
    ///
    /// # Errors
    ///
    /// [`SubscribeError`]: bad options, a producer subscribing, subscribing to itself,
    /// no such producer, or this stage not answering.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not withdraw the subscription: it may still be made, and its
    /// cancel mode applies.
    pub async fn subscribe(
        &self,
        producer: impl Into<SubscribeTo<S::In>>,
        options: SubscribeOptions<S::In>,
    ) -> Result<SubscriptionTag, SubscribeError> {
        let subscription = Subscription {
            to: producer.into(),
            options,
        };
        self.server
            .call(SubscribeNow(subscription))
            .await
            .map_err(SubscribeError::Stage)?
    }

    /// Cancels subscription `tag` with `reason` and subscribes again to the same producer
    /// with `options` (gen_stage's `sync_resubscribe`); returns the new subscription once
    /// the producer has accepted it. `handle_cancel` runs for the old one, whose cancel
    /// mode does not apply.
    ///
    /// # Errors
    ///
    /// [`SubscribeError::NotSubscribed`] when this stage has no subscription `tag`; else as
    /// [`Stage::subscribe`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not withdraw the request.
    pub async fn resubscribe(
        &self,
        tag: SubscriptionTag,
        reason: Exit,
        options: SubscribeOptions<S::In>,
    ) -> Result<SubscriptionTag, SubscribeError> {
        options.demand()?;
        self.server
            .call(ResubscribeNow(tag, reason, options))
            .await
            .map_err(SubscribeError::Stage)?
    }

    /// [`Stage::resubscribe`] without waiting (gen_stage's `async_resubscribe`): failures
    /// are logged, and the new subscription's cancel mode applies.
    ///
    /// # Errors
    ///
    /// [`SubscribeError::InvalidOptions`] at once; [`SubscribeError::Stage`] when this
    /// stage is not running.
    pub fn resubscribe_async(
        &self,
        tag: SubscriptionTag,
        reason: Exit,
        options: SubscribeOptions<S::In>,
    ) -> Result<(), SubscribeError> {
        options.demand()?;
        self.server
            .cast(Control::Resubscribe(tag, reason, options))
            .map_err(|_| SubscribeError::Stage(CallError::NoProc))
    }

    /// Asks this consumer to subscribe to `producer` without waiting (gen_stage's
    /// `async_subscribe`); failures are logged, and the cancel mode applies.
    ///
    /// # Errors
    ///
    /// [`SubscribeError::InvalidOptions`] at once; [`SubscribeError::Stage`] when this
    /// stage is not running.
    pub fn subscribe_async(
        &self,
        producer: impl Into<SubscribeTo<S::In>>,
        options: SubscribeOptions<S::In>,
    ) -> Result<(), SubscribeError> {
        options.demand()?;
        let subscription = Subscription {
            to: producer.into(),
            options,
        };
        self.server
            .cast(Control::Subscribe(subscription))
            .map_err(|_| SubscribeError::Stage(CallError::NoProc))
    }

    /// Cancels subscription `tag`, on whichever side of it this stage is.
    ///
    /// # Errors
    ///
    /// [`SendError`] when the stage is not running.
    pub fn cancel(&self, tag: SubscriptionTag, reason: Exit) -> Result<(), SendError<()>> {
        self.control(Control::Cancel(tag, reason))
    }

    /// Asks the producer of subscription `tag` for `demand` events, for a consumer in
    /// manual demand mode (gen_stage's `GenStage.ask/2`). Returns once the stage has sent
    /// the ask; from the stage's own callbacks, use [`StageContext::ask`](crate::StageContext::ask).
    ///
    /// # Errors
    ///
    /// [`SubscribeError::NotSubscribed`] when this stage has no subscription `tag` (never
    /// made, or already ended); [`SubscribeError::Stage`] when it is not running.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not withdraw the ask.
    pub async fn ask(&self, tag: SubscriptionTag, demand: usize) -> Result<(), SubscribeError> {
        self.server
            .call(AskNow(tag, demand))
            .await
            .map_err(SubscribeError::Stage)?
    }

    /// [`Stage::ask`] without waiting, for the stream adapter, which asks from `poll_next`
    /// for subscriptions it holds.
    pub(crate) fn ask_nowait(
        &self,
        tag: SubscriptionTag,
        demand: usize,
    ) -> Result<(), SendError<()>> {
        self.control(Control::Ask(tag, demand))
    }

    /// Waits until the stage is drained: no event waits in its buffer (or, held by
    /// accumulate mode, for demand to be forwarded), none waits in a producer-consumer's
    /// input, and its behaviour is idle ([`GenStage::is_idle`]: a
    /// [`ConsumerSupervisor`](crate::ConsumerSupervisor) has no child running or waiting
    /// to restart). Returns at once when it already is. No timeout: wrap it in
    /// `tokio::time::timeout` to bound the wait.
    ///
    /// Events a producer has sent reach its consumers' mailboxes before the producer
    /// answers, so after a finite producer ends (or after `producer.drained()`), the
    /// consumer's `drained()` covers every event it produced: how a finite pipeline waits
    /// for its work to be done without counting events by hand.
    ///
    /// # Errors
    ///
    /// [`CallError::Exited`] when the stage stops before it is drained; as
    /// [`Server::call`] otherwise.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future only stops the waiting.
    pub async fn drained(&self) -> Result<(), CallError> {
        self.server.call_timeout(AwaitDrained, Duration::MAX).await
    }

    /// How many events wait in the producer's buffer (gen_stage's
    /// `estimate_buffered_count`).
    ///
    /// # Errors
    ///
    /// As [`Server::call`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the call only reads.
    pub async fn buffered_count(&self) -> Result<usize, CallError> {
        self.server
            .call(Inspect)
            .await
            .map(|counts| counts.buffered)
    }

    /// How many events the producer's buffer has discarded since it started (each
    /// discard is also logged, with the stage's name and the count).
    ///
    /// # Errors
    ///
    /// As [`Server::call`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the call only reads.
    pub async fn discarded_count(&self) -> Result<u64, CallError> {
        self.server
            .call(Inspect)
            .await
            .map(|counts| counts.discarded)
    }

    /// A snapshot of the stage: its kind, dispatcher, buffer, demand mode, and the stages
    /// at the other end of its subscriptions (see [`StageStatus`]).
    ///
    /// # Errors
    ///
    /// As [`Server::call`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn status(&self) -> Result<StageStatus, CallError> {
        self.server.call(Status).await
    }

    /// How many consumers are subscribed to this stage, and to how many producers it is
    /// subscribed.
    ///
    /// # Errors
    ///
    /// As [`Server::call`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the call only reads.
    pub async fn subscriptions(&self) -> Result<(usize, usize), CallError> {
        self.server
            .call(Inspect)
            .await
            .map(|counts| (counts.consumers, counts.producers))
    }

    /// The stage just started, once its initial subscriptions are accepted; a refused
    /// one fails the start with the refusal (a stage its cancel mode stopped included).
    async fn accepted(server: Server<Runtime<S>>) -> Result<Self, StageStartError> {
        // A start abandoned while the subscriptions are answered leaves no stage behind,
        // as an abandoned `Server::start` leaves no server.
        let abandoned = StopOnDrop(Some(server.clone()));
        let answer = server.call(AwaitSubscriptions).await;
        abandoned.disarm();
        let refused = match answer {
            Ok(Ok(())) => return Ok(Stage { server }),
            Ok(Err(error)) => error,
            Err(CallError::Exited(exit)) => SubscribeError::Refused(exit),
            Err(error) => SubscribeError::Stage(error),
        };
        if server.is_alive() {
            // Its cancel mode kept it running, but the start the caller asked for failed.
            let _ = server.stop(Exit::shutdown());
        }
        Err(StageStartError::Subscribe(refused))
    }

    fn control(&self, control: Control<S::In>) -> Result<(), SendError<()>> {
        self.server.cast(control).map_err(|_| SendError(()))
    }

    /// Asks the stage to stop with `reason` (see [`Server::stop`]).
    ///
    /// # Errors
    ///
    /// [`StopError::NoProc`] when it is not running.
    pub fn stop(&self, reason: Exit) -> Result<(), StopError> {
        self.server.stop(reason)
    }

    /// Asks the stage to stop and waits for it (see [`Server::stop_and_wait`]).
    ///
    /// # Errors
    ///
    /// As [`Server::stop_and_wait`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not withdraw the stop request.
    pub async fn stop_and_wait(&self, reason: Exit, timeout: Duration) -> Result<(), StopError> {
        self.server.stop_and_wait(reason, timeout).await
    }

    /// Kills the stage (see [`Server::kill`]).
    pub fn kill(&self) {
        self.server.kill();
    }

    /// Waits until the stage has stopped and returns why.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future changes nothing.
    pub async fn wait(&self) -> Exit {
        self.server.wait().await
    }

    /// `true` while the stage runs, its `terminate` included, as [`Server::is_alive`](arbor_actor::Server::is_alive)
    /// (OTP's `Process.alive?/1`); [`Pid::is_stopping`](arbor_actor::Pid::is_stopping) turns
    /// `true` as soon as its stop is decided.
    pub fn is_alive(&self) -> bool {
        self.server.is_alive()
    }

    /// An untyped reference to the stage, for registries.
    pub fn pid(&self) -> Pid {
        self.server.pid()
    }

    /// The stage's ractor cell.
    pub fn cell(&self) -> ActorCell {
        self.server.cell()
    }
}

/// What only a producer has: a demand mode (a producer-consumer's demand is its
/// consumers', and a consumer has none to forward), so the calls do not compile on the
/// other kinds.
impl<S: Producer> Stage<S> {
    /// Switches a producer's demand mode (gen_stage's `GenStage.demand/2`).
    ///
    /// # Errors
    ///
    /// [`SendError`] when the stage is not running.
    pub fn demand(&self, mode: DemandMode) -> Result<(), SendError<()>> {
        self.control(Control::Demand(mode))
    }
}

impl<S: Producer> StageBuilder<S> {
    /// Whether demand reaches `handle_demand` at once or accumulates until
    /// [`Stage::demand`] switches to forward. Default: [`DemandMode::Forward`].
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

impl<S: GenStage> Clone for Stage<S> {
    fn clone(&self) -> Self {
        Stage {
            server: self.server.clone(),
        }
    }
}

impl<S: GenStage> PartialEq for Stage<S> {
    fn eq(&self, other: &Self) -> bool {
        self.server == other.server
    }
}

impl<S: GenStage> fmt::Debug for Stage<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Stage").field(&self.pid()).finish()
    }
}

impl<S: GenStage> fmt::Display for Stage<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.pid().fmt(f)
    }
}

impl<S: GenStage> From<Stage<S>> for Child {
    fn from(stage: Stage<S>) -> Self {
        Child::from_server(stage.server)
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

    fn new(stage: S, args: S::Args, ops: Ops<S>, buffer_size: BufferSize) -> Self {
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

    fn into_parts(self) -> (Runtime<S>, S::Args, StartOptions) {
        let config = Config {
            ops: self.ops,
            producer: self.producer,
            subscribe_to: self.subscribe_to,
        };
        let runtime = Runtime {
            stage: self.stage,
            config: Arc::new(config),
        };
        (runtime, self.args, self.start)
    }

    /// Starts the stage, unlinked, and returns once its `init` and its initial
    /// subscriptions are done.
    ///
    /// # Errors
    ///
    /// [`StageStartError::InvalidOptions`] before anything starts;
    /// [`StageStartError::Start`] when `init` or a subscription fails.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the start: no stage is left running, whether `init` or the
    /// initial subscriptions were under way.
    pub async fn start(self) -> Result<Stage<S>, StageStartError> {
        self.validate()?;
        let (runtime, args, options) = self.into_parts();
        let server = Server::start_with(runtime, args, options).await?;
        Stage::accepted(server).await
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
        self.validate()?;
        let (runtime, args, options) = self.into_parts();
        let server = Server::start_with(runtime, args, options.link(supervisor)).await?;
        Stage::accepted(server).await
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
        let (runtime, args, mut options) = self.into_parts();
        if options.name.is_none() && options.via.is_none() {
            options = options.name(id.as_str());
        }
        Ok(ChildSpec::worker_with(id, runtime, args, options))
    }
}

impl<S: GenStage + Clone> Clone for Runtime<S> {
    fn clone(&self) -> Self {
        Runtime {
            stage: self.stage.clone(),
            config: Arc::clone(&self.config),
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

/// Subscribe now and answer with the tag.
struct SubscribeNow<E>(Subscription<E>);

/// Cancel a subscription and subscribe again to its producer with new options.
struct ResubscribeNow<E>(SubscriptionTag, Exit, SubscribeOptions<E>);

/// Stops a stage whose start was abandoned: dropped armed, it stops the server.
struct StopOnDrop<G: arbor_actor::GenServer>(Option<Server<G>>);

impl<G: arbor_actor::GenServer> StopOnDrop<G> {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl<G: arbor_actor::GenServer> Drop for StopOnDrop<G> {
    fn drop(&mut self) {
        if let Some(server) = self.0.take() {
            let _ = server.stop(Exit::shutdown());
        }
    }
}

/// Ask to hear once the stage is drained.
struct AwaitDrained;

/// Ask the producer of a subscription for events, answering whether it exists.
struct AskNow(SubscriptionTag, usize);

/// Requests a stage handles between callbacks.
enum Control<E> {
    Subscribe(Subscription<E>),
    Resubscribe(SubscriptionTag, Exit, SubscribeOptions<E>),
    Cancel(SubscriptionTag, Exit),
    Ask(SubscriptionTag, usize),
    Demand(DemandMode),
}

/// An info to queue behind the stage's buffered events, from `async_info` / `sync_info`.
struct QueueInfo<M>(M);

/// Ask to hear once the initial subscriptions are accepted (or one is refused).
struct AwaitSubscriptions;

/// Ask for the stage's counts.
struct Inspect;

/// Ask for the stage's status.
struct Status;

/// What [`Inspect`] answers.
struct Counts {
    buffered: usize,
    discarded: u64,
    consumers: usize,
    producers: usize,
}

impl<S: GenStage> HandleCall<SubscribeNow<S::In>> for Runtime<S> {
    type Reply = SubscribeReply;

    async fn handle_call(
        &self,
        SubscribeNow(subscription): SubscribeNow<S::In>,
        from: Caller<'_, Self::Reply>,
        state: &mut StageState<S>,
        _: &mut Context<Self>,
    ) -> CallOutcome<Self::Reply> {
        self.subscribe_for(state, subscription, from).await
    }
}

impl<S: GenStage> HandleCall<ResubscribeNow<S::In>> for Runtime<S> {
    type Reply = SubscribeReply;

    async fn handle_call(
        &self,
        ResubscribeNow(tag, reason, options): ResubscribeNow<S::In>,
        from: Caller<'_, Self::Reply>,
        state: &mut StageState<S>,
        _: &mut Context<Self>,
    ) -> CallOutcome<Self::Reply> {
        match self.leave(state, tag, reason).await {
            Ok((to, Outcome::NoReply)) => {
                self.subscribe_for(state, Subscription { to, options }, from)
                    .await
            }
            Ok((_, Outcome::Stop(exit))) => {
                self.settle_and_reply(state, Outcome::Stop(exit), None)
                    .await
            }
            Err(error) => CallOutcome::Reply(Err(error)),
        }
    }
}

impl<S: GenStage> Runtime<S> {
    /// Subscribes as `subscription` says; `from` is answered once the producer accepts or
    /// refuses.
    async fn subscribe_for(
        &self,
        state: &mut StageState<S>,
        subscription: Subscription<S::In>,
        from: Caller<'_, SubscribeReply>,
    ) -> CallOutcome<SubscribeReply> {
        let result = self.subscribe(state, &subscription).await;
        let stop = result
            .as_ref()
            .err()
            .and_then(|error| failed_subscription_exit(error, subscription.options.cancel));
        let outcome = stop.map_or(Outcome::NoReply, Outcome::Stop);
        let reply = match result {
            // The caller is answered when the producer accepts or refuses.
            Ok(tag) => {
                state
                    .consumer_mut()
                    .acceptance
                    .answer_call(tag, from.defer());
                None
            }
            Err(error) => Some(Err(error)),
        };
        self.settle_and_reply(state, outcome, reply).await
    }
}

impl<S: GenStage> HandleCast<Control<S::In>> for Runtime<S> {
    async fn handle_cast(
        &self,
        control: Control<S::In>,
        state: &mut StageState<S>,
        _: &mut Context<Self>,
    ) -> Outcome {
        match control {
            Control::Subscribe(subscription) => {
                if let Err(error) = self.subscribe(state, &subscription).await {
                    tracing::error!(stage = %state.ctx().myself(), producer = subscription.to.name(), error = &error as &dyn std::error::Error, "subscription failed");
                    if let Some(exit) =
                        failed_subscription_exit(&error, subscription.options.cancel)
                    {
                        return Outcome::Stop(exit);
                    }
                }
            }
            Control::Resubscribe(tag, reason, options) => {
                match self.leave(state, tag, reason).await {
                    Ok((to, Outcome::NoReply)) => {
                        let subscription = Subscription { to, options };
                        if let Err(error) = self.subscribe(state, &subscription).await {
                            tracing::error!(stage = %state.ctx().myself(), producer = subscription.to.name(), error = &error as &dyn std::error::Error, "resubscription failed");
                            if let Some(exit) =
                                failed_subscription_exit(&error, subscription.options.cancel)
                            {
                                return Outcome::Stop(exit);
                            }
                        }
                    }
                    Ok((_, Outcome::Stop(exit))) => return Outcome::Stop(exit),
                    Err(error) => {
                        tracing::warn!(stage = %state.ctx().myself(), error = &error as &dyn std::error::Error, "resubscription ignored");
                    }
                }
            }
            Control::Cancel(tag, reason) => state.ctx_mut().cancel(tag, reason),
            Control::Ask(tag, demand) => state.ctx_mut().ask(tag, demand),
            Control::Demand(mode) => state.ctx_mut().request_demand_mode(mode),
        }
        self.settle(state, Outcome::NoReply).await
    }
}

impl<S, M> HandleCast<QueueInfo<M>> for Runtime<S>
where
    S: StageInfo<M>,
    M: Send + 'static,
{
    async fn handle_cast(
        &self,
        QueueInfo(message): QueueInfo<M>,
        state: &mut StageState<S>,
        _: &mut Context<Self>,
    ) -> Outcome {
        if !state.queue_info(message) {
            return Outcome::NoReply;
        }
        self.settle(state, Outcome::NoReply).await
    }
}

impl<S, M> HandleCall<QueueInfo<M>> for Runtime<S>
where
    S: StageInfo<M>,
    M: Send + 'static,
{
    type Reply = ();

    async fn handle_call(
        &self,
        QueueInfo(message): QueueInfo<M>,
        _: Caller<'_, ()>,
        state: &mut StageState<S>,
        _: &mut Context<Self>,
    ) -> CallOutcome<()> {
        if !state.queue_info(message) {
            return CallOutcome::Reply(());
        }
        self.settle_and_reply(state, Outcome::NoReply, Some(()))
            .await
    }
}

impl<S: GenStage> HandleCall<AwaitSubscriptions> for Runtime<S> {
    type Reply = StartReply;

    async fn handle_call(
        &self,
        _: AwaitSubscriptions,
        from: Caller<'_, StartReply>,
        state: &mut StageState<S>,
        _: &mut Context<Self>,
    ) -> CallOutcome<StartReply> {
        state.consumer_mut().acceptance.await_start(from.defer());
        CallOutcome::NoReply
    }
}

impl<S: GenStage> HandleCall<AwaitDrained> for Runtime<S> {
    type Reply = ();

    async fn handle_call(
        &self,
        _: AwaitDrained,
        from: Caller<'_, ()>,
        state: &mut StageState<S>,
        _: &mut Context<Self>,
    ) -> CallOutcome<()> {
        state.await_drained(&self.stage, from.defer());
        CallOutcome::NoReply
    }
}

impl<S: GenStage> HandleCall<AskNow> for Runtime<S> {
    type Reply = Result<(), SubscribeError>;

    async fn handle_call(
        &self,
        AskNow(tag, demand): AskNow,
        _: Caller<'_, Self::Reply>,
        state: &mut StageState<S>,
        _: &mut Context<Self>,
    ) -> CallOutcome<Self::Reply> {
        if !state.consumer_mut().has_upstream(tag) {
            return CallOutcome::Reply(Err(SubscribeError::NotSubscribed(tag)));
        }
        state.ctx_mut().ask(tag, demand);
        self.settle_and_reply(state, Outcome::NoReply, Some(Ok(())))
            .await
    }
}

impl<S: GenStage> HandleCall<Status> for Runtime<S> {
    type Reply = StageStatus;

    async fn handle_call(
        &self,
        _: Status,
        _: Caller<'_, StageStatus>,
        state: &mut StageState<S>,
        _: &mut Context<Self>,
    ) -> CallOutcome<StageStatus> {
        CallOutcome::Reply(state.status(self.config.ops.kind))
    }
}

impl<S: GenStage> HandleCall<Inspect> for Runtime<S> {
    type Reply = Counts;

    async fn handle_call(
        &self,
        _: Inspect,
        _: Caller<'_, Counts>,
        state: &mut StageState<S>,
        _: &mut Context<Self>,
    ) -> CallOutcome<Counts> {
        CallOutcome::Reply(state.counts())
    }
}

impl<S: GenStage> StageState<S> {
    fn counts(&self) -> Counts {
        Counts {
            buffered: self.producer_buffered(),
            discarded: self.producer_discarded(),
            consumers: self.consumer_count(),
            producers: self.producer_count(),
        }
    }
}

impl<S: GenStage> arbor_registry::Resolve for Stage<S> {
    fn resolve(holder: &Pid) -> Option<Self> {
        holder.server::<Runtime<S>>().map(Stage::from_server)
    }
}
