//! The dispatcher demos deliver what the book says they should.

use std::future::Future;
use std::time::Duration;

use scraper::{
    broadcast_demo, demo_pages, dispatcher_demos, domain_partition, partition_demo,
    DOMAIN_PARTITIONS,
};

/// Fails instead of hanging if a demo stalls.
async fn within<T>(work: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), work)
        .await
        .expect("the demo stalled")
}

fn strings(pages: &[&str]) -> Vec<String> {
    pages.iter().map(|page| (*page).to_owned()).collect()
}

#[tokio::test]
async fn broadcast_sends_every_page_to_every_consumer_its_selector_accepts() {
    let (broadcast, partition) = within(dispatcher_demos()).await.unwrap();
    // Every page, in order, to the consumer without a selector…
    assert_eq!(broadcast.everything, demo_pages());
    // …and only the accepted ones, in order, to the one with a selector.
    assert_eq!(
        broadcast.selected,
        strings(&["elixir-lang.org", "wikipedia.org"])
    );
    assert_eq!(
        partition.partitions,
        vec![
            (
                "com".to_owned(),
                strings(&["google.com", "facebook.com", "apple.com"])
            ),
            (
                "org".to_owned(),
                strings(&["elixir-lang.org", "wikipedia.org"])
            ),
        ]
    );
}

#[tokio::test]
async fn a_selector_that_accepts_nothing_gets_nothing_and_still_ends() {
    let pages: Vec<String> = (0..50).map(|n| format!("site-{n}.com")).collect();
    let broadcast = within(broadcast_demo(pages.clone(), |_| false))
        .await
        .unwrap();
    assert_eq!(broadcast.everything, pages);
    assert!(broadcast.selected.is_empty());
}

#[tokio::test]
async fn partitions_receive_exactly_their_pages_and_dropped_pages_go_nowhere() {
    let pages: Vec<String> = (0..600)
        .map(|n| format!("site-{n}.{}", ["com", "org", "net"][n % 3]))
        .collect();
    let demo = within(partition_demo(
        pages.clone(),
        &DOMAIN_PARTITIONS,
        |page: &String| domain_partition(page),
    ))
    .await
    .unwrap();
    for (index, (name, received)) in demo.partitions.iter().enumerate() {
        let expected: Vec<String> = pages
            .iter()
            .filter(|page| domain_partition(page) == Some(index))
            .cloned()
            .collect();
        assert_eq!(received, &expected, "partition {name}");
        assert_eq!(received.len(), 200);
    }
}

#[tokio::test]
async fn a_partition_dispatcher_needs_partitions() {
    let result = partition_demo(demo_pages(), &[], |_: &String| Some(0)).await;
    assert!(result.is_err());
}
