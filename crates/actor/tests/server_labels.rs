//! The label a server's metrics carry: its name, shared rather than copied, or its
//! behaviour's short type name, built once per behaviour. In a file of its own: the span
//! test beside the other telemetry tests installs a thread's default subscriber, and a
//! server started on another thread at the same time would register the span's callsite
//! with no subscriber to see it.

mod support;

use std::sync::Arc;

use arbor_actor::{Server, StartOptions};
use support::{Plan, Probe};
use tokio::sync::mpsc;

fn probe() -> Probe {
    // Its events are not read here.
    Probe {
        events: mpsc::unbounded_channel().0,
    }
}

#[tokio::test]
async fn servers_of_one_behaviour_share_their_label() {
    // Built once per behaviour: a pipeline or a dynamic supervisor starts many of them.
    let first = Server::start(probe(), Plan::Ready).await.unwrap();
    let second = Server::start(probe(), Plan::Ready).await.unwrap();
    assert_eq!(first.stats().label(), "Probe");
    assert!(std::ptr::eq(
        first.stats().label().as_ptr(),
        second.stats().label().as_ptr()
    ));
    // A name is the label itself, shared with the server's options, not copied.
    let name: Arc<str> = Arc::from("named");
    let named = Server::start_with(
        probe(),
        Plan::Ready,
        StartOptions::new().name(Arc::clone(&name)),
    )
    .await
    .unwrap();
    assert!(std::ptr::eq(named.stats().label().as_ptr(), name.as_ptr()));
}
