//! `PageProducer`: the start of the pipeline. It emits nothing on demand; pages come in
//! through [`scrape_pages`] (a cast) and wait in the producer's buffer until a
//! producer-consumer asks for them.

use arbor::actor::{Init, Outcome};
use arbor::registry::Registry;
use arbor::stage::{GenStage, NoEvents, Producer, Stage, StageCast, StageContext};

use crate::ScraperError;

/// The key `PageProducer` is registered under. arbor has no process-wide names (the
/// book's `name: __MODULE__`), so the producer's name lives in the pipeline's registry.
pub const PAGE_PRODUCER: &str = "PageProducer";

/// The producer of pages to scrape (the book's `PageProducer`).
#[derive(Debug, Clone, Copy, Default)]
pub struct PageProducer;

impl GenStage for PageProducer {
    type Args = ();
    type State = ();
    type In = NoEvents;
    type Out = String;

    async fn init(&self, (): (), _: &mut StageContext<Self>) -> Init<()> {
        tracing::info!("PageProducer init");
        Init::Ready(())
    }
}

impl Producer for PageProducer {
    async fn handle_demand(
        &self,
        demand: usize,
        _: &mut (),
        _: &mut StageContext<Self>,
    ) -> Outcome {
        tracing::info!("PageProducer received demand for {demand} pages");
        // Pages come from `scrape_pages`; demand nobody can meet yet stays pending, and
        // the buffer hands the next cast's pages straight to whoever asked.
        Outcome::NoReply
    }
}

/// The cast behind [`scrape_pages`]: these pages, to be scraped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScrapePages(pub Vec<String>);

impl StageCast<ScrapePages> for PageProducer {
    async fn handle_cast(
        &self,
        ScrapePages(pages): ScrapePages,
        _: &mut (),
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        tracing::debug!(
            pages = pages.len(),
            "PageProducer emits {} pages",
            pages.len()
        );
        // Emitted beyond the current demand, they wait in the buffer (10 000 by default;
        // beyond that the oldest are discarded, counted and logged).
        ctx.emit_batch(pages);
        Outcome::NoReply
    }
}

/// The running `PageProducer`, found by name: a restarted producer is found again.
///
/// # Errors
///
/// [`ScraperError::Registry`] when no `PageProducer` is registered.
pub fn whereis(registry: &Registry<String>) -> Result<Stage<PageProducer>, ScraperError> {
    Ok(Stage::whereis(registry, &PAGE_PRODUCER.to_owned())?)
}

/// Hands `pages` to the producer (the book's `PageProducer.scrape_pages/1`): a cast, so
/// it returns at once, whatever the pipeline is busy with.
///
/// # Errors
///
/// [`ScraperError::Registry`] when the producer is not registered,
/// [`ScraperError::NotRunning`] when it stopped meanwhile.
pub fn scrape_pages(registry: &Registry<String>, pages: Vec<String>) -> Result<(), ScraperError> {
    whereis(registry)?
        .cast(ScrapePages(pages))
        .map_err(|_| ScraperError::NotRunning(PAGE_PRODUCER))
}
