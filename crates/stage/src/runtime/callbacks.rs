//! The kind callbacks (`handle_demand`, `handle_events`): called statically on the protocol
//! path, through function pointers elsewhere.
//!
//! One runtime type, `StageServer<S>`, serves the three kinds, so that the public handle
//! is `Stage<S>`; the kind is chosen by the constructor (`Stage::producer`, …). The
//! constructor also picks how the stage's actor starts: with a protocol handler for its
//! kind ([`ByKind`]), part of the actor's type, so that asks and events (the messages of
//! the hot path) reach the stage's callback with no type erasure and nothing boxed. The
//! rarer paths (a call that settles owed demand, a subscription, a cancel) go through
//! `Ops`' function pointers.

use std::future::Future;
use std::marker::PhantomData;

use arbor_actor::{Context, Outcome, ProtocolHandler, Server, StartError, StartOptions};

use super::{BoxFuture, StageServer, StageState, Work};
use crate::protocol::StageMessage;
use crate::{Consumer, GenStage, Producer, ProducerConsumer, StageContext, SubscriptionTag};

/// `handle_demand` of a producer, behind a function pointer.
type DemandFn<S> = for<'a> fn(
    &'a S,
    usize,
    &'a mut <S as GenStage>::State,
    &'a mut StageContext<S>,
) -> BoxFuture<'a, Outcome>;

/// `handle_events` of a consumer or producer-consumer, behind a function pointer.
type EventsFn<S> = for<'a> fn(
    &'a S,
    Vec<<S as GenStage>::In>,
    SubscriptionTag,
    &'a mut <S as GenStage>::State,
    &'a mut StageContext<S>,
) -> BoxFuture<'a, Outcome>;

/// Starts a stage's actor with the protocol handler of its kind.
type StartFn<S> = fn(
    StageServer<S>,
    <S as GenStage>::Args,
    StartOptions,
) -> BoxFuture<'static, Result<Server<StageServer<S>>, StartError>>;

/// Which kind of stage a runtime hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Producer,
    ProducerConsumer,
    Consumer,
}

/// The kind callbacks as the runtime calls them. A kind without such a callback answers
/// `NoReply` at once (the default).
///
/// Each returns its future itself, not an `Option` of it: an `Option` matched around an
/// `.await` stays in the caller's future beside the future it holds, doubling its size.
pub(crate) trait Callbacks<S: GenStage>: Copy + Send + Sync + 'static {
    fn handle_demand<'a>(
        self,
        stage: &'a S,
        demand: usize,
        state: &'a mut S::State,
        ctx: &'a mut StageContext<S>,
    ) -> impl Future<Output = Outcome> + Send + 'a {
        let _ = (stage, demand, state, ctx);
        std::future::ready(Outcome::NoReply)
    }

    fn handle_events<'a>(
        self,
        stage: &'a S,
        events: Vec<S::In>,
        tag: SubscriptionTag,
        state: &'a mut S::State,
        ctx: &'a mut StageContext<S>,
    ) -> impl Future<Output = Outcome> + Send + 'a {
        let _ = (stage, events, tag, state, ctx);
        std::future::ready(Outcome::NoReply)
    }

    /// Whether upstream events wait in a queue for downstream demand: a
    /// producer-consumer's do. Known statically for a kind, so that the other kinds'
    /// futures, which ractor moves twice per message, carry none of that path.
    fn queues(self) -> bool {
        false
    }
}

/// The kind-specific callbacks and start, chosen by the constructor (`Stage::producer`,
/// …), so one runtime type serves every kind.
pub(crate) struct Ops<S: GenStage> {
    pub(crate) kind: Kind,
    demand: Option<DemandFn<S>>,
    events: Option<EventsFn<S>>,
    pub(crate) start: StartFn<S>,
}

impl<S: GenStage> Clone for Ops<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: GenStage> Copy for Ops<S> {}

impl<S: GenStage> Callbacks<S> for Ops<S> {
    fn handle_demand<'a>(
        self,
        stage: &'a S,
        demand: usize,
        state: &'a mut S::State,
        ctx: &'a mut StageContext<S>,
    ) -> impl Future<Output = Outcome> + Send + 'a {
        or_no_reply(self.demand.map(|handle| handle(stage, demand, state, ctx)))
    }

    fn handle_events<'a>(
        self,
        stage: &'a S,
        events: Vec<S::In>,
        tag: SubscriptionTag,
        state: &'a mut S::State,
        ctx: &'a mut StageContext<S>,
    ) -> impl Future<Output = Outcome> + Send + 'a {
        or_no_reply(
            self.events
                .map(|handle| handle(stage, events, tag, state, ctx)),
        )
    }

    fn queues(self) -> bool {
        self.kind == Kind::ProducerConsumer
    }
}

/// Awaits `callback` if the kind has it, else answers `NoReply`. An `async` block, which
/// holds `callback` once (an `async fn` would hold it twice).
fn or_no_reply<F: Future<Output = Outcome>>(callback: Option<F>) -> impl Future<Output = Outcome> {
    async move {
        match callback {
            Some(callback) => callback.await,
            None => Outcome::NoReply,
        }
    }
}

/// The protocol handler of a stage whose kind callbacks are `C`, called statically.
pub(crate) struct ByKind<C>(PhantomData<fn() -> C>);

impl<S, C> ProtocolHandler<StageServer<S>> for ByKind<C>
where
    S: GenStage,
    C: Callbacks<S> + Default,
{
    fn handle_protocol(
        server: &StageServer<S>,
        message: StageMessage<S>,
        state: &mut StageState<S>,
        _: &mut Context<StageServer<S>>,
    ) -> impl Future<Output = Outcome> + Send {
        server.drive(C::default(), state, Work::Message(message))
    }
}

/// Starts a stage's actor with the protocol handler of callbacks `C`.
fn start_by<S: GenStage, C: Callbacks<S> + Default>(
    server: StageServer<S>,
    args: S::Args,
    options: StartOptions,
) -> BoxFuture<'static, Result<Server<StageServer<S>>, StartError>> {
    Box::pin(Server::start_protocol_by::<ByKind<C>>(
        server, args, options,
    ))
}

/// A producer's callbacks, called statically.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ProducerKind;

/// A consumer's or a producer-consumer's callbacks, called statically: `K` is its kind
/// trait's marker.
#[derive(Debug, Default)]
pub(crate) struct EventsKind<K>(PhantomData<fn() -> K>);

impl<K> Clone for EventsKind<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K> Copy for EventsKind<K> {}

/// [`EventsKind`] of a consumer.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AsConsumer;

/// [`EventsKind`] of a producer-consumer.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AsProducerConsumer;

/// A stage kind that handles events: its `handle_events`, whichever trait declares it.
pub(crate) trait HandlesEvents<S: GenStage>: 'static {
    fn handle_events<'a>(
        stage: &'a S,
        events: Vec<S::In>,
        tag: SubscriptionTag,
        state: &'a mut S::State,
        ctx: &'a mut StageContext<S>,
    ) -> impl Future<Output = Outcome> + Send + 'a;

    /// See [`Callbacks::queues`].
    const QUEUES: bool;
}

/// Implements [`HandlesEvents`] for `$marker` with the `handle_events` of trait `$kind`;
/// `$queues` says whether its events wait for downstream demand.
macro_rules! handles_events {
    ($marker:ident, $kind:ident, $queues:expr) => {
        impl<S: $kind> HandlesEvents<S> for $marker {
            fn handle_events<'a>(
                stage: &'a S,
                events: Vec<S::In>,
                tag: SubscriptionTag,
                state: &'a mut S::State,
                ctx: &'a mut StageContext<S>,
            ) -> impl Future<Output = Outcome> + Send + 'a {
                $kind::handle_events(stage, events, tag, state, ctx)
            }

            const QUEUES: bool = $queues;
        }
    };
}

handles_events!(AsConsumer, Consumer, false);
handles_events!(AsProducerConsumer, ProducerConsumer, true);

impl<S: Producer> Callbacks<S> for ProducerKind {
    fn handle_demand<'a>(
        self,
        stage: &'a S,
        demand: usize,
        state: &'a mut S::State,
        ctx: &'a mut StageContext<S>,
    ) -> impl Future<Output = Outcome> + Send + 'a {
        stage.handle_demand(demand, state, ctx)
    }
}

impl<S: GenStage, K: HandlesEvents<S>> Callbacks<S> for EventsKind<K> {
    fn handle_events<'a>(
        self,
        stage: &'a S,
        events: Vec<S::In>,
        tag: SubscriptionTag,
        state: &'a mut S::State,
        ctx: &'a mut StageContext<S>,
    ) -> impl Future<Output = Outcome> + Send + 'a {
        K::handle_events(stage, events, tag, state, ctx)
    }

    fn queues(self) -> bool {
        K::QUEUES
    }
}

/// `K`'s `handle_events` behind a function pointer.
fn events<'a, S: GenStage, K: HandlesEvents<S>>(
    stage: &'a S,
    events: Vec<S::In>,
    tag: SubscriptionTag,
    state: &'a mut S::State,
    ctx: &'a mut StageContext<S>,
) -> BoxFuture<'a, Outcome> {
    Box::pin(K::handle_events(stage, events, tag, state, ctx))
}

impl<S: Producer> Ops<S> {
    pub(crate) fn producer() -> Self {
        fn demand<'a, S: Producer>(
            stage: &'a S,
            demand: usize,
            state: &'a mut S::State,
            ctx: &'a mut StageContext<S>,
        ) -> BoxFuture<'a, Outcome> {
            Box::pin(stage.handle_demand(demand, state, ctx))
        }
        Ops {
            kind: Kind::Producer,
            demand: Some(demand::<S>),
            events: None,
            start: start_by::<S, ProducerKind>,
        }
    }
}

impl<S: ProducerConsumer> Ops<S> {
    pub(crate) fn producer_consumer() -> Self {
        Ops {
            kind: Kind::ProducerConsumer,
            demand: None,
            events: Some(events::<S, AsProducerConsumer>),
            start: start_by::<S, EventsKind<AsProducerConsumer>>,
        }
    }
}

impl<S: Consumer> Ops<S> {
    pub(crate) fn consumer() -> Self {
        Ops {
            kind: Kind::Consumer,
            demand: None,
            events: Some(events::<S, AsConsumer>),
            start: start_by::<S, EventsKind<AsConsumer>>,
        }
    }
}
