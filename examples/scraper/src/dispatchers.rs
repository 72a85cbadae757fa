//! The book's last section, "Choosing the Right Dispatcher", run for real: a producer
//! with a `BroadcastDispatcher` and a consumer that picks pages with a `selector`, then a
//! producer with a `PartitionDispatcher` whose hash routes each page to a named
//! partition or drops it.

use std::sync::{Arc, Mutex, PoisonError};

use arbor::actor::{Init, Outcome};
use arbor::stage::{
    BroadcastDispatcher, Consumer, DemandMode, GenStage, NoEvents, PartitionDispatcher, Partitions,
    Stage, StageContext, SubscribeOptions, SubscriptionTag,
};

use crate::ScraperError;

/// A consumer that keeps what it receives, and logs it as the book's consumers do.
#[derive(Debug, Clone)]
struct Collector {
    name: Arc<str>,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Collector {
    fn new(name: &str) -> Self {
        Collector {
            name: Arc::from(name),
            seen: Arc::default(),
        }
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.seen.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl GenStage for Collector {
    type Args = ();
    type State = ();
    type In = String;
    type Out = NoEvents;

    async fn init(&self, (): (), _: &mut StageContext<Self>) -> Init<()> {
        Init::Ready(())
    }
}

impl Consumer for Collector {
    async fn handle_events(
        &self,
        pages: Vec<String>,
        _: SubscriptionTag,
        _: &mut (),
        _: &mut StageContext<Self>,
    ) -> Outcome {
        tracing::info!("{} received {pages:?}", self.name);
        self.seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(pages);
        Outcome::NoReply
    }
}

/// What each consumer of [`broadcast_demo`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroadcastDemo {
    /// The consumer without a selector: every page.
    pub everything: Vec<String>,
    /// The consumer whose selector accepts only some pages: those.
    pub selected: Vec<String>,
}

/// Broadcasts `pages` to two consumers: `AllPagesConsumer` takes everything,
/// `SelectedPagesConsumer` subscribes with `selector` and receives only the pages it
/// accepts. Returns once the producer has delivered its last page and both have
/// stopped.
///
/// # Errors
///
/// [`ScraperError::Stage`] when a stage does not start.
pub async fn broadcast_demo(
    pages: Vec<String>,
    selector: impl Fn(&String) -> bool + Send + Sync + 'static,
) -> Result<BroadcastDemo, ScraperError> {
    tracing::info!("BroadcastDispatcher: every consumer gets every page its selector accepts");
    // Demand accumulates until both consumers are subscribed: a broadcast reaches the
    // consumers subscribed when it is dispatched, and no others.
    let producer = arbor::stage::from_iter(pages)
        .name("BroadcastPageProducer")
        .dispatcher(BroadcastDispatcher::new)
        .demand_mode(DemandMode::Accumulate)
        .start()
        .await?;
    let everything = Collector::new("AllPagesConsumer");
    let selected = Collector::new("SelectedPagesConsumer");
    let all_stage = Stage::consumer(everything.clone(), ())
        .name(&everything.name)
        .subscribe_to(&producer, SubscribeOptions::new().max_demand(2))
        .start()
        .await?;
    let selected_stage = Stage::consumer(selected.clone(), ())
        .name(&selected.name)
        .subscribe_to(
            &producer,
            SubscribeOptions::new().max_demand(2).selector(selector),
        )
        .start()
        .await?;
    producer
        .set_demand_mode(DemandMode::Forward)
        .map_err(|_| ScraperError::NotRunning("BroadcastPageProducer"))?;
    // The producer stops normally after its last page; its (permanent) consumers follow.
    all_stage.wait().await;
    selected_stage.wait().await;
    Ok(BroadcastDemo {
        everything: everything.take(),
        selected: selected.take(),
    })
}

/// What [`partition_demo`] delivered to each partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionDemo {
    /// Each partition's name and the pages its consumer received, in partition order.
    pub partitions: Vec<(String, Vec<String>)>,
}

/// Routes `pages` through a `PartitionDispatcher` with one partition per name in
/// `names`: `hash` gives a page's partition (an index into `names`), or `None` to drop
/// it. One consumer subscribes to each partition.
///
/// # Errors
///
/// [`ScraperError::Options`] for no partitions; [`ScraperError::Stage`] when a stage
/// does not start.
pub async fn partition_demo(
    pages: Vec<String>,
    names: &[&'static str],
    hash: impl Fn(&String) -> Option<usize> + Send + Sync + 'static,
) -> Result<PartitionDemo, ScraperError> {
    tracing::info!(partitions = ?names, "PartitionDispatcher: the producer's hash picks each page's partition");
    // Bad partitions (none, or a name twice) are refused here, before anything starts.
    let partitioned = PartitionDispatcher::maker(Partitions::names(names.iter().copied()), hash)?;
    // Pages the hash drops are asked for again by the dispatcher, so a plain iterator
    // producer serves the partitions.
    let producer = arbor::stage::from_iter(pages)
        .name("PartitionPageProducer")
        .dispatcher(partitioned)
        // Every partition's consumer subscribes before the first page goes out.
        .demand_mode(DemandMode::Accumulate)
        .start()
        .await?;
    let mut consumers = Vec::new();
    for &name in names {
        // "com" → "ComPagesConsumer", for the logs.
        let mut letters = name.chars();
        let capitalised: String = letters
            .next()
            .map(|first| first.to_uppercase().chain(letters).collect())
            .unwrap_or_default();
        let collector = Collector::new(&format!("{capitalised}PagesConsumer"));
        let stage = Stage::consumer(collector.clone(), ())
            .name(&collector.name)
            .subscribe_to(
                &producer,
                SubscribeOptions::new().max_demand(2).partition(name),
            )
            .start()
            .await?;
        consumers.push((collector, stage));
    }
    producer
        .set_demand_mode(DemandMode::Forward)
        .map_err(|_| ScraperError::NotRunning("PartitionPageProducer"))?;
    let mut partitions = Vec::new();
    for (collector, stage) in consumers {
        stage.wait().await;
        partitions.push(collector.take());
    }
    let partitions = names
        .iter()
        .map(|name| (*name).to_owned())
        .zip(partitions)
        .collect();
    Ok(PartitionDemo { partitions })
}

/// The pages of the dispatcher demos: the book's kind of sites, from three top-level
/// domains.
pub fn demo_pages() -> Vec<String> {
    [
        "google.com",
        "elixir-lang.org",
        "facebook.com",
        "wikipedia.org",
        "apple.com",
        "example.net",
    ]
    .map(String::from)
    .to_vec()
}

/// The partitions of the partition demo, by top-level domain.
pub const DOMAIN_PARTITIONS: [&str; 2] = ["com", "org"];

/// The partition demo's hash: `.com` pages to partition 0, `.org` pages to 1, anything
/// else dropped (the book's `:none`).
pub fn domain_partition(page: &str) -> Option<usize> {
    DOMAIN_PARTITIONS
        .iter()
        .position(|domain| page.rsplit('.').next() == Some(domain))
}

/// Runs both demos on [`demo_pages`]: a broadcast whose second consumer selects `.org`
/// pages, then a partition by [`domain_partition`].
///
/// # Errors
///
/// As [`broadcast_demo`] and [`partition_demo`].
pub async fn dispatcher_demos() -> Result<(BroadcastDemo, PartitionDemo), ScraperError> {
    let broadcast = broadcast_demo(demo_pages(), |page| page.ends_with(".org")).await?;
    let partition = partition_demo(demo_pages(), &DOMAIN_PARTITIONS, |page: &String| {
        domain_partition(page)
    })
    .await?;
    Ok((broadcast, partition))
}
