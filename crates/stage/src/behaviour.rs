//! The behaviours: what a stage is (`GenStage`), what its kind requires (`Producer`,
//! `ProducerConsumer`, `Consumer`), and the messages it answers (`StageCall`,
//! `StageCast`, `StageInfo`).

use std::future::Future;

use arbor_actor::{ractor::ActorCell, CallOutcome, Caller, Exit, Init, Outcome};

use crate::{StageContext, SubscriptionTag};

/// The event type of a side a stage does not have: producers consume `NoEvents`,
/// consumers emit `NoEvents`. It has no values, so a consumer cannot emit by mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoEvents {}

/// Which side of a subscription a stage is on, in [`GenStage::handle_subscribe`] and
/// [`GenStage::handle_cancel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The stage is the producer: a consumer subscribed to it.
    Producer,
    /// The stage is the consumer: it subscribed to a producer.
    Consumer,
}

/// A subscription as [`GenStage::handle_subscribe`] sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SubscriptionInfo {
    /// The subscription's tag.
    pub tag: SubscriptionTag,
    /// The consumer's `max_demand`.
    pub max_demand: usize,
    /// The consumer's `min_demand`.
    pub min_demand: usize,
}

/// How a consumer asks for events on a new subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DemandAsk {
    /// The stage asks `max_demand` at once and re-asks as it handles events (default).
    #[default]
    Automatic,
    /// The stage asks itself, with [`StageContext::ask`]; nothing is asked for it.
    Manual,
}

/// Why a subscription ended, as [`GenStage::handle_cancel`] hears it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancelled {
    /// The other side cancelled it, with this reason.
    Cancel(Exit),
    /// The other side stopped, with this exit.
    Down(Exit),
}

impl Cancelled {
    /// The reason, whichever way the subscription ended.
    pub fn reason(&self) -> &Exit {
        match self {
            Cancelled::Cancel(reason) | Cancelled::Down(reason) => reason,
        }
    }
}

/// A stage: a supervised server that takes part in a demand-driven pipeline. `init` is
/// required; the kind traits ([`Producer`], [`ProducerConsumer`], [`Consumer`]) add the
/// callback each kind needs.
///
/// `In` is the event type it consumes ([`NoEvents`] for producers), `Out` the one it
/// emits ([`NoEvents`] for consumers). Events are emitted from any callback with
/// [`StageContext::emit`].
pub trait GenStage: Send + Sync + Sized + 'static {
    /// What `init` receives.
    type Args: Send + 'static;
    /// The stage's own state, owned by its task.
    type State: Send + 'static;
    /// The events it consumes.
    type In: Send + 'static;
    /// The events it emits.
    type Out: Send + 'static;

    /// Builds the state. The stage's subscriptions (`subscribe_to`) are made after it
    /// returns [`Init::Ready`].
    fn init(
        &self,
        args: Self::Args,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = Init<Self::State>> + Send;

    /// A subscription starts; `side` says whether this stage is its producer or its
    /// consumer. A consumer returns [`DemandAsk::Manual`] to ask for events itself.
    /// Default: automatic demand.
    fn handle_subscribe(
        &self,
        side: Side,
        subscription: SubscriptionInfo,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = DemandAsk> + Send {
        let _ = (side, subscription, state, ctx);
        async { DemandAsk::Automatic }
    }

    /// A subscription ended. Default: nothing (the subscription's `cancel` mode decides
    /// whether a consumer stops).
    fn handle_cancel(
        &self,
        side: Side,
        why: Cancelled,
        tag: SubscriptionTag,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = Outcome> + Send {
        let _ = (side, why, tag, state, ctx);
        async { Outcome::NoReply }
    }

    /// An actor linked to the stage exited (children of a consumer supervisor, for
    /// example). Default: a normal exit is ignored, any other stops the stage with the
    /// same reason, as a linked OTP process that does not trap exits.
    fn handle_exit(
        &self,
        actor: ActorCell,
        reason: Exit,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = Outcome> + Send {
        let _ = (actor, state, ctx);
        async move {
            if reason.is_normal() {
                Outcome::NoReply
            } else {
                Outcome::Stop(reason)
            }
        }
    }

    /// A full buffer discarded `discarded` events (gen_stage's `format_discarded/2`):
    /// return `true` to log the default warning, `false` to silence it (after logging or
    /// counting in your own way). The events are counted in
    /// [`Stage::discarded_count`](crate::Stage::discarded_count) either way. Default: `true`.
    fn format_discarded(&self, discarded: usize, state: &Self::State) -> bool {
        let _ = (discarded, state);
        true
    }

    /// Whether the stage's own work is done, for [`Stage::drained`](crate::Stage::drained):
    /// a [`ConsumerSupervisor`](crate::ConsumerSupervisor) answers `false` while a child
    /// runs or waits to restart. Default: `true` (a stage's work is its callbacks, and none
    /// runs between messages).
    fn is_idle(&self, state: &Self::State) -> bool {
        let _ = state;
        true
    }

    /// The stage is stopping with `reason`. Default: nothing.
    fn terminate(
        &self,
        reason: &Exit,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = ()> + Send {
        let _ = (reason, state, ctx);
        async {}
    }
}

/// A stage that emits events when asked: gen_stage's `:producer`.
///
/// # Examples
///
/// ```
/// use arbor_actor::{Init, Outcome};
/// use arbor_stage::{GenStage, NoEvents, Producer, Stage, StageContext};
///
/// /// Emits 0, 1, 2, … as fast as consumers ask.
/// struct Counter;
///
/// impl GenStage for Counter {
///     type Args = u64;
///     type State = u64;
///     type In = NoEvents;
///     type Out = u64;
///     async fn init(&self, start: u64, _ctx: &mut StageContext<Self>) -> Init<u64> {
///         Init::Ready(start)
///     }
/// }
///
/// impl Producer for Counter {
///     async fn handle_demand(&self, demand: usize, next: &mut u64, ctx: &mut StageContext<Self>) -> Outcome {
///         ctx.emit_all(*next..*next + demand as u64);
///         *next += demand as u64;
///         Outcome::NoReply
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let counter = Stage::producer(Counter, 0).start().await?;
/// // No consumer has asked yet: nothing was produced, nothing is buffered.
/// assert_eq!(counter.buffered_count().await?, 0);
/// # Ok(())
/// # }
/// ```
pub trait Producer: GenStage<In = NoEvents> {
    /// Consumers asked for `demand` more events (beyond what the buffer held). Emit up
    /// to that many; more are buffered, fewer leave the demand pending until the
    /// producer emits from another callback.
    fn handle_demand(
        &self,
        demand: usize,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = Outcome> + Send;
}

/// A stage that consumes events and emits events: gen_stage's `:producer_consumer`.
/// It handles upstream events only while downstream consumers have demand, so
/// back-pressure passes through it.
pub trait ProducerConsumer: GenStage {
    /// Handles a batch from the subscription `tag`, emitting with
    /// [`StageContext::emit`].
    fn handle_events(
        &self,
        events: Vec<Self::In>,
        tag: SubscriptionTag,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = Outcome> + Send;
}

/// A stage that consumes events: gen_stage's `:consumer`.
pub trait Consumer: GenStage<Out = NoEvents> {
    /// Handles a batch of at most `max_demand - min_demand` events from the
    /// subscription `tag`.
    fn handle_events(
        &self,
        events: Vec<Self::In>,
        tag: SubscriptionTag,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = Outcome> + Send;
}

/// A stage answers calls of type `M` ([`Stage::call`](crate::Stage::call)); it may emit
/// events while it does.
pub trait StageCall<M>: GenStage {
    /// What the caller gets back.
    type Reply: Send + 'static;

    /// Handles the call, as [`arbor_actor::HandleCall::handle_call`].
    fn handle_call(
        &self,
        request: M,
        from: Caller<'_, Self::Reply>,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = CallOutcome<Self::Reply>> + Send;
}

/// A stage handles casts of type `M` ([`Stage::cast`](crate::Stage::cast)); it may emit
/// events while it does (the book's `PageProducer.scrape_pages`).
pub trait StageCast<M>: GenStage {
    /// Handles the cast.
    fn handle_cast(
        &self,
        message: M,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = Outcome> + Send;
}

/// A stage handles plain messages of type `M` ([`Stage::send`](crate::Stage::send),
/// timers); it may emit events while it does.
pub trait StageInfo<M>: GenStage {
    /// Handles the message.
    fn handle_info(
        &self,
        message: M,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> impl Future<Output = Outcome> + Send;
}
