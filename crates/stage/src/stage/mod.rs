//! `Stage<S>`: the handle to a running stage. [`StageBuilder`] starts one; the runtime's
//! control handlers answer what the handle asks.

mod builder;
mod control;

pub use builder::StageBuilder;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use arbor_actor::ractor::ActorCell;
use arbor_actor::{CallError, Exit, Pid, SendError, Server, StopError, TimerRef};
use arbor_registry::{Key, Registry, RegistryError, Value};
use arbor_supervisor::Child;

use crate::runtime::{Ops, StageServer, StartAnswer, UserCall, UserCast, UserInfo};
use crate::subscription::Subscription;
use crate::{
    BufferSize, Consumer, DemandMode, GenStage, Producer, ProducerConsumer, StageCall, StageCast,
    StageInfo, StageStartError, StageStatus, SubscribeError, SubscribeOptions, SubscribeTo,
    SubscriptionTag, Subscriptions,
};
use control::{
    AskNow, AwaitDrained, Control, Inspect, QueueInfo, ResubscribeNow, Status, StopOnDrop,
    SubscribeNow,
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
    server: Server<StageServer<S>>,
}

impl<S: GenStage> Stage<S> {
    pub(crate) fn from_server(server: Server<StageServer<S>>) -> Self {
        Stage { server }
    }

    pub(crate) fn server(&self) -> &Server<StageServer<S>> {
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

    /// The stage a supervisor's child is, when it is a stage of behaviour `S` (as
    /// [`Supervisor::from_child`](arbor_supervisor::Supervisor::from_child) gives back a
    /// supervisor): how to use a stage found in `which_children`.
    pub fn from_child(child: &Child) -> Option<Self> {
        child.server::<StageServer<S>>().map(Stage::from_server)
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
        registry
            .server::<StageServer<S>>(key)
            .map(Stage::from_server)
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
    pub fn async_resubscribe(
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
    pub fn async_subscribe(
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
    pub async fn subscriptions(&self) -> Result<Subscriptions, CallError> {
        self.server.call(Inspect).await.map(|counts| Subscriptions {
            consumers: counts.consumers,
            producers: counts.producers,
        })
    }

    /// The stage just started, once its initial subscriptions are accepted; a refused
    /// one fails the start with the refusal (a stage its cancel mode stopped included).
    ///
    /// The stage leaves the answer in `answer` rather than in a reply, so that a stage
    /// that has stopped since (its producers accepted, delivered everything and ended,
    /// and it finished) still tells its start what its producers said.
    async fn accepted(
        server: Server<StageServer<S>>,
        answer: Arc<StartAnswer>,
    ) -> Result<Self, StageStartError> {
        // A start abandoned while the subscriptions are answered leaves no stage behind,
        // as an abandoned `Server::start` leaves no server.
        let abandoned = StopOnDrop(Some(server.clone()));
        // A start waits for its answer as long as a call would.
        let limit = arbor_actor::DEFAULT_CALL_TIMEOUT;
        let reply = tokio::select! {
            biased;
            reply = answer.known() => reply,
            exit = server.wait() => answer
                .recorded()
                .unwrap_or(Err(SubscribeError::Refused(exit))),
            () = tokio::time::sleep(limit) => Err(SubscribeError::Stage(CallError::Timeout(limit))),
        };
        abandoned.disarm();
        match reply {
            Ok(()) => Ok(Stage { server }),
            Err(refused) => {
                if server.is_alive() {
                    // Its cancel mode kept it running, but the start the caller asked for
                    // failed.
                    let _ = server.stop(Exit::shutdown());
                }
                Err(StageStartError::Subscribe(refused))
            }
        }
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
    pub fn set_demand_mode(&self, mode: DemandMode) -> Result<(), SendError<()>> {
        self.control(Control::Demand(mode))
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

impl<S: GenStage> arbor_registry::Resolve for Stage<S> {
    fn resolve(holder: &Pid) -> Option<Self> {
        holder.server::<StageServer<S>>().map(Stage::from_server)
    }
}
