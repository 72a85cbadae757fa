//! Supervision benches, each against a raw ractor baseline doing the same work in the same
//! run:
//!
//! - `supervisor_restart`: a child crashes → its supervisor starts a new one → the new child
//!   answers a call. arbor `Supervisor` (one_for_one) vs a raw ractor supervisor that
//!   respawns its child with `spawn_linked` on `ActorFailed`.
//! - `dynamic_start_child`: start N children one after another. arbor
//!   `DynamicSupervisor::start_child` vs a raw ractor supervisor that `spawn_linked`s a child
//!   per request.
//! - `dynamic_stop`: stop a supervisor holding N children (setup not timed). arbor
//!   `DynamicSupervisor::stop` (every child asked, `terminate` runs) vs the raw supervisor
//!   stopping its children with ractor's `stop_children_and_wait`, then itself.
//!
//! N is 100 000 (10 000 with `ARBOR_BENCH_QUICK=1`). A silent panic hook keeps the
//! intentional crashes of `supervisor_restart` from printing. The actors and the
//! fill/stop helpers are in `arbor_benches::supervision`, shared with the `scaling` curves.

use std::future::Future;
use std::time::{Duration, Instant};

use arbor_actor::ractor::{self, Actor};
use arbor_actor::Exit;
use arbor_benches::supervision::{
    arbor_runner_with, arbor_stop, raw_runner_with, raw_stop, Crash, Phoenix, Ping, RawChildMsg,
    RawSupervisor,
};
use arbor_benches::{quick, runtime, set_times};
use arbor_supervisor::{ChildSpec, Supervisor, SupervisorOptions};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

fn children() -> usize {
    if quick() {
        10_000
    } else {
        100_000
    }
}

// ----- scenarios ------------------------------------------------------------------------------

fn restart(c: &mut Criterion) {
    std::panic::set_hook(Box::new(|_| {}));
    let rt = runtime();
    let mut group = c.benchmark_group("supervisor_restart");
    set_times(&mut group, Duration::from_secs(3), Duration::from_secs(5));

    group.bench_function("arbor", |b| {
        let (born, mut births) = mpsc::unbounded_channel();
        let spec = ChildSpec::worker("phoenix", Phoenix { born }, ());
        let options = SupervisorOptions::one_for_one().max_restarts(u32::MAX);
        let supervisor = rt
            .block_on(Supervisor::start([spec], options))
            .expect("supervisor starts");
        let mut child = rt.block_on(births.recv()).expect("first child");
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let crashed = Instant::now();
                    child.cast(Crash).expect("child alive");
                    child = births.recv().await.expect("restarted child");
                    // Untimed, as `ractor::call!` in the raw leg: a timed call arms a timer, which
                    // is not the restart's cost (the `actor_call` bench measures it).
                    child
                        .call_timeout(Ping, Duration::MAX)
                        .await
                        .expect("restarted child answers");
                    total += crashed.elapsed();
                }
                total
            })
        });
        rt.block_on(supervisor.stop(Exit::shutdown()));
    });

    group.bench_function("raw_ractor", |b| {
        let (born, mut births) = mpsc::unbounded_channel();
        let (supervisor, _) = rt
            .block_on(Actor::spawn(None, RawSupervisor { born: Some(born) }, ()))
            .expect("raw supervisor starts");
        let mut child = rt.block_on(births.recv()).expect("first child");
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let crashed = Instant::now();
                    child.cast(RawChildMsg::Crash).expect("child alive");
                    child = births.recv().await.expect("restarted child");
                    ractor::call!(child, RawChildMsg::Ping).expect("restarted child answers");
                    total += crashed.elapsed();
                }
                total
            })
        });
        rt.block_on(supervisor.stop_and_wait(None, None))
            .expect("raw supervisor stops");
    });
    group.finish();
}

/// Which half of a fill-then-stop round the clock covers.
#[derive(Clone, Copy)]
enum Half {
    Fill,
    Stop,
}

/// Times `iters` rounds of: fill a supervisor with children, then stop it.
fn rounds<R, Fill, Filled, Stop, Stopped>(
    rt: &Runtime,
    iters: u64,
    measure: Half,
    fill: Fill,
    stop: Stop,
) -> Duration
where
    Fill: Fn() -> Filled,
    Filled: Future<Output = R>,
    Stop: Fn(R) -> Stopped,
    Stopped: Future<Output = ()>,
{
    rt.block_on(async {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let filling = Instant::now();
            let runner = fill().await;
            let filled = filling.elapsed();
            let stopping = Instant::now();
            stop(runner).await;
            total += match measure {
                Half::Fill => filled,
                Half::Stop => stopping.elapsed(),
            };
        }
        total
    })
}

/// One group, both legs: N children started one after another, then all stopped.
fn fill_and_stop(c: &mut Criterion, name: &str, measure: Half) {
    let rt = runtime();
    let n = children();
    let mut group = c.benchmark_group(name);
    set_times(&mut group, Duration::from_secs(3), Duration::from_secs(5));
    group
        .sample_size(10)
        .throughput(Throughput::Elements(n as u64));
    group.bench_function(BenchmarkId::new("arbor", n), |b| {
        b.iter_custom(|iters| rounds(&rt, iters, measure, || arbor_runner_with(n), arbor_stop));
    });
    group.bench_function(BenchmarkId::new("raw_ractor", n), |b| {
        b.iter_custom(|iters| rounds(&rt, iters, measure, || raw_runner_with(n), raw_stop));
    });
    group.finish();
}

fn start_children(c: &mut Criterion) {
    fill_and_stop(c, "dynamic_start_child", Half::Fill);
}

fn stop_children(c: &mut Criterion) {
    fill_and_stop(c, "dynamic_stop", Half::Stop);
}

criterion_group!(benches, restart, start_children, stop_children);
criterion_main!(benches);
