//! A producer that emits only what is pushed into it: what pipelines run on in tests
//! (Broadway's `Broadway.DummyProducer`), fed by `test_message` / `test_batch`.

use std::fmt;
use std::marker::PhantomData;

use crate::message::Message;
use crate::pipeline::BoxError;
use crate::producer::{MessageProducer, Pusher};

/// A producer with no source of its own: it emits the messages pushed into it
/// ([`Producers::push`](crate::Producers::push), `test_message`, `test_batch`).
///
/// # Examples
///
/// ```
/// use arbor_broadway::{Broadway, BoxError, Message, Pipeline, TestProducer};
///
/// struct Pass;
/// impl Pipeline for Pass {
///     type Data = u8;
///     type Context = ();
///     async fn handle_message(&self, _: &str, _: &mut Message<u8>, _: &()) -> Result<(), BoxError> { Ok(()) }
/// }
/// let _builder = Broadway::builder("pass", Pass, ()).producer(TestProducer::new());
/// ```
pub struct TestProducer<T>(PhantomData<fn() -> T>);

impl<T> TestProducer<T> {
    /// The producer.
    pub fn new() -> Self {
        TestProducer(PhantomData)
    }
}

impl<T> Default for TestProducer<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for TestProducer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TestProducer")
    }
}

impl<T: Send + 'static> MessageProducer for TestProducer<T> {
    type Event = Message<T>;
    type State = ();

    async fn init(&self, _index: usize, _pusher: Pusher<Message<T>>) -> Result<(), BoxError> {
        Ok(())
    }
}
