//! The requests a [`Stage`] handle sends its runtime, and the runtime's handlers for them.

use arbor_actor::{CallOutcome, Caller, Context, Exit, HandleCall, HandleCast, Outcome, Server};

use crate::runtime::{failed_subscription_exit, StageServer, StageState, SubscribeReply};
use crate::subscription::Subscription;
use crate::{
    DemandMode, GenStage, StageInfo, StageStatus, SubscribeError, SubscribeOptions, SubscriptionTag,
};

/// Subscribe now and answer with the tag.
pub(super) struct SubscribeNow<E>(pub(super) Subscription<E>);

/// Cancel a subscription and subscribe again to its producer with new options.
pub(super) struct ResubscribeNow<E>(
    pub(super) SubscriptionTag,
    pub(super) Exit,
    pub(super) SubscribeOptions<E>,
);

/// Stops a stage whose start was abandoned: dropped armed, it stops the server.
pub(super) struct StopOnDrop<G: arbor_actor::GenServer>(pub(super) Option<Server<G>>);

impl<G: arbor_actor::GenServer> StopOnDrop<G> {
    pub(super) fn disarm(mut self) {
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
pub(super) struct AwaitDrained;

/// Ask the producer of a subscription for events, answering whether it exists.
pub(super) struct AskNow(pub(super) SubscriptionTag, pub(super) usize);

/// Requests a stage handles between callbacks.
pub(super) enum Control<E> {
    Subscribe(Subscription<E>),
    Resubscribe(SubscriptionTag, Exit, SubscribeOptions<E>),
    Cancel(SubscriptionTag, Exit),
    Ask(SubscriptionTag, usize),
    Demand(DemandMode),
}

/// An info to queue behind the stage's buffered events, from `async_info` / `sync_info`.
pub(super) struct QueueInfo<M>(pub(super) M);

/// Ask for the stage's counts.
pub(super) struct Inspect;

/// Ask for the stage's status.
pub(super) struct Status;

/// What [`Inspect`] answers.
pub(super) struct Counts {
    pub(super) buffered: usize,
    pub(super) discarded: u64,
    pub(super) consumers: usize,
    pub(super) producers: usize,
}

impl<S: GenStage> HandleCall<SubscribeNow<S::In>> for StageServer<S> {
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

impl<S: GenStage> HandleCall<ResubscribeNow<S::In>> for StageServer<S> {
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

impl<S: GenStage> StageServer<S> {
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

impl<S: GenStage> HandleCast<Control<S::In>> for StageServer<S> {
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

impl<S, M> HandleCast<QueueInfo<M>> for StageServer<S>
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

impl<S, M> HandleCall<QueueInfo<M>> for StageServer<S>
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

impl<S: GenStage> HandleCall<AwaitDrained> for StageServer<S> {
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

impl<S: GenStage> HandleCall<AskNow> for StageServer<S> {
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

impl<S: GenStage> HandleCall<Status> for StageServer<S> {
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

impl<S: GenStage> HandleCall<Inspect> for StageServer<S> {
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
