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
//! intentional crashes of `supervisor_restart` from printing.

use std::future::Future;
use std::time::{Duration, Instant};

use arbor_actor::ractor::{
    self, Actor, ActorCell, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent,
};
use arbor_actor::{
    CallOutcome, Caller, Context, Exit, GenServer, HandleCall, HandleCast, Init, Outcome, Server,
};
use arbor_benches::{quick, runtime};
use arbor_supervisor::{
    ChildSpec, DynamicSupervisor, DynamicSupervisorOptions, Restart, Supervisor, SupervisorOptions,
};
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

// ----- arbor: a child that announces each incarnation --------------------------------------

/// A worker that sends its own handle to the bench when it starts, and crashes on demand.
#[derive(Clone)]
struct Phoenix {
    born: mpsc::UnboundedSender<Server<Phoenix>>,
}

impl GenServer for Phoenix {
    type Args = ();
    type State = ();
    async fn init(&self, _: (), ctx: &mut Context<Self>) -> Init<()> {
        let _ = self.born.send(ctx.myself().clone());
        Init::Ready(())
    }
}

struct Crash;
impl HandleCast<Crash> for Phoenix {
    async fn handle_cast(&self, _: Crash, _: &mut (), _: &mut Context<Self>) -> Outcome {
        panic!("crash");
    }
}

struct Ping;
impl HandleCall<Ping> for Phoenix {
    type Reply = ();
    async fn handle_call(
        &self,
        _: Ping,
        _: Caller<'_, ()>,
        _: &mut (),
        _: &mut Context<Self>,
    ) -> CallOutcome<()> {
        CallOutcome::Reply(())
    }
}

/// An idle worker for the start/stop scenarios.
#[derive(Clone)]
struct Idle;
impl GenServer for Idle {
    type Args = ();
    type State = ();
    async fn init(&self, _: (), _: &mut Context<Self>) -> Init<()> {
        Init::Ready(())
    }
}

// ----- raw ractor: the same shapes ------------------------------------------------------------

enum RawChildMsg {
    Crash,
    Ping(RpcReplyPort<()>),
}

struct RawPhoenix {
    born: mpsc::UnboundedSender<ActorRef<RawChildMsg>>,
}

impl Actor for RawPhoenix {
    type Msg = RawChildMsg;
    type State = ();
    type Arguments = ();
    async fn pre_start(
        &self,
        myself: ActorRef<RawChildMsg>,
        _: (),
    ) -> Result<(), ActorProcessingErr> {
        let _ = self.born.send(myself);
        Ok(())
    }
    async fn handle(
        &self,
        _: ActorRef<RawChildMsg>,
        msg: RawChildMsg,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            RawChildMsg::Crash => panic!("crash"),
            RawChildMsg::Ping(reply) => {
                let _ = reply.send(());
            }
        }
        Ok(())
    }
}

struct RawIdle;
impl Actor for RawIdle {
    type Msg = ();
    type State = ();
    type Arguments = ();
    async fn pre_start(&self, _: ActorRef<()>, _: ()) -> Result<(), ActorProcessingErr> {
        Ok(())
    }
}

/// A raw ractor supervisor: spawns children on request, respawns a `RawPhoenix` that fails.
struct RawSupervisor {
    born: Option<mpsc::UnboundedSender<ActorRef<RawChildMsg>>>,
}

enum RawSupMsg {
    SpawnIdle(RpcReplyPort<ActorCell>),
}

impl Actor for RawSupervisor {
    type Msg = RawSupMsg;
    type State = ();
    type Arguments = ();
    async fn pre_start(
        &self,
        myself: ActorRef<RawSupMsg>,
        _: (),
    ) -> Result<(), ActorProcessingErr> {
        if let Some(born) = &self.born {
            Actor::spawn_linked(
                None,
                RawPhoenix { born: born.clone() },
                (),
                myself.get_cell(),
            )
            .await?;
        }
        Ok(())
    }
    async fn handle(
        &self,
        myself: ActorRef<RawSupMsg>,
        msg: RawSupMsg,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            RawSupMsg::SpawnIdle(reply) => {
                let (child, _) = Actor::spawn_linked(None, RawIdle, (), myself.get_cell()).await?;
                let _ = reply.send(child.get_cell());
            }
        }
        Ok(())
    }
    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<RawSupMsg>,
        event: SupervisionEvent,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        if let (SupervisionEvent::ActorFailed(..), Some(born)) = (&event, &self.born) {
            Actor::spawn_linked(
                None,
                RawPhoenix { born: born.clone() },
                (),
                myself.get_cell(),
            )
            .await?;
        }
        Ok(())
    }
}

// ----- scenarios ------------------------------------------------------------------------------

fn restart(c: &mut Criterion) {
    std::panic::set_hook(Box::new(|_| {}));
    let rt = runtime();
    let mut group = c.benchmark_group("supervisor_restart");

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
                    child.call(Ping).await.expect("restarted child answers");
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

async fn arbor_runner_with(n: usize) -> DynamicSupervisor {
    let runner = DynamicSupervisor::start(DynamicSupervisorOptions::default())
        .await
        .expect("runner starts");
    for _ in 0..n {
        runner.start_child(idle_spec()).await.expect("child starts");
    }
    runner
}

fn idle_spec() -> ChildSpec {
    ChildSpec::worker("idle", Idle, ()).restart(Restart::Temporary)
}

async fn raw_runner_with(n: usize) -> ActorRef<RawSupMsg> {
    let (runner, _) = Actor::spawn(None, RawSupervisor { born: None }, ())
        .await
        .expect("raw runner starts");
    for _ in 0..n {
        ractor::call!(runner, RawSupMsg::SpawnIdle).expect("raw child starts");
    }
    runner
}

async fn arbor_stop(runner: DynamicSupervisor) {
    runner.stop(Exit::shutdown()).await;
}

async fn raw_stop(runner: ActorRef<RawSupMsg>) {
    runner.stop_children_and_wait(None, None).await;
    let _ = runner.stop_and_wait(None, None).await;
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
