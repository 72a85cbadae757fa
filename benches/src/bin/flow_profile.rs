//! Runs the `flow` bench's word count alone, on a current-thread runtime, for a profiler
//! (`perf`, `valgrind --tool=callgrind` or `--tool=dhat`):
//!
//! ```text
//! cargo build --profile bench -p arbor-benches --bin flow-profile
//! valgrind --tool=callgrind target/release/flow-profile 1000000
//! ```
//!
//! Argument: the number of events. Prints the run's time and its heap allocations per
//! event.

use std::time::Instant;

use anyhow::{bail, Context, Result};
use arbor_benches::allocs;
use arbor_benches::wordcount::{count_flow, VOCABULARY};

#[global_allocator]
static ALLOCATOR: allocs::Counting = allocs::Counting;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [events] = args.as_slice() else {
        bail!("usage: flow-profile <events>");
    };
    let events: u64 = events.parse().context("events must be a number")?;
    let runtime = arbor_benches::current_thread_runtime();
    let (elapsed, counts, allocations) = runtime.block_on(async move {
        allocs::arm();
        let started = Instant::now();
        let counts = count_flow(events).await;
        (started.elapsed(), counts, allocs::disarm())
    });
    let counts = counts.context("the flow failed")?;
    let words = counts.len() as u64;
    if words != events.min(VOCABULARY) {
        bail!(
            "counted {words} distinct words, expected {}",
            events.min(VOCABULARY)
        );
    }
    println!(
        "flow_wordcount/arbor: {events} events in {elapsed:?}, {:.3} allocations per event",
        allocations as f64 / events as f64
    );
    Ok(())
}
