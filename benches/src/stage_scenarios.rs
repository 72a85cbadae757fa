//! The pipelines of the `stage` bench, one per [`Scenario`] and [`Leg`]: shared by the
//! bench and by `stage-profile`, which runs one of them alone under a profiler.

use std::sync::Arc;
use std::time::Duration;

use arbor_actor::ractor::{Actor, ActorRef};
use arbor_actor::Exit;
use arbor_stage::{
    BroadcastDispatcher, Cancel, ConsumerSupervisor, DemandMode, PartitionDispatcher, Partitions,
    Stage, SubscribeOptions,
};

use crate::pipeline::{spawn_fan_out, spawn_map, spawn_tasks, sum_below, Credit, Route, Tally};
use crate::raw_ractor::{RawMap, RawMsg, RawSink, RawSource};
use crate::stages::{
    arbor_fan_out, normal_exit, BoxFuture, Doubler, Numbers, Prepared, Summer, TEARDOWN,
};
pub use crate::Size;

/// One pipeline shape of the `stage` bench (the module docs' table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// producer → consumer.
    Pipeline,
    /// producer → producer-consumer (× 2) → consumer.
    Map,
    /// producer → 2 consumers, demand dispatcher.
    Demand2,
    /// producer → 2 consumers, broadcast dispatcher.
    Broadcast2,
    /// producer → 2 consumers, partition dispatcher.
    Partition2,
    /// producer → consumer, max_demand 1.
    MaxDemand1,
    /// producer → consumer supervisor of tasks.
    ConsumerSupervisor,
}

/// What a scenario's arbor leg must reach.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// At least this fraction of the `raw_tokio` leg's events/s.
    Raw(f64),
    /// At least this multiple of the BEAM's events/s.
    Beam(f64),
}

/// Who moves the events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leg {
    /// arbor-stage.
    Arbor,
    /// The same protocol on tokio tasks and channels.
    RawTokio,
    /// The same protocol on plain ractor actors.
    RawRactor,
}

impl Leg {
    /// The leg's name in criterion's results.
    pub fn name(self) -> &'static str {
        match self {
            Leg::Arbor => "arbor",
            Leg::RawTokio => "raw_tokio",
            Leg::RawRactor => "raw_ractor",
        }
    }
}

impl Scenario {
    /// Every scenario, in the bench's order.
    pub const ALL: [Scenario; 7] = [
        Scenario::Pipeline,
        Scenario::Map,
        Scenario::Demand2,
        Scenario::Broadcast2,
        Scenario::Partition2,
        Scenario::MaxDemand1,
        Scenario::ConsumerSupervisor,
    ];

    /// The criterion group.
    pub fn group(self) -> &'static str {
        match self {
            Scenario::Pipeline => "stage_pipeline",
            Scenario::Map => "stage_map",
            Scenario::Demand2 => "stage_demand_2",
            Scenario::Broadcast2 => "stage_broadcast_2",
            Scenario::Partition2 => "stage_partition_2",
            Scenario::MaxDemand1 => "stage_max_demand_1",
            Scenario::ConsumerSupervisor => "stage_consumer_supervisor",
        }
    }

    /// Events the producer makes per run.
    pub fn events(self, size: Size) -> u64 {
        let full = match self {
            // One event and one ask per event: 10× fewer, as in FIGURES.md.
            Scenario::MaxDemand1 => 1_000_000,
            // One task per event: 100k, as in FIGURES.md.
            Scenario::ConsumerSupervisor => 100_000,
            _ => 10_000_000,
        };
        match size {
            Size::Full => full,
            Size::Quick => full / 10,
            Size::Smoke => full / 1000,
        }
    }

    /// `(max_demand, min_demand)` of every subscription.
    pub fn demand(self) -> (usize, usize) {
        match self {
            Scenario::MaxDemand1 => (1, 0),
            Scenario::ConsumerSupervisor => (50, 25),
            _ => (1000, 500),
        }
    }

    /// The demand of every subscription, as the raw legs count it.
    pub fn credit(self) -> Credit {
        let (max, min) = self.demand();
        Credit::new(max, min)
    }

    /// How many consumers the producer has.
    pub fn consumers(self) -> usize {
        match self {
            Scenario::Demand2 | Scenario::Broadcast2 | Scenario::Partition2 => 2,
            _ => 1,
        }
    }

    /// The BEAM's figure for the same work, M events/s (`shared/anchors/FIGURES.md`).
    pub fn beam(self) -> f64 {
        match self {
            Scenario::Pipeline => 24.8,
            Scenario::Map => 15.4,
            Scenario::Demand2 => 33.2,
            Scenario::Broadcast2 => 18.0,
            Scenario::Partition2 => 9.0,
            Scenario::MaxDemand1 => 0.56,
            Scenario::ConsumerSupervisor => 0.329,
        }
    }

    /// What the arbor leg must reach.
    pub fn target(self) -> Target {
        match self {
            Scenario::Pipeline => Target::Raw(0.4),
            Scenario::MaxDemand1 | Scenario::ConsumerSupervisor => Target::Beam(2.0),
            _ => Target::Beam(10.0),
        }
    }

    /// The legs this scenario runs.
    pub fn legs(self) -> &'static [Leg] {
        match self {
            Scenario::ConsumerSupervisor => &[Leg::Arbor, Leg::RawTokio],
            _ => &[Leg::Arbor, Leg::RawTokio, Leg::RawRactor],
        }
    }

    /// How many events the consumers handle in all, and their sum, when the producer
    /// makes `events`.
    pub fn expected(self, events: u64) -> (u64, u64) {
        let sum = sum_below(events);
        match self {
            Scenario::Map => (events, sum.wrapping_mul(2)),
            Scenario::Broadcast2 => (events * 2, sum.wrapping_mul(2)),
            _ => (events, sum),
        }
    }
}

/// Builds `scenario`'s pipeline for `leg`, subscribed, its producer closed.
pub async fn prepare(leg: Leg, scenario: Scenario, events: u64) -> Prepared {
    let (count, _) = scenario.expected(events);
    let (tally, done) = Tally::new(count);
    let credit = scenario.credit();
    match leg {
        Leg::Arbor => {
            let (max, min) = scenario.demand();
            let options = || SubscribeOptions::new().max_demand(max).min_demand(min);
            let producer = Stage::producer(Numbers, events).demand_mode(DemandMode::Accumulate);
            let producer = match scenario {
                Scenario::Broadcast2 => producer.dispatcher(BroadcastDispatcher::new),
                Scenario::Partition2 => producer.dispatcher(
                    PartitionDispatcher::maker(Partitions::count(2), |event: &u64| {
                        Some((*event % 2) as usize)
                    })
                    .expect("two partitions are valid"),
                ),
                _ => producer,
            };
            let tally = (tally, done);
            match scenario {
                Scenario::ConsumerSupervisor => {
                    let producer = producer.start().await.expect("start the producer");
                    let work = Arc::clone(&tally.0);
                    let tasks = ConsumerSupervisor::tasks(move |event: u64| {
                        let tally = Arc::clone(&work);
                        async move { tally.add(1, event) }
                    });
                    // Transient: the producer's normal end must not stop running tasks.
                    let supervisor = Stage::consumer(tasks, ())
                        .subscribe_to(&producer, options().cancel(Cancel::Transient))
                        .start()
                        .await
                        .expect("start the consumer supervisor");
                    let stop: BoxFuture<()> = Box::pin(async move {
                        supervisor
                            .stop_and_wait(Exit::shutdown(), TEARDOWN)
                            .await
                            .expect("stop the consumer supervisor");
                    });
                    Prepared::arbor(producer, vec![stop], tally)
                }
                Scenario::Map => {
                    let producer = producer.start().await.expect("start the producer");
                    let doubler = Stage::producer_consumer(Doubler, ())
                        .subscribe_to(&producer, options())
                        .start()
                        .await
                        .expect("start the producer-consumer");
                    let summer = Summer {
                        tally: Arc::clone(&tally.0),
                    };
                    let consumer = Stage::consumer(summer, ())
                        .subscribe_to(&doubler, options())
                        .start()
                        .await
                        .expect("start the consumer");
                    let stages = vec![
                        normal_exit(&doubler, "producer-consumer"),
                        normal_exit(&consumer, "consumer"),
                    ];
                    Prepared::arbor(producer, stages, tally)
                }
                _ => {
                    let options = |partition| match scenario {
                        Scenario::Partition2 => options().partition(partition),
                        _ => options(),
                    };
                    arbor_fan_out(producer, scenario.consumers(), options, tally).await
                }
            }
        }
        Leg::RawTokio => {
            let (max, min) = scenario.demand();
            let run = match scenario {
                Scenario::ConsumerSupervisor => spawn_tasks(events, max, min, &tally),
                Scenario::Map => spawn_map(events, credit, &tally),
                Scenario::Broadcast2 => spawn_fan_out(events, Route::Broadcast, 2, credit, &tally),
                Scenario::Partition2 => spawn_fan_out(events, Route::Partition, 2, credit, &tally),
                _ => spawn_fan_out(events, Route::Demand, scenario.consumers(), credit, &tally),
            };
            Prepared::raw(run, (tally, done))
        }
        Leg::RawRactor => raw_ractor(scenario, events, credit, (tally, done)).await,
    }
}

/// The raw ractor leg of `scenario`: a [`RawSource`], a [`RawMap`] for `stage_map`, and
/// one [`RawSink`] per consumer.
async fn raw_ractor(
    scenario: Scenario,
    events: u64,
    credit: Credit,
    (tally, done): (Arc<Tally>, tokio::sync::oneshot::Receiver<()>),
) -> Prepared {
    let route = match scenario {
        Scenario::Broadcast2 => Route::Broadcast,
        Scenario::Partition2 => Route::Partition,
        _ => Route::Demand,
    };
    let consumers = scenario.consumers();
    let source = spawn_raw(RawSource { route, consumers }, events).await;
    let mut actors = vec![source.clone()];
    let upstream = match scenario {
        Scenario::Map => {
            let map = RawMap {
                upstream: source.clone(),
                credit,
            };
            let map = spawn_raw(map, ()).await;
            actors.push(map.clone());
            map
        }
        _ => source.clone(),
    };
    for from in 0..consumers {
        let sink = RawSink {
            upstream: upstream.clone(),
            from,
            credit,
            tally: Arc::clone(&tally),
        };
        actors.push(spawn_raw(sink, ()).await);
    }
    Prepared {
        go: Box::new(move || {
            source.cast(RawMsg::Go).expect("the raw source is running");
        }),
        done,
        tally,
        teardown: Box::pin(async move {
            for actor in actors {
                actor
                    .stop_and_wait(None, Some(TEARDOWN))
                    .await
                    .expect("stop a raw ractor stage");
            }
        }),
    }
}

async fn spawn_raw<A: Actor<Msg = RawMsg>>(actor: A, args: A::Arguments) -> ActorRef<RawMsg> {
    let (actor, _) = Actor::spawn(None, actor, args)
        .await
        .expect("spawn a raw ractor stage");
    actor
}

/// Builds a pipeline (not timed), moves the events (timed), stops the pipeline and checks
/// the events (not timed). Returns the time of the move.
pub async fn run_once(leg: Leg, scenario: Scenario, events: u64) -> Duration {
    let prepared = prepare(leg, scenario, events).await;
    let label = format!("{}/{}", scenario.group(), leg.name());
    prepared.run(&label, scenario.expected(events).1).await
}
