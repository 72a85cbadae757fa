//! Casts and plain messages: delivery, per-sender order, sends to stopped servers.

mod support;

use std::time::Duration;

use arbor_actor::Exit;
use support::{drain, flush, probe, Event, Note, Record};

#[tokio::test]
async fn casts_and_infos_reach_their_handlers_in_send_order() {
    let (server, mut events) = probe().await;
    for n in 0..500 {
        server.cast(Record(n)).unwrap();
        server.send(Note(n)).unwrap();
    }
    flush(&server).await;
    let expected: Vec<Event> = std::iter::once(Event::Init)
        .chain((0..500).flat_map(|n| [Event::Cast(n), Event::Info(n)]))
        .collect();
    assert_eq!(drain(&mut events), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_senders_messages_keep_their_order() {
    const SENDERS: u32 = 4;
    const EACH: u32 = 1000;
    let (server, mut events) = probe().await;
    let senders: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let server = server.clone();
            tokio::spawn(async move {
                for i in 0..EACH {
                    server.cast(Record(sender * EACH + i)).unwrap();
                }
            })
        })
        .collect();
    for sender in senders {
        sender.await.unwrap();
    }
    flush(&server).await;
    let mut last_seen = vec![None; SENDERS as usize];
    let mut received = 0;
    for event in drain(&mut events) {
        if let Event::Cast(n) = event {
            let (sender, i) = ((n / EACH) as usize, n % EACH);
            assert!(
                last_seen[sender] < Some(i),
                "sender {sender}: {i} after {:?}",
                last_seen[sender]
            );
            last_seen[sender] = Some(i);
            received += 1;
        }
    }
    assert_eq!(received, SENDERS * EACH, "every message arrives once");
}

#[tokio::test]
async fn sending_to_a_stopped_server_returns_the_message() {
    let (server, _events) = probe().await;
    server
        .stop_and_wait(Exit::Normal, Duration::from_secs(1))
        .await
        .unwrap();
    let error = server.cast(Record(9)).unwrap_err();
    assert_eq!(error.into_inner().0, 9);
    let error = server.send(Note(4)).unwrap_err();
    assert_eq!(
        error.to_string(),
        "no such process: the server is not running"
    );
    assert_eq!(error.into_inner().0, 4);
}
