//! Stream adapters: producers fed by an iterator or a `Stream`, and the `EventStream`
//! that consumes from producers with back-pressure.

mod support;

use std::ops::Range;

use arbor_actor::{Exit, Init, Outcome};
use arbor_registry::Registry;
use arbor_stage::{
    Cancel, Cancelled, EventStream, GenStage, IterProducer, NoEvents, Producer, Side, Stage,
    StageContext, StageStartError, SubscribeOptions, SubscribeTo, SubscriptionTag,
};
use arbor_supervisor::{AutoShutdown, Restart, Supervisor, SupervisorOptions};
use support::{collect, manual_probe_on, Counter, Probe, Seen};
use tokio::sync::mpsc;

/// Reads `events` to its end; every item must be an event.
async fn read_all<E: Send + 'static>(events: &mut EventStream<E>) -> Vec<E> {
    let mut all = Vec::new();
    while let Some(event) = events.next().await {
        all.push(event.expect("no producer fails"));
    }
    all
}

/// Subscribes a permanent probe to `producer`, which must emit 0..25 and stop: checks
/// that every event arrives once, in order, and that both stages then stop normally.
async fn delivers_0_to_25_then_stops<P: Producer<Out = u64>>(producer: Stage<P>) {
    let (probe, mut seen) = Probe::new();
    let consumer = Stage::consumer(probe, ())
        .subscribe_to(&producer, SubscribeOptions::new().max_demand(10))
        .start()
        .await
        .unwrap();
    let (_, events) = collect(&mut seen, 25).await;
    assert_eq!(events, (0..25).collect::<Vec<_>>());
    // Nothing after the last event but the producer's normal end.
    assert!(matches!(
        seen.recv().await,
        Some(Seen::Cancelled(_, Exit::Normal))
    ));
    assert_eq!(producer.wait().await, Exit::Normal);
    assert_eq!(consumer.wait().await, Exit::Normal);
}

#[tokio::test]
async fn an_iterator_producer_delivers_every_item_once_in_order_then_stops_normally() {
    let producer = arbor_stage::from_iter(0..25_u64).start().await.unwrap();
    delivers_0_to_25_then_stops(producer).await;
}

#[tokio::test]
async fn a_stream_producer_delivers_every_item_once_in_order_then_stops_normally() {
    let producer = arbor_stage::from_stream(futures::stream::iter(0..25_u64))
        .start()
        .await
        .unwrap();
    delivers_0_to_25_then_stops(producer).await;
}

#[tokio::test]
async fn an_empty_iterator_stops_its_producer_at_the_first_demand() {
    let producer = arbor_stage::from_iter(Vec::<u64>::new())
        .start()
        .await
        .unwrap();
    let mut events = arbor_stage::stream()
        .subscribe_to(&producer, SubscribeOptions::new())
        .start()
        .await
        .unwrap();
    assert_eq!(read_all(&mut events).await, Vec::<u64>::new());
    assert_eq!(producer.wait().await, Exit::Normal);
}

#[tokio::test]
async fn a_stream_producer_emits_items_as_they_come_without_waiting_for_the_whole_demand() {
    let (items, receiver) = mpsc::unbounded_channel::<u64>();
    let live = Box::pin(futures::stream::unfold(receiver, |mut receiver| async {
        receiver.recv().await.map(|item| (item, receiver))
    }));
    let producer = arbor_stage::from_stream(live).start().await.unwrap();
    let (probe, mut seen) = Probe::new();
    let consumer = Stage::consumer(probe, ())
        .subscribe_to(&producer, SubscribeOptions::new().max_demand(10))
        .start()
        .await
        .unwrap();

    // 10 asked, 3 there: the 3 go out, and the producer pulls again for the rest.
    for item in 0..3 {
        items.send(item).unwrap();
    }
    assert_eq!(collect(&mut seen, 3).await.1, vec![0, 1, 2]);
    for item in 3..5 {
        items.send(item).unwrap();
    }
    assert_eq!(collect(&mut seen, 2).await.1, vec![3, 4]);

    drop(items);
    assert!(matches!(
        seen.recv().await,
        Some(Seen::Cancelled(_, Exit::Normal))
    ));
    assert_eq!(producer.wait().await, Exit::Normal);
    assert_eq!(consumer.wait().await, Exit::Normal);
}

#[tokio::test]
async fn an_iterator_producer_runs_under_a_supervisor_and_a_transient_one_finishes() {
    let names: Registry<&str> = Registry::unique("stream-stages");
    let spec = arbor_stage::from_iter(0..20_u64)
        .via(names.via("numbers", ()))
        .child_spec("numbers")
        .unwrap()
        .restart(Restart::Transient)
        .significant(true);
    let options = SupervisorOptions::one_for_one().auto_shutdown(AutoShutdown::AnySignificant);
    let tree = Supervisor::start([spec], options).await.unwrap();

    let numbers = SubscribeTo::via::<IterProducer<Range<u64>>, _, _>(&names, "numbers");
    let mut events = arbor_stage::stream()
        .subscribe_to(numbers, SubscribeOptions::new().max_demand(5))
        .start()
        .await
        .unwrap();
    assert_eq!(read_all(&mut events).await, (0..20).collect::<Vec<_>>());
    // A transient child's normal stop is final: the tree shuts down with it.
    assert!(tree.wait().await.is_normal());
}

#[tokio::test]
async fn an_event_stream_yields_every_event_of_one_producer_once_then_ends() {
    let producer = Stage::producer(Counter { limit: Some(25) }, 0)
        .start()
        .await
        .unwrap();
    let mut events = arbor_stage::stream()
        .subscribe_to(&producer, SubscribeOptions::new().max_demand(10))
        .start()
        .await
        .unwrap();
    assert_eq!(read_all(&mut events).await, (0..25).collect::<Vec<_>>());
    assert_eq!(events.next().await, None, "an ended stream stays ended");
    assert_eq!(producer.wait().await, Exit::Normal);
}

#[tokio::test]
async fn an_event_stream_yields_every_event_of_two_producers_once_then_ends() {
    let low = arbor_stage::from_iter(0..30_u64).start().await.unwrap();
    let high = arbor_stage::from_iter(100..120_u64).start().await.unwrap();
    let mut events = arbor_stage::stream()
        .subscribe_to(&low, SubscribeOptions::new().max_demand(10))
        .subscribe_to(&high, SubscribeOptions::new().max_demand(7).min_demand(0))
        .start()
        .await
        .unwrap();
    let all = read_all(&mut events).await;
    let (lows, highs): (Vec<u64>, Vec<u64>) = all.iter().partition(|&&event| event < 100);
    assert_eq!(lows, (0..30).collect::<Vec<_>>());
    assert_eq!(highs, (100..120).collect::<Vec<_>>());
    assert_eq!(low.wait().await, Exit::Normal);
    assert_eq!(high.wait().await, Exit::Normal);
}

/// What a [`Recorder`] tells the test.
#[derive(Debug, PartialEq)]
enum Heard {
    Demand(usize),
    Cancelled(Cancelled),
}

/// Emits 0, 1, 2, … exactly as much as asked, telling the test every demand it gets
/// and how its subscription ends.
struct Recorder {
    heard: mpsc::UnboundedSender<Heard>,
}

impl Recorder {
    async fn start() -> (Stage<Recorder>, mpsc::UnboundedReceiver<Heard>) {
        let (heard, receiver) = mpsc::unbounded_channel();
        let stage = Stage::producer(Recorder { heard }, 0)
            .start()
            .await
            .unwrap();
        (stage, receiver)
    }
}

impl GenStage for Recorder {
    type Args = u64;
    type State = u64;
    type In = NoEvents;
    type Out = u64;

    async fn init(&self, start: u64, _: &mut StageContext<Self>) -> Init<u64> {
        Init::Ready(start)
    }

    async fn handle_cancel(
        &self,
        _: Side,
        why: Cancelled,
        _: SubscriptionTag,
        _: &mut u64,
        _: &mut StageContext<Self>,
    ) -> Outcome {
        let _ = self.heard.send(Heard::Cancelled(why));
        Outcome::NoReply
    }
}

impl Producer for Recorder {
    async fn handle_demand(
        &self,
        demand: usize,
        next: &mut u64,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        let _ = self.heard.send(Heard::Demand(demand));
        let end = *next + demand as u64;
        ctx.emit_all(*next..end);
        *next = end;
        Outcome::NoReply
    }
}

async fn demand(heard: &mut mpsc::UnboundedReceiver<Heard>) -> usize {
    match heard.recv().await {
        Some(Heard::Demand(demand)) => demand,
        other => panic!("expected a demand, got {other:?}"),
    }
}

#[tokio::test]
async fn a_slow_reader_keeps_its_producer_within_max_demand_of_what_it_read() {
    let (producer, mut heard) = Recorder::start().await;
    let options = SubscribeOptions::new().max_demand(10).min_demand(5);
    let mut events = arbor_stage::stream()
        .subscribe_to(&producer, options)
        .start()
        .await
        .unwrap();
    let mut asked = demand(&mut heard).await;
    assert_eq!(asked, 10);
    for read in 1..=23_usize {
        assert_eq!(events.next().await, Some(Ok(read as u64 - 1)));
        if read % 5 == 0 {
            // A batch of max_demand - min_demand is read: that much is asked again.
            asked += demand(&mut heard).await;
        }
        assert!(asked <= read + 10, "asked {asked} after reading {read}");
    }
    drop(events);
    // The stream's stage stops, and its end reaches the producer after every ask it
    // sent: none was asked beyond those counted above.
    assert_eq!(
        heard.recv().await,
        Some(Heard::Cancelled(Cancelled::Down(Exit::Normal)))
    );
    assert_eq!(asked, 30);
}

#[tokio::test]
async fn dropping_an_event_stream_stops_its_consumer_stage() {
    let (producer, mut heard) = Recorder::start().await;
    let mut events = arbor_stage::stream()
        .subscribe_to(&producer, SubscribeOptions::new().max_demand(4))
        .start()
        .await
        .unwrap();
    assert_eq!(events.next().await, Some(Ok(0)));
    assert_eq!(
        producer.subscriptions().await.unwrap(),
        arbor_stage::Subscriptions::new(1, 0)
    );
    drop(events);
    loop {
        match heard.recv().await {
            Some(Heard::Demand(_)) => {}
            Some(Heard::Cancelled(why)) => {
                assert_eq!(why, Cancelled::Down(Exit::Normal));
                break;
            }
            None => panic!("the producer stopped"),
        }
    }
    assert_eq!(
        producer.subscriptions().await.unwrap(),
        arbor_stage::Subscriptions::new(0, 0)
    );
    assert!(
        producer.is_alive(),
        "the producer goes on without the stream"
    );
}

#[tokio::test]
async fn an_abnormal_exit_of_a_permanent_producer_is_yielded_after_its_events() {
    let producer = Stage::producer(Counter::default(), 0)
        .start()
        .await
        .unwrap();
    let mut events = arbor_stage::stream()
        .subscribe_to(&producer, SubscribeOptions::new().max_demand(10))
        .start()
        .await
        .unwrap();
    assert_eq!(events.next().await, Some(Ok(0)));
    producer.stop(Exit::error("boom")).unwrap();

    let mut read = vec![0];
    let failure = loop {
        match events.next().await {
            Some(Ok(event)) => read.push(event),
            Some(Err(failure)) => break failure,
            None => panic!("the stream ended without reporting the failure"),
        }
    };
    assert_eq!(read, (0..read.len() as u64).collect::<Vec<_>>());
    assert_eq!(failure.reason, Exit::error("boom"));
    assert_eq!(failure.producer, producer.pid().to_string());
    assert_eq!(events.next().await, None);
}

#[tokio::test]
async fn a_temporary_producer_may_fail_while_the_others_run_to_their_end() {
    let failing = Stage::producer(Counter::default(), 0)
        .start()
        .await
        .unwrap();
    let finite = arbor_stage::from_iter(100..110_u64).start().await.unwrap();
    let mut events = arbor_stage::stream()
        .subscribe_to(
            &failing,
            SubscribeOptions::new()
                .max_demand(3)
                .cancel(Cancel::Temporary),
        )
        .subscribe_to(&finite, SubscribeOptions::new().max_demand(3))
        .start()
        .await
        .unwrap();
    failing.stop(Exit::error("boom")).unwrap();
    let all = read_all(&mut events).await;
    let finished: Vec<u64> = all.into_iter().filter(|&event| event >= 100).collect();
    assert_eq!(finished, (100..110).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_stream_of_a_dead_producer_fails_to_start_unless_temporary() {
    let producer = Stage::producer(Counter::default(), 0)
        .start()
        .await
        .unwrap();
    producer.stop(Exit::Normal).unwrap();
    producer.wait().await;

    let permanent = arbor_stage::stream()
        .subscribe_to(&producer, SubscribeOptions::new())
        .start()
        .await;
    assert!(matches!(
        permanent,
        Err(StageStartError::Subscribe(
            arbor_stage::SubscribeError::NoProc(_)
        ))
    ));

    let temporary = SubscribeOptions::new().cancel(Cancel::Temporary);
    let mut events = arbor_stage::stream()
        .subscribe_to(&producer, temporary)
        .start()
        .await
        .unwrap();
    assert_eq!(events.next().await, None);
}

#[tokio::test]
async fn invalid_stream_options_fail_before_anything_starts() {
    let producer = Stage::producer(Counter::default(), 0)
        .start()
        .await
        .unwrap();
    let started = arbor_stage::stream()
        .subscribe_to(&producer, SubscribeOptions::new().max_demand(0))
        .start()
        .await;
    assert!(matches!(started, Err(StageStartError::InvalidOptions(_))));
}

#[tokio::test]
async fn an_iterator_producer_pulls_exactly_what_was_asked_and_ends_on_the_empty_pull() {
    let pulled = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let items = {
        let pulled = std::sync::Arc::clone(&pulled);
        (0..10_u64).inspect(move |_| {
            pulled.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        })
    };
    let producer = arbor_stage::from_iter(items).start().await.unwrap();
    let (consumer, mut seen, tag) =
        manual_probe_on(&producer, SubscribeOptions::new().max_demand(100)).await;
    for (ask, total) in [(4, 4), (6, 10)] {
        consumer.ask(tag, ask).await.unwrap();
        let (_, events) = collect(&mut seen, ask).await;
        assert_eq!(events.len(), ask);
        // A call is a barrier: the producer has handled the demand.
        producer.buffered_count().await.unwrap();
        assert_eq!(pulled.load(std::sync::atomic::Ordering::SeqCst), total);
        assert!(producer.is_alive(), "not ended before a pull finds the end");
    }
    // The pull that finds the iterator empty ends the producer.
    consumer.ask(tag, 1).await.unwrap();
    assert_eq!(producer.wait().await, Exit::Normal);
    assert_eq!(pulled.load(std::sync::atomic::Ordering::SeqCst), 10);
}

#[tokio::test]
async fn a_source_that_stops_on_cancel_stops_when_its_last_consumer_cancels() {
    for stop in [false, true] {
        let on_cancel = if stop {
            arbor_stage::OnCancel::Stop
        } else {
            arbor_stage::OnCancel::Continue
        };
        let iter = arbor_stage::from_iter(0_u64..)
            .on_cancel(on_cancel)
            .start()
            .await
            .unwrap();
        let stream = arbor_stage::from_stream(futures::stream::iter(0_u64..))
            .on_cancel(on_cancel)
            .start()
            .await
            .unwrap();
        let (probe, _seen) = Probe::new();
        let consumer = Stage::consumer(probe, ()).start().await.unwrap();
        let options = || SubscribeOptions::new().cancel(Cancel::Temporary);
        let to_iter = consumer.subscribe(&iter, options()).await.unwrap();
        let to_stream = consumer.subscribe(&stream, options()).await.unwrap();
        consumer.cancel(to_iter, Exit::Normal).unwrap();
        consumer.cancel(to_stream, Exit::Normal).unwrap();
        if stop {
            assert_eq!(iter.wait().await, Exit::Normal);
            assert_eq!(stream.wait().await, Exit::Normal);
        } else {
            // The cancels were sent (a call to the consumer is a barrier), then handled (a
            // call to each producer is one too), and both run on.
            consumer.subscriptions().await.unwrap();
            assert_eq!(
                iter.subscriptions().await.unwrap(),
                arbor_stage::Subscriptions::new(0, 0)
            );
            assert_eq!(
                stream.subscriptions().await.unwrap(),
                arbor_stage::Subscriptions::new(0, 0)
            );
        }
    }
}
