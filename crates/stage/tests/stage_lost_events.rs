//! Events a consumer never handled because it crashed first are counted and logged:
//! those still in its mailbox and those of a delivery it had only begun to hand out.
//!
//! One test in its own binary: `lost_events` counts for the whole process.

mod support;

use std::sync::Mutex;
use std::time::Duration;

use arbor_actor::{Exit, Init, Outcome};
use arbor_stage::{
    lost_events, Consumer, GenStage, Stage, StageContext, SubscribeOptions, SubscriptionTag,
};
use support::metrics::Metrics;
use support::{Push, Pusher};
use tokio::sync::{mpsc, oneshot};

/// Reports its first batch, waits for the test's word, then crashes.
struct Stall {
    first: mpsc::UnboundedSender<usize>,
    release: Mutex<Option<oneshot::Receiver<()>>>,
}

impl GenStage for Stall {
    type Args = ();
    type State = ();
    type In = u64;
    type Out = arbor_stage::NoEvents;

    async fn init(&self, _: (), _ctx: &mut StageContext<Self>) -> Init<()> {
        Init::Ready(())
    }
}

impl Consumer for Stall {
    async fn handle_events(
        &self,
        events: Vec<u64>,
        _: SubscriptionTag,
        _: &mut (),
        _: &mut StageContext<Self>,
    ) -> Outcome {
        let _ = self.first.send(events.len());
        let release = self.release.lock().unwrap().take();
        if let Some(release) = release {
            let _ = release.await;
        }
        panic!("the consumer crashes with events still waiting")
    }
}

#[tokio::test]
async fn events_waiting_in_a_crashed_consumer_are_counted_as_lost() {
    let metrics = Metrics::install();
    assert_eq!(lost_events(), 0);
    let producer = Stage::producer(Pusher, ()).start().await.unwrap();
    let (first, mut handed) = mpsc::unbounded_channel();
    let (release, gate) = oneshot::channel();
    let stall = Stall {
        first,
        release: Mutex::new(Some(gate)),
    };
    // Batches of at most 100 (max - min): a delivery of 250 is handed out as 100, 100, 50.
    let options = SubscribeOptions::new().max_demand(1000).min_demand(900);
    let consumer = Stage::consumer(stall, ())
        .subscribe_to(&producer, options)
        .start()
        .await
        .unwrap();

    producer.cast(Push((0..250).collect())).unwrap();
    assert_eq!(handed.recv().await, Some(100), "the first chunk is handed");
    producer.cast(Push((250..350).collect())).unwrap();
    producer.cast(Push((350..450).collect())).unwrap();
    // Answered after both pushes: both deliveries are in the stalled consumer's mailbox.
    assert_eq!(producer.buffered_count().await.unwrap(), 0);

    release.send(()).unwrap();
    assert!(matches!(consumer.wait().await, Exit::Panic(_)));
    // 150 of the first delivery were never handed out, and 200 never left the mailbox.
    // The mailbox is dropped as the consumer's task ends, just after its exit is known.
    tokio::time::timeout(Duration::from_secs(10), async {
        while lost_events() < 350 {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the lost events are counted");
    assert_eq!(lost_events(), 350);
    // The same count reaches an installed recorder.
    assert_eq!(metrics.counter("arbor_stage_lost_total", &[]), 350);
}
