//! The consumer side of a stage: its subscriptions, their demand, and (for a
//! producer-consumer) the queue of upstream events waiting for downstream demand.

use std::collections::VecDeque;
use std::sync::Arc;

use arbor_actor::{Exit, OnStop, Outcome};

use super::acceptance::Acceptance;
use super::driver::{Plan, Work};
use super::{Callbacks, Kind, StageServer, StageState};
use crate::context::PendingInfo;
use crate::link::{UpstreamLink, Watch};
use crate::protocol::{Downward, InFlight, StageMessage, Subscribe, Unhanded, Upward};
use crate::subscription::Subscription;
use crate::tag::TagMap;
use crate::{
    Batch, Cancel, Cancelled, DemandAsk, DemandCounter, GenStage, Side, SubscribeError,
    SubscribeTo, SubscriptionInfo, SubscriptionTag,
};

/// One subscription, seen from its consumer.
struct Upstream<E> {
    link: Arc<dyn UpstreamLink<E>>,
    /// The producer and the hook that tells this stage of its stop: taken back when the
    /// subscription ends another way.
    watch: Watch,
    /// `None` in manual mode: the stage asks by itself.
    demand: Option<DemandCounter>,
    cancel: Cancel,
}

/// Work a producer-consumer holds until downstream demand lets it through.
pub(super) enum Queued<E> {
    /// Kept in flight until handled: a stop with events queued counts them as lost.
    Events(InFlight<E>),
    Cancel(SubscriptionTag, Cancelled, Cancel),
    /// An `async_info` / `sync_info` sent from outside: it waits for the events that
    /// arrived before it (it needs no demand of its own).
    Info(PendingInfo),
}

/// The batches of one delivery not yet handed to `handle_events`. Dropped before all
/// were handed (the stage stopped or crashed in between), it counts the rest as lost.
pub(super) struct Delivery<E> {
    batches: smallvec::IntoIter<[Batch<E>; 1]>,
    unhanded: Unhanded,
}

impl<E> Delivery<E> {
    /// The next batch: its subscription, its events, and the demand to ask for once they
    /// are handled (0: none).
    #[inline]
    pub(super) fn next_batch(&mut self) -> Option<(SubscriptionTag, Vec<E>, usize)> {
        let Batch { events, ask } = self.batches.next()?;
        self.unhanded.handed(events.len());
        Some((self.unhanded.tag(), events, ask))
    }
}

pub(crate) struct ConsumerSide<E> {
    upstreams: TagMap<Upstream<E>>,
    /// Subscriptions their producers have not answered yet.
    pub(crate) acceptance: Acceptance,
    queue: VecDeque<Queued<E>>,
    /// Downstream demand not yet met (producer-consumers only).
    open: usize,
}

impl<E> Default for ConsumerSide<E> {
    fn default() -> Self {
        ConsumerSide {
            upstreams: TagMap::default(),
            acceptance: Acceptance::default(),
            queue: VecDeque::new(),
            open: 0,
        }
    }
}

impl<E> ConsumerSide<E> {
    pub(crate) fn open_demand(&mut self, demand: usize) {
        self.open += demand;
    }

    pub(crate) fn close_demand(&mut self, delivered: usize) {
        self.open = self.open.saturating_sub(delivered);
    }

    pub(crate) fn subscription_count(&self) -> usize {
        self.upstreams.len()
    }

    /// Whether no upstream event or cancel waits in a producer-consumer's queue.
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    pub(crate) fn has_upstream(&self, tag: SubscriptionTag) -> bool {
        self.upstreams.contains_key(&tag)
    }

    /// Queues an info behind the upstream events still waiting, if any; gives it back
    /// when nothing waits.
    pub(crate) fn queue_info(&mut self, info: PendingInfo) -> Option<PendingInfo> {
        if self.queue.is_empty() {
            return Some(info);
        }
        self.queue.push_back(Queued::Info(info));
        None
    }
}

impl<E: 'static> ConsumerSide<E> {
    /// The producers this stage is subscribed to.
    pub(crate) fn producers(&self) -> Vec<crate::Peer> {
        self.upstreams
            .iter()
            .map(|(tag, upstream)| crate::Peer {
                tag: *tag,
                pid: upstream.watch.pid.clone(),
            })
            .collect()
    }
}

impl<S: GenStage> StageServer<S> {
    /// Subscribes this stage to the producer `subscription` names.
    pub(crate) async fn subscribe(
        &self,
        state: &mut StageState<S>,
        subscription: &Subscription<S::In>,
    ) -> Result<SubscriptionTag, SubscribeError> {
        if self.config.ops.kind == Kind::Producer {
            return Err(SubscribeError::NotAConsumer);
        }
        let demand = subscription.options.demand()?;
        let link = subscription.to.resolve()?;
        let me = state.ctx.myself().server().clone();
        let pid = link.pid();
        if pid == me.pid() {
            return Err(SubscribeError::SelfSubscription);
        }
        let tag = SubscriptionTag::next();
        // The producer's stop reaches this stage as a message, after the producer's last events.
        let watcher = me.clone();
        let watched = pid.on_stop(move |exit| {
            let _ = watcher.send_protocol(StageMessage::Downward(Downward::ProducerDown {
                tag,
                reason: exit.clone(),
            }));
        });
        let min_demand = demand.min_demand();
        let subscribe = Upward::Subscribe(Box::new(Subscribe {
            consumer: Arc::new(me),
            subscriber: subscription.options.subscriber(tag),
            min_demand,
        }));
        let watch = match watched {
            OnStop::Registered(hook) => Watch::new(pid, hook),
            OnStop::AlreadyStopping | OnStop::Unsupported => {
                return Err(SubscribeError::NoProc(subscription.to.name().to_string()))
            }
        };
        if !link.send(subscribe) {
            watch.forget();
            return Err(SubscribeError::NoProc(subscription.to.name().to_string()));
        }
        let info = SubscriptionInfo {
            tag,
            max_demand: demand.max_demand(),
            min_demand,
        };
        let ask = self
            .stage
            .handle_subscribe(Side::Consumer, info, &mut state.user, &mut state.ctx)
            .await;
        let demand = match ask {
            DemandAsk::Automatic => {
                state.telemetry.asked(demand.initial_ask());
                link.send(Upward::Ask {
                    tag,
                    demand: demand.initial_ask(),
                });
                Some(demand)
            }
            DemandAsk::Manual => None,
        };
        let cancel = subscription.options.cancel;
        state.consumer.acceptance.sent(tag);
        state.telemetry.subscribed();
        state.consumer.upstreams.insert(
            tag,
            Upstream {
                link,
                watch,
                demand,
                cancel,
            },
        );
        Ok(tag)
    }

    /// Handles a message from a producer other than events: the driver takes events, the
    /// frequent ones, itself, and the rest come here, behind a box.
    pub(super) async fn on_downward(
        &self,
        state: &mut StageState<S>,
        message: Downward<S::In>,
    ) -> Outcome {
        let (tag, why) = match message {
            // The driver does not send events here; any that came would be driven the same.
            Downward::Events(batch) => {
                let events = StageMessage::Downward(Downward::Events(batch));
                return self
                    .drive(self.config.ops, state, Work::Message(events))
                    .await;
            }
            Downward::Accepted { tag } => {
                state.consumer.acceptance.accepted(tag);
                return Outcome::NoReply;
            }
            Downward::Cancelled { tag, reason } => (tag, Cancelled::Cancel(reason)),
            Downward::ProducerDown { tag, reason } => (tag, Cancelled::Down(reason)),
        };
        state.consumer.acceptance.refused(tag, why.reason());
        let Some(upstream) = state.consumer.upstreams.remove(&tag) else {
            return Outcome::NoReply;
        };
        state.telemetry.cancelled();
        if let Cancelled::Cancel(_) = why {
            // The producer lives on: its hook for this subscription is no longer needed.
            upstream.watch.forget();
        }
        if self.config.ops.kind == Kind::ProducerConsumer && !state.consumer.queue.is_empty() {
            // Cancel after the events that arrived before it.
            let queued = Queued::Cancel(tag, why, upstream.cancel);
            state.consumer.queue.push_back(queued);
            return Outcome::NoReply;
        }
        let cancel = upstream.cancel;
        self.invoke_cancel(state, tag, why, cancel).await
    }

    /// Plans a delivery from a producer: its batches (put in `delivery`) for a consumer,
    /// the queue for a producer-consumer, nothing if the subscription has ended meanwhile.
    #[inline]
    pub(super) fn plan_events<C: Callbacks<S>>(
        &self,
        callbacks: C,
        state: &mut StageState<S>,
        batch: InFlight<S::In>,
        delivery: &mut Option<Delivery<S::In>>,
    ) -> Plan {
        if !state.consumer.upstreams.contains_key(&batch.tag) {
            batch.discard_ended();
            return Plan::Nothing;
        }
        state.telemetry.events_in(batch.len());
        if callbacks.queues() {
            state.consumer.queue.push_back(Queued::Events(batch));
            return Plan::Queue;
        }
        let tag = batch.tag;
        *delivery = Some(self.delivery(state, tag, batch.take()));
        Plan::Batches
    }

    /// Cuts `events` into batches of at most `max - min`, each with the demand to ask
    /// for once it is handled, as the subscription's demand counter says.
    #[inline]
    pub(super) fn delivery(
        &self,
        state: &mut StageState<S>,
        tag: SubscriptionTag,
        events: Vec<S::In>,
    ) -> Delivery<S::In> {
        let unhanded = Unhanded::new(tag, events.len());
        let batches = match state
            .consumer
            .upstreams
            .get_mut(&tag)
            .and_then(|upstream| upstream.demand.as_mut())
        {
            Some(demand) => {
                let split = demand.split(events);
                if split.excess > 0 {
                    tracing::error!(stage = %state.ctx.myself(), subscription = %tag, excess = split.excess, "received events in excess of demand");
                }
                split.batches
            }
            // Manual demand, or a subscription ended while its events waited.
            None => smallvec::smallvec![Batch { events, ask: 0 }],
        };
        Delivery {
            batches: batches.into_iter(),
            unhanded,
        }
    }

    /// The next entry of a producer-consumer's queue that may go now: events and cancels
    /// only while downstream demand is open, an info at any time.
    pub(super) fn next_queued(&self, state: &mut StageState<S>) -> Option<Queued<S::In>> {
        let needs_demand = !matches!(state.consumer.queue.front(), Some(Queued::Info(_)));
        if needs_demand && state.consumer.open == 0 {
            return None;
        }
        state.consumer.queue.pop_front()
    }

    pub(super) fn ask_upstream(&self, state: &StageState<S>, tag: SubscriptionTag, demand: usize) {
        if let Some(upstream) = state.consumer.upstreams.get(&tag) {
            state.telemetry.asked(demand);
            upstream.link.send(Upward::Ask { tag, demand });
        }
    }

    /// Ends subscription `tag` at once, the first half of a resubscribe (gen_stage's):
    /// the producer is told, `handle_cancel` runs, and the cancel mode does not apply,
    /// since the stage subscribes again at once. Returns the producer, and the outcome of
    /// `handle_cancel`.
    pub(crate) async fn leave(
        &self,
        state: &mut StageState<S>,
        tag: SubscriptionTag,
        reason: Exit,
    ) -> Result<(SubscribeTo<S::In>, Outcome), SubscribeError> {
        let Some(upstream) = state.consumer.upstreams.remove(&tag) else {
            return Err(SubscribeError::NotSubscribed(tag));
        };
        state.telemetry.cancelled();
        upstream.watch.forget();
        upstream.link.send(Upward::Cancel {
            tag,
            reason: reason.clone(),
        });
        let why = Cancelled::Cancel(reason);
        let outcome = self
            .stage
            .handle_cancel(Side::Consumer, why, tag, &mut state.user, &mut state.ctx)
            .await;
        Ok((SubscribeTo::link(upstream.link), outcome))
    }

    /// The stage asked to cancel `tag` as its consumer: the producer answers with
    /// `Cancelled`, and the cancel mode applies then, as in gen_stage.
    pub(super) fn consumer_cancel_request(
        &self,
        state: &StageState<S>,
        tag: SubscriptionTag,
        reason: Exit,
    ) {
        if let Some(upstream) = state.consumer.upstreams.get(&tag) {
            upstream.link.send(Upward::Cancel { tag, reason });
        }
    }

    /// A subscription ended: tell the stage, then stop if the cancel mode says so, and
    /// settle what the stage asked for.
    pub(super) async fn invoke_cancel(
        &self,
        state: &mut StageState<S>,
        tag: SubscriptionTag,
        why: Cancelled,
        cancel: Cancel,
    ) -> Outcome {
        let reason = why.reason().clone();
        let outcome = self
            .stage
            .handle_cancel(Side::Consumer, why, tag, &mut state.user, &mut state.ctx)
            .await;
        let outcome = match outcome {
            Outcome::NoReply if cancel.stops_on(&reason) => {
                tracing::info!(stage = %state.ctx.myself(), subscription = %tag, %reason, "consumer stopping after its producer cancelled");
                Outcome::Stop(reason)
            }
            outcome => outcome,
        };
        self.settle(state, outcome).await
    }
}
