//! Processors: the stages that run `handle_message`, one chunk of at most
//! `max_demand - min_demand` messages at a time, acknowledge the failures at the end of
//! each chunk, and forward the rest to the batchers (or acknowledge them too, when the
//! pipeline has none).

use std::sync::Arc;

use arbor_actor::{Exit, Init, Outcome};
use arbor_stage::{
    Cancelled, Consumer, GenStage, NoEvents, ProducerConsumer, Side, StageContext, SubscriptionTag,
};

use crate::acknowledger::ack_messages;
use crate::guard::guarded;
use crate::message::Message;
use crate::pipeline::Pipeline;

/// What every message-handling stage shares: the pipeline, its context, and how many
/// upstream subscriptions must end before the stage ends too.
pub(crate) struct Shared<P: Pipeline> {
    pub(crate) pipeline: Arc<P>,
    pub(crate) context: Arc<P::Context>,
}

impl<P: Pipeline> Clone for Shared<P> {
    fn clone(&self) -> Self {
        Shared {
            pipeline: Arc::clone(&self.pipeline),
            context: Arc::clone(&self.context),
        }
    }
}

impl<P: Pipeline> Shared<P> {
    /// Runs `handle_failed` on `failed`, then acknowledges both lists (one call per
    /// acknowledger).
    pub(crate) async fn acknowledge(
        &self,
        successful: Vec<Message<P::Data>>,
        mut failed: Vec<Message<P::Data>>,
    ) {
        if !failed.is_empty() {
            let handled = self.pipeline.handle_failed(&mut failed, &self.context);
            if let Err(reason) = guarded(handled).await {
                tracing::error!(%reason, messages = failed.len(), "handle_failed failed: the messages are acknowledged as they were");
            }
        }
        ack_messages(successful, failed);
    }
}

/// Counts the ends of a stage's upstream subscriptions: when the last one ends cleanly
/// (its producer drained), the stage is done.
pub(crate) fn upstream_ended(
    side: Side,
    why: &Cancelled,
    ended: &mut usize,
    expected: usize,
) -> bool {
    if side != Side::Consumer || why.reason().is_abnormal() {
        // A crashed producer: the supervisor restarts this stage with it.
        return false;
    }
    *ended += 1;
    *ended >= expected
}

/// The name of the (only) processor group, as `handle_message` is given it.
pub(crate) const PROCESSOR: &str = crate::DEFAULT;

/// A processor's work, shared by its two stage shapes.
pub(crate) struct Processing<P: Pipeline> {
    pub(crate) shared: Shared<P>,
    /// The batchers' names, in pipeline order; empty when the pipeline has none.
    pub(crate) batchers: Arc<[Arc<str>]>,
    /// How many producers the processor subscribes to.
    pub(crate) producers: usize,
}

impl<P: Pipeline> Clone for Processing<P> {
    fn clone(&self) -> Self {
        Processing {
            shared: self.shared.clone(),
            batchers: Arc::clone(&self.batchers),
            producers: self.producers,
        }
    }
}

impl<P: Pipeline> Processing<P> {
    /// Handles one chunk; returns the messages to forward to the batchers (none when
    /// the pipeline has no batchers: then everything is acknowledged here).
    async fn handle_chunk(&self, mut chunk: Vec<Message<P::Data>>) -> Vec<Message<P::Data>> {
        let Shared { pipeline, context } = &self.shared;
        if let Err(reason) = guarded(pipeline.prepare_messages(&mut chunk, context)).await {
            for message in &mut chunk {
                message.failed(reason.clone());
            }
        }
        let mut successful = Vec::with_capacity(chunk.len());
        let mut failed = Vec::new();
        for mut message in chunk {
            if !message.is_failed() {
                let handled = pipeline.handle_message(PROCESSOR, &mut message, context);
                if let Err(reason) = guarded(handled).await {
                    message.failed(reason);
                }
            }
            if !message.is_failed() && !self.batchers.is_empty() {
                self.route(&mut message);
            }
            if message.is_failed() {
                failed.push(message);
            } else {
                successful.push(message);
            }
        }
        if self.batchers.is_empty() {
            self.shared.acknowledge(successful, failed).await;
            Vec::new()
        } else {
            self.shared.acknowledge(Vec::new(), failed).await;
            successful
        }
    }

    /// Points the message at its batcher's partition, or fails it for an unknown name.
    fn route(&self, message: &mut Message<P::Data>) {
        let name = message.batcher();
        match self.batchers.iter().position(|batcher| &**batcher == name) {
            Some(index) => message.batcher_index = index,
            None => {
                let reason = format!("unknown batcher {name:?}");
                message.failed(reason);
            }
        }
    }
}

/// A processor of a pipeline without batchers: a consumer.
pub(crate) struct ProcessorStage<P: Pipeline>(pub(crate) Processing<P>);

/// A processor of a pipeline with batchers: a producer-consumer whose partition
/// dispatcher routes each message to its batcher.
pub(crate) struct RoutingProcessorStage<P: Pipeline>(pub(crate) Processing<P>);

impl<P: Pipeline> Clone for ProcessorStage<P> {
    fn clone(&self) -> Self {
        ProcessorStage(self.0.clone())
    }
}

impl<P: Pipeline> Clone for RoutingProcessorStage<P> {
    fn clone(&self) -> Self {
        RoutingProcessorStage(self.0.clone())
    }
}

impl<P: Pipeline> GenStage for ProcessorStage<P> {
    type Args = ();
    type State = usize;
    type In = Message<P::Data>;
    type Out = NoEvents;

    async fn init(&self, _: (), _ctx: &mut StageContext<Self>) -> Init<usize> {
        Init::Ready(0)
    }

    async fn handle_cancel(
        &self,
        side: Side,
        why: Cancelled,
        _tag: SubscriptionTag,
        ended: &mut usize,
        _ctx: &mut StageContext<Self>,
    ) -> Outcome {
        if upstream_ended(side, &why, ended, self.0.producers) {
            Outcome::Stop(Exit::Normal)
        } else {
            Outcome::NoReply
        }
    }
}

impl<P: Pipeline> Consumer for ProcessorStage<P> {
    async fn handle_events(
        &self,
        events: Vec<Message<P::Data>>,
        _from: SubscriptionTag,
        _state: &mut usize,
        _ctx: &mut StageContext<Self>,
    ) -> Outcome {
        self.0.handle_chunk(events).await;
        Outcome::NoReply
    }
}

impl<P: Pipeline> GenStage for RoutingProcessorStage<P> {
    type Args = ();
    type State = usize;
    type In = Message<P::Data>;
    type Out = Message<P::Data>;

    async fn init(&self, _: (), _ctx: &mut StageContext<Self>) -> Init<usize> {
        Init::Ready(0)
    }

    async fn handle_cancel(
        &self,
        side: Side,
        why: Cancelled,
        _tag: SubscriptionTag,
        ended: &mut usize,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        if upstream_ended(side, &why, ended, self.0.producers) {
            ctx.stop_after_delivery(Exit::Normal);
        }
        Outcome::NoReply
    }
}

impl<P: Pipeline> ProducerConsumer for RoutingProcessorStage<P> {
    async fn handle_events(
        &self,
        events: Vec<Message<P::Data>>,
        _from: SubscriptionTag,
        _state: &mut usize,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        let forward = self.0.handle_chunk(events).await;
        ctx.emit_batch(forward);
        Outcome::NoReply
    }
}
