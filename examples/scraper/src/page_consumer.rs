//! `PageConsumer`: the work done for one page, run as its own task by
//! `PageConsumerSupervisor` (the book's `Task.start_link` per event).

use std::sync::Arc;

use crate::work::Scraped;
use crate::Env;

/// Scrapes `page` (the book's `PageConsumer.start_link(event)`): counted in flight
/// from start to end, its outcome recorded in the tally.
pub(crate) async fn scrape(env: Arc<Env>, page: String) {
    tracing::info!("PageConsumer received {page}");
    let in_flight = env.tally.scraping(&page);
    let scraped = env.work.scrape(&page).await;
    match &scraped {
        Scraped::Simulated => tracing::debug!("PageConsumer scraped {page}"),
        Scraped::Fetched(fetched) => tracing::info!(
            status = fetched.status,
            bytes = fetched.bytes,
            title = fetched.title.as_deref().unwrap_or(""),
            "PageConsumer fetched {page}"
        ),
        Scraped::Failed(why) => tracing::warn!(why, "PageConsumer could not fetch {page}"),
    }
    in_flight.finish(scraped);
}
