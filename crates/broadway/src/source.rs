//! A pipeline's producer with its type erased: what the builder, the terminator and the
//! push helpers need from it, whatever [`MessageProducer`] it is.

use std::sync::Arc;

use arbor_actor::OnStop;
use arbor_registry::Registry;
use arbor_stage::{
    BufferSize, InvalidOptions, PartitionDispatcher, Partitions, Stage, SubscribeTo,
};
use arbor_supervisor::ChildSpec;

use crate::builder::ProcessorPartitions;
use crate::message::Message;
use crate::producer::{Drain, MessageProducer, ProducerStage, PushError, PushMessages, Transform};
use crate::rate_limit::RateLimiter;

/// A pipeline's own registry: its stages are started under these names, and found again
/// by them after a restart.
pub(crate) type Names = Registry<String, ()>;

pub(crate) trait SourcePlan<T>: Send + Sync + 'static {
    /// The child spec of producer `index`, registered as `key`.
    fn child_spec(
        &self,
        names: &Names,
        key: &str,
        index: usize,
        partitions: ProcessorPartitions<T>,
        limiter: Option<Arc<RateLimiter>>,
    ) -> Result<ChildSpec, InvalidOptions>;

    /// How a processor subscribes to producer `key`.
    fn subscribe_to(&self, names: &Names, key: &str) -> SubscribeTo<Message<T>>;

    /// Emits ready-made messages from producer `key`.
    fn push(&self, names: &Names, key: &str, messages: Vec<Message<T>>) -> Result<(), PushError>;

    /// Tells producer `key` to drain; `false` when it is not running.
    fn drain(&self, names: &Names, key: &str) -> bool;
}

pub(crate) struct Plan<Src: MessageProducer, T> {
    pub(crate) source: Arc<Src>,
    pub(crate) transform: Transform<Src::Event, T>,
}

impl<Src: MessageProducer, T: Send + 'static> SourcePlan<T> for Plan<Src, T> {
    fn child_spec(
        &self,
        names: &Names,
        key: &str,
        index: usize,
        partitions: ProcessorPartitions<T>,
        limiter: Option<Arc<RateLimiter>>,
    ) -> Result<ChildSpec, InvalidOptions> {
        let stage = ProducerStage {
            source: Arc::clone(&self.source),
            transform: Arc::clone(&self.transform),
            limiter,
        };
        // Every message a producer takes is acknowledged or redelivered: none may be
        // dropped from a full buffer. Sources bound themselves (a broker's prefetch).
        let mut builder = Stage::producer(stage, index)
            .via(names.via(key.to_owned(), ()))
            .buffer_size(BufferSize::Unbounded);
        if let Some((count, by)) = partitions {
            let route =
                PartitionDispatcher::maker(Partitions::count(count), move |m: &Message<T>| {
                    Some(by.partition(m, count))
                })?;
            builder = builder.dispatcher(route);
        }
        builder.child_spec(key)
    }

    fn subscribe_to(&self, names: &Names, key: &str) -> SubscribeTo<Message<T>> {
        SubscribeTo::via::<ProducerStage<Src, T>, _, _>(names, key.to_owned())
    }

    fn push(&self, names: &Names, key: &str, messages: Vec<Message<T>>) -> Result<(), PushError> {
        let stage = Stage::<ProducerStage<Src, T>>::whereis(names, &key.to_owned())
            .map_err(|_| PushError::ProducerDown)?;
        stage
            .send(PushMessages(messages))
            .map_err(|_| PushError::ProducerDown)
    }

    fn drain(&self, names: &Names, key: &str) -> bool {
        match Stage::<ProducerStage<Src, T>>::whereis(names, &key.to_owned()) {
            Ok(stage) => stage.send(Drain).is_ok(),
            Err(_) => false,
        }
    }
}

/// Waits until the stage registered as `key` has stopped (at once if none is).
pub(crate) async fn stopped(names: &Names, key: &str) {
    let Ok(pid) = names.whereis(&key.to_owned()) else {
        return;
    };
    let (done, wait) = tokio::sync::oneshot::channel();
    if let OnStop::Registered(_) = pid.on_stop(move |_| {
        let _ = done.send(());
    }) {
        let _ = wait.await;
    }
}
