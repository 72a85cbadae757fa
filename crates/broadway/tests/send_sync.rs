//! The handles users keep are `Send + Sync` (and `Clone` where they are shared).

use arbor_broadway::{
    Broadway, BroadwayBuilder, CallerAcknowledger, Message, NoopAcknowledger, Producers, Pusher,
    TestProducer,
};

fn send_sync<T: Send + Sync>() {}
fn clone<T: Clone>() {}

struct Pass;
impl arbor_broadway::Pipeline for Pass {
    type Data = String;
    type Context = ();
    async fn handle_message(
        &self,
        _: &str,
        _: &mut Message<String>,
        _: &(),
    ) -> Result<(), arbor_broadway::BoxError> {
        Ok(())
    }
}

#[test]
fn handles_are_send_and_sync() {
    send_sync::<Broadway<String>>();
    send_sync::<Producers<String>>();
    send_sync::<Pusher<Message<String>>>();
    send_sync::<Message<String>>();
    send_sync::<BroadwayBuilder<Pass>>();
    send_sync::<CallerAcknowledger<String>>();
    send_sync::<NoopAcknowledger>();
    send_sync::<TestProducer<String>>();
    clone::<Producers<String>>();
    clone::<Pusher<Message<String>>>();
}
