//! `StageContext`: what a stage's callbacks can do besides changing their state — emit
//! events, ask for events by hand, cancel subscriptions, switch the demand mode.

use std::fmt;
use std::time::Duration;

use arbor_actor::{Exit, TimerRef};

use crate::{DemandMode, GenStage, Stage, StageInfo, SubscriptionTag};

/// Handed to every callback of a stage. What the callback asks for here happens when it
/// returns: emitted events are dispatched (or buffered), asks and cancels are sent.
pub struct StageContext<S: GenStage> {
    myself: Stage<S>,
    emitted: Vec<S::Out>,
    pub(crate) asks: Vec<(SubscriptionTag, usize)>,
    pub(crate) cancels: Vec<(SubscriptionTag, Exit)>,
    pub(crate) demand_mode: Option<DemandMode>,
    pub(crate) finish: Option<Exit>,
    pub(crate) infos: Vec<PendingInfo>,
}

/// A message for the stage itself, sent once the events before it are delivered.
pub(crate) type PendingInfo = Box<dyn FnOnce() + Send>;

impl<S: GenStage> StageContext<S> {
    pub(crate) fn new(myself: Stage<S>) -> Self {
        StageContext {
            myself,
            emitted: Vec::new(),
            asks: Vec::new(),
            cancels: Vec::new(),
            demand_mode: None,
            finish: None,
            infos: Vec::new(),
        }
    }

    /// The stage's own handle.
    pub fn myself(&self) -> &Stage<S> {
        &self.myself
    }

    /// Emits one event (gen_stage's `{:noreply, [event], state}`).
    pub fn emit(&mut self, event: S::Out) {
        self.emitted.push(event);
    }

    /// Emits every event of `events`, in order.
    pub fn emit_all(&mut self, events: impl IntoIterator<Item = S::Out>) {
        self.emitted.extend(events);
    }

    /// Emits a batch already in a `Vec`, without copying it when it is the callback's
    /// only emission.
    pub fn emit_batch(&mut self, mut events: Vec<S::Out>) {
        if self.emitted.is_empty() {
            std::mem::swap(&mut self.emitted, &mut events);
        } else {
            self.emitted.append(&mut events);
        }
    }

    /// Asks the producer of subscription `tag` for `demand` more events (gen_stage's
    /// `GenStage.ask/2`), for subscriptions in [`DemandAsk::Manual`](crate::DemandAsk)
    /// mode. Sent when the callback returns; a tag the stage does not have by then is
    /// logged as a warning and dropped ([`Stage::ask`] refuses it with a typed error).
    pub fn ask(&mut self, tag: SubscriptionTag, demand: usize) {
        if demand > 0 {
            self.asks.push((tag, demand));
        }
    }

    /// Queues a demand-mode switch (reached through the producer-only calls).
    pub(crate) fn request_demand_mode(&mut self, mode: DemandMode) {
        self.demand_mode = Some(mode);
    }

    /// Cancels subscription `tag`, on either side, with `reason`.
    pub fn cancel(&mut self, tag: SubscriptionTag, reason: Exit) {
        self.cancels.push((tag, reason));
    }

    /// Stops the stage with `reason` once every event emitted so far, buffered ones
    /// included, has been sent to its consumers: how a finite producer ends (its
    /// consumers then see its exit after its last events).
    pub fn stop_after_delivery(&mut self, reason: Exit) {
        self.finish = Some(reason);
    }

    /// Sends `message` to this stage's own [`StageInfo`] handler once every event
    /// emitted before it, buffered ones and this callback's included, has been sent to
    /// consumers (gen_stage's `GenStage.async_info/2`). A stage that buffers nothing (a
    /// consumer, or a producer whose events all went out) receives it after this callback.
    ///
    /// Like any message, it is not handled if the stage stops first.
    pub fn async_info<M>(&mut self, message: M)
    where
        S: StageInfo<M>,
        M: Send + 'static,
    {
        let pending = self.pending_info(message);
        self.infos.push(pending);
    }

    /// `message`, ready to be queued for this stage's own [`StageInfo`] handler.
    pub(crate) fn pending_info<M>(&self, message: M) -> PendingInfo
    where
        S: StageInfo<M>,
        M: Send + 'static,
    {
        let myself = self.myself.clone();
        Box::new(move || myself.deliver_info(message))
    }

    /// Sends `message` to this stage's [`StageInfo`] handler after `after`.
    pub fn send_after<M>(&self, after: Duration, message: M) -> TimerRef
    where
        S: StageInfo<M>,
        M: Send + 'static,
    {
        self.myself.send_after(after, message)
    }

    pub(crate) fn take_emitted(&mut self) -> Vec<S::Out> {
        std::mem::take(&mut self.emitted)
    }

    pub(crate) fn has_work(&self) -> bool {
        !self.emitted.is_empty()
            || !self.asks.is_empty()
            || !self.cancels.is_empty()
            || self.demand_mode.is_some()
            || self.finish.is_some()
            || !self.infos.is_empty()
    }
}

impl<S: GenStage> fmt::Debug for StageContext<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StageContext")
            .field("myself", &self.myself)
            .field("emitted", &self.emitted.len())
            .finish_non_exhaustive()
    }
}

/// Only a producer has a demand mode: on the other kinds the call does not compile.
impl<S: crate::Producer> StageContext<S> {
    /// Switches a producer between forwarding demand to `handle_demand` and
    /// accumulating it (gen_stage's `GenStage.demand/2`).
    pub fn set_demand_mode(&mut self, mode: DemandMode) {
        self.request_demand_mode(mode);
    }
}
