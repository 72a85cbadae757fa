//! `PageConsumerSupervisor`: the end of the pipeline, a `ConsumerSupervisor` that starts
//! one `PageConsumer` task per page and asks for more pages as tasks end, so at most
//! `max_demand` pages per producer-consumer are scraped at once.

use std::sync::Arc;

use arbor::registry::Registry;
use arbor::stage::{ConsumerSupervisor, Stage, SubscribeOptions};
use arbor::supervisor::ChildSpec;

use crate::{online_page_producer_consumer, page_consumer, Env, ScraperError};

/// The name `PageConsumerSupervisor` goes by in logs and in the supervision tree.
pub const PAGE_CONSUMER_SUPERVISOR: &str = "PageConsumerSupervisor";

/// The default `max_demand`: twice the available parallelism (the book's
/// `System.schedulers_online() * 2`).
pub fn default_max_demand() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
}

/// The child spec of the consumer supervisor, subscribed by name to each
/// producer-consumer in `producer_consumers` with `max_demand`.
///
/// # Errors
///
/// [`ScraperError::Options`] when `max_demand` is 0.
pub(crate) fn page_consumer_supervisor_spec(
    registry: &Registry<String>,
    env: &Arc<Env>,
    producer_consumers: &[String],
    max_demand: usize,
) -> Result<ChildSpec, ScraperError> {
    let env = Arc::clone(env);
    let scrapers = ConsumerSupervisor::tasks(move |page: String| {
        page_consumer::scrape(Arc::clone(&env), page)
    });
    // Registered, so the flow of `Config::flow` finds it (and its restarts) by name.
    let mut builder =
        Stage::consumer(scrapers, ()).via(registry.via(PAGE_CONSUMER_SUPERVISOR.to_owned(), ()));
    for id in producer_consumers {
        builder = builder.subscribe_to(
            online_page_producer_consumer::via(registry, id),
            SubscribeOptions::new().max_demand(max_demand),
        );
    }
    Ok(builder.child_spec(PAGE_CONSUMER_SUPERVISOR)?)
}
