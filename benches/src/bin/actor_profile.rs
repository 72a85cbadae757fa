//! Runs the `actor_cast` leg of the `actor` bench alone, on a current-thread runtime, for a
//! profiler (`valgrind --tool=callgrind` or `--tool=dhat`):
//!
//! ```text
//! cargo build --profile bench -p arbor-benches --bin actor-profile
//! valgrind --tool=callgrind target/release/actor-profile arbor 100000
//! ```
//!
//! Arguments: the leg (`arbor`, `raw_ractor`) and the number of casts, followed by one
//! call so that every cast was handled. Prints the run's time and its heap allocations
//! per cast.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use arbor_benches::{allocs, raw_get, start_arbor, start_raw, Add, Get, RawMsg};

#[global_allocator]
static ALLOCATOR: allocs::Counting = allocs::Counting;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [leg, casts] = args.as_slice() else {
        bail!("usage: actor-profile <arbor|raw_ractor> <casts>");
    };
    let casts: u64 = casts.parse().context("casts must be a number")?;
    let runtime = arbor_benches::current_thread_runtime();
    let (elapsed, allocations) = runtime.block_on(async move {
        match leg.as_str() {
            "arbor" => {
                let server = start_arbor().await?;
                measured(async {
                    for _ in 0..casts {
                        server.cast(Add(1))?;
                    }
                    server.call(Get).await?;
                    Ok(())
                })
                .await
            }
            "raw_ractor" => {
                let actor = start_raw().await?;
                measured(async {
                    for _ in 0..casts {
                        actor.cast(RawMsg::Add(1))?;
                    }
                    raw_get(&actor).await?;
                    Ok(())
                })
                .await
            }
            other => bail!("unknown leg {other}"),
        }
    })?;
    println!(
        "actor_cast/{leg}: {casts} casts in {elapsed:?}, {:.3} allocations per cast",
        allocations as f64 / casts as f64
    );
    Ok(())
}

/// Runs `casts` with the allocation count armed: its time and its allocations.
async fn measured(casts: impl Future<Output = Result<()>>) -> Result<(Duration, u64)> {
    allocs::arm();
    allocs::open_window();
    let started = Instant::now();
    casts.await?;
    Ok((started.elapsed(), allocs::disarm()))
}
