//! The book's end of chapter 4: the online filter as a flow between the running
//! `PageProducer` and `PageConsumerSupervisor` (Flow's `from_stages` / `into_stages`),
//! in place of the `OnlinePageProducerConsumer`s.
//!
//! ```text
//!  PageProducer ──▶ [flow stage 1: filter online?] ──┐
//!   (from_stages)  └▶ [flow stage 2: filter online?] ─┴──▶ PageConsumerSupervisor (into_stages)
//! ```

use std::sync::Arc;

use arbor::flow::{child_spec, Flow, RunningFlow};
use arbor::registry::Registry;
use arbor::stage::{Cancel, ConsumerSupervisor, Stage, SubscribeOptions, SubscribeTo};
use arbor::supervisor::ChildSpec;

use crate::page_consumer_supervisor::PAGE_CONSUMER_SUPERVISOR;
use crate::page_producer::{PageProducer, PAGE_PRODUCER};
use crate::{Config, Env, ScraperError};

/// The flow's id in the supervision tree.
pub const ONLINE_PAGE_FLOW: &str = "OnlinePageFlow";

/// Checks `page` the way `OnlinePageProducerConsumer` does. A flow's `filter` is a plain
/// function (as in Elixir, where it simply blocks its stage): the async check runs to
/// completion on this worker thread, which tokio hands its other tasks from meanwhile.
fn online(env: &Env, page: &str) -> bool {
    let runtime = tokio::runtime::Handle::current();
    let online = tokio::task::block_in_place(|| runtime.block_on(env.work.online(page)));
    env.tally.checked(page, &online);
    online.is_ok()
}

/// The flow as a child of the scraper's supervisor: at every start it finds
/// `PageProducer` and `PageConsumerSupervisor` by name, so their restarts are followed.
pub(crate) fn spec(registry: &Registry<String>, env: &Arc<Env>, config: &Config) -> ChildSpec {
    let registry = registry.clone();
    let env = Arc::clone(env);
    let stages = config.producer_consumers;
    let max_demand = config.max_demand;
    child_spec(ONLINE_PAGE_FLOW, move |parent| {
        let registry = registry.clone();
        let env = Arc::clone(&env);
        async move {
            let consumer: Stage<ConsumerSupervisor<String>> =
                Stage::whereis(&registry, &PAGE_CONSUMER_SUPERVISOR.to_owned())?;
            let producer =
                SubscribeTo::via::<PageProducer, _, _>(&registry, PAGE_PRODUCER.to_owned());
            let to_consumer = SubscribeOptions::new()
                .max_demand(max_demand)
                .cancel(Cancel::Transient);
            let running: RunningFlow = Flow::from_stages([producer])
                // One page at a time per stage, as the book's producer-consumers ask.
                .max_demand(1)
                .min_demand(0)
                .stages(stages)
                .filter(move |page: &String| online(&env, page))
                .into_stages_link([(consumer, to_consumer)], parent)
                .await?;
            Ok::<_, ScraperError>(running)
        }
    })
}
