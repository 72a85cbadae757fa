//! The label a server's metrics carry: its name, shared rather than copied, or its
//! behaviour's short type name, built once per behaviour. In a file of its own: the span
//! test beside the other telemetry tests installs a thread's default subscriber, and a
//! server started on another thread at the same time would register the span's callsite
//! with no subscriber to see it.

use std::sync::Arc;

use arbor_actor::{Context, GenServer, Init, Server, StartOptions};

struct Logger;

impl GenServer for Logger {
    type Args = ();
    type State = ();
    async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
        Init::Ready(())
    }
}

#[tokio::test]
async fn servers_of_one_behaviour_share_their_label() {
    // Built once per behaviour: a pipeline or a dynamic supervisor starts many of them.
    let first = Server::start(Logger, ()).await.unwrap();
    let second = Server::start(Logger, ()).await.unwrap();
    assert_eq!(first.stats().label(), "Logger");
    assert!(std::ptr::eq(
        first.stats().label().as_ptr(),
        second.stats().label().as_ptr()
    ));
    // A name is the label itself, shared with the server's options, not copied.
    let name: Arc<str> = Arc::from("named");
    let named = Server::start_with(Logger, (), StartOptions::new().name(Arc::clone(&name)))
        .await
        .unwrap();
    assert!(std::ptr::eq(named.stats().label().as_ptr(), name.as_ptr()));
}
