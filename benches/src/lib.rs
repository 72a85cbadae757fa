//! Shared baselines for the benches: the same small counter written three ways, so that a
//! criterion group can put arbor and the raw substrate side by side in one run.
//!
//! | piece | arbor | raw ractor | raw tokio |
//! |---|---|---|---|
//! | behaviour | [`Counter`] (a [`GenServer`]) | [`RawCounter`] (a [`ractor::Actor`]) | [`TokioCounter`] (a task) |
//! | call: read the count | [`Get`] → `u64` | [`RawMsg::Get`] + [`RpcReplyPort`] | [`TokioMsg::Get`] + oneshot |
//! | cast: add to the count | [`Add`] | [`RawMsg::Add`] | — |
//!
//! Every variant does the same work per message (add a `u64`, or reply with one), so the
//! difference between legs is the cost of the layer, not of the handler.
//!
//! The module also holds what every bench target needs: [`runtime`] (a tokio
//! multi-thread runtime with [`WORKERS`] workers, like the `mt2` column of
//! `shared/anchors/FIGURES.md`), [`current_thread_runtime`] (the `ct` column), [`quick`]
//! (the `ARBOR_BENCH_QUICK=1` switch), and the idle-actor memory probe ([`rss_bytes`],
//! [`spawn_idle`], [`IdleLeg`]).
//!
//! The `stage` bench's raw baselines, hand-written credit pipelines on tokio tasks and on
//! two ractor actors, are in [`pipeline`]; its arbor stages and the timing of one run in
//! [`stages`]. The supervision benches' actors are in [`supervision`], the registry
//! benches' tables in [`names`]: each shared with the `scaling` curves, whose file format
//! is [`scaling`].
#![warn(missing_docs)]

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use arbor_actor::ractor::{self, Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use arbor_actor::{
    CallOutcome, Caller, Context, Exit, GenServer, HandleCall, HandleCast, Init, Outcome, Server,
};
use tokio::sync::{mpsc, oneshot};

pub mod allocs;
pub mod names;
pub mod pipeline;
pub mod raw_ractor;
pub mod scaling;
pub mod stage_scenarios;
pub mod stages;
pub mod supervision;
pub mod wordcount;

/// Worker threads of the bench runtime: the machines have 2 cores, and the BEAM anchors
/// ran with 2 schedulers.
pub const WORKERS: usize = 2;

/// Environment variable that shrinks the heavy scenarios (`ARBOR_BENCH_QUICK=1`).
pub const QUICK_ENV: &str = "ARBOR_BENCH_QUICK";

/// Builds the runtime every leg runs on: tokio multi-thread, [`WORKERS`] workers, time
/// and I/O drivers on (arbor's calls use a timer).
///
/// # Panics
///
/// When the runtime cannot be built (no threads available).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .expect("build the bench runtime")
}

/// Builds a current-thread runtime (the `ct` column of `FIGURES.md`): caller and actor
/// share one thread, so figures are not bimodal and measure CPU cost per message.
///
/// # Panics
///
/// When the runtime cannot be built.
pub fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build the current-thread bench runtime")
}

/// `true` when `ARBOR_BENCH_QUICK=1`: heavy scenarios use smaller counts.
pub fn quick() -> bool {
    std::env::var(QUICK_ENV).is_ok_and(|value| value == "1")
}

/// How much work a bench run does: every bench sizes its runs the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// `cargo bench`.
    Full,
    /// `ARBOR_BENCH_QUICK=1 cargo bench`.
    Quick,
    /// `cargo test --benches`: each leg once, debug build, nothing written.
    Smoke,
}

impl Size {
    /// The size of this run: `Smoke` unless the binary was started with `--bench`, then
    /// `Quick` under `ARBOR_BENCH_QUICK=1`, else `Full`.
    pub fn of_run() -> Size {
        let benching = std::env::args().any(|arg| arg == "--bench");
        match (benching, quick()) {
            (false, _) => Size::Smoke,
            (true, true) => Size::Quick,
            (true, false) => Size::Full,
        }
    }

    /// `full`, `quick` or `smoke`, whichever this size is.
    pub fn pick<T>(self, full: T, quick: T, smoke: T) -> T {
        match self {
            Size::Full => full,
            Size::Quick => quick,
            Size::Smoke => smoke,
        }
    }

    /// `full`, `quick` or `smoke`.
    pub fn name(self) -> &'static str {
        self.pick("full", "quick", "smoke")
    }
}

/// Warm-up and measurement time of every group under `ARBOR_BENCH_QUICK=1`: short enough
/// that the whole suite runs in under five minutes, long enough for a stable median.
const QUICK_TIMES: (Duration, Duration) = (Duration::from_millis(300), Duration::from_secs(1));

/// Sets a group's warm-up and measurement times: the given ones, or 0.3 s and 1 s in
/// quick mode. Every group goes through here, so quick mode shortens the whole suite.
pub fn set_times<M: criterion::measurement::Measurement>(
    group: &mut criterion::BenchmarkGroup<'_, M>,
    warm_up: Duration,
    measurement: Duration,
) {
    let (warm_up, measurement) = if quick() {
        QUICK_TIMES
    } else {
        (warm_up, measurement)
    };
    group.warm_up_time(warm_up);
    group.measurement_time(measurement);
}

// ---------------------------------------------------------------------------------------
// arbor
// ---------------------------------------------------------------------------------------

/// The arbor leg: a [`GenServer`] holding a `u64`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counter;

/// Cast: add this to the count.
#[derive(Debug, Clone, Copy)]
pub struct Add(pub u64);

/// Call: reply with the count.
#[derive(Debug, Clone, Copy)]
pub struct Get;

impl GenServer for Counter {
    type Args = u64;
    type State = u64;

    async fn init(&self, start: u64, _ctx: &mut Context<Self>) -> Init<u64> {
        Init::Ready(start)
    }
}

impl HandleCast<Add> for Counter {
    async fn handle_cast(&self, Add(n): Add, count: &mut u64, _ctx: &mut Context<Self>) -> Outcome {
        *count = count.wrapping_add(n);
        Outcome::NoReply
    }
}

impl HandleCall<Get> for Counter {
    type Reply = u64;

    async fn handle_call(
        &self,
        _: Get,
        _from: Caller<'_, u64>,
        count: &mut u64,
        _ctx: &mut Context<Self>,
    ) -> CallOutcome<u64> {
        CallOutcome::Reply(*count)
    }
}

/// Starts an arbor [`Counter`] at zero.
///
/// # Errors
///
/// When the server does not start (no runtime).
pub async fn start_arbor() -> anyhow::Result<Server<Counter>> {
    Server::start(Counter, 0)
        .await
        .context("start the arbor counter")
}

// ---------------------------------------------------------------------------------------
// raw ractor
// ---------------------------------------------------------------------------------------

/// The raw ractor leg: a [`ractor::Actor`] holding a `u64`, written the way ractor's own
/// docs write one (a message enum, the reply port inside the call variant).
#[derive(Debug, Clone, Copy, Default)]
pub struct RawCounter;

/// The messages of [`RawCounter`].
pub enum RawMsg {
    /// Cast: add this to the count.
    Add(u64),
    /// Call: reply with the count on the port.
    Get(RpcReplyPort<u64>),
}

impl fmt::Debug for RawMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RawMsg::Add(n) => f.debug_tuple("Add").field(n).finish(),
            RawMsg::Get(_) => f.write_str("Get"),
        }
    }
}

impl Actor for RawCounter {
    type Msg = RawMsg;
    type State = u64;
    type Arguments = u64;

    async fn pre_start(
        &self,
        _myself: ActorRef<RawMsg>,
        start: u64,
    ) -> Result<u64, ActorProcessingErr> {
        Ok(start)
    }

    async fn handle(
        &self,
        _myself: ActorRef<RawMsg>,
        message: RawMsg,
        count: &mut u64,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            RawMsg::Add(n) => *count = count.wrapping_add(n),
            RawMsg::Get(reply) => {
                // The caller may have given up; that is not this actor's failure.
                let _ = reply.send(*count);
            }
        }
        Ok(())
    }
}

/// Starts a raw ractor [`RawCounter`] at zero (unnamed, unlinked, like an arbor server).
///
/// # Errors
///
/// When ractor cannot spawn the actor.
pub async fn start_raw() -> anyhow::Result<ActorRef<RawMsg>> {
    let (actor, _join) = Actor::spawn(None, RawCounter, 0)
        .await
        .context("spawn the raw ractor counter")?;
    Ok(actor)
}

/// One raw ractor call round trip with `ractor::call!` (no timeout).
///
/// # Errors
///
/// When the actor is gone.
pub async fn raw_get(actor: &ActorRef<RawMsg>) -> anyhow::Result<u64> {
    Ok(ractor::call!(actor, RawMsg::Get)?)
}

/// One raw ractor call round trip with `ractor::call_t!` and a timeout as long as arbor's
/// default ([`arbor_actor::DEFAULT_CALL_TIMEOUT`]): isolates what the timeout costs.
///
/// # Errors
///
/// When the actor is gone or does not answer in time.
pub async fn raw_get_timeout(actor: &ActorRef<RawMsg>) -> anyhow::Result<u64> {
    const TIMEOUT_MS: u64 = arbor_actor::DEFAULT_CALL_TIMEOUT.as_millis() as u64;
    Ok(ractor::call_t!(actor, RawMsg::Get, TIMEOUT_MS)?)
}

// ---------------------------------------------------------------------------------------
// raw tokio
// ---------------------------------------------------------------------------------------

/// The messages of [`TokioCounter`].
#[derive(Debug)]
pub enum TokioMsg {
    /// Add this to the count.
    Add(u64),
    /// Reply with the count.
    Get(oneshot::Sender<u64>),
}

/// The raw tokio reference: a task that owns a `u64` and serves an unbounded mpsc
/// mailbox, answering requests on a oneshot (the `mpsc + oneshot request/response` row of
/// `FIGURES.md`).
#[derive(Debug, Clone)]
pub struct TokioCounter {
    mailbox: mpsc::UnboundedSender<TokioMsg>,
}

impl TokioCounter {
    /// Spawns the counter task on the current runtime; it ends when every handle is dropped.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    pub fn start() -> Self {
        let (mailbox, mut inbox) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut count = 0u64;
            while let Some(message) = inbox.recv().await {
                match message {
                    TokioMsg::Add(n) => count = count.wrapping_add(n),
                    TokioMsg::Get(reply) => {
                        let _ = reply.send(count);
                    }
                }
            }
        });
        TokioCounter { mailbox }
    }

    /// One request/response round trip.
    ///
    /// # Errors
    ///
    /// When the task is gone.
    pub async fn get(&self) -> anyhow::Result<u64> {
        let (reply, answer) = oneshot::channel();
        self.mailbox
            .send(TokioMsg::Get(reply))
            .map_err(|_| anyhow::anyhow!("the tokio counter is gone"))?;
        answer.await.context("the tokio counter dropped the reply")
    }
}

// ---------------------------------------------------------------------------------------
// idle-actor memory
// ---------------------------------------------------------------------------------------

/// Which actor [`spawn_idle`] starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleLeg {
    /// Idle arbor [`Counter`] servers.
    Arbor,
    /// Idle raw ractor [`RawCounter`] actors.
    RawRactor,
    /// Idle arbor consumer stages ([`stages::IdleConsumer`], started with no
    /// subscription): what a stage costs over a server.
    ArborStage,
}

impl IdleLeg {
    /// The actor bench's legs, in report order.
    pub const ALL: [IdleLeg; 2] = [IdleLeg::Arbor, IdleLeg::RawRactor];

    /// Every leg, the idle stage included (the `scaling` memory curves).
    pub const WITH_STAGE: [IdleLeg; 3] = [IdleLeg::Arbor, IdleLeg::ArborStage, IdleLeg::RawRactor];

    /// The leg's name in reports (`arbor`, `raw_ractor`, `arbor_stage`).
    pub fn name(self) -> &'static str {
        match self {
            IdleLeg::Arbor => "arbor",
            IdleLeg::RawRactor => "raw_ractor",
            IdleLeg::ArborStage => "arbor_stage",
        }
    }
}

impl FromStr for IdleLeg {
    type Err = anyhow::Error;

    fn from_str(name: &str) -> anyhow::Result<Self> {
        IdleLeg::WITH_STAGE
            .into_iter()
            .find(|leg| leg.name() == name)
            .with_context(|| format!("unknown idle leg {name:?}"))
    }
}

/// What one [`spawn_idle`] run measured.
#[derive(Debug, Clone, Copy)]
pub struct IdleReport {
    /// How many actors were alive at the measurement.
    pub actors: usize,
    /// Resident set growth from just before the first spawn to just after the last, in bytes.
    pub rss_delta: u64,
    /// Wall time of the spawns (each waits for its actor's start, as both APIs do).
    pub spawn_time: Duration,
    /// Wall time to stop every actor and wait until each has stopped.
    pub stop_time: Duration,
}

impl IdleReport {
    /// Resident bytes per idle actor.
    pub fn bytes_per_actor(&self) -> f64 {
        self.rss_delta as f64 / self.actors as f64
    }

    /// Spawn time per actor.
    pub fn spawn_per_actor(&self) -> Duration {
        self.spawn_time / self.actors.max(1) as u32
    }
}

/// The process's resident set size in bytes (`VmRSS` of `/proc/self/status`).
///
/// # Errors
///
/// Off Linux, or when `/proc` cannot be read.
pub fn rss_bytes() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status").context("read /proc/self/status")?;
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .context("no VmRSS line in /proc/self/status")?;
    let kib: u64 = line
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .context("parse VmRSS")?;
    Ok(kib * 1024)
}

/// Spawns `count` idle actors of `leg` one after another, measures the resident set
/// growth, then stops them all and waits until each has stopped.
///
/// Run it in a fresh process for a clean figure: memory freed by an earlier leg would be
/// reused and hide this leg's growth. The handle vector is filled before the baseline is
/// read, and one actor is started and stopped first so that one-off allocations (lazy
/// statics, the timer wheel) are not charged to the measured actors.
///
/// # Errors
///
/// When an actor does not start or stop, or RSS cannot be read.
pub async fn spawn_idle(leg: IdleLeg, count: usize) -> anyhow::Result<IdleReport> {
    match leg {
        IdleLeg::Arbor => {
            measure_idle(
                count,
                start_arbor,
                |server| Ok(server.stop(Exit::Normal)?),
                async |server| drop(server.wait().await),
            )
            .await
        }
        IdleLeg::RawRactor => {
            measure_idle(
                count,
                start_raw,
                |actor| {
                    actor.stop(None);
                    Ok(())
                },
                async |actor| drop(actor.wait(None).await),
            )
            .await
        }
        IdleLeg::ArborStage => {
            measure_idle(
                count,
                stages::start_idle_consumer,
                |stage| Ok(stage.stop(Exit::Normal)?),
                async |stage| drop(stage.wait().await),
            )
            .await
        }
    }
}

/// The body of [`spawn_idle`] for one kind of actor: `start` one, `stop` it and `wait`
/// for it to warm up, then measure `count` of them (see [`spawn_idle`]).
async fn measure_idle<H, Started>(
    count: usize,
    start: impl Fn() -> Started,
    stop: impl Fn(&H) -> anyhow::Result<()>,
    wait: impl AsyncFn(&H),
) -> anyhow::Result<IdleReport>
where
    Started: std::future::Future<Output = anyhow::Result<H>>,
{
    let warm = start().await?;
    stop(&warm)?;
    wait(&warm).await;
    let mut handles: Vec<Option<H>> = (0..count).map(|_| None).collect();
    let before = rss_bytes()?;
    let started = Instant::now();
    for slot in &mut handles {
        *slot = Some(start().await?);
    }
    let spawn_time = started.elapsed();
    let after = rss_bytes()?;
    let stopping = Instant::now();
    for handle in handles.iter().flatten() {
        stop(handle)?;
    }
    for handle in handles.iter().flatten() {
        wait(handle).await;
    }
    Ok(IdleReport {
        actors: count,
        rss_delta: after.saturating_sub(before),
        spawn_time,
        stop_time: stopping.elapsed(),
    })
}

/// Set in a child process by [`idle_in_fresh_process`]: `<leg>:<count>`. The process
/// measures that many idle actors of that leg, prints one `MEMORY` line and exits.
pub const IDLE_CHILD_ENV: &str = "ARBOR_BENCH_MEMORY_CHILD";

/// What one fresh process measured: the figures of its [`IdleReport`].
#[derive(Debug, Clone, Copy)]
pub struct IdleRun {
    /// Resident bytes per idle actor.
    pub bytes: f64,
    /// Spawn time per actor, ns.
    pub spawn_ns: f64,
}

/// In a process started by [`idle_in_fresh_process`] (when [`IDLE_CHILD_ENV`] is set):
/// measures its idle actors, prints `MEMORY <leg> <bytes/actor> <spawn ns/actor> <stop s>`
/// and returns `true`; the caller's `main` then returns. Elsewhere returns `false`.
///
/// # Panics
///
/// When the variable is malformed or the actors do not start.
pub fn idle_child_main() -> bool {
    let Ok(spec) = std::env::var(IDLE_CHILD_ENV) else {
        return false;
    };
    let (leg, count) = spec.split_once(':').expect("<leg>:<count>");
    let leg: IdleLeg = leg.parse().expect("idle leg");
    let count: usize = count.parse().expect("idle count");
    let rt = runtime();
    let report: IdleReport = rt
        .block_on(rt.spawn(spawn_idle(leg, count)))
        .expect("the memory task panicked")
        .expect("idle actors");
    println!(
        "MEMORY {} {:.0} {} {:.3}",
        leg.name(),
        report.bytes_per_actor(),
        report.spawn_per_actor().as_nanos(),
        report.stop_time.as_secs_f64(),
    );
    true
}

/// Runs [`spawn_idle`]`(leg, count)` in a fresh process (this executable again, whose
/// `main` must call [`idle_child_main`] first), so that memory freed by an earlier run
/// cannot hide this one's growth. `None` (reported on stderr) when the child fails.
pub fn idle_in_fresh_process(leg: IdleLeg, count: usize) -> Option<IdleRun> {
    let exe = std::env::current_exe().ok()?;
    let output = std::process::Command::new(exe)
        .env(IDLE_CHILD_ENV, format!("{}:{count}", leg.name()))
        .output()
        .ok()?;
    if !output.status.success() {
        eprintln!(
            "memory run for {} failed: {}",
            leg.name(),
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().find(|line| line.starts_with("MEMORY "))?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    Some(IdleRun {
        bytes: fields.get(2)?.parse().ok()?,
        spawn_ns: fields.get(3)?.parse().ok()?,
    })
}

/// The median of `values` (NaN when empty).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

// ---------------------------------------------------------------------------------------
// reading criterion's results back, for the ratio summaries the benches print
// ---------------------------------------------------------------------------------------

/// Where criterion writes its results: `$CRITERION_HOME`, else `<target>/criterion`, the
/// bench binary being `<target>/<profile>/deps/<bench>-<hash>`.
pub fn criterion_dir() -> Option<std::path::PathBuf> {
    use std::path::PathBuf;
    if let Ok(home) = std::env::var("CRITERION_HOME") {
        return Some(PathBuf::from(home));
    }
    if let Ok(target) = std::env::var("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(target).join("criterion"));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.join("criterion"))
}

/// The median time per iteration (ns) of `group/leg`, if it was measured after `since`
/// (by this process).
pub fn median_ns(group: &str, leg: &str, since: std::time::SystemTime) -> Option<f64> {
    let path = criterion_dir()?
        .join(group)
        .join(leg)
        .join("new")
        .join("estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < since {
        return None;
    }
    let json = std::fs::read_to_string(path).ok()?;
    let median = &json[json.find("\"median\"")?..];
    let point = &median[median.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = point.find([',', '}'])?;
    point[..end].trim().parse().ok()
}
