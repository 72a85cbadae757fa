//! The chapter's custom producer: a GenStage-style producer of its own (it emits sample
//! bookings as raw lines when asked), fed to Broadway through a transformer that wraps
//! each line in a message, with an acknowledger that counts.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use arbor::broadway::{
    AckConfig, AckData, Acknowledger, BoxError, ConfigureAckError, Message, MessageProducer, Pusher,
};
use tokio::sync::watch;

use crate::booking::{self, Payload};

/// Emits the first `total` sample bookings, as fast as demand allows.
#[derive(Debug, Clone, Copy)]
pub struct BookingsProducer {
    /// How many bookings to emit.
    pub total: u64,
}

impl MessageProducer for BookingsProducer {
    type Event = Vec<u8>;
    /// The next booking's number.
    type State = u64;

    async fn init(&self, _index: usize, _pusher: Pusher<Vec<u8>>) -> Result<u64, BoxError> {
        Ok(0)
    }

    async fn handle_demand(&self, demand: usize, next: &mut u64) -> Vec<Vec<u8>> {
        let end = (*next + demand as u64).min(self.total);
        let lines = (*next..end).map(booking::sample).collect();
        *next = end;
        lines
    }
}

/// Counts acknowledgements (the book's `ack(:pages, _successful, _failed)`, which
/// does nothing; here it tells the app how far the run got).
#[derive(Debug)]
pub struct CountingAcknowledger {
    successful: AtomicU64,
    failed: AtomicU64,
    acked: watch::Sender<u64>,
}

impl CountingAcknowledger {
    /// A counter at zero.
    pub fn new() -> Arc<Self> {
        Arc::new(CountingAcknowledger {
            successful: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            acked: watch::Sender::new(0),
        })
    }

    /// Messages acknowledged as successful.
    pub fn successful(&self) -> u64 {
        self.successful.load(Ordering::Relaxed)
    }

    /// Messages acknowledged as failed.
    pub fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Waits until `count` messages have been acknowledged.
    pub async fn reached(&self, count: u64) {
        let mut acked = self.acked.subscribe();
        let _ = acked.wait_for(|acked| *acked >= count).await;
    }

    /// Wraps a sample line in a message acknowledged to this counter.
    pub fn transformer(
        self: &Arc<Self>,
    ) -> impl Fn(Vec<u8>) -> Message<Payload> + Send + Sync + 'static {
        let acknowledger: Arc<dyn Acknowledger<Payload>> = self.clone();
        let ids = AtomicU64::new(0);
        move |line| {
            let id = ids.fetch_add(1, Ordering::Relaxed);
            let data = AckData {
                id,
                redelivered: false,
            };
            Message::with_acknowledger(Payload::from(line), Arc::clone(&acknowledger), data)
        }
    }
}

impl Acknowledger<Payload> for CountingAcknowledger {
    fn ack(&self, successful: Vec<Message<Payload>>, failed: Vec<Message<Payload>>) {
        self.successful
            .fetch_add(successful.len() as u64, Ordering::Relaxed);
        self.failed
            .fetch_add(failed.len() as u64, Ordering::Relaxed);
        let count = (successful.len() + failed.len()) as u64;
        self.acked.send_modify(|acked| *acked += count);
    }

    fn configure(&self, _config: &AckConfig) -> Result<(), ConfigureAckError> {
        Ok(())
    }
}
