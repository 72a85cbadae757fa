//! The book's scraper: a GenStage pipeline with back-pressure, on arbor.
//!
//! ```text
//!                 ┌─▶ OnlinePageProducerConsumer 1 ─┐
//!  PageProducer ──┤   (max_demand 1, filters       ├──▶ PageConsumerSupervisor ──▶ one
//!  (scrape_pages, │    offline pages)               │    (ConsumerSupervisor,        PageConsumer
//!   buffer)       └─▶ OnlinePageProducerConsumer 2 ─┘     max_demand = cores × 2)    task per page
//!        ◀────────────── demand ─────────────────◀──────────── demand ─────────
//! ```
//!
//! Every stage runs under one supervisor, `one_for_one`, started in the book's order:
//! the registry, the producer, the producer-consumers, the consumer supervisor. The
//! producer and the producer-consumers are named in the registry, and every
//! subscription is made by name, so a restarted stage is found again.
//!
//! The work is simulated by default, as in the book (1 to 5 s per check and per
//! scrape, one page in three offline), or done for real over HTTP ([`Work::Http`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), scraper::ScraperError> {
//! use scraper::{Config, Scraper, Simulation};
//!
//! let scraper = Scraper::start(Config::new(scraper::Work::Simulated(Simulation::new(42, 0.1)))).await?;
//! scraper.scrape_pages(scraper::simulated_pages(10)).await?;
//! scraper.done().await;
//! let summary = scraper.stop().await;
//! println!("{summary}");
//! # Ok(())
//! # }
//! ```
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod dispatchers;
mod http;
mod metrics;
pub mod online_page_flow;
pub mod online_page_producer_consumer;
pub mod page_consumer;
pub mod page_consumer_supervisor;
pub mod page_producer;
mod summary;
mod tally;
pub mod terminal;
mod work;

use std::sync::Arc;

use arbor::actor::{CallError, Exit};
use arbor::registry::{Registry, RegistryError};
use arbor::stage::{BufferSize, InvalidOptions, Stage, StageStartError};
use arbor::supervisor::{Supervisor, SupervisorError, SupervisorOptions};
use tokio::sync::watch;

pub use dispatchers::{
    broadcast_demo, demo_pages, dispatcher_demos, domain_partition, partition_demo, BroadcastDemo,
    PartitionDemo, DOMAIN_PARTITIONS,
};
pub use http::{check_url, parse_url_list, title, Fetched, HttpFetcher};
pub use online_page_producer_consumer::OnlinePageProducerConsumer;
pub use page_consumer_supervisor::default_max_demand;
pub use page_producer::{PageProducer, ScrapePages, PAGE_PRODUCER};
pub use summary::Summary;
pub use tally::{PageOutcome, PageReport, Progress, Record, Tally};
pub use work::{Online, Scraped, Simulation, SplitMix64, Work};

/// The registry's name, the book's `ProducerConsumerRegistry`.
pub const REGISTRY: &str = "ProducerConsumerRegistry";

/// Why the scraper could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ScraperError {
    /// A stage's options were refused (a `max_demand` of 0, …).
    #[error("invalid options: {0}")]
    Options(#[from] InvalidOptions),
    /// The configuration makes no sense (no producer-consumer, …).
    #[error("invalid configuration: {0}")]
    Config(&'static str),
    /// A name was not found in the registry (or held by another kind of stage).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The supervision tree did not start.
    #[error("the pipeline did not start: {0}")]
    Start(#[from] SupervisorError),
    /// A stage was not running when a message was sent to it.
    #[error("{0} is not running")]
    NotRunning(&'static str),
    /// A call to a stage failed.
    #[error(transparent)]
    Call(#[from] CallError),
    /// A stage of a demo did not start.
    #[error(transparent)]
    Stage(#[from] StageStartError),
    /// The online-page flow (`Config::flow`) did not start.
    #[error("the online-page flow did not start")]
    Flow(#[from] arbor::flow::FlowError),
    /// A URL is not an absolute http(s) URL.
    #[error("bad URL {url:?}: {why}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        why: String,
    },
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Http(String),
    /// The observer (`--observe`) did not start.
    #[error("the observer did not start: {0}")]
    Observer(#[from] arbor::observer::ObserverError),
}

/// What every stage of one pipeline shares: how to do the work, and where to count it.
#[derive(Debug)]
pub struct Env {
    work: Work,
    tally: Tally,
}

/// How to build the pipeline.
#[derive(Debug, Clone)]
pub struct Config {
    /// How pages are checked and scraped.
    pub work: Work,
    /// The consumer supervisor's `max_demand` on each producer-consumer: how many pages
    /// each may have scraped at once. Default: [`default_max_demand`] (cores × 2).
    pub max_demand: usize,
    /// How many `OnlinePageProducerConsumer`s to run. Default: 2, as in the book.
    pub producer_consumers: usize,
    /// `PageProducer`'s buffer. Default: 10 000, gen_stage's default; pages beyond it
    /// are discarded (oldest first), counted and logged.
    pub buffer_size: usize,
    /// The book's end of chapter 4: a flow (`from_stages` on `PageProducer`, `filter`
    /// online pages in `producer_consumers` stages, `into_stages` to
    /// `PageConsumerSupervisor`) replaces the `OnlinePageProducerConsumer`s. Default: off.
    pub flow: bool,
}

impl Config {
    /// The defaults, doing `work`.
    pub fn new(work: Work) -> Self {
        Config {
            work,
            max_demand: default_max_demand(),
            producer_consumers: 2,
            buffer_size: 10_000,
            flow: false,
        }
    }

    /// Runs the online filter as a flow (see [`Config::flow`]).
    pub fn flow(mut self, flow: bool) -> Self {
        self.flow = flow;
        self
    }

    /// Sets `max_demand`.
    pub fn max_demand(mut self, max_demand: usize) -> Self {
        self.max_demand = max_demand;
        self
    }

    /// Sets how many producer-consumers run.
    pub fn producer_consumers(mut self, count: usize) -> Self {
        self.producer_consumers = count;
        self
    }

    /// Sets `PageProducer`'s buffer size.
    pub fn buffer_size(mut self, size: usize) -> Self {
        self.buffer_size = size;
        self
    }
}

/// A running pipeline (the book's `Scraper.Application`).
#[derive(Debug)]
pub struct Scraper {
    tree: Supervisor,
    registry: Registry<String>,
    env: Arc<Env>,
    config: Config,
}

impl Scraper {
    /// Starts the supervision tree: the registry, `PageProducer`, the
    /// producer-consumers, then `PageConsumerSupervisor` — producers before their
    /// consumers, so every subscription finds its producer.
    ///
    /// # Errors
    ///
    /// [`ScraperError::Config`] for no producer-consumer, [`ScraperError::Options`] for a
    /// `max_demand` of 0, [`ScraperError::Start`] when a stage did not start.
    pub async fn start(config: Config) -> Result<Self, ScraperError> {
        if config.producer_consumers == 0 {
            return Err(ScraperError::Config(
                "at least one producer-consumer is needed",
            ));
        }
        let registry: Registry<String> = Registry::unique(REGISTRY);
        let env = Arc::new(Env {
            work: config.work.clone(),
            tally: Tally::new(),
        });
        let page_producer = Stage::producer(PageProducer, ())
            .via(registry.via(PAGE_PRODUCER.to_owned(), ()))
            .buffer_size(BufferSize::Bounded(config.buffer_size))
            .child_spec(PAGE_PRODUCER)?;
        let ids: Vec<String> = (1..=config.producer_consumers)
            .map(online_page_producer_consumer::id)
            .collect();
        let mut children = vec![registry.child_spec(REGISTRY), page_producer];
        if config.flow {
            // The consumers first: the flow subscribes them when it starts.
            children.push(page_consumer_supervisor::page_consumer_supervisor_spec(
                &registry,
                &env,
                &[],
                config.max_demand,
            )?);
            children.push(online_page_flow::spec(&registry, &env, &config));
        } else {
            for n in 1..=config.producer_consumers {
                children.push(online_page_producer_consumer::producer_consumer_spec(
                    &registry, &env, n,
                )?);
            }
            children.push(page_consumer_supervisor::page_consumer_supervisor_spec(
                &registry,
                &env,
                &ids,
                config.max_demand,
            )?);
        }
        let tree = Supervisor::start(children, SupervisorOptions::one_for_one()).await?;
        tracing::info!(
            max_demand = config.max_demand,
            flow = config.flow,
            subscribed_to = ?ids,
            "PageConsumerSupervisor started"
        );
        Ok(Scraper {
            tree,
            registry,
            env,
            config,
        })
    }

    /// Hands `pages` to `PageProducer` (the book's `PageProducer.scrape_pages/1`) and
    /// returns once it has taken them — not once they are scraped: see
    /// [`Scraper::done`].
    ///
    /// # Errors
    ///
    /// [`ScraperError::NotRunning`] or [`ScraperError::Registry`] when the producer is
    /// not running; [`ScraperError::Call`] when it did not answer how many pages its
    /// buffer discarded.
    pub async fn scrape_pages(&self, pages: Vec<String>) -> Result<(), ScraperError> {
        let count = pages.len();
        // Counted before the cast: a page may be scraped before the cast returns.
        self.env.tally.requested(&pages);
        if let Err(error) = page_producer::scrape_pages(&self.registry, pages) {
            self.env.tally.withdrawn(count);
            return Err(error);
        }
        // Asked after the cast, so the answer includes the pages this cast pushed out
        // of a full buffer: they will never be scraped, and `done` must not wait for them.
        let discarded = page_producer::whereis(&self.registry)?
            .discarded_count()
            .await?;
        self.env.tally.discarded(discarded);
        Ok(())
    }

    /// Watches the progress (the progress bar's source).
    pub fn progress(&self) -> watch::Receiver<Progress> {
        self.env.tally.subscribe()
    }

    /// The tally every stage writes to.
    pub fn tally(&self) -> &Tally {
        &self.env.tally
    }

    /// Waits until every page requested so far has been filtered out, scraped, failed or
    /// discarded (at once if none was requested).
    pub async fn done(&self) -> Progress {
        self.env.tally.done().await
    }

    /// The registry the stages are named in.
    pub fn registry(&self) -> &Registry<String> {
        &self.registry
    }

    /// The supervisor at the top of the pipeline.
    pub fn supervisor(&self) -> &Supervisor {
        &self.tree
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// What it has done so far. Once the tree has stopped (by [`Scraper::stop`] or by
    /// the application shell), that is what it did.
    pub fn summary(&self) -> Summary {
        Summary::new(self.env.tally.snapshot(), &self.config)
    }

    /// Stops the pipeline (last stage first) and sums up what it did. Pages still being
    /// scraped are abandoned: call [`Scraper::done`] first to let them finish.
    pub async fn stop(self) -> Summary {
        let exit = self.tree.stop(Exit::shutdown()).await;
        tracing::debug!(%exit, "pipeline stopped");
        self.summary()
    }
}

/// Starts a pipeline, scrapes `pages`, waits for all of them, stops the pipeline and
/// returns the summary.
///
/// # Errors
///
/// As [`Scraper::start`] and [`Scraper::scrape_pages`].
pub async fn run(config: Config, pages: Vec<String>) -> Result<Summary, ScraperError> {
    let scraper = Scraper::start(config).await?;
    scraper.scrape_pages(pages).await?;
    scraper.done().await;
    Ok(scraper.stop().await)
}

/// `count` page names for a simulated run: the book's five sites, then more pages of
/// them (`google.com/2`, …).
pub fn simulated_pages(count: usize) -> Vec<String> {
    const SITES: [&str; 5] = [
        "google.com",
        "facebook.com",
        "apple.com",
        "netflix.com",
        "amazon.com",
    ];
    (0..count)
        .map(|n| {
            let site = SITES[n % SITES.len()];
            match n / SITES.len() {
                0 => site.to_owned(),
                round => format!("{site}/{}", round + 1),
            }
        })
        .collect()
}
