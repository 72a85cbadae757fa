//! The supervisor's own server: starts children in order, turns child exits into
//! restarts by strategy and intensity, and stops children in reverse order.

use std::sync::Arc;
use std::time::Duration;

use arbor_actor::ractor::{ActorCell, ActorId};
use arbor_actor::{
    CallOutcome, Caller, Context, Exit, GenServer, HandleCall, HandleCast, Init, Outcome,
    StartError,
};
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::children::Children;
use crate::intensity::Intensity;
use crate::reports::Reports;
use crate::shutdown::{shut_down, Stopper};
use crate::supervisor::check_spec;
use crate::telemetry;
use crate::{
    reached_max_intensity, AutoShutdown, Child, ChildCounts, ChildError, ChildInfo, ChildSpec,
    ChildState, Restart, StartChildError, SupervisorError, SupervisorOptions,
};

pub(crate) struct SupervisorServer {
    pub(crate) options: SupervisorOptions,
}

pub(crate) struct Boot {
    pub(crate) specs: Vec<ChildSpec>,
    /// Where `init` reports which child failed, for a typed start error.
    pub(crate) failure: oneshot::Sender<SupervisorError>,
}

pub(crate) struct Table {
    children: Children,
    intensity: Intensity,
    /// Crash and restart reports written per child, so a crash loop cannot flood the log.
    reports: Reports,
    /// The supervisor in logs and metric labels, formatted once per incarnation.
    label: Arc<str>,
}

/// A supervisor's label in logs and metrics: its name, else its actor id.
pub(crate) fn supervisor_label<G: arbor_actor::GenServer>(ctx: &Context<G>) -> Arc<str> {
    Arc::from(ctx.myself().to_string())
}

/// Starts one child; `Ignored` leaves its spec without a running child, as in OTP.
pub(crate) async fn start_one(
    spec: &ChildSpec,
    supervisor: ActorCell,
) -> Result<ChildState, StartError> {
    match spec.start(supervisor).await {
        Ok(child) => Ok(ChildState::Running(child)),
        Err(StartError::Ignored) => Ok(ChildState::Undefined),
        Err(error) => Err(error),
    }
}

impl SupervisorServer {
    /// Stops every running child, last started first, each as its spec says.
    async fn stop_children(&self, children: &mut Children, label: &str, ctx: &Context<Self>) {
        let me = Stopper::of(ctx);
        for (index, child) in children.running_in_reverse() {
            let Some(record) = children.get_mut(index) else {
                continue;
            };
            tracing::info!(supervisor = %label, child = %record.spec.id, "shutting down child");
            shut_down(&child, &record.spec, &me).await;
            record.state = ChildState::Undefined;
        }
    }

    async fn child_exited(
        &self,
        actor: ActorId,
        exit: Exit,
        table: &mut Table,
        ctx: &mut Context<Self>,
    ) -> Outcome {
        let Some(index) = table.children.position_of_actor(actor) else {
            tracing::debug!(supervisor = %table.label, %actor, reason = %exit, "exit of a former child ignored");
            return Outcome::NoReply;
        };
        let Some(record) = table.children.get_mut(index) else {
            return Outcome::NoReply;
        };
        table
            .reports
            .child_exited(&table.label, &record.spec.id, &exit, tracing::Level::INFO);
        if record.spec.restart.restarts_after(&exit) {
            return self.restart(index, &exit, table, ctx).await;
        }
        let significant = record.spec.significant;
        if record.spec.restart == Restart::Temporary {
            table.children.remove(index);
        } else {
            record.state = ChildState::Undefined;
        }
        self.auto_shutdown(significant, &table.children)
    }

    fn auto_shutdown(&self, significant: bool, children: &Children) -> Outcome {
        let stop = significant
            && match self.options.auto_shutdown {
                AutoShutdown::Never => false,
                AutoShutdown::AnySignificant => true,
                AutoShutdown::AllSignificant => !children.any_running_significant(),
            };
        if stop {
            Outcome::Stop(Exit::shutdown())
        } else {
            Outcome::NoReply
        }
    }

    /// Counts a restart, then restarts the group the strategy names.
    async fn restart(
        &self,
        failed: usize,
        exit: &Exit,
        table: &mut Table,
        ctx: &mut Context<Self>,
    ) -> Outcome {
        if let Some(stop) = self.count_restart(failed, exit, table) {
            return stop;
        }
        self.restart_group(failed, table, ctx).await;
        Outcome::NoReply
    }

    /// Records a restart against the intensity window; `Some(stop)` when it trips.
    fn count_restart(&self, failed: usize, exit: &Exit, table: &mut Table) -> Option<Outcome> {
        let child = table
            .children
            .get(failed)
            .map_or("?", |record| record.spec.id.as_str());
        count_restart(&mut table.intensity, &table.label, child, exit)
    }

    /// One round of a restart, as OTP runs it: stops the siblings the strategy names
    /// (last started first; temporary ones are removed, as they are never restarted),
    /// then starts every child of the group in start order, whatever its state before:
    /// one stopped with `terminate_child` starts again too. If one fails to start, it
    /// alone is `Restarting`, the ones after it stay stopped (`Undefined`), and a new
    /// round from it is queued through the mailbox, counted as one more restart.
    async fn restart_group(&self, failed: usize, table: &mut Table, ctx: &mut Context<Self>) {
        let me = Stopper::of(ctx);
        let plan = self.options.strategy.plan(failed, table.children.len());
        for index in plan.stop {
            let Some(record) = table.children.get_mut(index) else {
                continue;
            };
            if let Some(child) = record.state.child().cloned() {
                if table.reports.allow(&table.label, &record.spec.id) {
                    tracing::info!(supervisor = %table.label, child = %record.spec.id, "stopping child to restart it with its sibling");
                }
                shut_down(&child, &record.spec, &me).await;
            }
            record.state = ChildState::Undefined;
        }
        // Ids, not indices: removing the temporary children shifts the ones after them.
        let group: Vec<String> = plan
            .restart
            .iter()
            .filter_map(|&index| table.children.get(index))
            .filter(|record| record.spec.restart != Restart::Temporary)
            .map(|record| record.spec.id.clone())
            .collect();
        if let Some(record) = table.children.get_mut(failed) {
            record.state = ChildState::Undefined;
        }
        remove_stopped_temporaries(&mut table.children);
        for id in group {
            let Some(record) = table
                .children
                .position(&id)
                .and_then(|index| table.children.get_mut(index))
            else {
                continue;
            };
            match start_one(&record.spec, me.cell.clone()).await {
                Ok(state) => {
                    if table.reports.allow(&table.label, &record.spec.id) {
                        tracing::info!(supervisor = %table.label, child = %record.spec.id, "child restarted");
                    }
                    telemetry::child_restarted(&table.label, &record.spec.id);
                    record.restarts += 1;
                    record.state = state;
                }
                Err(error) => {
                    if table.reports.allow(&table.label, &record.spec.id) {
                        tracing::error!(supervisor = %table.label, child = %record.spec.id, error = &error as &dyn std::error::Error, "child failed to restart; trying again");
                    }
                    record.state = ChildState::Restarting;
                    let _ = ctx.myself().cast(RetryRestart(id));
                    return;
                }
            }
        }
    }
}

/// Records a restart against the intensity window. When it trips, logs why and returns the
/// escalation: stop every child and exit abnormally. Shared by both supervisors.
pub(crate) fn count_restart(
    intensity: &mut Intensity,
    supervisor: &str,
    child: &str,
    reason: &Exit,
) -> Option<Outcome> {
    let tripped = intensity.record(Instant::now()).err()?;
    telemetry::gave_up(supervisor, child, intensity);
    tracing::error!(
        supervisor = %supervisor,
        child = %child,
        %reason,
        max_restarts = intensity.max_restarts(),
        max_seconds = intensity.window().as_secs(),
        "{tripped}; shutting down"
    );
    Some(Outcome::Stop(reached_max_intensity()))
}

fn remove_stopped_temporaries(children: &mut Children) {
    for index in (0..children.len()).rev() {
        let stopped_temporary = children.get(index).is_some_and(|record| {
            record.spec.restart == Restart::Temporary && record.state.child().is_none()
        });
        if stopped_temporary {
            children.remove(index);
        }
    }
}

impl GenServer for SupervisorServer {
    type Args = Boot;
    type State = Table;

    async fn init(&self, boot: Boot, ctx: &mut Context<Self>) -> Init<Table> {
        let me = ctx.myself().cell();
        let label = supervisor_label(ctx);
        let mut children = Children::default();
        for spec in boot.specs {
            match start_one(&spec, me.clone()).await {
                Ok(ChildState::Undefined) if spec.restart == Restart::Temporary => {
                    // As OTP: an ignored temporary child could never run, so it is not kept.
                    tracing::info!(supervisor = %label, child = %spec.id, "temporary child ignored its start; dropped");
                }
                Ok(state) => {
                    tracing::info!(supervisor = %label, child = %spec.id, "child started");
                    telemetry::child_started(&label, &spec.id);
                    children.push(spec, state);
                }
                Err(error) => {
                    tracing::error!(supervisor = %label, child = %spec.id, error = &error as &dyn std::error::Error, "child failed to start; stopping the children already started");
                    self.stop_children(&mut children, &label, ctx).await;
                    let reason =
                        Exit::error(format!("child {:?} failed to start: {error}", spec.id));
                    let _ = boot
                        .failure
                        .send(SupervisorError::ChildStart { id: spec.id, error });
                    return Init::Stop(reason);
                }
            }
        }
        let window = Duration::from_secs(self.options.max_seconds);
        Init::Ready(Table {
            children,
            intensity: Intensity::new(self.options.max_restarts, window),
            reports: Reports::default(),
            label,
        })
    }

    async fn terminate(&self, reason: &Exit, table: &mut Table, ctx: &mut Context<Self>) {
        table.reports.flush(&table.label);
        tracing::info!(supervisor = %table.label, %reason, "supervisor stopping its children");
        self.stop_children(&mut table.children, &table.label, ctx)
            .await;
    }

    async fn handle_exit(
        &self,
        actor: ActorCell,
        reason: Exit,
        table: &mut Table,
        ctx: &mut Context<Self>,
    ) -> Outcome {
        self.child_exited(actor.get_id(), reason, table, ctx).await
    }
}

/// Restart again the group of this child, whose start failed in the last round.
pub(crate) struct RetryRestart(String);

impl HandleCast<RetryRestart> for SupervisorServer {
    async fn handle_cast(
        &self,
        RetryRestart(id): RetryRestart,
        table: &mut Table,
        ctx: &mut Context<Self>,
    ) -> Outcome {
        let Some(index) = table.children.position(&id) else {
            return Outcome::NoReply;
        };
        let waiting = table
            .children
            .get(index)
            .is_some_and(|record| matches!(record.state, ChildState::Restarting));
        if !waiting {
            return Outcome::NoReply;
        }
        let exit = Exit::error("restart failed");
        self.restart(index, &exit, table, ctx).await
    }
}

pub(crate) struct StartChild(pub(crate) ChildSpec);

impl HandleCall<StartChild> for SupervisorServer {
    type Reply = Result<Child, StartChildError>;

    async fn handle_call(
        &self,
        StartChild(spec): StartChild,
        _: Caller<'_, Self::Reply>,
        table: &mut Table,
        ctx: &mut Context<Self>,
    ) -> CallOutcome<Self::Reply> {
        if let Err(error) = check_spec(&spec, self.options.auto_shutdown) {
            return CallOutcome::Reply(Err(StartChildError::InvalidSpec(error)));
        }
        if let Some(record) = table
            .children
            .position(&spec.id)
            .and_then(|index| table.children.get(index))
        {
            let error = match record.state.child() {
                Some(child) => StartChildError::AlreadyStarted {
                    id: spec.id,
                    child: child.clone(),
                },
                None => StartChildError::AlreadyPresent(spec.id),
            };
            return CallOutcome::Reply(Err(error));
        }
        let reply = match spec.start(ctx.myself().cell()).await {
            Ok(child) => {
                tracing::info!(supervisor = %table.label, child = %spec.id, "child started");
                telemetry::child_started(&table.label, &spec.id);
                table
                    .children
                    .push(spec, ChildState::Running(child.clone()));
                Ok(child)
            }
            Err(error) => Err(StartChildError::Start { id: spec.id, error }),
        };
        CallOutcome::Reply(reply)
    }
}

pub(crate) struct TerminateChild(pub(crate) String);

impl HandleCall<TerminateChild> for SupervisorServer {
    type Reply = Result<(), ChildError>;

    async fn handle_call(
        &self,
        TerminateChild(id): TerminateChild,
        _: Caller<'_, Self::Reply>,
        table: &mut Table,
        ctx: &mut Context<Self>,
    ) -> CallOutcome<Self::Reply> {
        let Some(index) = table.children.position(&id) else {
            return CallOutcome::Reply(Err(ChildError::NotFound(id)));
        };
        let me = Stopper::of(ctx);
        if let Some(record) = table.children.get_mut(index) {
            if let Some(child) = record.state.child().cloned() {
                tracing::info!(supervisor = %table.label, child = %id, "terminating child");
                shut_down(&child, &record.spec, &me).await;
            }
            record.state = ChildState::Undefined;
            if record.spec.restart == Restart::Temporary {
                table.children.remove(index);
            }
        }
        CallOutcome::Reply(Ok(()))
    }
}

pub(crate) struct RestartChild(pub(crate) String);

impl HandleCall<RestartChild> for SupervisorServer {
    type Reply = Result<Child, ChildError>;

    async fn handle_call(
        &self,
        RestartChild(id): RestartChild,
        _: Caller<'_, Self::Reply>,
        table: &mut Table,
        ctx: &mut Context<Self>,
    ) -> CallOutcome<Self::Reply> {
        let me = ctx.myself().cell();
        let Some(record) = table
            .children
            .position(&id)
            .and_then(|index| table.children.get_mut(index))
        else {
            return CallOutcome::Reply(Err(ChildError::NotFound(id)));
        };
        match record.state {
            ChildState::Undefined => {}
            ChildState::Running(_) => return CallOutcome::Reply(Err(ChildError::Running(id))),
            ChildState::Restarting => return CallOutcome::Reply(Err(ChildError::Restarting(id))),
        }
        let reply = match record.spec.start(me).await {
            Ok(child) => {
                tracing::info!(supervisor = %table.label, child = %id, "child restarted on request");
                telemetry::child_restarted(&table.label, &id);
                record.restarts += 1;
                record.state = ChildState::Running(child.clone());
                Ok(child)
            }
            Err(error) => Err(ChildError::Start { id, error }),
        };
        CallOutcome::Reply(reply)
    }
}

pub(crate) struct DeleteChild(pub(crate) String);

impl HandleCall<DeleteChild> for SupervisorServer {
    type Reply = Result<(), ChildError>;

    async fn handle_call(
        &self,
        DeleteChild(id): DeleteChild,
        _: Caller<'_, Self::Reply>,
        table: &mut Table,
        _: &mut Context<Self>,
    ) -> CallOutcome<Self::Reply> {
        let Some(index) = table.children.position(&id) else {
            return CallOutcome::Reply(Err(ChildError::NotFound(id)));
        };
        match table.children.get(index).map(|record| &record.state) {
            Some(ChildState::Running(_)) => {
                return CallOutcome::Reply(Err(ChildError::Running(id)))
            }
            Some(ChildState::Restarting) => {
                return CallOutcome::Reply(Err(ChildError::Restarting(id)))
            }
            Some(ChildState::Undefined) | None => {}
        }
        table.children.remove(index);
        CallOutcome::Reply(Ok(()))
    }
}

pub(crate) struct WhichChildren;

impl HandleCall<WhichChildren> for SupervisorServer {
    type Reply = Vec<ChildInfo>;

    async fn handle_call(
        &self,
        _: WhichChildren,
        _: Caller<'_, Self::Reply>,
        table: &mut Table,
        _: &mut Context<Self>,
    ) -> CallOutcome<Self::Reply> {
        CallOutcome::Reply(table.children.infos())
    }
}

pub(crate) struct CountChildren;

impl HandleCall<CountChildren> for SupervisorServer {
    type Reply = ChildCounts;

    async fn handle_call(
        &self,
        _: CountChildren,
        _: Caller<'_, Self::Reply>,
        table: &mut Table,
        _: &mut Context<Self>,
    ) -> CallOutcome<Self::Reply> {
        CallOutcome::Reply(table.children.counts())
    }
}
