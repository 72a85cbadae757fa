//! Plan → running stages: starts a flow's layers from the sources down, every stage a
//! temporary child of the flow's supervisor, with the sources' demand held back until
//! every stage is subscribed.

use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use arbor_actor::{Exit, StartError};
use arbor_stage::{
    Cancel, DemandMode, GenStage, PartitionDispatcher, Producer, Stage, StageBuilder,
    StageStartError, SubscribeOptions, SubscribeTo,
};
use arbor_supervisor::{Child, ChildSpec, DynamicSupervisor, DynamicSupervisorOptions, Restart};

use crate::logic::LogicFactory;
use crate::partition::Routing;
use crate::stage::FlowStage;
use crate::{FlowError, InvalidFlow, PartitionInfo};

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Starts what feeds a layer and returns its producers, whose dispatcher routes as asked.
pub(crate) type Upstream<T> =
    Box<dyn FnOnce(Build, Dispatch<T>) -> BoxFuture<Result<Vec<SubscribeTo<T>>, FlowError>> + Send>;

/// Makes a fresh partition dispatcher for each start of a producer.
pub(crate) type DispatcherMaker<T> = Arc<dyn Fn() -> PartitionDispatcher<T> + Send + Sync>;

/// How a layer's producers hand events to the next layer's stages.
pub(crate) enum Dispatch<T> {
    /// To whichever stage asks (one stage, a shuffle, a sink).
    Demand,
    /// Each event to the stage its key or hash picks.
    Partition(DispatcherMaker<T>),
}

impl<T: Send + 'static> Dispatch<T> {
    /// Sets this routing on a producer being built.
    pub(crate) fn apply<S: GenStage<Out = T>>(&self, builder: StageBuilder<S>) -> StageBuilder<S> {
        match self {
            Dispatch::Demand => builder,
            Dispatch::Partition(maker) => {
                let maker = Arc::clone(maker);
                builder.dispatcher(move || maker())
            }
        }
    }

    /// The subscription options of stage `index` of the next layer.
    fn subscribe_options(&self, index: usize, demand: &Demand) -> SubscribeOptions<T> {
        let options = demand.options().cancel(Cancel::Transient);
        match self {
            Dispatch::Demand => options,
            Dispatch::Partition(_) => options.partition(index),
        }
    }
}

/// A partition's `max_demand` / `min_demand` (`None`: arbor-stage's defaults).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Demand {
    pub(crate) max: Option<usize>,
    pub(crate) min: Option<usize>,
}

impl Demand {
    pub(crate) fn options<T>(&self) -> SubscribeOptions<T> {
        let mut options = SubscribeOptions::new();
        if let Some(max) = self.max {
            options = options.max_demand(max);
            if self.min.is_none() {
                options = options.min_demand(max / 2);
            }
        }
        if let Some(min) = self.min {
            options = options.min_demand(min);
        }
        options
    }

    pub(crate) fn validate(&self) -> Result<(), InvalidFlow> {
        self.options::<()>()
            .demand()
            .map(|_| ())
            .map_err(InvalidFlow::Demand)
    }
}

/// Hashes a key to one of `stages` partitions, the same in every run (std's
/// `RandomState` is seeded per process). Routing is not exposed to hash flooding (a key
/// only picks a stage), so a multiply-rotate hash, several times cheaper per event than
/// SipHash, is enough.
pub(crate) fn partition_of<K: Hash + ?Sized>(key: &K, stages: usize) -> usize {
    let mut hasher = RouteHasher(0);
    key.hash(&mut hasher);
    // The high bits are the best mixed.
    let spread = (u128::from(hasher.finish()) * stages.max(1) as u128) >> 64;
    spread as usize
}

/// Fx-style hashing: one rotate, xor and multiply per word.
struct RouteHasher(u64);

impl RouteHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl std::hash::Hasher for RouteHasher {
    fn finish(&self) -> u64 {
        // A final avalanche, so that small keys spread over the high bits too.
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^ (x >> 33)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let mut last = [0; 8];
        last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
        self.add(u64::from_le_bytes(last));
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
}

type Release = Box<dyn FnOnce() + Send>;

/// Where a stage's start function leaves its handle (or its start error).
type Started<S> = Arc<Mutex<Option<Result<Stage<S>, StageStartError>>>>;

/// What starting a flow shares: its supervisor, and the sources to release once every
/// stage is subscribed.
#[derive(Clone)]
pub(crate) struct Build {
    supervisor: DynamicSupervisor,
    releases: Arc<Mutex<Vec<Release>>>,
    /// `Temporary` for a flow its caller reads (the reader sees a failure); `Transient`
    /// under a parent, with no restart allowed: a failed stage takes the flow's supervisor
    /// down, and the parent restarts the whole flow (Flow's coordinator exits likewise).
    restart: Restart,
    /// Waits for each stage started so far to stop.
    stages: Arc<Mutex<Vec<Waiter>>>,
}

type Waiter = Box<dyn FnOnce() -> BoxFuture<Exit> + Send>;

impl Build {
    pub(crate) async fn new() -> Result<Self, FlowError> {
        let started = DynamicSupervisor::start(DynamicSupervisorOptions::default()).await;
        Self::around(started, Restart::Temporary)
    }

    /// As [`Build::new`], the supervisor linked under `parent`.
    pub(crate) async fn linked(parent: arbor_actor::ractor::ActorCell) -> Result<Self, FlowError> {
        let options = DynamicSupervisorOptions::default().max_restarts(0);
        let started = DynamicSupervisor::start_link(options, parent).await;
        Self::around(started, Restart::Transient)
    }

    fn around(
        supervisor: Result<DynamicSupervisor, arbor_supervisor::SupervisorError>,
        restart: Restart,
    ) -> Result<Self, FlowError> {
        Ok(Build {
            supervisor: supervisor.map_err(FlowError::Supervisor)?,
            releases: Arc::default(),
            restart,
            stages: Arc::default(),
        })
    }

    pub(crate) fn supervisor(&self) -> &DynamicSupervisor {
        &self.supervisor
    }

    /// Starts a stage as a temporary child of the flow's supervisor.
    pub(crate) async fn start<S: GenStage>(
        &self,
        builder: StageBuilder<S>,
    ) -> Result<Stage<S>, FlowError> {
        let slot = Arc::new(Mutex::new(Some(builder)));
        let started: Started<S> = Arc::new(Mutex::new(None));
        let report = Arc::clone(&started);
        let spec = ChildSpec::from_fn("flow-stage", move |supervisor| {
            let builder = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
            let report = Arc::clone(&report);
            async move {
                // Started once: a flow stage is never restarted on its own.
                let Some(builder) = builder else {
                    return Err(StartError::Init(Exit::error("a flow stage starts once")));
                };
                let result = builder.start_link(supervisor).await;
                let child = match &result {
                    Ok(stage) => Ok(Child::from(stage.clone())),
                    Err(StageStartError::Start(error)) => Err(error.clone()),
                    Err(error) => Err(StartError::Init(Exit::error(error))),
                };
                *report.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
                child
            }
        })
        .restart(self.restart);
        let outcome = self.supervisor.start_child(spec).await;
        let started = started
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match (started, outcome) {
            (Some(Ok(stage)), Ok(_)) => {
                let waited = stage.clone();
                self.stages
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(Box::new(move || {
                        Box::pin(async move { waited.wait().await })
                    }));
                Ok(stage)
            }
            (Some(Err(error)), _) => Err(FlowError::Start(error)),
            (_, Err(error)) => Err(FlowError::Start(StageStartError::Start(StartError::Init(
                Exit::error(error),
            )))),
            (None, Ok(_)) => Err(FlowError::Start(StageStartError::Start(StartError::Init(
                Exit::error("the flow stage did not report its start"),
            )))),
        }
    }

    /// Starts a source producer with its demand held until [`Build::release`].
    pub(crate) async fn start_source<S: Producer>(
        &self,
        builder: StageBuilder<S>,
        dispatch: &Dispatch<S::Out>,
    ) -> Result<SubscribeTo<S::Out>, FlowError> {
        let builder = dispatch.apply(builder.demand_mode(DemandMode::Accumulate));
        let stage = self.start(builder).await?;
        let to = SubscribeTo::stage(&stage);
        self.on_release(move || {
            let _ = stage.set_demand_mode(DemandMode::Forward);
        });
        Ok(to)
    }

    fn on_release(&self, release: impl FnOnce() + Send + 'static) {
        self.releases
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Box::new(release));
    }

    /// Lets the sources emit: every stage is subscribed.
    pub(crate) fn release(&self) {
        let releases =
            std::mem::take(&mut *self.releases.lock().unwrap_or_else(PoisonError::into_inner));
        for release in releases {
            release();
        }
    }

    /// Waits until every stage of the flow has stopped; the first abnormal exit, or
    /// `Normal`.
    pub(crate) async fn wait(&self) -> Exit {
        let waiters =
            std::mem::take(&mut *self.stages.lock().unwrap_or_else(PoisonError::into_inner));
        let mut exit = Exit::Normal;
        for waiter in waiters {
            let stopped = waiter().await;
            if stopped.is_abnormal() && !exit.is_abnormal() {
                exit = stopped;
            }
        }
        exit
    }

    /// Stops every stage of the flow.
    pub(crate) async fn stop(&self) {
        self.supervisor.stop(Exit::Normal).await;
    }
}

/// A layer of `stages` partition stages, each running `logic`, fed by `upstream`.
pub(crate) struct Layer<I, O> {
    pub(crate) upstream: Upstream<I>,
    pub(crate) stages: usize,
    pub(crate) routing: Routing<I>,
    pub(crate) demand: Demand,
    pub(crate) logic: LogicFactory<I, O>,
}

impl<I: Send + 'static, O: Send + 'static> Layer<I, O> {
    /// The layer as the upstream of the next one.
    pub(crate) fn into_upstream(self) -> Upstream<O> {
        Box::new(move |build, dispatch| Box::pin(self.start(build, dispatch)))
    }

    async fn start(
        self,
        build: Build,
        dispatch: Dispatch<O>,
    ) -> Result<Vec<SubscribeTo<O>>, FlowError> {
        // With one stage the key and hash are not consulted.
        let maker = match self.stages {
            0 | 1 => None,
            stages => self
                .routing
                .dispatcher(stages)
                .map_err(|e| FlowError::Start(StageStartError::InvalidOptions(e)))?,
        };
        let routing = maker.map_or(Dispatch::Demand, Dispatch::Partition);
        let producers = (self.upstream)(build.clone(), routing.clone_shape()).await?;
        let mut outputs = Vec::with_capacity(self.stages);
        for index in 0..self.stages {
            let logic = (self.logic)(PartitionInfo {
                index,
                stages: self.stages,
            });
            let mut builder = Stage::producer_consumer(FlowStage::new(), logic)
                .name(&format!("flow-partition-{index}"));
            builder = dispatch.apply(builder);
            for producer in &producers {
                builder = builder.subscribe_to(
                    producer.clone(),
                    routing.subscribe_options(index, &self.demand),
                );
            }
            let stage = build.start(builder).await?;
            outputs.push(SubscribeTo::stage(&stage));
        }
        Ok(outputs)
    }
}

impl<T> Dispatch<T> {
    fn clone_shape(&self) -> Self {
        match self {
            Dispatch::Demand => Dispatch::Demand,
            Dispatch::Partition(maker) => Dispatch::Partition(Arc::clone(maker)),
        }
    }
}

/// The upstream of a plan that will not run (it carries an error): starts nothing.
pub(crate) fn empty_upstream<T: Send + 'static>() -> Upstream<T> {
    Box::new(|_, _| {
        let nothing: BoxFuture<Result<Vec<SubscribeTo<T>>, FlowError>> =
            Box::pin(async { Ok(Vec::new()) });
        nothing
    })
}
