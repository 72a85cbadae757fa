//! Against a real broker (feature `rabbitmq-tests`; the broker's URL comes from
//! `ARBOR_AMQP_URL`, default `amqp://guest:guest@127.0.0.1:5672/%2f`): every published
//! message is acknowledged and the queue ends empty, failures follow their policy, and a
//! connection the broker closes is reopened with nothing lost.
#![cfg(feature = "rabbitmq-tests")]

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arbor_broadway::rabbitmq::{AckStats, RabbitMqOptions, RabbitMqProducer};
use arbor_broadway::{
    AckAction, AckConfig, BatchInfo, BatcherOptions, BoxError, Broadway, Message, MetaValue,
    Pipeline, ProcessorOptions,
};
use lapin::options::{BasicPublishOptions, QueueDeclareOptions, QueueDeleteOptions};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use tokio::sync::watch;

fn url() -> String {
    std::env::var("ARBOR_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// A queue name no other run uses.
fn unique(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("arbor-test-{name}-{}-{nanos}", std::process::id())
}

async fn connect() -> Connection {
    Connection::connect(&url(), ConnectionProperties::default())
        .await
        .unwrap()
}

async fn publish(queue: &str, count: usize) {
    let connection = connect().await;
    let channel = connection.create_channel().await.unwrap();
    let durable = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    channel
        .queue_declare(queue.into(), durable, FieldTable::default())
        .await
        .unwrap();
    for n in 0..count {
        let payload = n.to_string();
        channel
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                payload.as_bytes(),
                BasicProperties::default(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }
    connection.close(200, "published".into()).await.unwrap();
}

/// Ready messages in `queue` (unacknowledged ones are counted once their channel is
/// closed, which stopping the pipeline does).
async fn ready(queue: &str) -> u32 {
    let count = count_ready(queue).await;
    let connection = connect().await;
    let channel = connection.create_channel().await.unwrap();
    channel
        .queue_delete(queue.into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    connection.close(200, "deleted".into()).await.unwrap();
    count
}

/// Ready messages in `queue`, now.
async fn count_ready(queue: &str) -> u32 {
    let connection = connect().await;
    let channel = connection.create_channel().await.unwrap();
    let passive = QueueDeclareOptions {
        passive: true,
        durable: true,
        ..QueueDeclareOptions::default()
    };
    let count = channel
        .queue_declare(queue.into(), passive, FieldTable::default())
        .await
        .unwrap()
        .message_count();
    connection.close(200, "checked".into()).await.unwrap();
    count
}

#[derive(Default)]
struct Tally {
    fail: bool,
    ack_odd_failures: bool,
    delay: Duration,
    /// Each message waits for a permit when set.
    gate: Option<Arc<tokio::sync::Semaphore>>,
    distinct_ok: Mutex<HashSet<Vec<u8>>>,
    deliveries: AtomicUsize,
    redeliveries: AtomicUsize,
    /// The metadata of one message seen.
    metadata: Mutex<Option<arbor_broadway::Metadata>>,
    progress: Mutex<Option<watch::Sender<usize>>>,
}

struct Broker;
impl Pipeline for Broker {
    type Data = Vec<u8>;
    type Context = Arc<Tally>;

    async fn handle_message(
        &self,
        _: &str,
        message: &mut Message<Vec<u8>>,
        tally: &Arc<Tally>,
    ) -> Result<(), BoxError> {
        tally.deliveries.fetch_add(1, Ordering::Relaxed);
        tally
            .metadata
            .lock()
            .unwrap()
            .get_or_insert_with(|| message.metadata().clone());
        if message.ack_data().redelivered {
            tally.redeliveries.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(gate) = &tally.gate {
            gate.acquire().await?.forget();
        }
        if !tally.delay.is_zero() {
            tokio::time::sleep(tally.delay).await;
        }
        if tally.fail {
            message.failed("refused");
        }
        Ok(())
    }

    async fn handle_batch(
        &self,
        _: &str,
        messages: &mut [Message<Vec<u8>>],
        _: &BatchInfo,
        tally: &Arc<Tally>,
    ) -> Result<(), BoxError> {
        let distinct = {
            let mut ok = tally.distinct_ok.lock().unwrap();
            ok.extend(messages.iter().map(|m| m.data().clone()));
            ok.len()
        };
        if let Some(progress) = &*tally.progress.lock().unwrap() {
            let _ = progress.send(distinct);
        }
        Ok(())
    }

    async fn handle_failed(
        &self,
        messages: &mut [Message<Vec<u8>>],
        tally: &Arc<Tally>,
    ) -> Result<(), BoxError> {
        if tally.ack_odd_failures {
            for message in messages.iter_mut() {
                let n: u64 = String::from_utf8_lossy(message.data()).parse().unwrap_or(0);
                if n % 2 == 1 {
                    message.configure_ack(AckConfig::default().on_failure(AckAction::Ack))?;
                }
            }
        }
        Ok(())
    }
}

async fn start(tally: &Arc<Tally>, producer: &RabbitMqProducer) -> Broadway<Vec<u8>> {
    Broadway::builder("rabbit", Broker, Arc::clone(tally))
        .producer(producer.clone())
        .processors(ProcessorOptions::new().concurrency(4))
        .batcher(
            "default",
            BatcherOptions::new()
                .batch_size(50)
                .batch_timeout(Duration::from_millis(20)),
        )
        .start()
        .await
        .unwrap()
}

/// Waits (at most a minute) until `done` holds for the tally.
async fn until(tally: &Tally, done: impl Fn(&Tally) -> bool) {
    let (progress, mut changes) = watch::channel(0);
    *tally.progress.lock().unwrap() = Some(progress);
    let waited = tokio::time::timeout(Duration::from_secs(60), async {
        while !done(tally) {
            // Failed messages never reach handle_batch: wake up now and then for them.
            let _ = tokio::time::timeout(Duration::from_millis(50), changes.changed()).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_published_message_is_acked_and_the_queue_ends_empty() {
    let queue = unique("all");
    publish(&queue, 1000).await;
    let tally = Arc::new(Tally::default());
    let producer = RabbitMqProducer::new(RabbitMqOptions::new(url(), &queue).prefetch_count(100));
    let stats = producer.stats();
    let pipeline = start(&tally, &producer).await;
    until(&tally, |t| t.distinct_ok.lock().unwrap().len() == 1000).await;
    pipeline.stop().await;
    producer.closed().await;
    assert_eq!(stats.acked.load(Ordering::Relaxed), 1000);
    assert_eq!(tally.deliveries.load(Ordering::Relaxed), 1000);
    let metadata = tally.metadata.lock().unwrap().clone().unwrap();
    assert_eq!(metadata["routing_key"], MetaValue::Str(queue.clone()));
    assert_eq!(metadata["redelivered"], MetaValue::Bool(false));
    assert!(matches!(metadata["delivery_tag"], MetaValue::Int(tag) if tag > 0));
    assert_eq!(ready(&queue).await, 0);
}

/// Publishes 100 messages to a fresh queue and fails every one under `policy` until 100
/// were rejected for good; returns what was seen, the producer's stats, and how many
/// messages the queue still held.
async fn fail_all(name: &str, policy: AckAction) -> (Arc<Tally>, Arc<AckStats>, u32) {
    let queue = unique(name);
    publish(&queue, 100).await;
    let tally = Arc::new(Tally {
        fail: true,
        ..Tally::default()
    });
    let producer = RabbitMqProducer::new(RabbitMqOptions::new(url(), &queue).on_failure(policy));
    let stats = producer.stats();
    let pipeline = start(&tally, &producer).await;
    until(&tally, |_| stats.rejected.load(Ordering::Relaxed) == 100).await;
    pipeline.stop().await;
    producer.closed().await;
    (tally, stats, ready(&queue).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_messages_are_rejected_by_policy_reject() {
    let (tally, stats, left) = fail_all("reject", AckAction::Reject).await;
    assert_eq!(tally.deliveries.load(Ordering::Relaxed), 100);
    assert_eq!(stats.requeued.load(Ordering::Relaxed), 0);
    assert_eq!(left, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_and_requeue_once_requeues_a_first_delivery_and_rejects_a_redelivery() {
    let (tally, stats, left) = fail_all("once", AckAction::RejectAndRequeueOnce).await;
    assert_eq!(stats.requeued.load(Ordering::Relaxed), 100);
    assert_eq!(tally.deliveries.load(Ordering::Relaxed), 200);
    assert_eq!(tally.redeliveries.load(Ordering::Relaxed), 100);
    assert_eq!(left, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_and_requeue_puts_failures_back_and_configure_ack_overrides_per_message() {
    let queue = unique("requeue");
    publish(&queue, 10).await;
    // Odd messages are acked by handle_failed's override, even ones requeued each time.
    let tally = Arc::new(Tally {
        fail: true,
        ack_odd_failures: true,
        ..Tally::default()
    });
    let options = RabbitMqOptions::new(url(), &queue).on_failure(AckAction::RejectAndRequeue);
    let producer = RabbitMqProducer::new(options);
    let stats = producer.stats();
    let pipeline = start(&tally, &producer).await;
    until(&tally, |_| stats.requeued.load(Ordering::Relaxed) >= 15).await;
    pipeline.stop().await;
    producer.closed().await;
    assert_eq!(stats.acked.load(Ordering::Relaxed), 5);
    assert!(tally.redeliveries.load(Ordering::Relaxed) >= 10);
    // The even ones are back in the queue.
    assert_eq!(ready(&queue).await, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_more_unacknowledged_deliveries_than_the_prefetch_count() {
    let queue = unique("prefetch");
    publish(&queue, 100).await;
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let tally = Arc::new(Tally {
        gate: Some(Arc::clone(&gate)),
        ..Tally::default()
    });
    let producer = RabbitMqProducer::new(RabbitMqOptions::new(url(), &queue).prefetch_count(10));
    let pipeline = start(&tally, &producer).await;
    // Every processor is stuck on its first message; the broker holds the rest back.
    until(&tally, |t| t.deliveries.load(Ordering::Relaxed) >= 1).await;
    assert!(count_ready(&queue).await >= 90);
    gate.add_permits(1000);
    until(&tally, |t| t.distinct_ok.lock().unwrap().len() == 100).await;
    pipeline.stop().await;
    producer.closed().await;
    assert_eq!(ready(&queue).await, 0);
}

/// Closes, from the broker's side, the connections named `name`.
fn close_connections(name: &str) -> usize {
    let listed = std::process::Command::new("rabbitmqctl")
        .args(["-q", "list_connections", "pid", "client_properties"])
        .output()
        .expect("rabbitmqctl runs on the machine that runs the broker");
    let listing = String::from_utf8_lossy(&listed.stdout);
    let mut closed = 0;
    for line in listing.lines().filter(|line| line.contains(name)) {
        let pid = line.split_whitespace().next().unwrap_or_default();
        let status = std::process::Command::new("rabbitmqctl")
            .args(["-q", "close_connection", pid, "arbor test: connection cut"])
            .status()
            .unwrap();
        assert!(status.success());
        closed += 1;
    }
    closed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_the_broker_closes_is_reopened_and_nothing_is_lost() {
    let queue = unique("cut");
    let name = unique("cut-connection");
    publish(&queue, 2000).await;
    let tally = Arc::new(Tally {
        delay: Duration::from_millis(5),
        ..Tally::default()
    });
    let options = RabbitMqOptions::new(url(), &queue)
        .prefetch_count(50)
        .connection_name(&name);
    let producer = RabbitMqProducer::new(options);
    let stats = producer.stats();
    let pipeline = start(&tally, &producer).await;
    until(&tally, |t| t.distinct_ok.lock().unwrap().len() >= 300).await;
    assert_eq!(close_connections(&name), 1, "our connection was listed");
    let at_cut = tally.distinct_ok.lock().unwrap().len();
    assert!(at_cut < 2000, "the cut came mid-run");
    until(&tally, |t| t.distinct_ok.lock().unwrap().len() == 2000).await;
    pipeline.stop().await;
    producer.closed().await;
    assert!(producer.connections() >= 2, "reconnected");
    let deliveries = tally.deliveries.load(Ordering::Relaxed);
    let redeliveries = tally.redeliveries.load(Ordering::Relaxed);
    println!(
        "deliveries {deliveries}, redeliveries {redeliveries}, acks lost with the channel {}",
        stats.lost_channel.load(Ordering::Relaxed)
    );
    // Each message was delivered once as new, plus once per redelivery; the cut came
    // with a full prefetch in flight, which the broker redelivered.
    assert_eq!(deliveries, 2000 + redeliveries);
    assert!(redeliveries > 0);
    assert_eq!(ready(&queue).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_broker_is_retried_with_backoff_and_does_not_block_the_stop() {
    let tally = Arc::new(Tally::default());
    let backoff = arbor_broadway::rabbitmq::Backoff {
        min: Duration::from_millis(5),
        max: Duration::from_millis(20),
    };
    // Nothing listens on port 1.
    let options =
        RabbitMqOptions::new("amqp://guest:guest@127.0.0.1:1/%2f", "nowhere").backoff(backoff);
    let producer = RabbitMqProducer::new(options);
    let pipeline = start(&tally, &producer).await;
    assert_eq!(producer.connections(), 0);
    pipeline.stop().await;
    producer.closed().await;
    assert_eq!(tally.deliveries.load(Ordering::Relaxed), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_is_bound_to_its_exchanges_and_the_routing_key_is_in_the_metadata() {
    let queue = unique("bound");
    let exchange = unique("exchange");
    let connection = connect().await;
    let channel = connection.create_channel().await.unwrap();
    channel
        .exchange_declare(
            exchange.as_str().into(),
            lapin::ExchangeKind::Direct,
            lapin::options::ExchangeDeclareOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    // Declared here (unbound), so the probe below never asks for a missing queue, which
    // would close its channel.
    let durable = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    channel
        .queue_declare(queue.as_str().into(), durable, FieldTable::default())
        .await
        .unwrap();
    let tally = Arc::new(Tally::default());
    let options = RabbitMqOptions::new(url(), &queue).binding(&exchange, "bookings.cinema");
    let producer = RabbitMqProducer::new(options);
    let pipeline = start(&tally, &producer).await;
    // The producer binds the queue before it consumes: once the broker counts a
    // consumer, the binding is in place.
    let passive = QueueDeclareOptions {
        passive: true,
        durable: true,
        ..QueueDeclareOptions::default()
    };
    let consuming = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let declared = channel
                .queue_declare(queue.as_str().into(), passive, FieldTable::default())
                .await;
            if declared.is_ok_and(|queue| queue.consumer_count() > 0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    assert!(consuming.await.is_ok(), "the producer never consumed");
    for n in 0..10u8 {
        channel
            .basic_publish(
                exchange.as_str().into(),
                "bookings.cinema".into(),
                BasicPublishOptions::default(),
                &[n],
                BasicProperties::default(),
            )
            .await
            .unwrap();
        channel
            .basic_publish(
                exchange.as_str().into(),
                "bookings.opera".into(),
                BasicPublishOptions::default(),
                &[100 + n],
                BasicProperties::default(),
            )
            .await
            .unwrap();
    }
    until(&tally, |t| t.distinct_ok.lock().unwrap().len() == 10).await;
    pipeline.stop().await;
    producer.closed().await;
    let metadata = tally.metadata.lock().unwrap().clone().unwrap();
    assert_eq!(
        metadata["routing_key"],
        MetaValue::Str("bookings.cinema".into())
    );
    assert_eq!(metadata["exchange"], MetaValue::Str(exchange.clone()));
    let ok = tally.distinct_ok.lock().unwrap().clone();
    assert!(
        ok.iter().all(|payload| payload[0] < 100),
        "only cinema bookings: {ok:?}"
    );
    channel
        .exchange_delete(
            exchange.as_str().into(),
            lapin::options::ExchangeDeleteOptions::default(),
        )
        .await
        .unwrap();
    connection.close(200, "done".into()).await.unwrap();
    ready(&queue).await;
}
