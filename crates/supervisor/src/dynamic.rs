//! `DynamicSupervisor`: children started at runtime, restarted one for one.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use arbor_actor::ractor::{ActorCell, ActorId};
use arbor_actor::{
    CallError, CallOutcome, Caller, Context, Exit, GenServer, HandleCall, HandleCast, Init,
    Outcome, Server, StartError, StartOptions,
};
use rustc_hash::FxHashMap;

use crate::intensity::Intensity;
use crate::reports::Reports;
use crate::runtime::{count_restart, supervisor_label};
use crate::shutdown::{shut_down, shut_down_all, Stopper};
use crate::supervisor::{root_node, subtrees, SUPERVISOR_CALL};
use crate::telemetry;
use crate::{
    Child, ChildCounts, ChildError, ChildInfo, ChildSpec, ChildState, DynamicSupervisorOptions,
    SpecError, StartChildError, SupervisorError, TreeNode,
};

/// A supervisor whose children are started at runtime, each restarted on its own
/// (one_for_one), with the same restart kinds and intensity as [`Supervisor`](crate::Supervisor).
///
/// Cheap to clone. `E` is the `extra_arguments` every child may be built from (see
/// [`DynamicSupervisor::start_child_with`]).
///
/// # Examples
///
/// ```
/// use arbor_actor::{Context, GenServer, Init};
/// use arbor_supervisor::{ChildSpec, DynamicSupervisor, DynamicSupervisorOptions, Restart, StartChildError};
///
/// #[derive(Clone)]
/// struct Job;
/// impl GenServer for Job {
///     type Args = u32;
///     type State = u32;
///     async fn init(&self, id: u32, _ctx: &mut Context<Self>) -> Init<u32> {
///         Init::Ready(id)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let runner = DynamicSupervisor::start(DynamicSupervisorOptions::default().max_seconds(30).max_children(2)).await?;
/// for id in 0..2 {
///     runner.start_child(ChildSpec::worker("job", Job, id).restart(Restart::Temporary)).await?;
/// }
/// let full = runner.start_child(ChildSpec::worker("job", Job, 2)).await;
/// assert_eq!(full.unwrap_err(), StartChildError::MaxChildren(2));
/// assert_eq!(runner.count_children().await?.active, 2);
/// # Ok(())
/// # }
/// ```
pub struct DynamicSupervisor<E = ()> {
    server: Server<DynamicServer>,
    extra: Arc<E>,
}

pub(crate) struct DynamicServer {
    options: DynamicSupervisorOptions,
}

struct Entry {
    spec: ChildSpec,
    state: ChildState,
    /// The actor of its latest incarnation: the running one, or the one whose exit it is
    /// restarting from.
    actor: ActorId,
    /// How many times this child was restarted.
    restarts: u64,
}

pub(crate) struct DynamicTable {
    /// Children by start sequence: `which_children` lists them in start order (a restart
    /// is a start: the new incarnation goes last, as in OTP).
    entries: BTreeMap<u64, Entry>,
    /// The start sequence of each child, by the actor of its latest incarnation. A child
    /// waiting to restart keeps its crashed actor here, so `terminate_child` with that
    /// handle still finds it (OTP keeps it under the old pid). Ractor numbers actors
    /// itself, so the ids need no protection against chosen collisions: Fx, not SipHash.
    actors: FxHashMap<ActorId, u64>,
    next: u64,
    intensity: Intensity,
    /// Crash and restart reports written per child id, so a crash loop cannot flood the log.
    reports: Reports,
    /// The supervisor in logs and metric labels, formatted once per incarnation.
    label: Arc<str>,
    /// The keys of the child metrics last emitted.
    keys: telemetry::ChildKeys,
}

impl DynamicSupervisor<()> {
    /// Starts a DynamicSupervisor with no children.
    ///
    /// # Errors
    ///
    /// [`SupervisorError::InvalidOptions`] (for example `max_seconds` is zero), or its
    /// actor did not start.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future leaves no supervisor running.
    pub async fn start(options: DynamicSupervisorOptions) -> Result<Self, SupervisorError> {
        Self::start_with_extra(options, ()).await
    }

    /// [`DynamicSupervisor::start`], linked under `parent`.
    ///
    /// # Errors
    ///
    /// As [`DynamicSupervisor::start`].
    ///
    /// # Cancel safety
    ///
    /// As [`DynamicSupervisor::start`].
    pub async fn start_link(
        options: DynamicSupervisorOptions,
        parent: ActorCell,
    ) -> Result<Self, SupervisorError> {
        Self::start_inner(options, (), Some(parent)).await
    }

    /// A child spec that starts a DynamicSupervisor under another supervisor, named after
    /// `id` unless `options` name it.
    pub fn child_spec(id: impl Into<String>, options: DynamicSupervisorOptions) -> ChildSpec {
        let id = id.into();
        let options = DynamicSupervisorOptions {
            name: options.name.or_else(|| Some(id.clone())),
            ..options
        };
        ChildSpec::from_fn(id, move |parent| {
            let options = options.clone();
            async move {
                DynamicSupervisor::start_link(options, parent)
                    .await
                    .map(|supervisor| Child::from(supervisor.server))
                    .map_err(SupervisorError::into_start_error)
            }
        })
        .as_supervisor()
    }

    pub(crate) fn from_server(server: Server<DynamicServer>) -> Self {
        DynamicSupervisor {
            server,
            extra: Arc::new(()),
        }
    }

    /// The DynamicSupervisor, when `child` is one.
    pub fn from_child(child: &Child) -> Option<Self> {
        child.server::<DynamicServer>().map(Self::from_server)
    }
}

impl<E: Send + Sync + 'static> DynamicSupervisor<E> {
    /// Starts a DynamicSupervisor whose children can be built from `extra` (OTP's
    /// `extra_arguments`).
    ///
    /// # Errors
    ///
    /// As [`DynamicSupervisor::start`].
    ///
    /// # Cancel safety
    ///
    /// As [`DynamicSupervisor::start`].
    pub async fn start_with_extra(
        options: DynamicSupervisorOptions,
        extra: E,
    ) -> Result<Self, SupervisorError> {
        Self::start_inner(options, extra, None).await
    }

    async fn start_inner(
        options: DynamicSupervisorOptions,
        extra: E,
        parent: Option<ActorCell>,
    ) -> Result<Self, SupervisorError> {
        options.validate()?;
        let mut start = StartOptions::new();
        start.name = options.name.as_deref().map(Arc::from);
        start.link = parent;
        let server = Server::start_with(DynamicServer { options }, (), start)
            .await
            .map_err(SupervisorError::Start)?;
        Ok(DynamicSupervisor {
            server,
            extra: Arc::new(extra),
        })
    }

    /// Starts a child from `spec` and returns it.
    ///
    /// # Errors
    ///
    /// [`StartChildError`]: `max_children` reached, the spec is significant
    /// ([`SpecError::SignificantInDynamicSupervisor`]), the child failed to start, or the
    /// supervisor is not running.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not withdraw the request: the child may still start.
    pub async fn start_child(&self, spec: ChildSpec) -> Result<Child, StartChildError> {
        if spec.significant {
            // No auto_shutdown here, so significance could mean nothing.
            return Err(StartChildError::InvalidSpec(
                SpecError::SignificantInDynamicSupervisor { id: spec.id },
            ));
        }
        self.server
            .call_timeout(StartChild(spec), SUPERVISOR_CALL)
            .await
            .map_err(StartChildError::Supervisor)?
    }

    /// Starts a child from the spec `build` makes out of the extra arguments.
    ///
    /// # Errors
    ///
    /// As [`DynamicSupervisor::start_child`].
    ///
    /// # Cancel safety
    ///
    /// As [`DynamicSupervisor::start_child`].
    pub async fn start_child_with(
        &self,
        build: impl FnOnce(&E) -> ChildSpec,
    ) -> Result<Child, StartChildError> {
        self.start_child(build(&self.extra)).await
    }

    /// Stops `child` as its `shutdown` says and forgets it.
    ///
    /// # Errors
    ///
    /// [`ChildError::NotFound`] when it is not a child of this supervisor.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not withdraw the request.
    pub async fn terminate_child(&self, child: &Child) -> Result<(), ChildError> {
        self.server
            .call_timeout(TerminateChild(child.id()), SUPERVISOR_CALL)
            .await
            .map_err(ChildError::Supervisor)?
    }

    /// Every child, in start order.
    ///
    /// # Errors
    ///
    /// The supervisor is not running.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        self.server
            .call_timeout(WhichChildren, SUPERVISOR_CALL)
            .await
    }

    /// How many children it has.
    ///
    /// # Errors
    ///
    /// The supervisor is not running.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn count_children(&self) -> Result<ChildCounts, CallError> {
        self.server
            .call_timeout(CountChildren, SUPERVISOR_CALL)
            .await
    }

    crate::handle::supervisor_handle_methods!(
        "Stops the supervisor and all its children at once; returns its exit."
    );

    /// The extra arguments children are built from. They live in this handle (and its
    /// clones), not in the supervisor: a handle obtained with `from_child` has none.
    pub fn extra(&self) -> &E {
        &self.extra
    }
}

impl<E> Clone for DynamicSupervisor<E> {
    fn clone(&self) -> Self {
        DynamicSupervisor {
            server: self.server.clone(),
            extra: Arc::clone(&self.extra),
        }
    }
}

impl<E> fmt::Debug for DynamicSupervisor<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynamicSupervisor")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl DynamicServer {
    async fn child_exited(
        &self,
        actor: ActorId,
        exit: Exit,
        table: &mut DynamicTable,
        ctx: &mut Context<Self>,
    ) -> Outcome {
        let seq = table.actors.get(&actor).copied();
        let Some((seq, entry)) = seq.and_then(|seq| {
            let entry = table.entries.get_mut(&seq)?;
            entry
                .state
                .child()
                .is_some_and(|child| child.id() == actor)
                .then_some((seq, entry))
        }) else {
            tracing::debug!(supervisor = %table.label, %actor, reason = %exit, "exit of a former child ignored");
            return Outcome::NoReply;
        };
        table
            .reports
            .child_exited(&table.label, &entry.spec.id, &exit, tracing::Level::DEBUG);
        if !entry.spec.restart.restarts_after(&exit) {
            table.entries.remove(&seq);
            table.actors.remove(&actor);
            return Outcome::NoReply;
        }
        entry.state = ChildState::Restarting;
        self.restart(seq, &exit, table, ctx).await
    }

    async fn restart(
        &self,
        seq: u64,
        exit: &Exit,
        table: &mut DynamicTable,
        ctx: &mut Context<Self>,
    ) -> Outcome {
        let Some(entry) = table.entries.get_mut(&seq) else {
            return Outcome::NoReply;
        };
        if let Some(stop) = count_restart(&mut table.intensity, &table.label, &entry.spec.id, exit)
        {
            return stop;
        }
        match entry.spec.start(ctx.myself().cell()).await {
            Ok(child) => {
                if table.reports.allow(&table.label, &entry.spec.id) {
                    tracing::info!(supervisor = %table.label, child = %entry.spec.id, actor = %child.id(), "child restarted");
                }
                table.keys.restarted(&table.label, &entry.spec.id);
                let old = entry.actor;
                if let Some(mut entry) = table.entries.remove(&seq) {
                    table.actors.remove(&old);
                    let seq = table.next;
                    table.next += 1;
                    table.actors.insert(child.id(), seq);
                    entry.actor = child.id();
                    entry.restarts += 1;
                    entry.state = ChildState::Running(child);
                    table.entries.insert(seq, entry);
                }
            }
            Err(StartError::Ignored) => {
                let old = entry.actor;
                table.entries.remove(&seq);
                table.actors.remove(&old);
            }
            Err(error) => {
                if table.reports.allow(&table.label, &entry.spec.id) {
                    tracing::error!(supervisor = %table.label, child = %entry.spec.id, error = &error as &dyn std::error::Error, "child failed to restart; trying again");
                }
                let _ = ctx.myself().cast(RetryRestart(seq));
            }
        }
        Outcome::NoReply
    }
}

impl GenServer for DynamicServer {
    type Args = ();
    type State = DynamicTable;

    async fn init(&self, _: (), ctx: &mut Context<Self>) -> Init<DynamicTable> {
        let window = Duration::from_secs(self.options.max_seconds);
        Init::Ready(DynamicTable {
            entries: BTreeMap::new(),
            actors: FxHashMap::default(),
            next: 0,
            intensity: Intensity::new(self.options.max_restarts, window),
            reports: Reports::default(),
            label: supervisor_label(ctx),
            keys: telemetry::ChildKeys::default(),
        })
    }

    async fn terminate(&self, reason: &Exit, table: &mut DynamicTable, ctx: &mut Context<Self>) {
        let running = table
            .entries
            .values()
            .filter(|entry| entry.state.child().is_some())
            .count();
        table.reports.flush(&table.label);
        tracing::info!(supervisor = %table.label, %reason, children = running, "supervisor stopping its children");
        let children = table
            .entries
            .values()
            .filter_map(|entry| {
                entry
                    .state
                    .child()
                    .map(|child| (child.clone(), &entry.spec))
            })
            .collect::<Vec<_>>();
        table.actors.clear();
        shut_down_all(&children, &Stopper::of(ctx)).await;
    }

    async fn handle_exit(
        &self,
        actor: ActorCell,
        reason: Exit,
        table: &mut DynamicTable,
        ctx: &mut Context<Self>,
    ) -> Outcome {
        self.child_exited(actor.get_id(), reason, table, ctx).await
    }
}

struct RetryRestart(u64);

impl HandleCast<RetryRestart> for DynamicServer {
    async fn handle_cast(
        &self,
        RetryRestart(seq): RetryRestart,
        table: &mut DynamicTable,
        ctx: &mut Context<Self>,
    ) -> Outcome {
        self.restart(seq, &Exit::error("restart failed"), table, ctx)
            .await
    }
}

struct StartChild(ChildSpec);

impl HandleCall<StartChild> for DynamicServer {
    type Reply = Result<Child, StartChildError>;

    async fn handle_call(
        &self,
        StartChild(spec): StartChild,
        _: Caller<'_, Self::Reply>,
        table: &mut DynamicTable,
        ctx: &mut Context<Self>,
    ) -> CallOutcome<Self::Reply> {
        if let Some(max) = self.options.max_children {
            if table.entries.len() >= max {
                return CallOutcome::Reply(Err(StartChildError::MaxChildren(max)));
            }
        }
        let reply = match spec.start(ctx.myself().cell()).await {
            Ok(child) => {
                table.keys.started(&table.label, &spec.id);
                let seq = table.next;
                table.next += 1;
                table.actors.insert(child.id(), seq);
                table.entries.insert(
                    seq,
                    Entry {
                        spec,
                        state: ChildState::Running(child.clone()),
                        actor: child.id(),
                        restarts: 0,
                    },
                );
                Ok(child)
            }
            Err(error) => Err(StartChildError::Start { id: spec.id, error }),
        };
        CallOutcome::Reply(reply)
    }
}

struct TerminateChild(ActorId);

impl HandleCall<TerminateChild> for DynamicServer {
    type Reply = Result<(), ChildError>;

    async fn handle_call(
        &self,
        TerminateChild(actor): TerminateChild,
        _: Caller<'_, Self::Reply>,
        table: &mut DynamicTable,
        ctx: &mut Context<Self>,
    ) -> CallOutcome<Self::Reply> {
        let entry = table
            .actors
            .remove(&actor)
            .and_then(|seq| table.entries.remove(&seq));
        let Some(Entry { spec, state, .. }) = entry else {
            return CallOutcome::Reply(Err(ChildError::NotFound(actor.to_string())));
        };
        match state {
            ChildState::Running(child) => {
                tracing::info!(supervisor = %table.label, child = %spec.id, %actor, "terminating child");
                shut_down(&child, &spec, &Stopper::of(ctx)).await;
            }
            // Its queued retry finds nothing to restart: the loop ends here.
            ChildState::Restarting | ChildState::Undefined => {
                tracing::info!(supervisor = %table.label, child = %spec.id, %actor, "child waiting to restart terminated");
            }
        }
        CallOutcome::Reply(Ok(()))
    }
}

struct WhichChildren;

impl HandleCall<WhichChildren> for DynamicServer {
    type Reply = Vec<ChildInfo>;

    async fn handle_call(
        &self,
        _: WhichChildren,
        _: Caller<'_, Self::Reply>,
        table: &mut DynamicTable,
        _: &mut Context<Self>,
    ) -> CallOutcome<Self::Reply> {
        let infos = table
            .entries
            .values()
            .map(|entry| ChildInfo::of(&entry.spec, &entry.state, entry.restarts))
            .collect();
        CallOutcome::Reply(infos)
    }
}

struct CountChildren;

impl HandleCall<CountChildren> for DynamicServer {
    type Reply = ChildCounts;

    async fn handle_call(
        &self,
        _: CountChildren,
        _: Caller<'_, Self::Reply>,
        table: &mut DynamicTable,
        _: &mut Context<Self>,
    ) -> CallOutcome<Self::Reply> {
        CallOutcome::Reply(ChildCounts::tally(
            table
                .entries
                .values()
                .map(|entry| (entry.spec.kind, entry.state.child().is_some())),
        ))
    }
}
