//! The app end to end on its in-memory producer, and (feature `rabbitmq-tests`) on the
//! broker.

use std::sync::Arc;

use tickets::booking::{self, expected_failures};
use tickets::store::InMemoryStore;
use tickets::{run_in_memory_with, Config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_run_processes_every_booking_and_fails_the_bad_ones() {
    let store = Arc::new(InMemoryStore::default());
    let report = run_in_memory_with(Config::new(2_000), Arc::clone(&store))
        .await
        .unwrap();
    let failures = expected_failures(2_000);
    assert!(failures > 0);
    assert_eq!(report.failed, failures);
    assert_eq!(report.processed, 2_000 - failures);
    assert_eq!(report.acked, 2_000);
    assert_eq!(report.tickets, report.processed);
    assert_eq!(report.emails, report.processed);
    // Batches by event, each within its batcher's size.
    let sizes = store.batch_sizes();
    let limits = [("cinema", 75), ("musical", 100), ("default", 50)];
    for (batcher, limit) in limits {
        let batches = &sizes[batcher];
        assert!(
            batches.iter().all(|&size| size <= limit),
            "{batcher}: {batches:?}"
        );
        assert!(
            batches.contains(&limit),
            "{batcher} filled some batches: {batches:?}"
        );
    }
}

#[test]
fn bookings_parse_and_the_opera_is_sold_out() {
    let parsed = booking::parse(b"musical,7").unwrap();
    assert_eq!((parsed.event.as_str(), parsed.user_id), ("musical", 7));
    assert_eq!(booking::parse(b"musical"), None);
    assert_eq!(booking::parse(b",7"), None);
    assert!(!booking::tickets_available("opera"));
    assert!(booking::tickets_available("cinema"));
}

#[cfg(feature = "rabbitmq-tests")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_run_consumes_what_was_published_and_empties_the_queue() {
    let url = std::env::var("ARBOR_AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let queue = format!("arbor-tickets-test-{}", std::process::id());
    tickets::amqp::publish(&url, &queue, 500).await.unwrap();
    let config = Config {
        queue: queue.clone(),
        ..Config::new(500)
    };
    let report = tickets::run_amqp(&url, config).await.unwrap();
    let malformed = (0..500)
        .filter(|&n| booking::parse(&booking::sample(n)).is_none())
        .count() as u64;
    assert_eq!(report.processed, 500 - expected_failures(500));
    // Malformed bookings are requeued once, then rejected.
    assert_eq!(report.acked, 500 + malformed);
    let remaining = tickets::amqp::delete_queue(&url, &queue).await.unwrap();
    assert_eq!(remaining, 0);
}
