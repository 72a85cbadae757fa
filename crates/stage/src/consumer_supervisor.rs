//! `ConsumerSupervisor`: a consumer that starts one child per event and asks for more
//! events as its children exit, so `max_demand` bounds how many run at once.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use arbor_actor::ractor::{ActorCell, ActorId};
use arbor_actor::{CallError, CallOutcome, Caller, Exit, Init, Outcome};
use arbor_supervisor::{
    reached_max_intensity, shut_down_children, Child, ChildCounts, ChildSpec, Intensity, Restart,
};
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::{
    Consumer, DemandAsk, GenStage, InvalidOptions, NoEvents, Side, Stage, StageCall, StageContext,
    StageInfo, SubscriptionInfo, SubscriptionTag,
};

type TaskFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What a consumer supervisor starts for each event.
enum Template<E> {
    /// A supervised actor, from a child spec built from the event.
    Child(Arc<dyn Fn(E) -> ChildSpec + Send + Sync>),
    /// A tokio task running the future built from the event: the light child, for work
    /// that needs no mailbox (the book's one `Task` per page).
    Task(Arc<dyn Fn(E) -> TaskFuture + Send + Sync>),
}

/// A consumer that starts a child for every event it receives (gen_stage's
/// `ConsumerSupervisor`). It asks each producer for `max_demand` events, starts one child
/// per event, and asks again once `min_demand` of that producer's children have exited,
/// so at most `max_demand` children per producer run at once.
///
/// Children are supervised actors built from a [`ChildSpec`] per event
/// ([`ConsumerSupervisor::children`]), or tokio tasks ([`ConsumerSupervisor::tasks`]),
/// which cost far less to start. Children are `Temporary` (never restarted) by default;
/// like any consumer, a consumer supervisor whose subscription is `Cancel::Permanent`
/// stops when its producer ends, and stops its running children with it: subscribe
/// `Transient` to let them finish after a finite producer's normal end.
/// [`ConsumerSupervisor::restart`] makes actor children `Transient` (restarted after an
/// abnormal exit, within the restart intensity). `Permanent` is refused, as in gen_stage.
///
/// # Examples
///
/// ```
/// use arbor_stage::{Cancel, ConsumerSupervisor, Stage, SubscribeOptions};
/// # use arbor_actor::{Init, Outcome, Exit};
/// # use arbor_stage::{GenStage, NoEvents, Producer, StageContext};
/// # struct Pages;
/// # impl GenStage for Pages {
/// #     type Args = ();
/// #     type State = u64;
/// #     type In = NoEvents;
/// #     type Out = u64;
/// #     async fn init(&self, _: (), _: &mut StageContext<Self>) -> Init<u64> { Init::Ready(0) }
/// # }
/// # impl Producer for Pages {
/// #     async fn handle_demand(&self, demand: usize, next: &mut u64, ctx: &mut StageContext<Self>) -> Outcome {
/// #         let end = (*next + demand as u64).min(10);
/// #         ctx.emit_all(*next..end);
/// #         *next = end;
/// #         if end == 10 { ctx.stop_after_delivery(Exit::Normal); }
/// #         Outcome::NoReply
/// #     }
/// # }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pages = Stage::producer(Pages, ()).start().await?;
/// let (scraped, mut done) = tokio::sync::mpsc::unbounded_channel();
/// let scrapers = ConsumerSupervisor::tasks(move |page: u64| {
///     let scraped = scraped.clone();
///     async move {
///         let _ = scraped.send(page);
///     }
/// });
/// // Transient: when the finite producer ends normally, running children finish.
/// let options = SubscribeOptions::new().max_demand(4).cancel(Cancel::Transient);
/// Stage::consumer(scrapers, ()).subscribe_to(&pages, options).start().await?;
/// let mut total = 0;
/// for _ in 0..10 {
///     total += done.recv().await.unwrap_or(0);
/// }
/// assert_eq!(total, (0..10).sum::<u64>());
/// # Ok(())
/// # }
/// ```
pub struct ConsumerSupervisor<E> {
    template: Template<E>,
    restart: Restart,
    max_restarts: u32,
    max_seconds: u64,
}

impl<E: Send + 'static> ConsumerSupervisor<E> {
    /// Starts the child `template(event)` describes, for each event. The spec's own
    /// `restart` is ignored: see [`ConsumerSupervisor::restart`].
    pub fn children(template: impl Fn(E) -> ChildSpec + Send + Sync + 'static) -> Self {
        Self::with(Template::Child(Arc::new(template)))
    }

    /// Runs the future `work(event)` as a tokio task, for each event. A task that
    /// panics is logged and counted as exited; tasks are never restarted.
    pub fn tasks<F, Fut>(work: F) -> Self
    where
        F: Fn(E) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self::with(Template::Task(Arc::new(move |event| Box::pin(work(event)))))
    }

    fn with(template: Template<E>) -> Self {
        ConsumerSupervisor {
            template,
            restart: Restart::Temporary,
            max_restarts: 3,
            max_seconds: 5,
        }
    }

    /// Whether children are restarted: `Temporary` (default) or `Transient`.
    ///
    /// # Errors
    ///
    /// [`InvalidOptions::PermanentChildren`] for `Permanent`: a child that always comes
    /// back would never free its demand.
    pub fn restart(mut self, restart: Restart) -> Result<Self, InvalidOptions> {
        if restart == Restart::Permanent {
            return Err(InvalidOptions::PermanentChildren);
        }
        self.restart = restart;
        Ok(self)
    }

    /// At most `max_restarts` restarts within `max_seconds` (default: 3 in 5 s); one
    /// more stops the consumer supervisor.
    ///
    /// # Errors
    ///
    /// [`InvalidOptions::ZeroRestartWindow`] when `max_seconds` is 0, as a
    /// [`Supervisor`](arbor_supervisor::Supervisor) refuses it: a window of no time
    /// would count no restart, and a crash loop would never end.
    pub fn intensity(
        mut self,
        max_restarts: u32,
        max_seconds: u64,
    ) -> Result<Self, InvalidOptions> {
        if max_seconds == 0 {
            return Err(InvalidOptions::ZeroRestartWindow);
        }
        self.max_restarts = max_restarts;
        self.max_seconds = max_seconds;
        Ok(self)
    }
}

/// One running child.
struct Running {
    child: Child,
    /// The subscription whose event started it: its exit frees that producer's demand.
    from: SubscriptionTag,
    /// How to restart it, and how to stop it.
    spec: ChildSpec,
}

/// Demand bookkeeping for one producer.
#[derive(Debug)]
struct Credit {
    running: usize,
    /// Exited children not yet turned into an ask.
    freed: usize,
    min: usize,
    max: usize,
}

/// The state of a [`ConsumerSupervisor`]; opaque.
pub struct ConsumerSupervisorState {
    children: HashMap<ActorId, Running>,
    tasks: HashMap<u64, (SubscriptionTag, AbortHandle)>,
    next_task: u64,
    credits: HashMap<SubscriptionTag, Credit>,
    intensity: Intensity,
}

impl fmt::Debug for ConsumerSupervisorState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsumerSupervisorState")
            .field("children", &self.children.len())
            .field("tasks", &self.tasks.len())
            .field("credits", &self.credits)
            .finish_non_exhaustive()
    }
}

/// A task finished (or panicked): sent by the task's own guard.
pub struct TaskDone {
    id: u64,
    panicked: bool,
}

impl fmt::Debug for TaskDone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskDone")
            .field("id", &self.id)
            .field("panicked", &self.panicked)
            .finish()
    }
}

/// Reports a task's end when it is dropped: on completion, on panic, on abort.
struct DoneGuard<E: Send + 'static> {
    supervisor: Stage<ConsumerSupervisor<E>>,
    id: u64,
}

impl<E: Send + 'static> Drop for DoneGuard<E> {
    fn drop(&mut self) {
        let panicked = std::thread::panicking();
        let _ = self.supervisor.send(TaskDone {
            id: self.id,
            panicked,
        });
    }
}

impl<E: Send + 'static> GenStage for ConsumerSupervisor<E> {
    type Args = ();
    type State = ConsumerSupervisorState;
    type In = E;
    type Out = NoEvents;

    async fn init(&self, _: (), _: &mut StageContext<Self>) -> Init<ConsumerSupervisorState> {
        let window = Duration::from_secs(self.max_seconds);
        Init::Ready(ConsumerSupervisorState {
            children: HashMap::new(),
            tasks: HashMap::new(),
            next_task: 0,
            credits: HashMap::new(),
            intensity: Intensity::new(self.max_restarts, window),
        })
    }

    async fn handle_subscribe(
        &self,
        side: Side,
        subscription: SubscriptionInfo,
        state: &mut ConsumerSupervisorState,
        ctx: &mut StageContext<Self>,
    ) -> DemandAsk {
        if side == Side::Consumer {
            let credit = Credit {
                running: 0,
                freed: 0,
                min: subscription.min_demand,
                max: subscription.max_demand,
            };
            state.credits.insert(subscription.tag, credit);
            ctx.ask(subscription.tag, subscription.max_demand);
        }
        DemandAsk::Manual
    }

    async fn handle_cancel(
        &self,
        _: Side,
        _: crate::Cancelled,
        tag: SubscriptionTag,
        state: &mut ConsumerSupervisorState,
        _: &mut StageContext<Self>,
    ) -> Outcome {
        state.credits.remove(&tag);
        Outcome::NoReply
    }

    async fn handle_exit(
        &self,
        actor: ActorCell,
        exit: Exit,
        state: &mut ConsumerSupervisorState,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        let Some(running) = state.children.remove(&actor.get_id()) else {
            return Outcome::NoReply;
        };
        if exit.is_abnormal() {
            tracing::error!(supervisor = %ctx.myself(), child = ?running.child, reason = %exit, "child terminated");
        }
        if self.restart.restarts_after(&exit) {
            return self
                .restart_child(state, ctx, running.from, running.spec, &exit)
                .await;
        }
        free(state, ctx, running.from, 1);
        Outcome::NoReply
    }

    async fn terminate(
        &self,
        _: &Exit,
        state: &mut ConsumerSupervisorState,
        ctx: &mut StageContext<Self>,
    ) {
        for (_, (_, task)) in state.tasks.drain() {
            task.abort();
        }
        let children: Vec<(Child, &ChildSpec)> = state
            .children
            .values()
            .map(|running| (running.child.clone(), &running.spec))
            .collect();
        let me = ctx.myself();
        shut_down_children(&children, &me.cell(), &me.to_string()).await;
        state.children.clear();
    }
}

impl<E: Send + 'static> Consumer for ConsumerSupervisor<E> {
    async fn handle_events(
        &self,
        events: Vec<E>,
        from: SubscriptionTag,
        state: &mut ConsumerSupervisorState,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        let count = events.len();
        let mut failed = 0;
        for event in events {
            if !self.start(state, ctx, from, event).await {
                failed += 1;
            }
        }
        if let Some(credit) = state.credits.get_mut(&from) {
            if credit.running + count > credit.max {
                tracing::error!(supervisor = %ctx.myself(), subscription = %from, excess = credit.running + count - credit.max, "received events in excess of demand");
            }
            credit.running += count;
        }
        // Children that could not start free their demand at once.
        free(state, ctx, from, failed);
        Outcome::NoReply
    }
}

impl<E: Send + 'static> ConsumerSupervisor<E> {
    /// Starts the child for `event`; `false` when it could not start.
    async fn start(
        &self,
        state: &mut ConsumerSupervisorState,
        ctx: &mut StageContext<Self>,
        from: SubscriptionTag,
        event: E,
    ) -> bool {
        match &self.template {
            Template::Task(work) => {
                let id = state.next_task;
                state.next_task += 1;
                let guard = DoneGuard {
                    supervisor: ctx.myself().clone(),
                    id,
                };
                let work = work(event);
                let task = tokio::spawn(async move {
                    let _guard = guard;
                    work.await;
                });
                state.tasks.insert(id, (from, task.abort_handle()));
                true
            }
            Template::Child(template) => {
                let spec = template(event);
                match spec.start(ctx.myself().cell()).await {
                    Ok(child) => {
                        let running = Running { child, from, spec };
                        state.children.insert(running.child.id(), running);
                        true
                    }
                    Err(error) => {
                        tracing::error!(supervisor = %ctx.myself(), %error, "failed to start child");
                        false
                    }
                }
            }
        }
    }

    async fn restart_child(
        &self,
        state: &mut ConsumerSupervisorState,
        ctx: &mut StageContext<Self>,
        from: SubscriptionTag,
        spec: ChildSpec,
        exit: &Exit,
    ) -> Outcome {
        if let Err(tripped) = state.intensity.record(Instant::now()) {
            tracing::error!(supervisor = %ctx.myself(), reason = %exit, "{tripped}; shutting down");
            return Outcome::Stop(reached_max_intensity());
        }
        match spec.start(ctx.myself().cell()).await {
            Ok(child) => {
                let running = Running { child, from, spec };
                state.children.insert(running.child.id(), running);
            }
            Err(error) => {
                tracing::error!(supervisor = %ctx.myself(), %error, "failed to restart child");
                free(state, ctx, from, 1);
            }
        }
        Outcome::NoReply
    }
}

/// `count` children of producer `from` are gone: ask again once `min_demand` are.
fn free<S: GenStage>(
    state: &mut ConsumerSupervisorState,
    ctx: &mut StageContext<S>,
    from: SubscriptionTag,
    count: usize,
) {
    let Some(credit) = state.credits.get_mut(&from) else {
        return;
    };
    credit.running = credit.running.saturating_sub(count);
    credit.freed += count;
    if credit.freed > 0 && credit.freed >= credit.min {
        ctx.ask(from, std::mem::take(&mut credit.freed));
    }
}

impl<E: Send + 'static> StageInfo<TaskDone> for ConsumerSupervisor<E> {
    async fn handle_info(
        &self,
        done: TaskDone,
        state: &mut ConsumerSupervisorState,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        let Some((from, _)) = state.tasks.remove(&done.id) else {
            return Outcome::NoReply;
        };
        if done.panicked {
            tracing::error!(supervisor = %ctx.myself(), "task panicked");
        }
        free(state, ctx, from, 1);
        Outcome::NoReply
    }
}

/// Lists the running actor children.
#[derive(Debug, Clone, Copy)]
pub struct WhichChildren;

/// Counts the running children (tasks count as workers).
#[derive(Debug, Clone, Copy)]
pub struct CountChildren;

impl<E: Send + 'static> StageCall<WhichChildren> for ConsumerSupervisor<E> {
    type Reply = Vec<Child>;

    async fn handle_call(
        &self,
        _: WhichChildren,
        _: Caller<'_, Vec<Child>>,
        state: &mut ConsumerSupervisorState,
        _: &mut StageContext<Self>,
    ) -> CallOutcome<Vec<Child>> {
        let children = state.children.values().map(|running| running.child.clone());
        CallOutcome::Reply(children.collect())
    }
}

impl<E: Send + 'static> StageCall<CountChildren> for ConsumerSupervisor<E> {
    type Reply = ChildCounts;

    async fn handle_call(
        &self,
        _: CountChildren,
        _: Caller<'_, ChildCounts>,
        state: &mut ConsumerSupervisorState,
        _: &mut StageContext<Self>,
    ) -> CallOutcome<ChildCounts> {
        let running = state.children.len() + state.tasks.len();
        CallOutcome::Reply(ChildCounts {
            specs: running,
            active: running,
            supervisors: 0,
            workers: running,
        })
    }
}

impl<E> Clone for ConsumerSupervisor<E> {
    fn clone(&self) -> Self {
        let template = match &self.template {
            Template::Child(make) => Template::Child(Arc::clone(make)),
            Template::Task(work) => Template::Task(Arc::clone(work)),
        };
        ConsumerSupervisor {
            template,
            restart: self.restart,
            max_restarts: self.max_restarts,
            max_seconds: self.max_seconds,
        }
    }
}

impl<E: Send + 'static> Stage<ConsumerSupervisor<E>> {
    /// The running actor children (gen_stage's `which_children`; tasks are not listed).
    ///
    /// # Errors
    ///
    /// As [`Stage::call`].
    pub async fn which_children(&self) -> Result<Vec<Child>, CallError> {
        self.call(WhichChildren).await
    }

    /// How many children run, tasks included (gen_stage's `count_children`).
    ///
    /// # Errors
    ///
    /// As [`Stage::call`].
    pub async fn count_children(&self) -> Result<ChildCounts, CallError> {
        self.call(CountChildren).await
    }
}

impl<E> fmt::Debug for ConsumerSupervisor<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let template = match self.template {
            Template::Child(_) => "children",
            Template::Task(_) => "tasks",
        };
        f.debug_struct("ConsumerSupervisor")
            .field("template", &template)
            .field("restart", &self.restart)
            .finish_non_exhaustive()
    }
}
