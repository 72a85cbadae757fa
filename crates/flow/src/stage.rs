//! The one stage behaviour every flow partition runs: a producer-consumer driving a
//! [`Logic`] (per-event chain, window, accumulators).

use std::collections::HashSet;
use std::fmt;
use std::marker::PhantomData;

use arbor_actor::{Exit, Init, Outcome};
use arbor_stage::{
    Cancelled, DemandAsk, GenStage, ProducerConsumer, Side, StageContext, StageInfo,
    SubscriptionInfo, SubscriptionTag,
};

use crate::logic::{Effects, Logic, Tick};

/// A flow partition stage. Its logic arrives as the start argument, so the behaviour
/// itself carries nothing.
pub(crate) struct FlowStage<I, O>(PhantomData<fn(I) -> O>);

impl<I, O> FlowStage<I, O> {
    pub(crate) fn new() -> Self {
        FlowStage(PhantomData)
    }
}

pub(crate) struct FlowState<I, O> {
    logic: Box<dyn Logic<I, O>>,
    producers: HashSet<SubscriptionTag>,
    consumers: usize,
    done: bool,
}

impl<I, O> fmt::Debug for FlowState<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowState")
            .field("producers", &self.producers.len())
            .field("consumers", &self.consumers)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

/// Carries out what a logic call asked for.
fn apply<I: Send + 'static, O: Send + 'static>(
    fx: Effects<O>,
    ctx: &mut StageContext<FlowStage<I, O>>,
) {
    if !fx.events.is_empty() {
        ctx.emit_batch(fx.events);
    }
    for (after, tick) in fx.timers {
        // The timer's handle is not kept: a tick for a finished window is ignored.
        let _ = ctx.send_after(after, tick);
    }
}

impl<I: Send + 'static, O: Send + 'static> GenStage for FlowStage<I, O> {
    type Args = Box<dyn Logic<I, O>>;
    type State = FlowState<I, O>;
    type In = I;
    type Out = O;

    async fn init(
        &self,
        mut logic: Box<dyn Logic<I, O>>,
        ctx: &mut StageContext<Self>,
    ) -> Init<FlowState<I, O>> {
        let mut fx = Effects::new();
        logic.start(&mut fx);
        apply(fx, ctx);
        Init::Ready(FlowState {
            logic,
            producers: HashSet::new(),
            consumers: 0,
            done: false,
        })
    }

    async fn handle_subscribe(
        &self,
        side: Side,
        subscription: SubscriptionInfo,
        state: &mut FlowState<I, O>,
        _: &mut StageContext<Self>,
    ) -> DemandAsk {
        match side {
            Side::Consumer => {
                state.producers.insert(subscription.tag);
                state.logic.producer_added(subscription.tag);
            }
            Side::Producer => state.consumers += 1,
        }
        DemandAsk::Automatic
    }

    async fn handle_cancel(
        &self,
        side: Side,
        why: Cancelled,
        tag: SubscriptionTag,
        state: &mut FlowState<I, O>,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        match side {
            Side::Consumer => {
                if why.reason().is_abnormal() {
                    // An upstream stage failed: the flow fails with its reason.
                    tracing::debug!(stage = %ctx.myself(), subscription = %tag, reason = %why.reason(), "a producer of the flow failed; stopping");
                    return Outcome::Stop(why.reason().clone());
                }
                state.producers.remove(&tag);
                if !state.producers.is_empty() {
                    state.logic.producer_done(tag);
                    return Outcome::NoReply;
                }
                if !state.done {
                    tracing::debug!(stage = %ctx.myself(), "every producer ended: the final Done");
                    state.done = true;
                    let mut fx = Effects::new();
                    state.logic.done(&mut fx);
                    apply(fx, ctx);
                    ctx.stop_after_delivery(Exit::Normal);
                }
                Outcome::NoReply
            }
            Side::Producer => {
                state.consumers = state.consumers.saturating_sub(1);
                if state.consumers == 0 {
                    // Nobody reads this stage's output any more (the reader stopped).
                    tracing::debug!(stage = %ctx.myself(), "the flow's last consumer left; stopping");
                    return Outcome::Stop(Exit::Normal);
                }
                Outcome::NoReply
            }
        }
    }
}

impl<I: Send + 'static, O: Send + 'static> ProducerConsumer for FlowStage<I, O> {
    async fn handle_events(
        &self,
        events: Vec<I>,
        from: SubscriptionTag,
        state: &mut FlowState<I, O>,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        let mut fx = Effects::new();
        state.logic.events(from, events, &mut fx);
        apply(fx, ctx);
        Outcome::NoReply
    }
}

impl<I: Send + 'static, O: Send + 'static> StageInfo<Tick> for FlowStage<I, O> {
    async fn handle_info(
        &self,
        tick: Tick,
        state: &mut FlowState<I, O>,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        if !state.done {
            let mut fx = Effects::new();
            state.logic.tick(tick, &mut fx);
            apply(fx, ctx);
        }
        Outcome::NoReply
    }
}
