//! The RabbitMQ producer: a task per producer stage that connects, consumes with QoS,
//! pushes deliveries into the stage, and reconnects when the connection drops.

use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicCancelOptions, BasicConsumeOptions, BasicQosOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, ConnectionProperties};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::acknowledger::{AckStats, ChannelAcknowledger};
use super::metadata;
use super::options::RabbitMqOptions;
use crate::acknowledger::{AckData, Acknowledger};
use crate::message::Message;
use crate::pipeline::BoxError;
use crate::producer::{MessageProducer, Pusher};

/// How long a drain waits for the broker to confirm the consumer's cancel.
const CANCEL_TIMEOUT: Duration = Duration::from_secs(5);

/// Consumes a RabbitMQ queue; its messages' data is made from the delivery's payload
/// (`T::from(bytes)`; `Vec<u8>` by default).
///
/// See the [module docs](super) for an example.
pub struct RabbitMqProducer<T = Vec<u8>> {
    options: Arc<RabbitMqOptions>,
    stats: Arc<AckStats>,
    connections: Arc<AtomicU64>,
    /// How many connections still have messages in the pipeline or acks to send.
    open: watch::Sender<usize>,
    data: PhantomData<fn() -> T>,
}

impl<T> Clone for RabbitMqProducer<T> {
    fn clone(&self) -> Self {
        RabbitMqProducer {
            options: Arc::clone(&self.options),
            stats: Arc::clone(&self.stats),
            connections: Arc::clone(&self.connections),
            open: self.open.clone(),
            data: PhantomData,
        }
    }
}

impl<T> fmt::Debug for RabbitMqProducer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RabbitMqProducer")
            .field("options", &self.options)
            .field("connections", &self.connections)
            .finish_non_exhaustive()
    }
}

impl<T> RabbitMqProducer<T> {
    /// A producer with `options`.
    pub fn new(options: RabbitMqOptions) -> Self {
        RabbitMqProducer {
            options: Arc::new(options),
            stats: Arc::default(),
            connections: Arc::default(),
            open: watch::Sender::new(0),
            data: PhantomData,
        }
    }

    /// Waits until every connection this producer opened is closed, its last
    /// acknowledgements sent: after the pipeline stopped, before the program exits.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn closed(&self) {
        let mut open = self.open.subscribe();
        let _ = open.wait_for(|open| *open == 0).await;
    }

    /// What became of the acknowledgements, across reconnects and producers.
    pub fn stats(&self) -> Arc<AckStats> {
        Arc::clone(&self.stats)
    }

    /// How many connections were opened (one more after each reconnect).
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }
}

/// A drain request: answered once no delivery will be pushed any more.
type DrainRequest = oneshot::Sender<()>;

/// The state of a running [`RabbitMqProducer`]: its hold on the task that consumes from the
/// broker. Dropping it (the producer stage stopped or crashed) stops the consumer, and the
/// broker requeues what it had not acknowledged.
#[derive(Debug)]
pub struct Consuming {
    drain: Option<oneshot::Sender<DrainRequest>>,
    task: JoinHandle<()>,
}

impl Drop for Consuming {
    fn drop(&mut self) {
        // The stage stopped (or crashed): its consumer goes with it, and the broker
        // requeues what it had not acknowledged.
        self.task.abort();
    }
}

impl<T: From<Vec<u8>> + Send + 'static> MessageProducer for RabbitMqProducer<T> {
    type Event = Message<T>;
    type State = Consuming;

    async fn init(&self, index: usize, pusher: Pusher<Message<T>>) -> Result<Consuming, BoxError> {
        let (drain, requests) = oneshot::channel();
        let consumer = Consumer {
            producer: self.clone(),
            index,
            pusher,
        };
        let task = tokio::spawn(consumer.run(requests));
        Ok(Consuming {
            drain: Some(drain),
            task,
        })
    }

    async fn prepare_for_draining(&self, state: &mut Consuming) {
        let Some(drain) = state.drain.take() else {
            return;
        };
        let (done, drained) = oneshot::channel();
        if drain.send(done).is_ok() {
            let _ = drained.await;
        }
    }
}

struct Consumer<T> {
    producer: RabbitMqProducer<T>,
    index: usize,
    pusher: Pusher<Message<T>>,
}

/// Why a session with the broker ended.
enum Ended {
    /// Drained on request.
    Drained(DrainRequest),
    /// The producer stage is gone.
    ProducerDown,
    /// The connection or channel dropped; `delivered` says whether it got anywhere.
    Dropped { error: String, delivered: bool },
}

struct Session {
    channel: Channel,
    consumer: lapin::Consumer,
    acknowledger: Arc<ChannelAcknowledger>,
}

impl<T: From<Vec<u8>> + Send + 'static> Consumer<T> {
    async fn run(self, mut drain: oneshot::Receiver<DrainRequest>) {
        let options = &self.producer.options;
        let mut failures = 0;
        loop {
            let delay = options.backoff.delay(failures);
            if !delay.is_zero() {
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    request = &mut drain => {
                        if let Ok(done) = request {
                            let _ = done.send(());
                        }
                        return;
                    }
                }
            }
            let session = match self.open().await {
                Ok(session) => session,
                Err(error) => {
                    failures += 1;
                    tracing::warn!(producer = self.index, queue = %options.queue, %error, failures, "cannot consume from RabbitMQ, retrying");
                    continue;
                }
            };
            self.producer.connections.fetch_add(1, Ordering::Relaxed);
            match self.consume(session, &mut drain).await {
                Ended::Drained(done) => {
                    let _ = done.send(());
                    return;
                }
                Ended::ProducerDown => return,
                Ended::Dropped { error, delivered } => {
                    // At once after a connection that worked; with backoff after one
                    // that failed straight away.
                    failures = if delivered { 0 } else { failures + 1 };
                    tracing::warn!(producer = self.index, queue = %options.queue, %error, "RabbitMQ connection lost, reconnecting");
                }
            }
        }
    }

    async fn open(&self) -> Result<Session, lapin::Error> {
        let options = &self.producer.options;
        let properties = ConnectionProperties::default()
            .with_connection_name(options.connection_name.clone().into());
        let connection = Connection::connect(&options.url, properties).await?;
        let channel = connection.create_channel().await?;
        channel
            .basic_qos(options.prefetch_count, BasicQosOptions::default())
            .await?;
        if options.declare {
            let durable = QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            };
            channel
                .queue_declare(options.queue.clone().into(), durable, FieldTable::default())
                .await?;
        }
        for (exchange, routing_key) in &options.bindings {
            channel
                .queue_bind(
                    options.queue.clone().into(),
                    exchange.clone().into(),
                    routing_key.clone().into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        let consumer = channel
            .basic_consume(
                options.queue.clone().into(),
                format!("{}-{}", options.connection_name, self.index).into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        let acknowledger = ChannelAcknowledger::start(
            connection,
            channel.clone(),
            options.on_success,
            options.on_failure,
            self.producer.stats(),
            self.producer.open.clone(),
        );
        Ok(Session {
            channel,
            consumer,
            acknowledger,
        })
    }

    async fn consume(
        &self,
        session: Session,
        drain: &mut oneshot::Receiver<DrainRequest>,
    ) -> Ended {
        let Session {
            channel,
            consumer,
            acknowledger,
        } = session;
        let tag = consumer.tag();
        let mut deliveries =
            consumer.ready_chunks(usize::from(self.producer.options.prefetch_count.max(1)));
        let mut delivered = false;
        loop {
            tokio::select! {
                request = &mut *drain => {
                    let Ok(done) = request else {
                        return Ended::ProducerDown;
                    };
                    if let Err(error) = channel.basic_cancel(tag.clone(), BasicCancelOptions::default()).await {
                        tracing::warn!(producer = self.index, %error, "consumer cancel failed");
                    }
                    // What the broker sent before the cancel still comes, then the end.
                    while let Ok(Some(chunk)) = tokio::time::timeout(CANCEL_TIMEOUT, deliveries.next()).await {
                        if self.push(chunk, &acknowledger).is_err() {
                            break;
                        }
                    }
                    return Ended::Drained(done);
                }
                chunk = deliveries.next() => {
                    let Some(chunk) = chunk else {
                        return Ended::Dropped { error: "the consumer ended".into(), delivered };
                    };
                    match self.push(chunk, &acknowledger) {
                        Ok(()) => delivered = true,
                        Err(Some(error)) => return Ended::Dropped { error, delivered },
                        Err(None) => return Ended::ProducerDown,
                    }
                }
            }
        }
    }

    /// Pushes a chunk of deliveries into the stage. `Err(Some)` when the channel
    /// reported an error, `Err(None)` when the stage is gone.
    fn push(
        &self,
        chunk: Vec<Result<Delivery, lapin::Error>>,
        acknowledger: &Arc<ChannelAcknowledger>,
    ) -> Result<(), Option<String>> {
        let mut messages = Vec::with_capacity(chunk.len());
        let mut failure = None;
        for delivery in chunk {
            match delivery {
                Ok(delivery) => messages.push(message(delivery, acknowledger)),
                Err(error) => {
                    failure = Some(error.to_string());
                    break;
                }
            }
        }
        if !messages.is_empty() && self.pusher.push(messages).is_err() {
            return Err(None);
        }
        match failure {
            Some(error) => Err(Some(error)),
            None => Ok(()),
        }
    }
}

fn message<T: From<Vec<u8>> + Send + 'static>(
    delivery: Delivery,
    acknowledger: &Arc<ChannelAcknowledger>,
) -> Message<T> {
    let ack = AckData {
        id: delivery.delivery_tag,
        redelivered: delivery.redelivered,
    };
    let metadata = metadata::of(&delivery);
    let acknowledger: Arc<dyn Acknowledger<T>> = acknowledger.clone();
    let mut message = Message::with_acknowledger(T::from(delivery.data), acknowledger, ack);
    *message.metadata_mut() = metadata;
    message
}
