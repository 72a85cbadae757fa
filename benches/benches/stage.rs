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

use std::time::{Duration, SystemTime};

use arbor_benches::stage_scenarios::{run_once, Leg, Scenario, Size, Target};
use arbor_benches::{allocs, current_thread_runtime, median_ns, runtime, set_times};
use criterion::{Criterion, SamplingMode, Throughput};
use tokio::runtime::Runtime;

/// `ARBOR_BENCH_CT=1` runs every group a second time on a current-thread runtime, as
/// `<group>_ct`.
const CT_ENV: &str = "ARBOR_BENCH_CT";

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
    let size = Size::of_run();

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
        alloc_summary(size);
    }
}

/// Counts heap allocations in the moving part of every run (`allocs`).
#[global_allocator]
static ALLOCATOR: allocs::Counting = allocs::Counting;

/// Prints, per group and leg, the heap allocations per event of one run on a
/// current-thread runtime (deterministic batching), at most 1M events.
fn alloc_summary(size: Size) {
    println!("\nstage: heap allocations per event (one run, current-thread runtime)");
    let ct = current_thread_runtime();
    for scenario in Scenario::ALL {
        let events = scenario.events(size).min(1_000_000);
        let mut line = format!("  {:<26}", scenario.group());
        for &leg in scenario.legs() {
            let allocations = ct.block_on(async move {
                allocs::arm();
                run_once(leg, scenario, events).await;
                allocs::disarm()
            });
            let per_event = allocations as f64 / events as f64;
            line += &format!("  {} {per_event:>7.3}", leg.name());
        }
        println!("{line}");
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
