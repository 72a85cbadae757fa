//! The book's ticketing app (chapter 5) on arbor-broadway: bookings ("event,user_id")
//! arrive from RabbitMQ's `bookings_queue` or from the chapter's custom producer,
//! processors parse and check them, batchers group them by event, and batch processors
//! insert the tickets and send the confirmations.
//!
//! ```text
//!                               ┌─▶ batcher cinema (75)  ─▶ batch processor
//!  producer ──▶ processors ×N ──┼─▶ batcher musical (100) ─▶ batch processor
//!  (RabbitMQ or in-memory)      └─▶ batcher default (50)  ─▶ batch processor
//! ```
//!
//! ```no_run
//! # async fn demo() -> Result<(), tickets::TicketsError> {
//! let report = tickets::run_in_memory(tickets::Config::new(10_000)).await?;
//! println!("{report}");
//! # Ok(())
//! # }
//! ```
#![deny(clippy::unwrap_used, clippy::expect_used)]

pub mod amqp;
pub mod booking;
pub mod pipeline;
pub mod producer;
mod report;
pub mod store;

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use arbor::app::{Application, Outcome};

use arbor::broadway::rabbitmq::{RabbitMqOptions, RabbitMqProducer};
use arbor::broadway::{AckAction, Broadway, BroadwayBuilder, ProcessorOptions, StartError};
use thiserror::Error;
use tokio::time::Instant;

use crate::booking::Payload;
use crate::pipeline::{BookingsPipeline, Tickets};
use crate::producer::{BookingsProducer, CountingAcknowledger};
pub use crate::report::Report;
use crate::store::InMemoryStore;

/// What a run needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// How many bookings to process.
    pub count: u64,
    /// Processors (default: twice the machine's parallelism).
    pub processors: Option<usize>,
    /// RabbitMQ's prefetch count. It must exceed the batchers' sizes together
    /// (75 + 100 + 50), or batches wait for their timeout instead of filling up: the
    /// chapter's lesson about `prefetch_count` and `batch_size`.
    pub prefetch_count: u16,
    /// The queue to consume.
    pub queue: String,
}

impl Config {
    /// `count` bookings, default processors, prefetch 500, `bookings_queue`.
    pub fn new(count: u64) -> Self {
        Config {
            count,
            processors: None,
            prefetch_count: 500,
            queue: amqp::QUEUE.into(),
        }
    }
}

/// Why a run failed.
#[derive(Debug, Error)]
pub enum TicketsError {
    /// The pipeline did not start.
    #[error("the pipeline did not start")]
    Start(#[from] StartError),
    /// The broker could not be reached.
    #[error("RabbitMQ")]
    Amqp(#[from] lapin::Error),
    /// The application shell around the pipeline did not start.
    #[error("the application did not start")]
    Application(#[from] arbor::supervisor::SupervisorError),
}

/// Runs the started pipeline as an arbor application until `done` has happened, or until
/// ctrl-c or SIGTERM comes first; either way the pipeline then drains and stops in order.
/// Returns how long `done` took (or the time until the stop) and the outcome.
async fn run_until_done(
    pipeline: &Broadway<Payload>,
    started: Instant,
    done: impl Future<Output = ()>,
) -> Result<(Duration, Outcome), TicketsError> {
    let app = Application::of(pipeline.supervisor().clone())
        .start()
        .await?;
    let (elapsed, outcome) = app
        .run_until(async {
            done.await;
            started.elapsed()
        })
        .await;
    Ok((elapsed.unwrap_or_else(|| started.elapsed()), outcome))
}

fn builder(config: &Config, store: Arc<InMemoryStore>) -> BroadwayBuilder<BookingsPipeline> {
    let mut processors = ProcessorOptions::new();
    if let Some(concurrency) = config.processors {
        processors = processors.concurrency(concurrency);
    }
    let mut builder =
        Broadway::builder("bookings", BookingsPipeline, Tickets { store }).processors(processors);
    for (name, options) in pipeline::batchers() {
        builder = builder.batcher(name, options);
    }
    builder
}

/// Runs `config.count` sample bookings through the pipeline from the custom producer,
/// then drains it.
///
/// # Errors
///
/// [`TicketsError::Start`] when the pipeline does not start.
pub async fn run_in_memory(config: Config) -> Result<Report, TicketsError> {
    run_in_memory_with(config, Arc::new(InMemoryStore::default())).await
}

/// [`run_in_memory`], with the tickets going to `store`.
///
/// # Errors
///
/// As [`run_in_memory`].
pub async fn run_in_memory_with(
    config: Config,
    store: Arc<InMemoryStore>,
) -> Result<Report, TicketsError> {
    let counter = CountingAcknowledger::new();
    let started = Instant::now();
    let pipeline = builder(&config, Arc::clone(&store))
        .producer_with_transformer(
            BookingsProducer {
                total: config.count,
            },
            counter.transformer(),
        )
        .start()
        .await?;
    let (elapsed, outcome) =
        run_until_done(&pipeline, started, counter.reached(config.count)).await?;
    Ok(Report {
        source: "in-memory producer".into(),
        processed: counter.successful(),
        failed: counter.failed(),
        acked: counter.successful() + counter.failed(),
        tickets: store.tickets(),
        emails: store.emails(),
        elapsed,
        outcome,
    })
}

/// Consumes `config.queue` at `url` until `config.count` bookings have had their
/// final acknowledgement (acked, or rejected for good), then drains.
///
/// Failed bookings are requeued once (a malformed one is seen twice), sold-out ones
/// rejected at once.
///
/// # Errors
///
/// [`TicketsError::Start`] when the pipeline does not start.
pub async fn run_amqp(url: &str, config: Config) -> Result<Report, TicketsError> {
    let store = Arc::new(InMemoryStore::default());
    let options = RabbitMqOptions::new(url, config.queue.as_str())
        .prefetch_count(config.prefetch_count)
        .on_failure(AckAction::RejectAndRequeueOnce)
        .connection_name("tickets");
    let producer = RabbitMqProducer::<Payload>::new(options);
    let stats = producer.stats();
    let started = Instant::now();
    let pipeline = builder(&config, Arc::clone(&store))
        .producer(producer.clone())
        .start()
        .await?;
    let done = || stats.acked.load(Ordering::Relaxed) + stats.rejected.load(Ordering::Relaxed);
    let all_acked = async {
        // The counters live in the producer's acknowledgement tasks; a tenth of a second
        // is fine grain for a progress check.
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        while done() < config.count {
            tick.tick().await;
        }
    };
    let (elapsed, outcome) = run_until_done(&pipeline, started, all_acked).await?;
    producer.closed().await;
    let acked = stats.acked.load(Ordering::Relaxed);
    let rejected = stats.rejected.load(Ordering::Relaxed);
    let requeued = stats.requeued.load(Ordering::Relaxed);
    Ok(Report {
        source: format!("RabbitMQ {}", config.queue),
        processed: acked,
        failed: rejected + requeued,
        acked: acked + rejected + requeued,
        tickets: store.tickets(),
        emails: store.emails(),
        elapsed,
        outcome,
    })
}
