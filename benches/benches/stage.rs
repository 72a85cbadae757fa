//! arbor-stage (GenStage) against hand-written credit pipelines, in the same criterion
//! group and run.
//!
//! Each group moves N events (consecutive `u64`s made by the producer, summed by the
//! consumers) through one pipeline shape:
//!
//! | group | shape | N |
//! |---|---|---|
//! | `stage_pipeline` | producer → consumer, max_demand 1000 / min 500 | 10M |
//! | `stage_map` | producer → producer-consumer (each event × 2) → consumer | 10M |
//! | `stage_demand_2` | producer → 2 consumers, `DemandDispatcher` | 10M |
//! | `stage_broadcast_2` | producer → 2 consumers, `BroadcastDispatcher` (each sees all N) | 10M |
//! | `stage_partition_2` | producer → 2 consumers, `PartitionDispatcher`, partition `event % 2` | 10M |
//! | `stage_max_demand_1` | producer → consumer, max_demand 1 / min 0 | 1M |
//! | `stage_consumer_supervisor` | producer → `ConsumerSupervisor::tasks`, one trivial task per event, max_demand 50 / min 25 | 100k |
//!
//! Legs: `arbor` (arbor-stage), `raw_tokio` (the same protocol by hand on tokio tasks and
//! unbounded channels, `arbor_benches::pipeline`), and for every group but the consumer
//! supervisor `raw_ractor` (one plain ractor actor per stage, `arbor_benches::raw_ractor`:
//! the ceiling for a GenStage on ractor). `ARBOR_BENCH_QUICK=1` divides N by 10; `cargo test --benches` runs each leg
//! once with N / 1000 events. `ARBOR_BENCH_CT=1` runs every group a second time on a
//! current-thread runtime, as `<group>_ct`: the multi-thread figures are bimodal, the
//! current-thread ones measure the CPU cost per event.
//!
//! Every run builds a fresh pipeline with its producer closed (arbor:
//! `DemandMode::Accumulate`; raw: the source waits for a signal), lets every consumer
//! subscribe and ask, then starts the clock and opens the producer. The clock stops when
//! the consumers have handled the N-th event (a shared countdown, `Tally`); the stages are
//! then stopped and the checksum of the events compared with the expected one, outside
//! the clock. The measured loop is a task on the bench runtime (2 workers), as in the
//! other benches. At the end the bench prints each group's events/s, arbor/raw ratios and
//! arbor's ratio to the BEAM's figure for the same work (`shared/anchors/FIGURES.md`).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arbor_actor::ractor::{Actor, ActorRef};
use arbor_actor::Exit;
use arbor_benches::pipeline::{
    spawn_fan_out, spawn_map, spawn_tasks, sum_below, Credit, Route, Tally,
};
use arbor_benches::raw_ractor::{RawMap, RawMsg, RawSink, RawSource};
use arbor_benches::stages::{
    arbor_fan_out, normal_exit, BoxFuture, Doubler, Numbers, Prepared, Summer, TEARDOWN,
};
use arbor_benches::{current_thread_runtime, median_ns, quick, runtime, set_times};
use arbor_stage::{
    BroadcastDispatcher, Cancel, ConsumerSupervisor, DemandMode, PartitionDispatcher, Partitions,
    Stage, SubscribeOptions,
};
use criterion::{Criterion, SamplingMode, Throughput};
use tokio::runtime::Runtime;

/// `ARBOR_BENCH_CT=1` runs every group a second time on a current-thread runtime, as
/// `<group>_ct`.
const CT_ENV: &str = "ARBOR_BENCH_CT";

// ---------------------------------------------------------------------------------------
// scenarios
// ---------------------------------------------------------------------------------------

/// How many events the runs move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Size {
    /// `cargo bench`.
    Full,
    /// `ARBOR_BENCH_QUICK=1 cargo bench`.
    Quick,
    /// `cargo test --benches`: each leg once, debug build.
    Smoke,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Pipeline,
    Map,
    Demand2,
    Broadcast2,
    Partition2,
    MaxDemand1,
    ConsumerSupervisor,
}

/// What a scenario's arbor leg must reach.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// At least this fraction of the `raw_tokio` leg's events/s.
    Raw(f64),
    /// At least this multiple of the BEAM's events/s.
    Beam(f64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leg {
    Arbor,
    RawTokio,
    RawRactor,
}

impl Leg {
    fn name(self) -> &'static str {
        match self {
            Leg::Arbor => "arbor",
            Leg::RawTokio => "raw_tokio",
            Leg::RawRactor => "raw_ractor",
        }
    }
}

impl Scenario {
    const ALL: [Scenario; 7] = [
        Scenario::Pipeline,
        Scenario::Map,
        Scenario::Demand2,
        Scenario::Broadcast2,
        Scenario::Partition2,
        Scenario::MaxDemand1,
        Scenario::ConsumerSupervisor,
    ];

    fn group(self) -> &'static str {
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
    fn events(self, size: Size) -> u64 {
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
    fn demand(self) -> (usize, usize) {
        match self {
            Scenario::MaxDemand1 => (1, 0),
            Scenario::ConsumerSupervisor => (50, 25),
            _ => (1000, 500),
        }
    }

    fn credit(self) -> Credit {
        let (max, min) = self.demand();
        Credit::new(max, min)
    }

    fn consumers(self) -> usize {
        match self {
            Scenario::Demand2 | Scenario::Broadcast2 | Scenario::Partition2 => 2,
            _ => 1,
        }
    }

    /// The BEAM's figure for the same work, M events/s (`shared/anchors/FIGURES.md`).
    fn beam(self) -> f64 {
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

    fn target(self) -> Target {
        match self {
            Scenario::Pipeline => Target::Raw(0.4),
            Scenario::MaxDemand1 | Scenario::ConsumerSupervisor => Target::Beam(2.0),
            _ => Target::Beam(10.0),
        }
    }

    fn legs(self) -> &'static [Leg] {
        match self {
            Scenario::ConsumerSupervisor => &[Leg::Arbor, Leg::RawTokio],
            _ => &[Leg::Arbor, Leg::RawTokio, Leg::RawRactor],
        }
    }

    /// How many events the consumers handle in all, and their sum, when the producer
    /// makes `events`.
    fn expected(self, events: u64) -> (u64, u64) {
        let sum = sum_below(events);
        match self {
            Scenario::Map => (events, sum.wrapping_mul(2)),
            Scenario::Broadcast2 => (events * 2, sum.wrapping_mul(2)),
            _ => (events, sum),
        }
    }
}

async fn prepare(leg: Leg, scenario: Scenario, events: u64) -> Prepared {
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
async fn run_once(leg: Leg, scenario: Scenario, events: u64) -> Duration {
    let prepared = prepare(leg, scenario, events).await;
    let label = format!("{}/{}", scenario.group(), leg.name());
    prepared.run(&label, scenario.expected(events).1).await
}

// ---------------------------------------------------------------------------------------
// criterion
// ---------------------------------------------------------------------------------------

fn bench(c: &mut Criterion, rt: &Runtime, suffix: &str, scenario: Scenario, size: Size) {
    let events = scenario.events(size);
    let mut group = c.benchmark_group(format!("{}{suffix}", scenario.group()));
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    set_times(&mut group, Duration::from_secs(1), Duration::from_secs(8));
    group.throughput(Throughput::Elements(events));
    for &leg in scenario.legs() {
        group.bench_function(leg.name(), |b| {
            b.iter_custom(|iters| {
                rt.block_on(rt.spawn(async move {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        total += run_once(leg, scenario, events).await;
                    }
                    total
                }))
                .expect("the measured task panicked")
            })
        });
    }
    group.finish();
}

fn main() {
    let started = SystemTime::now();
    let args: Vec<String> = std::env::args().collect();
    let benching = args.iter().any(|arg| arg == "--bench");
    let listing = args.iter().any(|arg| arg == "--list");
    let size = match (benching, quick()) {
        (false, _) => Size::Smoke,
        (true, true) => Size::Quick,
        (true, false) => Size::Full,
    };

    let mut criterion = Criterion::default().configure_from_args();
    let mt2 = runtime();
    for scenario in Scenario::ALL {
        bench(&mut criterion, &mt2, "", scenario, size);
    }
    drop(mt2);
    // The multi-thread figures are bimodal (stages on one worker or on two); the same
    // groups on a current-thread runtime measure the CPU cost per event instead.
    if std::env::var(CT_ENV).is_ok_and(|value| value == "1") {
        let ct = current_thread_runtime();
        for scenario in Scenario::ALL {
            bench(&mut criterion, &ct, "_ct", scenario, size);
        }
    }
    criterion.final_summary();
    if benching && !listing {
        ratio_summary(started, size);
    }
}

// ---------------------------------------------------------------------------------------
// ratios, read back from criterion's estimates
// ---------------------------------------------------------------------------------------

/// Prints, per group, each leg's events/s (median), arbor's ratio to each raw leg and to
/// the BEAM, and whether arbor meets its target.
fn ratio_summary(since: SystemTime, size: Size) {
    println!("\nstage: events/s (medians of this run), arbor / raw legs, arbor / BEAM");
    for (scenario, suffix) in ["", "_ct"]
        .into_iter()
        .flat_map(|suffix| Scenario::ALL.map(|scenario| (scenario, suffix)))
    {
        let group = format!("{}{suffix}", scenario.group());
        let events = scenario.events(size) as f64;
        // M events/s of a leg, from its median time per run.
        let rate = |leg: Leg| median_ns(&group, leg.name(), since).map(|ns| events / ns * 1e3);
        let Some(arbor) = rate(Leg::Arbor) else {
            continue;
        };
        let mut line = format!("  {group:<21} arbor {arbor:>8.2} M/s");
        for &leg in &scenario.legs()[1..] {
            if let Some(raw) = rate(leg) {
                line += &format!(
                    "   {} {raw:>8.2} M/s (arbor/{} {:.3})",
                    leg.name(),
                    leg.name(),
                    arbor / raw
                );
            }
        }
        let beam = scenario.beam();
        line += &format!("   BEAM {beam} M/s (arbor/BEAM {:.2}×)", arbor / beam);
        let verdict = match scenario.target() {
            Target::Raw(at_least) => rate(Leg::RawTokio).map(|raw| {
                let ratio = arbor / raw;
                (format!("arbor/raw_tokio ≥ {at_least}"), ratio >= at_least)
            }),
            Target::Beam(at_least) => Some((
                format!("arbor/BEAM ≥ {at_least}×"),
                arbor / beam >= at_least,
            )),
        };
        if let Some((target, met)) = verdict {
            line += &format!("   target {target}: {}", if met { "met" } else { "MISSED" });
        }
        println!("{line}");
    }
}
