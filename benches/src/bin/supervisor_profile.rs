//! Runs one supervision scenario of the `supervisor` bench alone, on a current-thread
//! runtime, for a profiler (`valgrind --tool=callgrind` or `--tool=dhat`):
//!
//! ```text
//! cargo build --profile bench -p arbor-benches --bin supervisor-profile
//! valgrind --tool=callgrind target/release/supervisor-profile start_child arbor 20000
//! ```
//!
//! Arguments: the scenario (`start_child`: a dynamic supervisor starts that many idle
//! children one after another, then stops; `start_only`: the same starts, with the
//! supervisor left running, so the difference is the stop; `restart`: a one-for-one
//! supervisor restarts a crashing child that many times), the leg (`arbor`, `raw_ractor`) and the count. Prints the
//! run's time and its heap allocations per child. `ARBOR_PROFILE_WORKERS=1` runs it on the
//! bench's two-worker runtime instead, to time it as criterion's default groups do.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use arbor_actor::ractor::{self, Actor};
use arbor_actor::Exit;
use arbor_benches::allocs;
use arbor_benches::supervision::{
    arbor_runner_with, arbor_stop, raw_runner_with, raw_stop, Crash, Phoenix, Ping, RawChildMsg,
    RawSupervisor,
};
use arbor_supervisor::{ChildSpec, Supervisor, SupervisorOptions};
use tokio::sync::mpsc;

#[global_allocator]
static ALLOCATOR: allocs::Counting = allocs::Counting;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [scenario, leg, count] = args.as_slice() else {
        bail!(
            "usage: supervisor-profile <start_child|start_only|restart> <arbor|raw_ractor> <count>"
        );
    };
    let count: usize = count.parse().context("count must be a number")?;
    // A crashing child panics by design: its message would swamp the output.
    std::panic::set_hook(Box::new(|_| {}));
    // `ARBOR_PROFILE_WORKERS=1`: the bench's two-worker runtime, to time outside criterion.
    let runtime = if std::env::var("ARBOR_PROFILE_WORKERS").is_ok_and(|v| v == "1") {
        arbor_benches::runtime()
    } else {
        arbor_benches::current_thread_runtime()
    };
    let started = Instant::now();
    let allocations = runtime.block_on(async move {
        allocs::arm();
        allocs::open_window();
        match (scenario.as_str(), leg.as_str()) {
            ("start_child", "arbor") => arbor_stop(arbor_runner_with(count).await).await,
            ("start_child", "raw_ractor") => raw_stop(raw_runner_with(count).await).await,
            // Left running: the process exits without stopping them.
            ("start_only", "arbor") => std::mem::forget(arbor_runner_with(count).await),
            ("start_only", "raw_ractor") => std::mem::forget(raw_runner_with(count).await),
            ("restart", "arbor") => arbor_restarts(count).await?,
            ("restart", "raw_ractor") => raw_restarts(count).await?,
            _ => bail!("unknown scenario or leg: {scenario} {leg}"),
        }
        Ok(allocs::disarm())
    })?;
    println!(
        "{scenario}/{leg}: {count} in {:?}, {:.1} allocations each",
        started.elapsed(),
        allocations as f64 / count as f64
    );
    if scenario == "start_only" {
        // Dropping the runtime would cancel every child: keep that out of the profile.
        std::mem::forget(runtime);
    }
    Ok(())
}

async fn arbor_restarts(count: usize) -> Result<()> {
    let (born, mut births) = mpsc::unbounded_channel();
    let spec = ChildSpec::worker("phoenix", Phoenix { born }, ());
    let options = SupervisorOptions::one_for_one().max_restarts(u32::MAX);
    let supervisor = Supervisor::start([spec], options).await?;
    let mut child = births.recv().await.context("first child")?;
    for _ in 0..count {
        child
            .cast(Crash)
            .map_err(|_| anyhow::anyhow!("child gone"))?;
        child = births.recv().await.context("restarted child")?;
        // Untimed, as `ractor::call!` in the raw leg (see the `supervisor` bench).
        child.call_timeout(Ping, Duration::MAX).await?;
    }
    supervisor.stop(Exit::shutdown()).await;
    Ok(())
}

async fn raw_restarts(count: usize) -> Result<()> {
    let (born, mut births) = mpsc::unbounded_channel();
    let (supervisor, _) = Actor::spawn(None, RawSupervisor { born: Some(born) }, ()).await?;
    let mut child = births.recv().await.context("first child")?;
    for _ in 0..count {
        child.cast(RawChildMsg::Crash)?;
        child = births.recv().await.context("restarted child")?;
        ractor::call!(child, RawChildMsg::Ping)?;
    }
    supervisor.stop_and_wait(None, None).await?;
    Ok(())
}
