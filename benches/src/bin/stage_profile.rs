//! Runs one pipeline of the `stage` bench alone, on a current-thread runtime, for a
//! profiler (`perf`, `valgrind --tool=callgrind` or `--tool=dhat`):
//!
//! ```text
//! cargo build --profile bench -p arbor-benches --bin stage-profile
//! valgrind --tool=dhat target/release/stage-profile stage_max_demand_1 arbor 100000
//! ```
//!
//! Arguments: the scenario's group name, the leg (`arbor`, `raw_tokio`, `raw_ractor`) and
//! the number of events. Prints the run's time and its heap allocations per event.

use anyhow::{bail, Context, Result};
use arbor_benches::allocs;
use arbor_benches::stage_scenarios::{run_once, Leg, Scenario};

#[global_allocator]
static ALLOCATOR: allocs::Counting = allocs::Counting;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [group, leg, events] = args.as_slice() else {
        bail!("usage: stage-profile <group, e.g. stage_pipeline> <arbor|raw_tokio|raw_ractor> <events>");
    };
    let Some(scenario) = Scenario::ALL.into_iter().find(|s| s.group() == group) else {
        bail!("unknown group {group}");
    };
    let Some(leg) = [Leg::Arbor, Leg::RawTokio, Leg::RawRactor]
        .into_iter()
        .find(|l| l.name() == leg && scenario.legs().contains(l))
    else {
        bail!("{group} has no leg {leg}");
    };
    let events: u64 = events.parse().context("events must be a number")?;
    let runtime = arbor_benches::current_thread_runtime();
    let (elapsed, allocations) = runtime.block_on(async move {
        allocs::arm();
        let elapsed = run_once(leg, scenario, events).await;
        (elapsed, allocs::disarm())
    });
    println!(
        "{group}/{}: {events} events in {elapsed:?}, {:.3} allocations per event",
        leg.name(),
        allocations as f64 / events as f64
    );
    Ok(())
}
