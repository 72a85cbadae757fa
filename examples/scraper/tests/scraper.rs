//! The simulated pipeline, end to end: every page checked once, every online page
//! scraped once, the summary's counts, the online filter, in-flight pages bounded by
//! `max_demand`, and the producer's buffer.
//!
//! Most tests run on tokio's paused clock: the simulated work sleeps in virtual time, so
//! a minute of the book's work takes milliseconds, and the outcome depends only on the
//! seed. One runs on the real clock and several threads, with a tiny time scale.

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use scraper::{
    online_page_producer_consumer, page_producer, run, simulated_pages, Config, PageOutcome,
    Scraper, Simulation, Summary, Work,
};

/// Fails instead of hanging if the pipeline stalls. On the paused clock an idle
/// runtime jumps straight to the deadline, so a stall fails at once.
async fn within<T>(work: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(3600), work)
        .await
        .expect("the pipeline stalled")
}

fn simulated(simulation: Simulation) -> Config {
    Config::new(Work::Simulated(simulation))
}

/// Checks what must hold after any complete simulated run of `pages`.
fn assert_each_page_handled_once(summary: &Summary, simulation: &Simulation, pages: &[String]) {
    let online: HashSet<&String> = pages
        .iter()
        .filter(|page| simulation.is_online(page))
        .collect();
    for page in pages {
        assert_eq!(
            summary.record.checks.get(page),
            Some(&1),
            "{page} checked once"
        );
        let scrapes = summary.record.scrapes.get(page).copied().unwrap_or(0);
        let expected = usize::from(online.contains(page));
        assert_eq!(scrapes, expected, "{page} scraped {expected} time(s)");
    }
    assert_eq!(
        summary.record.checks.len(),
        pages.len(),
        "no page checked that was not asked for"
    );
    assert_eq!(
        summary.record.reports.len(),
        pages.len(),
        "one end per page"
    );

    let progress = summary.record.progress;
    assert_eq!(progress.requested, pages.len());
    assert_eq!(progress.checked, pages.len());
    assert_eq!(progress.online, online.len());
    assert_eq!(progress.offline, pages.len() - online.len());
    assert_eq!(progress.scraped, online.len());
    assert_eq!((progress.failed, progress.discarded), (0, 0));
    assert_eq!(progress.in_flight, 0, "nothing left in flight");
    assert!(progress.peak_in_flight >= 1);
    assert!(
        progress.peak_in_flight <= summary.in_flight_bound(),
        "peak {} above max_demand × producer-consumers = {}",
        progress.peak_in_flight,
        summary.in_flight_bound()
    );
}

#[tokio::test(start_paused = true)]
async fn every_page_is_checked_once_and_every_online_page_scraped_once() {
    let simulation = Simulation::new(7, 1.0);
    let pages = simulated_pages(60);
    let config = simulated(simulation.clone()).max_demand(4);
    let summary = within(run(config, pages.clone())).await.unwrap();
    assert_each_page_handled_once(&summary, &simulation, &pages);
    assert_eq!((summary.max_demand, summary.producer_consumers), (4, 2));
}

#[tokio::test(start_paused = true)]
async fn only_online_pages_reach_the_consumers() {
    let simulation = Simulation::new(2024, 1.0);
    let pages = simulated_pages(30);
    let summary = within(run(simulated(simulation.clone()), pages.clone()))
        .await
        .unwrap();
    let offline: Vec<&String> = pages
        .iter()
        .filter(|page| !simulation.is_online(page))
        .collect();
    assert!(!offline.is_empty(), "the seed gives some offline pages");
    for page in &pages {
        let outcome = summary.outcome(page).unwrap();
        if simulation.is_online(page) {
            assert_eq!(outcome, &PageOutcome::Scraped(None), "{page}");
        } else {
            assert_eq!(outcome, &PageOutcome::Offline("offline".into()), "{page}");
            assert!(
                !summary.record.scrapes.contains_key(page),
                "{page} was scraped"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn in_flight_pages_reach_max_demand_and_never_exceed_it() {
    // Checks take 1 s and scrapes 5 s: the consumers are the bottleneck, so each
    // producer-consumer's subscription fills up to max_demand and stays there.
    for (max_demand, producer_consumers) in [(1, 2), (2, 2), (3, 1), (2, 3)] {
        let simulation = Simulation::new(99, 1.0).with_work(1..=1, 5..=5);
        let pages = simulated_pages(40);
        let config = simulated(simulation.clone())
            .max_demand(max_demand)
            .producer_consumers(producer_consumers);
        let summary = within(run(config, pages.clone())).await.unwrap();
        assert_each_page_handled_once(&summary, &simulation, &pages);
        assert_eq!(
            summary.record.progress.peak_in_flight,
            max_demand * producer_consumers,
            "max_demand {max_demand} × {producer_consumers} producer-consumers"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn with_slow_checks_the_producer_consumers_are_the_bottleneck() {
    // The book's point about one OnlinePageProducerConsumer: checks that take longer
    // than scrapes leave the consumer supervisor mostly idle.
    let simulation = Simulation::new(5, 1.0).with_work(5..=5, 1..=1);
    let pages = simulated_pages(20);
    let config = simulated(simulation.clone()).max_demand(8);
    let summary = within(run(config, pages.clone())).await.unwrap();
    assert_each_page_handled_once(&summary, &simulation, &pages);
    assert!(summary.record.progress.peak_in_flight <= 2, "{summary}");
}

#[tokio::test(start_paused = true)]
async fn pages_can_be_requested_while_others_are_scraped() {
    let simulation = Simulation::new(31, 1.0);
    let pages = simulated_pages(24);
    let scraper = Scraper::start(simulated(simulation.clone())).await.unwrap();
    scraper.scrape_pages(pages[..10].to_vec()).await.unwrap();
    scraper.scrape_pages(pages[10..].to_vec()).await.unwrap();
    let progress = within(scraper.done()).await;
    assert_eq!(progress.requested, 24);
    let summary = scraper.stop().await;
    assert_each_page_handled_once(&summary, &simulation, &pages);
    assert_eq!(summary.record.requested, pages);
}

#[tokio::test(start_paused = true)]
async fn a_full_buffer_discards_pages_and_the_run_still_ends() {
    // The book's experiment: buffer_size 1, five pages, two producer-consumers that
    // have asked for one page each. Two pages go out, three wait for a buffer of one:
    // the two oldest of them are discarded.
    let simulation = Simulation::new(1, 1.0);
    let pages = simulated_pages(5);
    let config = simulated(simulation).buffer_size(1);
    let summary = within(run(config, pages)).await.unwrap();
    let progress = summary.record.progress;
    assert_eq!(progress.discarded, 2, "{summary}");
    assert_eq!(progress.checked, 3);
    assert_eq!(progress.settled(), 5);
    assert!(
        summary.to_string().contains("discarded        2"),
        "{summary}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_stages_are_named_in_the_registry_and_gone_after_stop() {
    let scraper = Scraper::start(simulated(Simulation::new(3, 1.0)).producer_consumers(3))
        .await
        .unwrap();
    let producer = page_producer::whereis(scraper.registry()).unwrap();
    let ids: Vec<String> = (1..=3).map(online_page_producer_consumer::id).collect();
    assert_eq!(ids[0], "online_page_producer_consumer_1");
    let stages: Vec<_> = ids
        .iter()
        .map(|id| online_page_producer_consumer::whereis(scraper.registry(), id).unwrap())
        .collect();
    // Each producer-consumer is subscribed to the producer, and the consumer supervisor
    // to each of them.
    assert_eq!(
        producer.subscriptions().await.unwrap(),
        arbor::stage::Subscriptions::new(3, 0)
    );
    for stage in &stages {
        assert_eq!(
            stage.subscriptions().await.unwrap(),
            arbor::stage::Subscriptions::new(1, 1)
        );
    }
    let registry = scraper.registry().clone();
    let counts = scraper.supervisor().count_children().await.unwrap();
    assert_eq!(
        counts.workers, 6,
        "registry, producer, 3 producer-consumers, consumer supervisor"
    );
    scraper.stop().await;
    assert!(!producer.is_alive());
    assert!(stages.iter().all(|stage| !stage.is_alive()));
    assert!(page_producer::whereis(&registry).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_clock_run_on_two_threads_handles_every_page_once() {
    // Real time, real threads: 1 to 5 ms of work per step.
    let simulation = Simulation::new(12345, 0.001);
    let pages = simulated_pages(100);
    let summary = within(run(
        simulated(simulation.clone()).max_demand(3),
        pages.clone(),
    ))
    .await
    .unwrap();
    assert_each_page_handled_once(&summary, &simulation, &pages);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flow_mode_handles_every_page_once() {
    // The book's end of chapter 4: a flow between PageProducer and
    // PageConsumerSupervisor filters the offline pages.
    let simulation = Simulation::new(777, 0.001);
    let pages = simulated_pages(60);
    let summary = within(run(
        simulated(simulation.clone()).max_demand(3).flow(true),
        pages.clone(),
    ))
    .await
    .unwrap();
    assert_each_page_handled_once(&summary, &simulation, &pages);
}

#[tokio::test(start_paused = true)]
async fn the_summary_reads_like_a_report() {
    let summary = within(run(
        simulated(Simulation::new(42, 1.0)).max_demand(4),
        simulated_pages(10),
    ))
    .await
    .unwrap();
    let text = summary.to_string();
    for line in [
        "pages requested  10",
        &format!("online           {}", summary.record.progress.online),
        &format!("scraped          {}", summary.record.progress.scraped),
        "max_demand 4 × 2 producer-consumers: at most 8",
        "seed 42",
    ] {
        assert!(text.contains(line), "{line:?} missing from\n{text}");
    }
    // Ten pages of 1–5 virtual seconds each, two checks at a time: the elapsed time is
    // the virtual time the run took, at least 5 checks of 1 s.
    assert!(
        summary.record.elapsed.as_secs() >= 5,
        "{:?}",
        summary.record.elapsed
    );
}

#[tokio::test(start_paused = true)]
async fn bad_configurations_are_refused() {
    let simulation = Simulation::new(0, 1.0);
    assert!(
        Scraper::start(simulated(simulation.clone()).producer_consumers(0))
            .await
            .is_err()
    );
    assert!(Scraper::start(simulated(simulation).max_demand(0))
        .await
        .is_err());
}

#[tokio::test(start_paused = true)]
async fn an_empty_run_ends_at_once() {
    let summary = within(run(simulated(Simulation::new(0, 1.0)), Vec::new()))
        .await
        .unwrap();
    assert_eq!(summary.record.progress, scraper::Progress::default());
}
