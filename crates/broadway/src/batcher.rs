//! Batchers: one stage per batcher name, grouping the messages processors send it into
//! batches per (batch key, partition), each closed by size, by timeout (counted from its
//! first message) or by the flush at shutdown; and the batch processors that run
//! `handle_batch` on them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use arbor_actor::{Exit, Init, Outcome, TimerRef};
use arbor_stage::{
    Cancelled, Consumer, GenStage, NoEvents, ProducerConsumer, Side, StageContext, StageInfo,
    SubscriptionTag,
};

use crate::guard::guarded;
use crate::message::Message;
use crate::options::PartitionBy;
use crate::pipeline::{BatchInfo, BatchTrigger, Pipeline};
use crate::processor::{upstream_ended, Shared};

/// A closed batch on its way to a batch processor.
pub(crate) struct Batch<T> {
    pub(crate) messages: Vec<Message<T>>,
    pub(crate) info: BatchInfo,
}

/// Which open batch a message joins.
type BatchId = (Option<String>, usize);

struct OpenBatch<T> {
    messages: Vec<Message<T>>,
    /// Tells a timeout of this batch from one of an earlier batch of the same id.
    generation: u64,
    timer: TimerRef,
}

pub(crate) struct BatcherState<T> {
    open: HashMap<BatchId, OpenBatch<T>>,
    generation: u64,
    ended: usize,
}

/// A batch's timeout ran out.
pub(crate) struct BatchTimeout {
    id: BatchId,
    generation: u64,
}

/// The stage of one batcher.
pub(crate) struct BatcherStage<T> {
    pub(crate) name: Arc<str>,
    pub(crate) batch_size: usize,
    pub(crate) batch_timeout: Duration,
    /// How many batch processors (and partitions) it feeds.
    pub(crate) concurrency: usize,
    pub(crate) partition_by: Option<PartitionBy<T>>,
    /// How many processors it subscribes to.
    pub(crate) processors: usize,
}

impl<T> Clone for BatcherStage<T> {
    fn clone(&self) -> Self {
        BatcherStage {
            name: Arc::clone(&self.name),
            batch_size: self.batch_size,
            batch_timeout: self.batch_timeout,
            concurrency: self.concurrency,
            partition_by: self.partition_by.clone(),
            processors: self.processors,
        }
    }
}

impl<T: Send + 'static> BatcherStage<T> {
    fn close(
        &self,
        id: BatchId,
        batch: OpenBatch<T>,
        trigger: BatchTrigger,
        ctx: &mut StageContext<Self>,
    ) {
        batch.timer.cancel();
        let (batch_key, partition) = id;
        let info = BatchInfo {
            batcher: Arc::clone(&self.name),
            batch_key,
            partition: self.partition_by.as_ref().map(|_| partition),
            size: batch.messages.len(),
            trigger,
        };
        ctx.emit(Batch {
            messages: batch.messages,
            info,
        });
    }

    fn add(&self, message: Message<T>, state: &mut BatcherState<T>, ctx: &mut StageContext<Self>) {
        let partition = match &self.partition_by {
            Some(partition_by) => partition_by.partition(&message, self.concurrency),
            None => 0,
        };
        let id: BatchId = (message.batch_key().map(str::to_owned), partition);
        let batch = state.open.entry(id.clone()).or_insert_with(|| {
            state.generation += 1;
            let generation = state.generation;
            let timeout = BatchTimeout {
                id: id.clone(),
                generation,
            };
            OpenBatch {
                messages: Vec::with_capacity(self.batch_size.min(1024)),
                generation,
                timer: ctx.send_after(self.batch_timeout, timeout),
            }
        });
        batch.messages.push(message);
        if batch.messages.len() >= self.batch_size {
            if let Some(batch) = state.open.remove(&id) {
                self.close(id, batch, BatchTrigger::Size, ctx);
            }
        }
    }
}

impl<T: Send + 'static> GenStage for BatcherStage<T> {
    type Args = ();
    type State = BatcherState<T>;
    type In = Message<T>;
    type Out = Batch<T>;

    async fn init(&self, _: (), _ctx: &mut StageContext<Self>) -> Init<Self::State> {
        Init::Ready(BatcherState {
            open: HashMap::new(),
            generation: 0,
            ended: 0,
        })
    }

    async fn handle_cancel(
        &self,
        side: Side,
        why: Cancelled,
        _tag: SubscriptionTag,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        if upstream_ended(side, &why, &mut state.ended, self.processors) {
            // Every processor drained: flush the partial batches, then end once they
            // are delivered.
            for (id, batch) in std::mem::take(&mut state.open) {
                self.close(id, batch, BatchTrigger::Flush, ctx);
            }
            ctx.stop_after_delivery(Exit::Normal);
        }
        Outcome::NoReply
    }
}

impl<T: Send + 'static> ProducerConsumer for BatcherStage<T> {
    async fn handle_events(
        &self,
        events: Vec<Message<T>>,
        _from: SubscriptionTag,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        for message in events {
            self.add(message, state, ctx);
        }
        Outcome::NoReply
    }
}

impl<T: Send + 'static> StageInfo<BatchTimeout> for BatcherStage<T> {
    async fn handle_info(
        &self,
        timeout: BatchTimeout,
        state: &mut Self::State,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        let current = state
            .open
            .get(&timeout.id)
            .is_some_and(|batch| batch.generation == timeout.generation);
        if current {
            if let Some(batch) = state.open.remove(&timeout.id) {
                self.close(timeout.id, batch, BatchTrigger::Timeout, ctx);
            }
        }
        Outcome::NoReply
    }
}

/// A batch processor: runs `handle_batch`, then acknowledges the batch.
pub(crate) struct BatchProcessorStage<P: Pipeline> {
    pub(crate) shared: Shared<P>,
}

impl<P: Pipeline> Clone for BatchProcessorStage<P> {
    fn clone(&self) -> Self {
        BatchProcessorStage {
            shared: self.shared.clone(),
        }
    }
}

impl<P: Pipeline> BatchProcessorStage<P> {
    async fn handle_one(&self, batch: Batch<P::Data>) {
        let Batch { mut messages, info } = batch;
        let Shared { pipeline, context } = &self.shared;
        let handled = pipeline.handle_batch(&info.batcher, &mut messages, &info, context);
        if let Err(reason) = guarded(handled).await {
            for message in messages.iter_mut().filter(|message| !message.is_failed()) {
                message.failed(reason.clone());
            }
        }
        let (failed, successful) = messages.into_iter().partition(Message::is_failed);
        self.shared.acknowledge(successful, failed).await;
    }
}

impl<P: Pipeline> GenStage for BatchProcessorStage<P> {
    type Args = ();
    type State = ();
    type In = Batch<P::Data>;
    type Out = NoEvents;

    async fn init(&self, _: (), _ctx: &mut StageContext<Self>) -> Init<()> {
        Init::Ready(())
    }

    async fn handle_cancel(
        &self,
        side: Side,
        why: Cancelled,
        _tag: SubscriptionTag,
        _state: &mut (),
        _ctx: &mut StageContext<Self>,
    ) -> Outcome {
        let mut ended = 0;
        if upstream_ended(side, &why, &mut ended, 1) {
            Outcome::Stop(Exit::Normal)
        } else {
            Outcome::NoReply
        }
    }
}

impl<P: Pipeline> Consumer for BatchProcessorStage<P> {
    async fn handle_events(
        &self,
        batches: Vec<Batch<P::Data>>,
        _from: SubscriptionTag,
        _state: &mut (),
        _ctx: &mut StageContext<Self>,
    ) -> Outcome {
        for batch in batches {
            self.handle_one(batch).await;
        }
        Outcome::NoReply
    }
}
