//! The server that hosts a stage of any kind: it is an arbor `GenServer`, so a stage is
//! supervised, named and stopped like any server.
//!
//! One runtime serves the three kinds. A producer uses its producer side (dispatcher,
//! buffer, demand mode), a consumer its consumer side (subscriptions, demand counters),
//! a producer-consumer both, with a queue between them so that it handles upstream
//! events only while downstream demand is open.
//!
//! Asks and events, the messages of the hot path, go through one loop (`driver`): each is
//! prepared without awaiting, then the stage's callback is awaited, then its work is
//! settled. The loop is a function returning an `async move` block rather than an
//! `async fn`: an `async fn`'s future holds each argument twice (as passed and as bound),
//! and it nests in the future that ractor moves twice per message.
#![allow(
    clippy::manual_async_fn,
    reason = "an async block holds each argument once, an async fn twice (see above)"
)]

mod acceptance;
mod callbacks;
mod consumer;
mod driver;
mod producer;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use arbor_actor::ractor::ActorCell;
use arbor_actor::{
    CallOutcome, Caller, Context, Exit, GenServer, HandleCall, HandleCast, HandleInfo, Init,
    Outcome, Protocol, ReplyTo,
};

use crate::protocol::StageMessage;
use crate::telemetry::{stage_kind, StageTelemetry};
use crate::{
    GenStage, Stage, StageCall, StageCast, StageContext, StageInfo, SubscribeError, SubscriptionTag,
};

pub(crate) use acceptance::{StartAnswer, SubscribeReply};
use callbacks::Callbacks;
pub(crate) use callbacks::{Kind, Ops};
pub(crate) use consumer::ConsumerSide;
use driver::Work;
use producer::Waiting;
pub(crate) use producer::{ProducerConfig, ProducerSide};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Everything a stage is started with besides its behaviour and args; shared by every
/// restart of a supervised stage.
pub(crate) struct Config<S: GenStage> {
    pub(crate) ops: Ops<S>,
    pub(crate) producer: ProducerConfig<S::Out>,
    pub(crate) subscribe_to: Vec<crate::subscription::Subscription<S::In>>,
}

/// The arbor server hosting stage `S`.
pub(crate) struct StageServer<S: GenStage> {
    pub(crate) stage: S,
    pub(crate) config: Arc<Config<S>>,
    /// Where the stage leaves the answer its start waits for (its initial subscriptions
    /// accepted, or the typed error of the one that failed), for `StageBuilder::start` to
    /// read even if the stage has stopped by then (a start through a child spec has none).
    pub(crate) start_answer: Option<Arc<StartAnswer>>,
}

/// The server's state: the stage's own, its context, and both sides.
pub(crate) struct StageState<S: GenStage> {
    user: S::State,
    ctx: StageContext<S>,
    producer: ProducerSide<S::Out>,
    consumer: ConsumerSide<S::In>,
    /// Set when the stage must stop once its callbacks' work is done.
    stopping: Option<Exit>,
    /// Callers of `Stage::drained`, answered once the stage is drained.
    drained: Vec<ReplyTo<()>>,
    /// Metric handles and the counters snapshots read.
    pub(crate) telemetry: StageTelemetry,
}

impl<S: GenStage> StageState<S> {
    pub(crate) fn ctx(&self) -> &StageContext<S> {
        &self.ctx
    }

    pub(crate) fn ctx_mut(&mut self) -> &mut StageContext<S> {
        &mut self.ctx
    }

    pub(crate) fn consumer_mut(&mut self) -> &mut ConsumerSide<S::In> {
        &mut self.consumer
    }

    /// Queues an info sent from outside (`async_info` / `sync_info`): behind the upstream
    /// events a producer-consumer has not handled yet, else behind its buffered events.
    /// Returns whether it went to the context, for the caller to settle.
    pub(crate) fn queue_info<M>(&mut self, message: M) -> bool
    where
        S: crate::StageInfo<M>,
        M: Send + 'static,
    {
        let info = self.ctx.pending_info(message);
        match self.consumer.queue_info(info) {
            Some(info) => {
                self.ctx.infos.push(info);
                true
            }
            None => false,
        }
    }

    /// Answers `waiter` at once when the stage is drained, or keeps it until it is.
    pub(crate) fn await_drained(&mut self, stage: &S, waiter: ReplyTo<()>) {
        self.drained.push(waiter);
        self.answer_drained(stage);
    }

    /// Answers the callers of `Stage::drained` if nothing waits in the stage any more.
    fn answer_drained(&mut self, stage: &S) {
        let drained =
            self.producer.is_empty() && self.consumer.is_empty() && stage.is_idle(&self.user);
        if drained {
            for waiter in self.drained.drain(..) {
                waiter.reply(());
            }
        }
    }

    pub(crate) fn producer_buffered(&self) -> usize {
        self.producer.buffered()
    }

    pub(crate) fn producer_discarded(&self) -> u64 {
        self.producer.discarded()
    }

    pub(crate) fn consumer_count(&self) -> usize {
        self.producer.consumer_count()
    }

    pub(crate) fn producer_count(&self) -> usize {
        self.consumer.subscription_count()
    }

    /// A snapshot of the stage, of kind `kind`.
    pub(crate) fn status(&self, kind: Kind) -> crate::StageStatus {
        let producer = self.producer.status();
        let kind = stage_kind(kind);
        crate::StageStatus {
            kind,
            dispatcher: producer.dispatcher,
            buffered: producer.buffered,
            buffer_size: producer.buffer_size,
            buffer_keep: producer.buffer_keep,
            discarded: producer.discarded,
            demand_mode: (kind == crate::StageKind::Producer).then_some(producer.demand_mode),
            producers: self.consumer.producers(),
            consumers: producer.consumers,
        }
    }
}

/// The exit a consumer takes when a run-time subscription fails with `error`: a missing
/// producer stops it unless the subscription is `Temporary`, as gen_stage does.
pub(crate) fn failed_subscription_exit(
    error: &SubscribeError,
    cancel: crate::Cancel,
) -> Option<Exit> {
    // A name nobody holds is a producer that is not running, as gen_stage sees it.
    let missing = matches!(
        error,
        SubscribeError::NoProc(_)
            | SubscribeError::NotRegistered(arbor_registry::RegistryError::NotRegistered { .. })
    );
    (missing && cancel.stops_on(&Exit::NoProc)).then_some(Exit::NoProc)
}

/// A settle in progress (see [`StageServer::settle`]): done already, or the boxed rest.
pub(crate) enum Settling<'a> {
    Now(Outcome),
    Later(BoxFuture<'a, Outcome>),
}

impl Future for Settling<'_> {
    type Output = Outcome;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Outcome> {
        match self.get_mut() {
            // Polled again after it was ready (which no caller does), it has nothing more.
            Settling::Now(outcome) => {
                std::task::Poll::Ready(std::mem::replace(outcome, Outcome::NoReply))
            }
            Settling::Later(rest) => rest.as_mut().poll(cx),
        }
    }
}

/// A user call, wrapped so the runtime's own messages cannot collide with it.
pub(crate) struct UserCall<M>(pub(crate) M);
/// A user cast, wrapped likewise.
pub(crate) struct UserCast<M>(pub(crate) M);
/// A user plain message, wrapped likewise.
pub(crate) struct UserInfo<M>(pub(crate) M);

impl<S: GenStage> GenServer for StageServer<S> {
    type Args = S::Args;
    type State = StageState<S>;

    async fn init(&self, args: S::Args, actor: &mut Context<Self>) -> Init<StageState<S>> {
        let mut ctx = StageContext::new(Stage::from_server(actor.myself().clone()));
        let user = match self.stage.init(args, &mut ctx).await {
            Init::Ready(user) => user,
            Init::Ignore => return Init::Ignore,
            Init::Stop(exit) => return Init::Stop(exit),
        };
        let mut state = StageState {
            user,
            ctx,
            producer: ProducerSide::new(&self.config.producer),
            consumer: ConsumerSide::default(),
            stopping: None,
            drained: Vec::new(),
            telemetry: StageTelemetry::new(actor.myself(), stage_kind(self.config.ops.kind)),
        };
        for subscription in &self.config.subscribe_to {
            match self.subscribe(&mut state, subscription).await {
                Ok(tag) if subscription.options.cancel != crate::Cancel::Temporary => {
                    // The start returns once the producer has accepted or refused.
                    state.consumer.acceptance.gate_start(tag);
                }
                Ok(_) => {}
                Err(error) => {
                    if subscription.options.cancel.stops_on(&Exit::NoProc) {
                        let exit = Exit::error(error.to_string());
                        if let Some(answer) = &self.start_answer {
                            answer.record(Err(error));
                        }
                        return Init::Stop(exit);
                    }
                    tracing::warn!(stage = %state.ctx.myself(), error = &error as &dyn std::error::Error, "temporary subscription failed");
                }
            }
        }
        if let Some(answer) = &self.start_answer {
            state
                .consumer
                .acceptance
                .answer_start_in(Arc::clone(answer));
        }
        match self.settle(&mut state, Outcome::NoReply).await {
            Outcome::NoReply => Init::Ready(state),
            Outcome::Stop(exit) => Init::Stop(exit),
        }
    }

    async fn handle_exit(
        &self,
        actor: ActorCell,
        exit: Exit,
        state: &mut StageState<S>,
        _: &mut Context<Self>,
    ) -> Outcome {
        let outcome = self
            .stage
            .handle_exit(actor, exit, &mut state.user, &mut state.ctx)
            .await;
        self.settle(state, outcome).await
    }

    async fn terminate(&self, reason: &Exit, state: &mut StageState<S>, _: &mut Context<Self>) {
        self.stage
            .terminate(reason, &mut state.user, &mut state.ctx)
            .await;
    }
}

impl<S: GenStage> StageServer<S> {
    /// Carries out what a callback asked for in its context, then gives its outcome (or
    /// the stop some of that work caused).
    ///
    /// Dispatching and asking need no `.await`; only demand and cancels do. A settle
    /// without them is done before this returns, and only the rarer work is boxed, so
    /// awaiting a settle adds little to its caller's future, which ractor moves twice per
    /// message.
    pub(crate) fn settle<'a>(
        &'a self,
        state: &'a mut StageState<S>,
        outcome: Outcome,
    ) -> Settling<'a> {
        // The common case after a consumer's callback: nothing asked, nothing to answer.
        if !self.has_work(state) && state.drained.is_empty() && state.stopping.is_none() {
            return Settling::Now(outcome);
        }
        if self.settle_without_awaiting(state) {
            return Settling::Later(Box::pin(async move {
                if let Outcome::Stop(exit) = self.settle_awaiting(state).await {
                    return Outcome::Stop(exit);
                }
                self.settled(state, outcome)
            }));
        }
        Settling::Now(self.settled(state, outcome))
    }

    /// The end of a settle: answers `drained` callers, then gives the outcome, or the
    /// stop the stage decided on meanwhile.
    fn settled(&self, state: &mut StageState<S>, outcome: Outcome) -> Outcome {
        if !state.drained.is_empty() {
            state.answer_drained(&self.stage);
        }
        match (outcome, state.stopping.take()) {
            (Outcome::Stop(exit), _) | (_, Some(exit)) => Outcome::Stop(exit),
            (Outcome::NoReply, None) => Outcome::NoReply,
        }
    }

    /// Settles the work that needs no `.await`; returns whether work that does is left.
    fn settle_without_awaiting(&self, state: &mut StageState<S>) -> bool {
        while self.has_work(state) {
            let ctx = &state.ctx;
            if state.producer.owed > 0 || ctx.demand_mode.is_some() || !ctx.cancels.is_empty() {
                return true;
            }
            self.settle_step(state);
        }
        false
    }

    /// Settles everything, serving demand and cancels in the order they were asked.
    async fn settle_awaiting(&self, state: &mut StageState<S>) -> Outcome {
        while self.has_work(state) {
            let owed = std::mem::take(&mut state.producer.owed);
            let replayed = match state.ctx.demand_mode.take() {
                Some(mode) => self.set_demand_mode(state, mode),
                None => Vec::new(),
            };
            // Demand held in accumulate mode is replayed as it was asked, one
            // `handle_demand` per ask, each dispatched before the next (gen_stage's).
            for demand in replayed.into_iter().chain((owed > 0).then_some(owed)) {
                let served = self
                    .drive(self.config.ops, state, Work::Demand(demand))
                    .await;
                if let Outcome::Stop(exit) = served {
                    return Outcome::Stop(exit);
                }
                self.settle_step(state);
            }
            self.settle_step(state);
            for (tag, reason) in std::mem::take(&mut state.ctx.cancels) {
                if let Outcome::Stop(exit) = self.cancel(state, tag, reason).await {
                    return Outcome::Stop(exit);
                }
            }
        }
        Outcome::NoReply
    }

    fn has_work(&self, state: &StageState<S>) -> bool {
        (state.ctx.has_work() || state.producer.owed > 0) && state.stopping.is_none()
    }

    /// Dispatches emitted events, queues infos and a requested finish behind them, and
    /// sends asks.
    fn settle_step(&self, state: &mut StageState<S>) {
        let emitted = state.ctx.take_emitted();
        if !emitted.is_empty() {
            self.dispatch(state, emitted);
        }
        for info in std::mem::take(&mut state.ctx.infos) {
            self.after_delivery(state, Waiting::Deliver(info));
        }
        if let Some(exit) = state.ctx.finish.take() {
            self.after_delivery(state, Waiting::Stop(exit));
        }
        for (tag, demand) in std::mem::take(&mut state.ctx.asks) {
            if !state.consumer.has_upstream(tag) {
                // Not an error the stage can be stopped for (the subscription may have
                // just ended), but never silent.
                tracing::warn!(stage = %state.ctx.myself(), subscription = %tag, demand, "ask for a subscription this stage does not have: ignored");
                continue;
            }
            self.ask_upstream(state, tag, demand);
        }
    }

    /// Settles, then answers a call with `reply` (if there is one yet) and the outcome.
    pub(crate) async fn settle_and_reply<R>(
        &self,
        state: &mut StageState<S>,
        outcome: Outcome,
        reply: Option<R>,
    ) -> CallOutcome<R> {
        match (self.settle(state, outcome).await, reply) {
            (Outcome::NoReply, Some(reply)) => CallOutcome::Reply(reply),
            (Outcome::NoReply, None) => CallOutcome::NoReply,
            (Outcome::Stop(exit), Some(reply)) => CallOutcome::StopWithReply(exit, reply),
            (Outcome::Stop(exit), None) => CallOutcome::Stop(exit),
        }
    }

    /// Cancels subscription `tag`, whichever side of it this stage is on.
    async fn cancel(
        &self,
        state: &mut StageState<S>,
        tag: SubscriptionTag,
        reason: Exit,
    ) -> Outcome {
        if state.producer.has_consumer(tag) {
            return self
                .producer_cancel(state, tag, crate::Cancelled::Cancel(reason), true)
                .await;
        }
        self.consumer_cancel_request(state, tag, reason);
        Outcome::NoReply
    }
}

impl<S: GenStage> Protocol for StageServer<S> {
    type Message = StageMessage<S>;

    /// The protocol through the kind callbacks' function pointers. A stage's actor is
    /// started with a handler for its kind instead (`callbacks::ByKind`), which calls them
    /// statically.
    async fn handle_protocol(
        &self,
        message: StageMessage<S>,
        state: &mut StageState<S>,
        _: &mut Context<Self>,
    ) -> Outcome {
        self.drive(self.config.ops, state, Work::Message(message))
            .await
    }
}

impl<S, M> HandleCall<UserCall<M>> for StageServer<S>
where
    S: StageCall<M>,
    M: Send + 'static,
{
    type Reply = S::Reply;

    async fn handle_call(
        &self,
        UserCall(request): UserCall<M>,
        from: Caller<'_, S::Reply>,
        state: &mut StageState<S>,
        _: &mut Context<Self>,
    ) -> CallOutcome<S::Reply> {
        let answer = self
            .stage
            .handle_call(request, from, &mut state.user, &mut state.ctx)
            .await;
        let (outcome, reply) = match answer {
            CallOutcome::Reply(reply) => (Outcome::NoReply, Some(reply)),
            CallOutcome::NoReply => (Outcome::NoReply, None),
            CallOutcome::Stop(exit) => (Outcome::Stop(exit), None),
            CallOutcome::StopWithReply(exit, reply) => (Outcome::Stop(exit), Some(reply)),
        };
        self.settle_and_reply(state, outcome, reply).await
    }
}

impl<S, M> HandleCast<UserCast<M>> for StageServer<S>
where
    S: StageCast<M>,
    M: Send + 'static,
{
    async fn handle_cast(
        &self,
        UserCast(message): UserCast<M>,
        state: &mut StageState<S>,
        _: &mut Context<Self>,
    ) -> Outcome {
        let outcome = self
            .stage
            .handle_cast(message, &mut state.user, &mut state.ctx)
            .await;
        self.settle(state, outcome).await
    }
}

impl<S, M> HandleInfo<UserInfo<M>> for StageServer<S>
where
    S: StageInfo<M>,
    M: Send + 'static,
{
    async fn handle_info(
        &self,
        UserInfo(message): UserInfo<M>,
        state: &mut StageState<S>,
        _: &mut Context<Self>,
    ) -> Outcome {
        let outcome = self
            .stage
            .handle_info(message, &mut state.user, &mut state.ctx)
            .await;
        self.settle(state, outcome).await
    }
}
