//! The loop that hands a message's work to the stage's callbacks.
//!
//! A message is prepared without awaiting (the dispatcher, the buffer, the demand
//! counter), then the stage's callback is awaited, then what it asked for is settled,
//! again without awaiting where it can be. Only this loop's few locals and the callback's
//! own future live across its `.await`s. Nested `async` layers, one per step, would each
//! keep their arguments beside their callee's future, and the whole nest is the future
//! ractor moves twice per message.

use std::future::Future;

use arbor_actor::Outcome;

use super::consumer::{Delivery, Queued};
use super::{BoxFuture, Callbacks, Settling, StageServer, StageState};
use crate::protocol::{Downward, StageMessage, Upward};
use crate::GenStage;

/// What the driver starts from.
pub(crate) enum Work<S: GenStage> {
    /// A protocol message as it arrived. Asks and events are driven here; the rest go to
    /// their handlers behind a box.
    Message(StageMessage<S>),
    /// Demand to serve, from the buffer and then from the stage, left for the caller to
    /// settle.
    Demand(usize),
}

/// What a message asks of the stage's callbacks, decided before any of them runs.
pub(super) enum Plan {
    /// Nothing more: preparing did all there was.
    Nothing,
    /// `handle_demand` with this demand.
    Demand(usize),
    /// `handle_events` for each batch of the delivery the plan put in the driver's slot
    /// (built there, not moved there: it is the loop's largest local).
    Batches,
    /// A producer-consumer's queue, taken while downstream demand is open.
    Queue,
}

/// A protocol message that is neither an ask nor events, handled behind a box.
pub(super) enum Rare<S: GenStage> {
    Upward(Upward<S::Out>),
    Downward(Downward<S::In>),
}

impl<S: GenStage> Rare<S> {
    /// Its handler's future, erased, so that the handler may drive asks and events itself.
    fn handle<'a>(
        self,
        server: &'a StageServer<S>,
        state: &'a mut StageState<S>,
    ) -> BoxFuture<'a, Outcome> {
        match self {
            Rare::Upward(message) => Box::pin(server.on_upward(state, message)),
            Rare::Downward(message) => Box::pin(server.on_downward(state, message)),
        }
    }
}

impl<S: GenStage> StageServer<S> {
    /// Prepares `work` without awaiting, and plans what is left for the callbacks; a
    /// delivery's batches go in `delivery`.
    #[inline]
    fn plan<C: Callbacks<S>>(
        &self,
        callbacks: C,
        state: &mut StageState<S>,
        work: Work<S>,
        delivery: &mut Option<Delivery<S::In>>,
    ) -> Result<Plan, Rare<S>> {
        Ok(match work {
            Work::Message(StageMessage::Upward(Upward::Ask { tag, demand })) => {
                match self.take_ask(state, tag, demand) {
                    Some(forward) => self.plan_demand(callbacks, state, forward),
                    None => Plan::Nothing,
                }
            }
            Work::Message(StageMessage::Downward(Downward::Events(batch))) => {
                self.plan_events(callbacks, state, batch, delivery)
            }
            Work::Message(StageMessage::Upward(message)) => return Err(Rare::Upward(message)),
            Work::Message(StageMessage::Downward(message)) => return Err(Rare::Downward(message)),
            Work::Demand(demand) => self.plan_demand(callbacks, state, demand),
        })
    }

    /// Does `work` with the kind callbacks `callbacks`: a protocol message's whole
    /// handling, or serving demand.
    pub(crate) fn drive<'s, 't, C: Callbacks<S>>(
        &'s self,
        callbacks: C,
        state: &'t mut StageState<S>,
        work: Work<S>,
    ) -> impl Future<Output = Outcome> + Send + use<'s, 't, S, C> {
        async move {
            // An ask's work is settled here; served demand is settled by whoever asked
            // for it; events are settled after each batch.
            let settle = matches!(
                work,
                Work::Message(StageMessage::Upward(Upward::Ask { .. }))
            );
            let outcome = 'run: {
                // No `.await` in this match: a value held across more than one `.await`
                // keeps its own place in the future, beside everything else.
                let mut delivery = None;
                let demand = match self.plan(callbacks, state, work, &mut delivery) {
                    Ok(Plan::Demand(demand)) => demand,
                    Ok(Plan::Nothing | Plan::Batches | Plan::Queue) => 0,
                    Err(rare) => return rare.handle(self, state).await,
                };
                if demand > 0 {
                    let user = &mut state.user;
                    break 'run callbacks
                        .handle_demand(&self.stage, demand, user, &mut state.ctx)
                        .await;
                }
                loop {
                    let Some((tag, events, ask)) = delivery.as_mut().and_then(Delivery::next_batch)
                    else {
                        if !callbacks.queues() {
                            break 'run Outcome::NoReply;
                        }
                        let queued = match self.next_queued(state) {
                            Some(Queued::Events(batch)) => {
                                let tag = batch.tag;
                                delivery = Some(self.delivery(state, tag, batch.take()));
                                continue;
                            }
                            Some(Queued::Cancel(tag, why, cancel)) => {
                                let cancel = self.invoke_cancel(state, tag, why, cancel);
                                Settling::Later(Box::pin(cancel))
                            }
                            Some(Queued::Info(info)) => {
                                state.ctx.infos.push(info);
                                self.settle(state, Outcome::NoReply)
                            }
                            None => break 'run Outcome::NoReply,
                        };
                        if let Outcome::Stop(exit) = queued.await {
                            break 'run Outcome::Stop(exit);
                        }
                        continue;
                    };
                    let user = &mut state.user;
                    let outcome = callbacks
                        .handle_events(&self.stage, events, tag, user, &mut state.ctx)
                        .await;
                    let outcome = self.settle(state, outcome).await;
                    if ask > 0 {
                        self.ask_upstream(state, tag, ask);
                    }
                    if let Outcome::Stop(exit) = outcome {
                        break 'run Outcome::Stop(exit);
                    }
                }
            };
            if settle {
                self.settle(state, outcome).await
            } else {
                outcome
            }
        }
    }
}
