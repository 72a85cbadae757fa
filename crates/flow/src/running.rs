//! Long-running flows: `start` / `start_link` (the flow drains itself), `into_stages` /
//! `into_stages_link` (the flow feeds consumers that already run), and `child_spec` to
//! put a flow in a supervision tree.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;

use arbor_actor::ractor::ActorCell;
use arbor_actor::{Exit, Init, Outcome, StartError};
use arbor_stage::{
    Cancel, Cancelled, Consumer, DemandAsk, GenStage, NoEvents, Side, Stage, StageContext,
    SubscribeOptions, SubscriptionInfo, SubscriptionTag,
};
use arbor_supervisor::{Child, ChildSpec, DynamicSupervisor};

use crate::materialize::{Build, Dispatch};
use crate::{Flow, FlowError};

/// A flow started for good, by [`Flow::start`] or [`Flow::into_stages`]: its stages run
/// under one supervisor until its sources end or it is stopped.
///
/// # Examples
///
/// ```
/// use arbor_flow::Flow;
///
/// # #[tokio::main]
/// # async fn main() -> Result<(), arbor_flow::FlowError> {
/// let (seen, mut total) = tokio::sync::mpsc::unbounded_channel();
/// let running = Flow::from_iter(1..=3u64)
///     .each(move |n| {
///         let _ = seen.send(*n);
///     })
///     .stages(1)
///     .start()
///     .await?;
/// let mut sum = 0;
/// for _ in 0..3 {
///     sum += total.recv().await.unwrap_or(0);
/// }
/// assert_eq!(sum, 6);
/// running.stop().await;
/// # Ok(())
/// # }
/// ```
pub struct RunningFlow {
    build: Build,
}

impl fmt::Debug for RunningFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunningFlow")
            .field("supervisor", &self.build.supervisor().id())
            .finish()
    }
}

impl RunningFlow {
    /// The supervisor every stage of the flow runs under.
    pub fn supervisor(&self) -> &DynamicSupervisor {
        self.build.supervisor()
    }

    /// Stops every stage of the flow and its supervisor.
    pub async fn stop(self) {
        self.build.stop().await;
    }

    /// Waits until the flow has ended (its sources ended and its stages delivered their
    /// last events, or a stage failed), then stops its supervisor. Returns the first
    /// abnormal exit of a stage, or `Exit::Normal`.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: a dropped wait forgets the stages it had not seen stop yet.
    pub async fn wait(self) -> Exit {
        let exit = self.build.wait().await;
        self.build.stop().await;
        exit
    }
}

impl From<RunningFlow> for Child {
    fn from(flow: RunningFlow) -> Self {
        Child::from_cell(flow.build.supervisor().cell())
    }
}

/// The consumer `start` puts at the end of a flow: it asks, drops what it gets, and
/// stops once every last stage of the flow has ended.
struct Drain<T>(PhantomData<fn(T)>);

impl<T: Send + 'static> GenStage for Drain<T> {
    type Args = ();
    /// The subscriptions still open.
    type State = usize;
    type In = T;
    type Out = NoEvents;

    async fn init(&self, _: (), _: &mut StageContext<Self>) -> Init<usize> {
        Init::Ready(0)
    }

    async fn handle_subscribe(
        &self,
        _: Side,
        _: SubscriptionInfo,
        open: &mut usize,
        _: &mut StageContext<Self>,
    ) -> DemandAsk {
        *open += 1;
        DemandAsk::Automatic
    }

    async fn handle_cancel(
        &self,
        _: Side,
        _: Cancelled,
        _: SubscriptionTag,
        open: &mut usize,
        _: &mut StageContext<Self>,
    ) -> Outcome {
        *open = open.saturating_sub(1);
        if *open == 0 {
            return Outcome::Stop(Exit::Normal);
        }
        Outcome::NoReply
    }
}

impl<T: Send + 'static> Consumer for Drain<T> {
    async fn handle_events(
        &self,
        _: Vec<T>,
        _: SubscriptionTag,
        _: &mut usize,
        _: &mut StageContext<Self>,
    ) -> Outcome {
        Outcome::NoReply
    }
}

impl<T: Send + 'static, I: Send + 'static> Flow<T, I> {
    async fn launch(
        self,
        parent: Option<ActorCell>,
    ) -> Result<(Build, Vec<arbor_stage::SubscribeTo<T>>), FlowError> {
        let upstream = self.close()?;
        let build = match parent {
            Some(parent) => Build::linked(parent).await?,
            None => Build::new().await?,
        };
        match upstream(build.clone(), Dispatch::Demand).await {
            Ok(outputs) => Ok((build, outputs)),
            Err(error) => {
                build.stop().await;
                Err(error)
            }
        }
    }

    async fn start_inner(self, parent: Option<ActorCell>) -> Result<RunningFlow, FlowError> {
        let (build, outputs) = self.launch(parent).await?;
        let mut drain = Stage::consumer(Drain(PhantomData), ());
        for output in outputs {
            drain = drain.subscribe_to(output, SubscribeOptions::new().cancel(Cancel::Transient));
        }
        if let Err(error) = build.start(drain).await {
            build.stop().await;
            return Err(error);
        }
        build.release();
        Ok(RunningFlow { build })
    }

    /// Starts the flow for its side effects (`each`, a reduction emitting
    /// [`Nothing`](crate::Nothing)): a consumer of its own drains its events. Flow's
    /// `start_link` without the link; see [`start_link`](Flow::start_link).
    ///
    /// # Errors
    ///
    /// As [`Flow::into_stream`].
    ///
    /// # Cancel safety
    ///
    /// As [`Flow::into_stream`].
    pub async fn start(self) -> Result<RunningFlow, FlowError> {
        self.start_inner(None).await
    }

    /// [`start`](Flow::start), the flow's supervisor linked under `parent` (a supervisor
    /// starting the flow as its child, see [`child_spec`]).
    ///
    /// # Errors
    ///
    /// As [`Flow::into_stream`].
    ///
    /// # Cancel safety
    ///
    /// As [`Flow::into_stream`].
    pub async fn start_link(self, parent: ActorCell) -> Result<RunningFlow, FlowError> {
        self.start_inner(Some(parent)).await
    }

    async fn into_stages_inner<C>(
        self,
        consumers: Vec<(Stage<C>, SubscribeOptions<T>)>,
        parent: Option<ActorCell>,
    ) -> Result<RunningFlow, FlowError>
    where
        C: GenStage<In = T>,
    {
        let (build, outputs) = self.launch(parent).await?;
        for (consumer, options) in &consumers {
            for output in &outputs {
                if let Err(error) = consumer.subscribe(output.clone(), options.clone()).await {
                    build.stop().await;
                    return Err(FlowError::Start(arbor_stage::StageStartError::Subscribe(
                        error,
                    )));
                }
            }
        }
        build.release();
        Ok(RunningFlow { build })
    }

    /// Starts the flow and subscribes each of `consumers` (stages that already run, with
    /// their subscription options) to every one of its last stages (Flow's
    /// `into_stages`). With `Cancel::Transient` options, the consumers outlive a flow that
    /// ends normally.
    ///
    /// # Errors
    ///
    /// As [`Flow::into_stream`], and [`FlowError::Start`] when a consumer cannot subscribe.
    ///
    /// # Cancel safety
    ///
    /// As [`Flow::into_stream`].
    pub async fn into_stages<C>(
        self,
        consumers: impl IntoIterator<Item = (Stage<C>, SubscribeOptions<T>)>,
    ) -> Result<RunningFlow, FlowError>
    where
        C: GenStage<In = T>,
    {
        self.into_stages_inner(consumers.into_iter().collect(), None)
            .await
    }

    /// [`into_stages`](Flow::into_stages), the flow's supervisor linked under `parent`.
    ///
    /// # Errors
    ///
    /// As [`into_stages`](Flow::into_stages).
    ///
    /// # Cancel safety
    ///
    /// As [`Flow::into_stream`].
    pub async fn into_stages_link<C>(
        self,
        consumers: impl IntoIterator<Item = (Stage<C>, SubscribeOptions<T>)>,
        parent: ActorCell,
    ) -> Result<RunningFlow, FlowError>
    where
        C: GenStage<In = T>,
    {
        self.into_stages_inner(consumers.into_iter().collect(), Some(parent))
            .await
    }
}

/// A child spec that runs a flow under a supervisor (Flow's `into_specs` / a flow module's
/// `child_spec`): at each start, `start` gets the supervisor's cell and starts the flow
/// linked under it ([`Flow::start_link`] or [`Flow::into_stages_link`]); the flow's own
/// supervisor is the child. A failed start is reported with `start`'s error (a
/// [`FlowError`], or an error of the caller's, for a lookup that failed).
pub fn child_spec<F, Fut, E>(id: impl Into<String>, start: F) -> ChildSpec
where
    F: Fn(ActorCell) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<RunningFlow, E>> + Send + 'static,
    E: std::error::Error,
{
    ChildSpec::from_fn(id, move |parent| {
        let started = start(parent);
        async move {
            started
                .await
                .map(Child::from)
                .map_err(|error| StartError::Init(Exit::error(error_chain(&error))))
        }
    })
    .as_supervisor()
}

/// The error and its causes on one line, for a start failure's exit reason.
fn error_chain(error: &dyn std::error::Error) -> String {
    std::iter::successors(Some(error), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}
