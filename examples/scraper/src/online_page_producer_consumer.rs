//! `OnlinePageProducerConsumer`: the middle of the pipeline. Each instance asks the
//! producer for one page at a time, checks whether it is online, and passes on only the
//! pages that are. Several instances run side by side, each registered under its own id.

use std::sync::Arc;

use arbor::actor::{Init, Outcome};
use arbor::registry::Registry;
use arbor::stage::{
    GenStage, ProducerConsumer, Stage, StageContext, SubscribeOptions, SubscribeTo, SubscriptionTag,
};
use arbor::supervisor::ChildSpec;

use crate::page_producer::{PageProducer, PAGE_PRODUCER};
use crate::{Env, ScraperError};

/// Filters offline pages out (the book's `OnlinePageProducerConsumer`).
#[derive(Debug, Clone)]
pub struct OnlinePageProducerConsumer {
    env: Arc<Env>,
}

impl GenStage for OnlinePageProducerConsumer {
    /// Its id, as in the book's `start_link(id)`.
    type Args = String;
    type State = String;
    type In = String;
    type Out = String;

    async fn init(&self, id: String, _: &mut StageContext<Self>) -> Init<String> {
        tracing::info!(%id, "OnlinePageProducerConsumer init");
        Init::Ready(id)
    }
}

impl ProducerConsumer for OnlinePageProducerConsumer {
    async fn handle_events(
        &self,
        pages: Vec<String>,
        _: SubscriptionTag,
        id: &mut String,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        tracing::info!(%id, "OnlinePageProducerConsumer received {pages:?}");
        // One page at a time, in this stage's own task, as the book's `Enum.filter`:
        // while it checks, it asks for nothing more, and that is the back-pressure.
        for page in pages {
            let online = self.env.work.online(&page).await;
            self.env.tally.checked(&page, &online);
            match online {
                Ok(()) => ctx.emit(page),
                Err(why) => tracing::debug!(%id, page, why, "offline"),
            }
        }
        Outcome::NoReply
    }
}

/// The registry id of producer-consumer number `n` (the book's
/// `"online_page_producer_consumer_#{id}"`).
pub fn id(n: usize) -> String {
    format!("online_page_producer_consumer_{n}")
}

/// Where to subscribe to producer-consumer `id`: its name in `registry` (the book's
/// `OnlinePageProducerConsumer.via(id)`), looked up at each subscription.
pub fn via(registry: &Registry<String>, id: &str) -> SubscribeTo<String> {
    SubscribeTo::via::<OnlinePageProducerConsumer, _, _>(registry, id.to_owned())
}

/// The running producer-consumer `id`, found by name.
///
/// # Errors
///
/// [`ScraperError::Registry`] when it is not registered.
pub fn whereis(
    registry: &Registry<String>,
    id: &str,
) -> Result<Stage<OnlinePageProducerConsumer>, ScraperError> {
    Ok(Stage::whereis(registry, &id.to_owned())?)
}

/// The child spec of producer-consumer number `n` (the book's `producer_consumer_spec`):
/// registered under [`id`]`(n)`, subscribed by name to `PageProducer` one page at a time
/// (`max_demand` 1, `min_demand` 0).
///
/// # Errors
///
/// [`ScraperError::Registry`] or [`ScraperError::Options`] (neither happens with the
/// unique registry and constant options used here).
pub(crate) fn producer_consumer_spec(
    registry: &Registry<String>,
    env: &Arc<Env>,
    n: usize,
) -> Result<ChildSpec, ScraperError> {
    let id = id(n);
    let stage = OnlinePageProducerConsumer {
        env: Arc::clone(env),
    };
    let page_producer = SubscribeTo::via::<PageProducer, _, _>(registry, PAGE_PRODUCER.to_owned());
    Ok(Stage::producer_consumer(stage, id.clone())
        .via(registry.via(id.clone(), ()))
        .subscribe_to(
            page_producer,
            SubscribeOptions::new().min_demand(0).max_demand(1),
        )
        .child_spec(id)?)
}
