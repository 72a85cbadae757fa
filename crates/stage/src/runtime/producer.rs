//! The producer side of a stage: consumers, dispatcher, buffer and demand mode.

use std::sync::Arc;

use arbor_actor::{Exit, OnStop, Outcome};

use super::driver::{Plan, Work};
use super::{Callbacks, Kind, StageServer, StageState};
use crate::context::PendingInfo;
use crate::link::{DownstreamLink, Watch};
use crate::protocol::{Downward, InFlight, StageMessage, Subscribe, Upward};
use crate::tag::TagMap;
use crate::{
    Buffer, BufferKeep, BufferSize, Cancelled, DemandGate, DemandMode, Dispatcher, GenStage,
    InfoToken, Outbox, Peer, Side, Subscriber, SubscriptionInfo, SubscriptionTag,
};

/// Builds a fresh dispatcher for each incarnation of a stage.
pub(crate) type MakeDispatcher<E> = Arc<dyn Fn() -> Box<dyn Dispatcher<E>> + Send + Sync>;

/// How a stage's producer side starts.
pub(crate) struct ProducerConfig<E> {
    pub(crate) dispatcher: MakeDispatcher<E>,
    pub(crate) buffer_size: BufferSize,
    pub(crate) buffer_keep: BufferKeep,
    pub(crate) demand_mode: DemandMode,
}

impl<E> Clone for ProducerConfig<E> {
    fn clone(&self) -> Self {
        ProducerConfig {
            dispatcher: Arc::clone(&self.dispatcher),
            buffer_size: self.buffer_size,
            buffer_keep: self.buffer_keep,
            demand_mode: self.demand_mode,
        }
    }
}

/// What the producer side knows of itself, for [`StageStatus`](crate::StageStatus).
pub(crate) struct ProducerStatus {
    pub(crate) dispatcher: &'static str,
    pub(crate) buffered: usize,
    pub(crate) buffer_size: BufferSize,
    pub(crate) buffer_keep: BufferKeep,
    pub(crate) discarded: u64,
    pub(crate) demand_mode: DemandMode,
    pub(crate) consumers: Vec<Peer>,
}

/// What happens when an info token has been delivered to every consumer.
pub(super) enum Waiting {
    /// The stage stops ([`StageContext::stop_after_delivery`](crate::StageContext::stop_after_delivery)).
    Stop(Exit),
    /// A message goes to the stage itself ([`StageContext::async_info`](crate::StageContext::async_info)).
    Deliver(PendingInfo),
}

/// One subscription, seen from its producer.
struct Downstream<E> {
    link: Arc<dyn DownstreamLink<E>>,
    /// The consumer and the hook that tells this stage of its stop: taken back when the
    /// subscription ends another way, so a long-lived consumer holds no hook per past
    /// subscription.
    watch: Watch,
}

pub(crate) struct ProducerSide<E> {
    dispatcher: Box<dyn Dispatcher<E>>,
    buffer: Buffer<E>,
    gate: DemandGate,
    /// Events emitted while demand accumulates: dispatched when it is forwarded again.
    held: Vec<E>,
    consumers: TagMap<Downstream<E>>,
    outbox: Outbox<E>,
    /// Info tokens on their way through the buffer and the dispatcher, oldest first.
    waiting: Vec<(InfoToken, Waiting)>,
    /// Tokens queued while accumulate mode held events: released after those events.
    held_infos: Vec<InfoToken>,
    /// Demand the dispatcher raised outside an ask (events a selector refused), served
    /// when the current callback's work is settled.
    pub(super) owed: usize,
    next_token: u64,
}

impl<E: Send + 'static> ProducerSide<E> {
    pub(crate) fn new(config: &ProducerConfig<E>) -> Self {
        ProducerSide {
            dispatcher: (config.dispatcher)(),
            buffer: Buffer::new(config.buffer_size, config.buffer_keep),
            gate: DemandGate::new(config.demand_mode),
            held: Vec::new(),
            consumers: TagMap::default(),
            outbox: Outbox::new(),
            waiting: Vec::new(),
            held_infos: Vec::new(),
            owed: 0,
            next_token: 0,
        }
    }

    pub(crate) fn has_consumer(&self, tag: SubscriptionTag) -> bool {
        self.consumers.contains_key(&tag)
    }

    pub(crate) fn buffered(&self) -> usize {
        self.buffer.len()
    }

    pub(crate) fn discarded(&self) -> u64 {
        self.buffer.discarded_total()
    }

    pub(crate) fn consumer_count(&self) -> usize {
        self.consumers.len()
    }

    /// The producer side's part of a stage's status.
    /// Whether no event waits here: none buffered, none held by accumulate mode.
    pub(crate) fn is_empty(&self) -> bool {
        self.buffer.is_empty() && self.held.is_empty()
    }

    pub(crate) fn status(&self) -> ProducerStatus {
        ProducerStatus {
            dispatcher: self.dispatcher.name(),
            buffered: self.buffer.len(),
            buffer_size: self.buffer.size(),
            buffer_keep: self.buffer.keep(),
            discarded: self.buffer.discarded_total(),
            demand_mode: self.gate.mode(),
            consumers: self
                .consumers
                .iter()
                .map(|(tag, consumer)| Peer {
                    tag: *tag,
                    pid: consumer.watch.pid.clone(),
                })
                .collect(),
        }
    }
}

impl<S: GenStage> StageServer<S> {
    /// Handles a message from a consumer other than an ask: the driver takes asks, the
    /// frequent ones, itself, and the rest come here, behind a box.
    pub(super) async fn on_upward(
        &self,
        state: &mut StageState<S>,
        message: Upward<S::Out>,
    ) -> Outcome {
        match message {
            Upward::Subscribe(subscribe) => {
                let Subscribe {
                    consumer,
                    subscriber,
                    min_demand,
                } = *subscribe;
                let info = SubscriptionInfo {
                    tag: subscriber.tag,
                    max_demand: subscriber.max_demand,
                    min_demand,
                };
                self.producer_subscribe(state, consumer, subscriber, info)
                    .await
            }
            // The driver does not send asks here; one that came would be driven the same.
            Upward::Ask { tag, demand } => {
                let ask = StageMessage::Upward(Upward::Ask { tag, demand });
                self.drive(self.config.ops, state, Work::Message(ask)).await
            }
            Upward::Cancel { tag, reason } => {
                let why = Cancelled::Cancel(reason);
                self.producer_cancel(state, tag, why, true).await
            }
            Upward::ConsumerDown { tag, reason } => {
                let why = Cancelled::Down(reason);
                self.producer_cancel(state, tag, why, false).await
            }
        }
    }

    async fn producer_subscribe(
        &self,
        state: &mut StageState<S>,
        consumer: Arc<dyn DownstreamLink<S::Out>>,
        subscriber: Subscriber<S::Out>,
        info: SubscriptionInfo,
    ) -> Outcome {
        let tag = subscriber.tag;
        if self.config.ops.kind == Kind::Consumer {
            refuse(&*consumer, tag, "not a producer");
            return Outcome::NoReply;
        }
        if state.producer.has_consumer(tag) {
            refuse(&*consumer, tag, "duplicated subscription");
            return Outcome::NoReply;
        }
        let pid = consumer.pid();
        if state
            .producer
            .consumers
            .values()
            .any(|other| other.watch.pid == pid)
        {
            // gen_stage cancels a second subscription of one consumer to one producer:
            // a broadcast would deliver each event to it twice.
            refuse(&*consumer, tag, "already subscribed");
            return Outcome::NoReply;
        }
        let me = state.ctx.myself().server().clone();
        // The consumer's stop reaches this stage as a message, after the consumer's last one.
        let watched = pid.on_stop(move |exit| {
            let _ = me.send_protocol(StageMessage::Upward(Upward::ConsumerDown {
                tag,
                reason: exit.clone(),
            }));
        });
        let hook = match watched {
            OnStop::Registered(hook) => hook,
            OnStop::AlreadyStopping | OnStop::Unsupported => {
                // It stopped between asking and now: its subscription is over before it
                // began. (Every consumer is an arbor stage, so `Unsupported` cannot come.)
                tracing::debug!(stage = %state.ctx.myself(), subscription = %tag, "consumer stopped before its subscription was handled");
                return Outcome::NoReply;
            }
        };
        let _ = self
            .stage
            .handle_subscribe(Side::Producer, info, &mut state.user, &mut state.ctx)
            .await;
        let demand = match state.producer.dispatcher.subscribe(subscriber) {
            Ok(demand) => demand,
            Err(error) => {
                tracing::warn!(stage = %state.ctx.myself(), subscription = %tag, error = &error as &dyn std::error::Error, "subscription refused");
                Watch::new(pid, hook).forget();
                refuse(&*consumer, tag, &error.to_string());
                return self.settle(state, Outcome::NoReply).await;
            }
        };
        let _ = consumer.send(Downward::Accepted { tag });
        let downstream = Downstream {
            link: consumer,
            watch: Watch::new(pid, hook),
        };
        state.producer.consumers.insert(tag, downstream);
        state.telemetry.subscribed();
        let outcome = self
            .drive(self.config.ops, state, Work::Demand(demand))
            .await;
        self.settle(state, outcome).await
    }

    /// Takes an ask from consumer `tag`: the dispatcher sends what it can and gives the
    /// demand to forward to the stage, or `None` when it refuses the ask.
    #[inline]
    pub(super) fn take_ask(
        &self,
        state: &mut StageState<S>,
        tag: SubscriptionTag,
        demand: usize,
    ) -> Option<usize> {
        state.telemetry.asked_of(demand);
        let producer = &mut state.producer;
        match producer.dispatcher.ask(tag, demand, &mut producer.outbox) {
            Ok(forward) => {
                self.flush(state);
                Some(forward)
            }
            Err(error) => {
                tracing::debug!(stage = %state.ctx.myself(), subscription = %tag, error = &error as &dyn std::error::Error, "ask ignored");
                None
            }
        }
    }

    /// Ends subscription `tag` on the producer side; `answer` tells the consumer (it is
    /// still there to hear it).
    pub(super) async fn producer_cancel(
        &self,
        state: &mut StageState<S>,
        tag: SubscriptionTag,
        why: Cancelled,
        answer: bool,
    ) -> Outcome {
        let Some(consumer) = state.producer.consumers.remove(&tag) else {
            return Outcome::NoReply;
        };
        state.telemetry.cancelled();
        if answer {
            // The consumer lives on: its hook for this subscription is no longer needed.
            consumer.watch.forget();
            let reason = why.reason().clone();
            let _ = consumer.link.send(Downward::Cancelled { tag, reason });
        }
        let outcome = self
            .stage
            .handle_cancel(Side::Producer, why, tag, &mut state.user, &mut state.ctx)
            .await;
        if let Outcome::Stop(exit) = outcome {
            return Outcome::Stop(exit);
        }
        let producer = &mut state.producer;
        let demand = producer.dispatcher.cancel(tag, &mut producer.outbox);
        self.flush(state);
        let outcome = self
            .drive(self.config.ops, state, Work::Demand(demand))
            .await;
        self.settle(state, outcome).await
    }

    /// Serves `demand` from the buffer, then plans the stage's part: `handle_demand` for
    /// a producer (unless demand accumulates), its queue for a producer-consumer.
    #[inline]
    pub(super) fn plan_demand<C: Callbacks<S>>(
        &self,
        callbacks: C,
        state: &mut StageState<S>,
        demand: usize,
    ) -> Plan {
        let demand = self.take_from_buffer(state, demand);
        if callbacks.queues() {
            state.consumer.open_demand(demand);
            return Plan::Queue;
        }
        match state.producer.gate.demand(demand) {
            0 => Plan::Nothing,
            demand => Plan::Demand(demand),
        }
    }

    /// Dispatches buffered events against `demand`; returns the demand left.
    fn take_from_buffer(&self, state: &mut StageState<S>, mut demand: usize) -> usize {
        while demand > 0 && !state.producer.buffer.is_empty() {
            let taken = state.producer.buffer.take(demand);
            state.telemetry.buffered(state.producer.buffer.len(), 0);
            demand -= taken.events.len();
            // The events first: an info taken with them was queued behind (some of) them,
            // and a dispatcher that queues events (PartitionDispatcher) must hold it behind
            // them too, or a stop waiting on it ends the stage before they are sent.
            self.dispatch(state, taken.events);
            let producer = &mut state.producer;
            for token in taken.infos {
                if producer.held.is_empty() {
                    producer.dispatcher.info(token, &mut producer.outbox);
                } else {
                    producer.held_infos.push(token);
                }
            }
            self.flush(state);
        }
        demand
    }

    /// Sends emitted events to consumers with demand; buffers the rest.
    pub(super) fn dispatch(&self, state: &mut StageState<S>, events: Vec<S::Out>) {
        if events.is_empty() {
            return;
        }
        if state.producer.gate.mode() == DemandMode::Accumulate {
            state.producer.held.extend(events);
            return;
        }
        let count = events.len();
        let producer = &mut state.producer;
        let leftovers = producer.dispatcher.dispatch(events, &mut producer.outbox);
        state.consumer.close_demand(count - leftovers.len());
        self.flush(state);
        if leftovers.is_empty() {
            return;
        }
        self.buffer(state, leftovers);
        self.flush(state);
    }

    /// Sends what the dispatcher put in the outbox, and notes the demand it raised.
    fn flush(&self, state: &mut StageState<S>) {
        let producer = &mut state.producer;
        let mut returned = Vec::new();
        for (tag, events) in producer.outbox.drain_batches() {
            state.telemetry.events_out(events.len());
            let batch = InFlight::new(tag, events);
            let sent = match producer.consumers.get(&tag) {
                Some(consumer) => consumer.link.send(Downward::Events(batch)),
                None => Err(Downward::Events(batch)),
            };
            if let Err(Downward::Events(batch)) = sent {
                returned.push((tag, batch.take()));
            }
        }
        for (tag, events) in returned {
            // The consumer is gone, and its stop hook's message, which ends the
            // subscription with its exit, is on its way. Its events are kept for the
            // consumers that remain (they used up its demand, so none go to it again).
            tracing::debug!(stage = %state.ctx.myself(), subscription = %tag, returned = events.len(), "consumer gone; its events go back to the buffer");
            self.buffer(state, events);
        }
        let producer = &mut state.producer;
        for token in producer.outbox.take_infos() {
            let Some(at) = producer.waiting.iter().position(|(t, _)| *t == token) else {
                continue;
            };
            match producer.waiting.remove(at).1 {
                Waiting::Stop(exit) => {
                    state.stopping.get_or_insert(exit);
                }
                Waiting::Deliver(send) => send(),
            }
        }
        let dropped = producer.outbox.take_discarded();
        if dropped > 0 {
            state.telemetry.dispatcher_dropped(dropped);
            tracing::debug!(stage = %state.ctx.myself(), dropped, "events dropped by the dispatcher's rule");
        }
        if let Some(error) = producer.outbox.take_failure() {
            tracing::error!(stage = %state.ctx.myself(), error = &error as &dyn std::error::Error, lost = dropped, "the dispatcher failed; stopping");
            state.stopping.get_or_insert(Exit::error(error));
        }
        producer.owed += producer.outbox.take_demand();
    }

    /// Puts `events` in the buffer. What a full buffer discards is counted, and reported
    /// unless the stage's `format_discarded` silences it.
    fn buffer(&self, state: &mut StageState<S>, events: Vec<S::Out>) {
        let pushed = state.producer.buffer.push(events);
        state
            .telemetry
            .buffered(state.producer.buffer.len(), pushed.discarded);
        if pushed.discarded > 0 && self.stage.format_discarded(pushed.discarded, &state.user) {
            tracing::warn!(
                stage = %state.ctx.myself(),
                discarded = pushed.discarded,
                total = state.producer.buffer.discarded_total(),
                "GenStage producer {} has discarded {} events from buffer",
                state.ctx.myself(),
                pushed.discarded,
            );
        }
        let producer = &mut state.producer;
        for token in pushed.infos {
            producer.dispatcher.info(token, &mut producer.outbox);
        }
    }

    /// Switches the demand mode; returns the demands held until now, as they came,
    /// after dispatching the events held meanwhile.
    pub(super) fn set_demand_mode(
        &self,
        state: &mut StageState<S>,
        mode: DemandMode,
    ) -> Vec<usize> {
        let demand = state.producer.gate.set_mode(mode);
        if mode == DemandMode::Forward {
            let held = std::mem::take(&mut state.producer.held);
            self.dispatch(state, held);
            for token in std::mem::take(&mut state.producer.held_infos) {
                self.release_info(state, token);
            }
        }
        demand
    }

    /// Does what `waiting` says once every event emitted so far has been delivered.
    pub(super) fn after_delivery(&self, state: &mut StageState<S>, waiting: Waiting) {
        let producer = &mut state.producer;
        let token = InfoToken::new(producer.next_token);
        producer.next_token += 1;
        producer.waiting.push((token, waiting));
        if !producer.held.is_empty() {
            // Held events are not in the buffer yet: the token must not overtake them.
            producer.held_infos.push(token);
            return;
        }
        self.release_info(state, token);
    }

    /// Puts `token` behind the buffered events, or hands it to the dispatcher at once.
    fn release_info(&self, state: &mut StageState<S>, token: InfoToken) {
        let producer = &mut state.producer;
        if let Some(token) = producer.buffer.push_info(token) {
            producer.dispatcher.info(token, &mut producer.outbox);
        }
        self.flush(state);
    }
}

fn refuse<E: 'static>(consumer: &dyn DownstreamLink<E>, tag: SubscriptionTag, why: &str) {
    let reason = Exit::error(why);
    let _ = consumer.send(Downward::Cancelled { tag, reason });
}
