//! `ConsumerSupervisor`: a consumer that starts one child per event and asks for more
//! events as its children exit, so `max_demand` bounds how many run at once.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use arbor_actor::ractor::{ActorCell, ActorId};
use arbor_actor::{CallError, CallOutcome, Caller, Exit, Init, Outcome, StartError};
use arbor_supervisor::{
    reached_max_intensity, shut_down_children, Child, ChildCounts, ChildInfo, ChildKind, ChildSpec,
    ChildState, ChildrenFuture, ChildrenHook, Intensity, Reports, Restart, Shutdown,
};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::telemetry::ConsumerSupervisorTelemetry;
use crate::{
    Consumer, ConsumerChildError, DemandAsk, GenStage, InvalidOptions, NoEvents, Side, Stage,
    StageCall, StageContext, StageInfo, SubscriptionInfo, SubscriptionTag,
};

type TaskFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// An event kept for its restarts (type-erased: the state is not generic).
type KeptEvent = Box<dyn Any + Send>;

/// A per-event attempt limit (see [`ConsumerSupervisor::children_with_attempts`]).
struct Attempts<E> {
    max: u32,
    /// The child spec for an event's n-th attempt (1 for its first start).
    build: Arc<dyn Fn(E, u32) -> ChildSpec + Send + Sync>,
    /// `E::clone`, kept here so that only this constructor needs `E: Clone`.
    clone: fn(&E) -> E,
    /// Given each event whose attempts are used up, with its last child's exit.
    exhausted: Arc<dyn Fn(E, Exit) + Send + Sync>,
}

impl<E> Clone for Attempts<E> {
    fn clone(&self) -> Self {
        Attempts {
            max: self.max,
            build: Arc::clone(&self.build),
            clone: self.clone,
            exhausted: Arc::clone(&self.exhausted),
        }
    }
}

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
/// stops when its producer ends, and stops its running children with it (tasks within
/// [`ConsumerSupervisor::task_shutdown`]): subscribe `Transient` to let them finish after
/// a finite producer's normal end.
/// [`ConsumerSupervisor::restart`] makes actor children `Transient` (restarted after an
/// abnormal exit, within the restart intensity). `Permanent` is refused, as in gen_stage.
/// A child whose restart fails stays restarting, holding its event's demand, and its
/// restart is retried through the mailbox, each attempt counted against the intensity.
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
    task_shutdown: Shutdown,
    attempts: Option<Attempts<E>>,
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
            task_shutdown: Shutdown::default(),
            attempts: None,
        }
    }

    /// Starts the child `template(event, attempt)` describes for each event, and
    /// restarts it (children are `Transient`) at most `max_attempts` times in all per
    /// event: `attempt` is 1 for the event's first start, 2 for its first restart, and so
    /// on, so the child can tell which attempt it is. Once an event's last attempt has
    /// exited abnormally (or failed to start), the event is given to `exhausted`, with
    /// that exit, instead of being restarted again, and its demand is freed. These
    /// restarts are counted against the event's own limit, not the shared restart
    /// intensity: events that keep failing do not stop the consumer supervisor. An
    /// event's first start that fails is not retried (as without a limit: it is logged
    /// and its demand freed).
    /// `exhausted` runs inside the consumer supervisor: hand the event on (a channel, a
    /// cast), do not block.
    ///
    /// # Errors
    ///
    /// [`InvalidOptions::ZeroAttempts`] when `max_attempts` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use arbor_actor::{Context, Exit, GenServer, HandleContinue, Init, Outcome};
    /// use arbor_stage::{ConsumerSupervisor, Stage};
    /// use arbor_supervisor::ChildSpec;
    ///
    /// /// Fails every attempt, once started.
    /// #[derive(Clone)]
    /// struct Fetch;
    /// struct Try;
    /// impl GenServer for Fetch {
    ///     type Args = (String, u32);
    ///     type State = ();
    ///     async fn init(&self, _: (String, u32), ctx: &mut Context<Self>) -> Init<()> {
    ///         ctx.continue_with(Try);
    ///         Init::Ready(())
    ///     }
    /// }
    /// impl HandleContinue<Try> for Fetch {
    ///     async fn handle_continue(&self, _: Try, _: &mut (), _: &mut Context<Self>) -> Outcome {
    ///         Outcome::Stop(Exit::error("unreachable host"))
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (dead, mut dead_letters) = tokio::sync::mpsc::unbounded_channel();
    /// let fetchers = ConsumerSupervisor::children_with_attempts(
    ///     3,
    ///     |url: String, attempt| ChildSpec::worker("fetch", Fetch, (url, attempt)),
    ///     move |url, exit| {
    ///         let _ = dead.send((url, exit));
    ///     },
    /// )?;
    /// let fetchers = Stage::consumer(fetchers, ()).start().await?;
    /// fetchers.start_child("http://example.invalid".to_string()).await?;
    /// // Three attempts, then the event is a dead letter; the consumer supervisor goes on.
    /// let (url, exit) = dead_letters.recv().await.ok_or("no dead letter")?;
    /// assert_eq!(url, "http://example.invalid");
    /// assert_eq!(exit, Exit::error("unreachable host"));
    /// assert!(fetchers.is_alive());
    /// # Ok(())
    /// # }
    /// ```
    pub fn children_with_attempts(
        max_attempts: u32,
        template: impl Fn(E, u32) -> ChildSpec + Send + Sync + 'static,
        exhausted: impl Fn(E, Exit) + Send + Sync + 'static,
    ) -> Result<Self, InvalidOptions>
    where
        E: Clone,
    {
        if max_attempts == 0 {
            return Err(InvalidOptions::ZeroAttempts);
        }
        let build: Arc<dyn Fn(E, u32) -> ChildSpec + Send + Sync> = Arc::new(template);
        let first = Arc::clone(&build);
        let mut supervisor = Self::with(Template::Child(Arc::new(move |event| first(event, 1))));
        supervisor.restart = Restart::Transient;
        supervisor.attempts = Some(Attempts {
            max: max_attempts,
            build,
            clone: E::clone,
            exhausted: Arc::new(exhausted),
        });
        Ok(supervisor)
    }

    /// The event to keep for a child's restarts: only with an attempt limit.
    fn keep(&self, event: &E) -> Option<KeptEvent> {
        let attempts = self.attempts.as_ref()?;
        Some(Box::new((attempts.clone)(event)))
    }

    /// How task children are stopped when the consumer supervisor stops (default:
    /// `Shutdown::Timeout(5 s)`, a worker's). A tokio task cannot be asked to stop, so
    /// `Timeout(d)` lets running tasks finish for up to `d`, then aborts the rest;
    /// `BrutalKill` aborts them at once; `Infinity` waits for them all to finish. Either
    /// way the consumer supervisor's stop returns only once every task has ended.
    /// Actor children are stopped as their own spec's `shutdown` says.
    pub fn task_shutdown(mut self, shutdown: Shutdown) -> Self {
        self.task_shutdown = shutdown;
        self
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
    /// `None` for a child started with `start_child`, outside the demand flow.
    from: Option<SubscriptionTag>,
    /// How to restart it, and how to stop it.
    spec: ChildSpec,
    /// Its event, kept with an attempt limit to rebuild its spec and hand to the hook.
    event: Option<KeptEvent>,
    /// Which attempt it is (1: the event's first start).
    attempt: u32,
}

/// A child whose restart failed: it keeps its producer's demand while its restart is
/// retried through the mailbox, each attempt counted against the restart intensity (or,
/// with an attempt limit, against its event's attempts).
struct Restarting {
    from: Option<SubscriptionTag>,
    spec: ChildSpec,
    event: Option<KeptEvent>,
    /// The attempt that exited or failed to start.
    attempt: u32,
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
    /// Children waiting for a restart, by the actor whose exit they restart from.
    restarting: HashMap<ActorId, Restarting>,
    tasks: HashMap<u64, (SubscriptionTag, JoinHandle<()>)>,
    next_task: u64,
    credits: HashMap<SubscriptionTag, Credit>,
    intensity: Intensity,
    /// Crash and restart reports written per child id, so a crash loop cannot flood the log.
    reports: Reports,
    telemetry: ConsumerSupervisorTelemetry,
}

impl fmt::Debug for ConsumerSupervisorState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsumerSupervisorState")
            .field("children", &self.children.len())
            .field("restarting", &self.restarting.len())
            .field("tasks", &self.tasks.len())
            .field("credits", &self.credits)
            .finish_non_exhaustive()
    }
}

/// A task finished (or panicked): sent by the task's own guard.
pub(crate) struct TaskDone {
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

/// Retries the restart of a child whose restart failed: queued through the mailbox, as a
/// Supervisor retries, so that other messages (a stop) are handled between attempts.
pub(crate) struct RetryRestart(ActorId);

impl fmt::Debug for RetryRestart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RetryRestart").field(&self.0).finish()
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

    async fn init(&self, _: (), ctx: &mut StageContext<Self>) -> Init<ConsumerSupervisorState> {
        let stats = ctx.myself().server().stats();
        // The tree snapshot lists this stage's children through the hook.
        stats.set_introspection(Box::new(ChildrenHook(children_of::<E>)));
        let telemetry = ConsumerSupervisorTelemetry::new(stats.label());
        let window = Duration::from_secs(self.max_seconds);
        Init::Ready(ConsumerSupervisorState {
            children: HashMap::new(),
            restarting: HashMap::new(),
            tasks: HashMap::new(),
            next_task: 0,
            credits: HashMap::new(),
            intensity: Intensity::new(self.max_restarts, window),
            reports: Reports::default(),
            telemetry,
        })
    }

    /// Drained once no child runs or waits to restart.
    fn is_idle(&self, state: &ConsumerSupervisorState) -> bool {
        state.children.is_empty() && state.restarting.is_empty() && state.tasks.is_empty()
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
        state.telemetry.exited();
        let me = ctx.myself().to_string();
        state
            .reports
            .child_exited(&me, &running.spec.id, &exit, tracing::Level::DEBUG);
        if self.restart.restarts_after(&exit) {
            let restarting = Restarting {
                from: running.from,
                spec: running.spec,
                event: running.event,
                attempt: running.attempt,
            };
            return self
                .restart_child(state, ctx, running.child.id(), restarting, &exit)
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
        let me = ctx.myself();
        let name = me.to_string();
        state.reports.flush(&name);
        state.restarting.clear();
        let tasks: Vec<JoinHandle<()>> = state.tasks.drain().map(|(_, (_, task))| task).collect();
        let children: Vec<(Child, &ChildSpec)> = state
            .children
            .values()
            .map(|running| (running.child.clone(), &running.spec))
            .collect();
        if !tasks.is_empty() || !children.is_empty() {
            tracing::info!(supervisor = %name, children = children.len(), tasks = tasks.len(), "consumer supervisor stopping its children");
        }
        // Both against the same start: the tasks' deadline runs with the children's.
        let cell = me.cell();
        tokio::join!(
            shut_down_children(&children, &cell, &name),
            shut_down_tasks(tasks, self.task_shutdown, &name),
        );
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
                state.tasks.insert(id, (from, task));
                state.telemetry.started();
                true
            }
            Template::Child(template) => {
                let kept = self.keep(&event);
                let spec = template(event);
                match spec.start(ctx.myself().cell()).await {
                    Ok(child) => {
                        let running = Running {
                            child,
                            from: Some(from),
                            spec,
                            event: kept,
                            attempt: 1,
                        };
                        state.children.insert(running.child.id(), running);
                        state.telemetry.started();
                        true
                    }
                    Err(error) => {
                        tracing::error!(supervisor = %ctx.myself(), child = %spec.id, error = &error as &dyn std::error::Error, "child failed to start");
                        false
                    }
                }
            }
        }
    }

    /// Counts a restart against the intensity, then restarts the child. If the start
    /// fails, the child stays `restarting` (keeping its demand) under `key`, and a retry
    /// is queued through the mailbox, to be counted as one more restart.
    async fn restart_child(
        &self,
        state: &mut ConsumerSupervisorState,
        ctx: &mut StageContext<Self>,
        key: ActorId,
        restarting: Restarting,
        exit: &Exit,
    ) -> Outcome {
        let me = ctx.myself().to_string();
        let Restarting {
            from,
            spec,
            event,
            attempt,
        } = restarting;
        let (spec, event) = match (&self.attempts, event) {
            (Some(attempts), Some(event)) => {
                let Ok(event) = event.downcast::<E>() else {
                    tracing::error!(supervisor = %me, child = %spec.id, "kept event of another type; child not restarted");
                    free(state, ctx, from, 1);
                    return Outcome::NoReply;
                };
                if attempt >= attempts.max {
                    tracing::warn!(supervisor = %me, child = %spec.id, attempts = attempt, reason = %exit, "event used up its attempts; handing it to the exhausted hook");
                    (attempts.exhausted)(*event, exit.clone());
                    free(state, ctx, from, 1);
                    return Outcome::NoReply;
                }
                let spec = (attempts.build)((attempts.clone)(&event), attempt + 1);
                (spec, Some(event as KeptEvent))
            }
            (_, event) => (spec, event),
        };
        let attempt = attempt.saturating_add(1);
        if self.attempts.is_some() {
            // Counted against the event's own attempts, not the shared intensity.
        } else if let Err(tripped) = state.intensity.record(Instant::now()) {
            tracing::error!(
                supervisor = %me,
                child = %spec.id,
                reason = %exit,
                max_restarts = state.intensity.max_restarts(),
                max_seconds = state.intensity.window().as_secs(),
                "{tripped}; shutting down"
            );
            return Outcome::Stop(reached_max_intensity());
        }
        match spec.start(ctx.myself().cell()).await {
            Ok(child) => {
                if state.reports.allow(&me, &spec.id) {
                    tracing::info!(supervisor = %me, child = %spec.id, actor = %child, "child restarted");
                }
                state.telemetry.started();
                let running = Running {
                    child,
                    from,
                    spec,
                    event,
                    attempt,
                };
                state.children.insert(running.child.id(), running);
            }
            Err(StartError::Ignored) => {
                tracing::debug!(supervisor = %me, child = %spec.id, "child ignored its restart");
                free(state, ctx, from, 1);
            }
            Err(error) => {
                if state.reports.allow(&me, &spec.id) {
                    tracing::error!(supervisor = %me, child = %spec.id, error = &error as &dyn std::error::Error, "child failed to restart; trying again");
                }
                let restarting = Restarting {
                    from,
                    spec,
                    event,
                    attempt,
                };
                state.restarting.insert(key, restarting);
                if ctx.myself().send(RetryRestart(key)).is_err() {
                    tracing::debug!(supervisor = %me, "stopping: restart retry not queued");
                }
            }
        }
        Outcome::NoReply
    }
}

/// `count` children of producer `from` are gone: ask again once `min_demand` are.
fn free<S: GenStage>(
    state: &mut ConsumerSupervisorState,
    ctx: &mut StageContext<S>,
    from: impl Into<Option<SubscriptionTag>>,
    count: usize,
) {
    let Some(from) = from.into() else {
        return;
    };
    let Some(credit) = state.credits.get_mut(&from) else {
        return;
    };
    credit.running = credit.running.saturating_sub(count);
    credit.freed += count;
    if credit.freed > 0 && credit.freed >= credit.min {
        ctx.ask(from, std::mem::take(&mut credit.freed));
    }
}

/// Stops task children as `shutdown` says; returns once every one has ended.
async fn shut_down_tasks(tasks: Vec<JoinHandle<()>>, shutdown: Shutdown, supervisor: &str) {
    let deadline = match shutdown {
        Shutdown::BrutalKill => Some(Instant::now()),
        Shutdown::Timeout(limit) => Some(Instant::now() + limit),
        Shutdown::Infinity => None,
    };
    for mut task in tasks {
        let Some(deadline) = deadline else {
            let _ = task.await;
            continue;
        };
        if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
            if shutdown != Shutdown::BrutalKill {
                tracing::warn!(supervisor = %supervisor, timeout = ?shutdown, "task did not finish in time; aborting it");
            }
            task.abort();
            // An aborted task ends at its next yield; a task stuck in blocking code is
            // waited for, as a child that ignores its kill would be.
            let _ = task.await;
        }
    }
}

impl<E: Send + 'static> StageInfo<RetryRestart> for ConsumerSupervisor<E> {
    async fn handle_info(
        &self,
        RetryRestart(key): RetryRestart,
        state: &mut ConsumerSupervisorState,
        ctx: &mut StageContext<Self>,
    ) -> Outcome {
        // Gone when it was terminated meanwhile: the retries end here.
        let Some(restarting) = state.restarting.remove(&key) else {
            return Outcome::NoReply;
        };
        self.restart_child(state, ctx, key, restarting, &Exit::error("restart failed"))
            .await
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
        state.telemetry.exited();
        if done.panicked {
            tracing::error!(supervisor = %ctx.myself(), "task panicked");
        }
        free(state, ctx, from, 1);
        Outcome::NoReply
    }
}

/// Starts a child from the template with this event, outside the demand flow (see
/// [`Stage::start_child`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct StartChild<E>(pub(crate) E);

/// Stops one actor child (see [`Stage::terminate_child`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TerminateChild(pub(crate) ActorId);

impl<E: Send + 'static> StageCall<StartChild<E>> for ConsumerSupervisor<E> {
    type Reply = Result<Child, ConsumerChildError>;

    async fn handle_call(
        &self,
        StartChild(event): StartChild<E>,
        _: Caller<'_, Self::Reply>,
        state: &mut ConsumerSupervisorState,
        ctx: &mut StageContext<Self>,
    ) -> CallOutcome<Self::Reply> {
        let Template::Child(template) = &self.template else {
            return CallOutcome::Reply(Err(ConsumerChildError::TaskTemplate));
        };
        let kept = self.keep(&event);
        let spec = template(event);
        let reply = match spec.start(ctx.myself().cell()).await {
            Ok(child) => {
                tracing::debug!(supervisor = %ctx.myself(), child = %spec.id, actor = %child, "child started outside the demand flow");
                let running = Running {
                    child: child.clone(),
                    from: None,
                    spec,
                    event: kept,
                    attempt: 1,
                };
                state.children.insert(child.id(), running);
                state.telemetry.started();
                Ok(child)
            }
            Err(error) => Err(ConsumerChildError::Start { id: spec.id, error }),
        };
        CallOutcome::Reply(reply)
    }
}

impl<E: Send + 'static> StageCall<TerminateChild> for ConsumerSupervisor<E> {
    type Reply = Result<(), ConsumerChildError>;

    async fn handle_call(
        &self,
        TerminateChild(actor): TerminateChild,
        _: Caller<'_, Self::Reply>,
        state: &mut ConsumerSupervisorState,
        ctx: &mut StageContext<Self>,
    ) -> CallOutcome<Self::Reply> {
        let me = ctx.myself();
        let from = if let Some(running) = state.children.remove(&actor) {
            tracing::info!(supervisor = %me, child = %running.spec.id, %actor, "terminating child");
            let children = [(running.child.clone(), &running.spec)];
            shut_down_children(&children, &me.cell(), &me.to_string()).await;
            running.from
        } else if let Some(restarting) = state.restarting.remove(&actor) {
            // Its queued retry finds nothing to restart: the retries end here.
            tracing::info!(supervisor = %me, child = %restarting.spec.id, %actor, "child waiting to restart terminated");
            restarting.from
        } else {
            return CallOutcome::Reply(Err(ConsumerChildError::NotFound(actor.to_string())));
        };
        free(state, ctx, from, 1);
        CallOutcome::Reply(Ok(()))
    }
}

/// Lists the running actor children.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WhichChildren;

/// Counts the children (gen_stage's `count_children`): the template is one spec.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CountChildren;

impl<E: Send + 'static> StageCall<WhichChildren> for ConsumerSupervisor<E> {
    type Reply = Vec<ChildInfo>;

    async fn handle_call(
        &self,
        _: WhichChildren,
        _: Caller<'_, Vec<ChildInfo>>,
        state: &mut ConsumerSupervisorState,
        _: &mut StageContext<Self>,
    ) -> CallOutcome<Vec<ChildInfo>> {
        // Attempt n of an event is its (n - 1)-th restart.
        let info = |spec: &ChildSpec, state, attempt: u32| ChildInfo {
            id: spec.id.clone(),
            state,
            kind: spec.kind,
            restarts: u64::from(attempt.saturating_sub(1)),
        };
        let running = state.children.values().map(|running| {
            let state = ChildState::Running(running.child.clone());
            info(&running.spec, state, running.attempt)
        });
        let restarting = state
            .restarting
            .values()
            .map(|restarting| info(&restarting.spec, ChildState::Restarting, restarting.attempt));
        CallOutcome::Reply(running.chain(restarting).collect())
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
        let mut counts = ChildCounts {
            specs: 1,
            active: state.children.len() + state.tasks.len(),
            supervisors: 0,
            workers: state.tasks.len(),
        };
        let kinds = state.children.values().map(|running| running.spec.kind);
        let waiting = state
            .restarting
            .values()
            .map(|restarting| restarting.spec.kind);
        for kind in kinds.chain(waiting) {
            match kind {
                ChildKind::Supervisor => counts.supervisors += 1,
                ChildKind::Worker => counts.workers += 1,
            }
        }
        CallOutcome::Reply(counts)
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
            task_shutdown: self.task_shutdown,
            attempts: self.attempts.clone(),
        }
    }
}

impl<E: Send + 'static> Stage<ConsumerSupervisor<E>> {
    /// The actor children, running or waiting to restart (gen_stage's `which_children`;
    /// tasks are not listed), as [`Supervisor::which_children`] reports them: the same
    /// [`ChildInfo`] for every kind of supervisor.
    ///
    /// [`Supervisor::which_children`]: arbor_supervisor::Supervisor::which_children
    ///
    /// # Errors
    ///
    /// As [`Stage::call`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the call only reads.
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        self.call(WhichChildren).await
    }

    /// Starts a child from the template with `event`, outside the demand flow
    /// (gen_stage's `start_child`): it takes no producer's demand, and its exit asks for
    /// no event. It is restarted as the others are, and stopped with them. Waits as long
    /// as the child's start takes (a supervisor's calls have no timeout).
    ///
    /// # Errors
    ///
    /// [`ConsumerChildError::TaskTemplate`] for a consumer supervisor of tasks;
    /// [`ConsumerChildError::Start`] when the child did not start;
    /// [`ConsumerChildError::Supervisor`] when the consumer supervisor is not running.
    ///
    /// # Examples
    ///
    /// ```
    /// use arbor_actor::{Context, GenServer, Init};
    /// use arbor_stage::{ConsumerChildError, ConsumerSupervisor, Stage};
    /// use arbor_supervisor::ChildSpec;
    ///
    /// #[derive(Clone)]
    /// struct Job;
    /// impl GenServer for Job {
    ///     type Args = u64;
    ///     type State = u64;
    ///     async fn init(&self, event: u64, _ctx: &mut Context<Self>) -> Init<u64> {
    ///         Init::Ready(event)
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let jobs = ConsumerSupervisor::children(|event| ChildSpec::worker("job", Job, event));
    /// let jobs = Stage::consumer(jobs, ()).start().await?;
    /// let child = jobs.start_child(7).await?;
    /// assert_eq!(jobs.count_children().await?.active, 1);
    /// jobs.terminate_child(&child).await?;
    /// assert!(!child.is_alive());
    /// let again = jobs.terminate_child(&child).await;
    /// assert!(matches!(again, Err(ConsumerChildError::NotFound(_))));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not withdraw the request: the child may still start.
    pub async fn start_child(&self, event: E) -> Result<Child, ConsumerChildError> {
        self.call_timeout(StartChild(event), Duration::MAX).await?
    }

    /// Stops `child` as its spec's `shutdown` says (gen_stage's `terminate_child`); a
    /// child started for an event frees that event's demand. A child waiting to restart
    /// is given up, found by the handle of the actor that exited. Waits as long as the
    /// child's `shutdown` lets it take.
    ///
    /// # Errors
    ///
    /// [`ConsumerChildError::NotFound`] when `child` is not a child of this consumer
    /// supervisor (tasks are not: they have no handle); [`ConsumerChildError::Supervisor`]
    /// when the consumer supervisor is not running.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not withdraw the request.
    pub async fn terminate_child(&self, child: &Child) -> Result<(), ConsumerChildError> {
        self.call_timeout(TerminateChild(child.id()), Duration::MAX)
            .await?
    }

    /// How many children it has (gen_stage's `count_children`): `specs` is 1 (the
    /// template), `active` counts the running children and tasks, and `workers` /
    /// `supervisors` count every child by its kind, those waiting to restart included
    /// (tasks are workers).
    ///
    /// # Errors
    ///
    /// As [`Stage::call`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the call only reads.
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

/// The children of `child` when it is a ConsumerSupervisor of events `E`: the
/// [`ChildrenHook`] each one sets, so a supervisor's tree lists them.
fn children_of<E: Send + 'static>(child: &Child) -> ChildrenFuture {
    let stage = child
        .server::<crate::runtime::StageServer<ConsumerSupervisor<E>>>()
        .map(Stage::from_server);
    Box::pin(async move {
        match stage {
            Some(stage) => stage.which_children().await,
            None => Ok(Vec::new()),
        }
    })
}
