//! arbor-broadway against hand-written pipelines doing the same work, in the same
//! criterion group and run.
//!
//! | group | arbor leg | raw leg | N |
//! |---|---|---|---|
//! | `broadway_memory` | producer → 2 processors (max_demand 10 / min 5) → 1 batcher (batch 100) → 1 batch processor | `raw_tokio`: producer task → 2 processor tasks (chunks of 5) → batcher task (100) → batch task, bounded channels | 100k |
//! | `broadway_rabbitmq` | RabbitMQ producer (prefetch 100) → 2 processors, each message acked | `raw_lapin`: one lapin consumer, prefetch 100, each delivery acked | 100k |
//!
//! Every message carries a `u64`; the per-message work is the same in both legs (a
//! multiply, then a sum per batch or per ack). In memory, the clock starts when the N
//! messages are handed to the producer and stops when the N-th is acknowledged. Against
//! the broker, each run first publishes N messages to a fresh queue (outside the clock),
//! then times consuming and acknowledging all of them. The broker group runs only when
//! RabbitMQ answers at `ARBOR_AMQP_URL` (default `amqp://guest:guest@127.0.0.1:5672/%2f`);
//! without one it is skipped and says so. `ARBOR_BENCH_QUICK=1` divides N by 5;
//! `cargo test --benches` runs each leg once with N / 100.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arbor_benches::{median_ns, runtime, set_times, Size};
use arbor_broadway::rabbitmq::{RabbitMqOptions, RabbitMqProducer};
use arbor_broadway::{
    AckData, Acknowledger, BatchInfo, BatcherOptions, BoxError, Broadway, Message, Pipeline,
    ProcessorOptions, TestProducer,
};
use criterion::{Criterion, SamplingMode, Throughput};
use futures::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Connection, ConnectionProperties};
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, Notify};

const PREFETCH: u16 = 100;

/// Messages per run.
fn messages(size: Size) -> u64 {
    size.pick(100_000, 20_000, 1_000)
}

/// The per-message work of both legs.
fn work(n: u64) -> u64 {
    n.wrapping_mul(2)
}

/// Counts acknowledged messages and wakes the bench at the N-th.
#[derive(Debug, Default)]
struct Done {
    acked: AtomicU64,
    sum: AtomicU64,
    target: AtomicU64,
    reached: Notify,
}

impl Done {
    fn add(&self, count: u64, sum: u64) {
        self.sum.fetch_add(sum, Ordering::Relaxed);
        let acked = self.acked.fetch_add(count, Ordering::AcqRel) + count;
        if acked == self.target.load(Ordering::Acquire) {
            self.reached.notify_one();
        }
    }

    fn reset(&self, target: u64) {
        self.acked.store(0, Ordering::Release);
        self.sum.store(0, Ordering::Relaxed);
        self.target.store(target, Ordering::Release);
    }
}

impl Acknowledger<u64> for Done {
    fn ack(&self, successful: Vec<Message<u64>>, failed: Vec<Message<u64>>) {
        let sum = successful.iter().map(|m| *m.data()).sum();
        self.add((successful.len() + failed.len()) as u64, sum);
    }
}

// ---------------------------------------------------------------------------------------
// in memory
// ---------------------------------------------------------------------------------------

struct Doubling;
impl Pipeline for Doubling {
    type Data = u64;
    type Context = ();
    async fn handle_message(
        &self,
        _: &str,
        message: &mut Message<u64>,
        _: &(),
    ) -> Result<(), BoxError> {
        *message.data_mut() = work(*message.data());
        Ok(())
    }
    async fn handle_batch(
        &self,
        _: &str,
        messages: &mut [Message<u64>],
        _: &BatchInfo,
        _: &(),
    ) -> Result<(), BoxError> {
        std::hint::black_box(messages.iter().map(|m| *m.data()).sum::<u64>());
        Ok(())
    }
}

async fn arbor_memory(n: u64, done: &Arc<Done>) -> Duration {
    done.reset(n);
    let pipeline = Broadway::builder("bench_memory", Doubling, ())
        .producer(TestProducer::new())
        .processors(
            ProcessorOptions::new()
                .concurrency(2)
                .max_demand(10)
                .min_demand(5),
        )
        .batcher("default", BatcherOptions::new().batch_size(100))
        .start()
        .await
        .expect("start the pipeline");
    let acknowledger: Arc<dyn Acknowledger<u64>> = done.clone();
    let started = Instant::now();
    let messages = (0..n)
        .map(|i| Message::with_acknowledger(i, Arc::clone(&acknowledger), AckData::default()))
        .collect();
    pipeline.producers().push(0, messages).expect("push");
    done.reached.notified().await;
    let elapsed = started.elapsed();
    pipeline.stop().await;
    assert_eq!(done.sum.load(Ordering::Relaxed), n * (n - 1));
    elapsed
}

/// The same shape by hand: bounded channels carry the chunks and batches.
async fn raw_memory(n: u64, done: &Arc<Done>) -> Duration {
    done.reset(n);
    let (to_batcher, mut batcher_in) = mpsc::channel::<Vec<u64>>(4);
    let (to_batch, mut batch_in) = mpsc::channel::<Vec<u64>>(1);
    let mut processors = Vec::new();
    for _ in 0..2 {
        let (to_processor, mut chunks) = mpsc::channel::<Vec<u64>>(2);
        let to_batcher = to_batcher.clone();
        tokio::spawn(async move {
            while let Some(mut chunk) = chunks.recv().await {
                for n in &mut chunk {
                    *n = work(*n);
                }
                if to_batcher.send(chunk).await.is_err() {
                    return;
                }
            }
        });
        processors.push(to_processor);
    }
    drop(to_batcher);
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(100);
        while let Some(chunk) = batcher_in.recv().await {
            for n in chunk {
                batch.push(n);
                if batch.len() == 100 {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(100));
                    if to_batch.send(full).await.is_err() {
                        return;
                    }
                }
            }
        }
        if !batch.is_empty() {
            let _ = to_batch.send(batch).await;
        }
    });
    let acks = Arc::clone(done);
    tokio::spawn(async move {
        while let Some(batch) = batch_in.recv().await {
            let sum = batch.iter().sum();
            acks.add(batch.len() as u64, sum);
        }
    });
    let started = Instant::now();
    let messages: Vec<u64> = (0..n).collect();
    let mut next = 0;
    for chunk in messages.chunks(5) {
        if processors[next].send(chunk.to_vec()).await.is_err() {
            break;
        }
        next = (next + 1) % processors.len();
    }
    drop(processors);
    done.reached.notified().await;
    let elapsed = started.elapsed();
    assert_eq!(done.sum.load(Ordering::Relaxed), n * (n - 1));
    elapsed
}

// ---------------------------------------------------------------------------------------
// against the broker
// ---------------------------------------------------------------------------------------

fn amqp_url() -> String {
    std::env::var("ARBOR_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

fn fresh_queue(leg: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("arbor-bench-{leg}-{}-{nanos}", std::process::id())
}

async fn publish(queue: &str, n: u64) {
    let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .expect("connect");
    let channel = connection.create_channel().await.expect("channel");
    let options = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    channel
        .queue_declare(queue.into(), options, FieldTable::default())
        .await
        .expect("declare");
    for i in 0..n {
        channel
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions::default(),
                i.to_string().as_bytes(),
                BasicProperties::default(),
            )
            .await
            .expect("publish");
    }
    // Publishes are asynchronous: wait until the broker holds them all.
    loop {
        let passive = QueueDeclareOptions {
            passive: true,
            durable: true,
            ..QueueDeclareOptions::default()
        };
        let queued = channel
            .queue_declare(queue.into(), passive, FieldTable::default())
            .await
            .expect("count");
        if u64::from(queued.message_count()) == n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    connection
        .close(200, "published".into())
        .await
        .expect("close");
}

async fn delete(queue: &str) {
    let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .expect("connect");
    let channel = connection.create_channel().await.expect("channel");
    channel
        .queue_delete(queue.into(), QueueDeleteOptions::default())
        .await
        .expect("delete");
    connection
        .close(200, "deleted".into())
        .await
        .expect("close");
}

/// A delivery's payload, parsed.
struct Number(u64);
impl From<Vec<u8>> for Number {
    fn from(bytes: Vec<u8>) -> Self {
        Number(
            std::str::from_utf8(&bytes)
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
        )
    }
}

struct Consume(Arc<Done>);
impl Pipeline for Consume {
    type Data = Number;
    type Context = ();
    async fn handle_message(
        &self,
        _: &str,
        message: &mut Message<Number>,
        _: &(),
    ) -> Result<(), BoxError> {
        let n = work(message.data().0);
        self.0.add(1, n);
        Ok(())
    }
}

async fn arbor_rabbitmq(n: u64, done: &Arc<Done>) -> Duration {
    let queue = fresh_queue("arbor");
    publish(&queue, n).await;
    done.reset(n);
    let producer = RabbitMqProducer::<Number>::new(
        RabbitMqOptions::new(amqp_url(), &queue).prefetch_count(PREFETCH),
    );
    let stats = producer.stats();
    let started = Instant::now();
    let pipeline = Broadway::builder("bench_rabbitmq", Consume(Arc::clone(done)), ())
        .producer(producer.clone())
        .processors(ProcessorOptions::new().concurrency(2))
        .start()
        .await
        .expect("start the pipeline");
    done.reached.notified().await;
    pipeline.stop().await;
    producer.closed().await;
    let elapsed = started.elapsed();
    assert_eq!(stats.acked.load(Ordering::Relaxed), n);
    delete(&queue).await;
    elapsed
}

async fn raw_rabbitmq(n: u64, done: &Arc<Done>) -> Duration {
    let queue = fresh_queue("raw");
    publish(&queue, n).await;
    done.reset(n);
    let started = Instant::now();
    let connection = Connection::connect(&amqp_url(), ConnectionProperties::default())
        .await
        .expect("connect");
    let channel = connection.create_channel().await.expect("channel");
    channel
        .basic_qos(PREFETCH, BasicQosOptions::default())
        .await
        .expect("qos");
    let mut consumer = channel
        .basic_consume(
            queue.as_str().into(),
            "raw".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .expect("consume");
    let mut seen = 0;
    while seen < n {
        let Some(Ok(delivery)) = consumer.next().await else {
            panic!("the consumer ended");
        };
        let number = Number::from(delivery.data.clone());
        done.add(1, work(number.0));
        delivery
            .acker
            .ack(BasicAckOptions::default())
            .await
            .expect("ack");
        seen += 1;
    }
    connection.close(200, "done".into()).await.expect("close");
    let elapsed = started.elapsed();
    delete(&queue).await;
    elapsed
}

async fn broker_reachable() -> bool {
    let url = amqp_url();
    let connect = Connection::connect(&url, ConnectionProperties::default());
    match tokio::time::timeout(Duration::from_secs(2), connect).await {
        Ok(Ok(connection)) => connection.close(200, "probe".into()).await.is_ok(),
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// groups
// ---------------------------------------------------------------------------------------

fn memory_group(criterion: &mut Criterion, rt: &Runtime, size: Size) {
    let n = messages(size);
    let done = Arc::new(Done::default());
    let mut group = criterion.benchmark_group("broadway_memory");
    group.throughput(Throughput::Elements(n));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    set_times(&mut group, Duration::from_secs(1), Duration::from_secs(5));
    group.bench_function("arbor", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async { sum_runs(iters, || arbor_memory(n, &done)).await })
        })
    });
    group.bench_function("raw_tokio", |b| {
        b.iter_custom(|iters| rt.block_on(async { sum_runs(iters, || raw_memory(n, &done)).await }))
    });
    group.finish();
}

fn rabbitmq_group(criterion: &mut Criterion, rt: &Runtime, size: Size) {
    if !rt.block_on(broker_reachable()) {
        println!("broadway_rabbitmq: skipped, no RabbitMQ at {}", amqp_url());
        return;
    }
    let n = messages(size);
    let done = Arc::new(Done::default());
    let mut group = criterion.benchmark_group("broadway_rabbitmq");
    group.throughput(Throughput::Elements(n));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    set_times(
        &mut group,
        Duration::from_millis(1),
        Duration::from_secs(20),
    );
    group.bench_function("arbor", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async { sum_runs(iters, || arbor_rabbitmq(n, &done)).await })
        })
    });
    group.bench_function("raw_lapin", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async { sum_runs(iters, || raw_rabbitmq(n, &done)).await })
        })
    });
    group.finish();
}

async fn sum_runs<F, Fut>(iters: u64, mut run: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Duration>,
{
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        total += run().await;
    }
    total
}

fn main() {
    let started = SystemTime::now();
    let args: Vec<String> = std::env::args().collect();
    let benching = args.iter().any(|arg| arg == "--bench");
    let size = Size::of_run();
    let mut criterion = Criterion::default().configure_from_args();
    let rt = runtime();
    memory_group(&mut criterion, &rt, size);
    rabbitmq_group(&mut criterion, &rt, size);
    criterion.final_summary();
    if benching {
        let n = messages(size) as f64;
        println!("\nbroadway: messages/s (medians of this run), arbor / raw");
        for (group, raw, target) in [
            ("broadway_memory", "raw_tokio", 0.5),
            ("broadway_rabbitmq", "raw_lapin", 0.8),
        ] {
            let rate = |leg: &str| median_ns(group, leg, started).map(|ns| n / ns * 1e9);
            if let (Some(arbor), Some(raw_rate)) = (rate("arbor"), rate(raw)) {
                let ratio = arbor / raw_rate;
                let verdict = if ratio >= target { "met" } else { "MISSED" };
                println!("  {group:<18} arbor {arbor:>10.0}/s   {raw} {raw_rate:>10.0}/s   arbor/{raw} {ratio:.3} (target ≥ {target}: {verdict})");
            }
        }
    }
}
