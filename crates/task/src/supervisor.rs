//! `TaskSupervisor`: a DynamicSupervisor of tasks (Elixir's `Task.Supervisor`).

use std::future::Future;
use std::sync::Mutex;

use arbor_actor::ractor::{Actor, ActorCell};
use arbor_actor::{CallError, Exit, Pid, SpawnError, StartError};
use arbor_supervisor::{
    Child, ChildCounts, ChildError, ChildSpec, DynamicSupervisor, DynamicSupervisorOptions,
    Restart, Shutdown, StartChildError, SupervisorError,
};
use tokio::sync::oneshot;

use crate::runner::{body, Run, TaskActor};
use crate::stream::{AsyncStream, Spawner};
use crate::{StreamOptions, StreamOptionsError, Task};

/// The id every task child carries in `which_children` (tasks are told apart by their
/// actor, not their id, as in any DynamicSupervisor).
const TASK_ID: &str = "task";

/// A supervisor of tasks (Elixir's `Task.Supervisor`): a [`DynamicSupervisor`] whose
/// children are tasks, started one per call, temporary unless asked otherwise.
///
/// Place it in a tree with [`TaskSupervisor::child_spec`]. Its tasks:
/// - [`start_child`](TaskSupervisor::start_child): fire and forget, supervised;
/// - [`spawn`](TaskSupervisor::spawn): awaited, and linked to the caller as
///   [`Task::spawn`] is (a crash reaches the calling server);
/// - [`spawn_nolink`](TaskSupervisor::spawn_nolink): awaited, not linked: a crash is a
///   result for the caller, never a crash of the caller;
/// - [`async_stream`](TaskSupervisor::async_stream) /
///   [`async_stream_nolink`](TaskSupervisor::async_stream_nolink): one supervised task
///   per item.
///
/// A task is stopped at once when its supervisor shuts it down (its child spec says
/// [`Shutdown::BrutalKill`]): a task does not trap exits. `max_children` applies to every
/// kind of task.
///
/// # Examples
///
/// ```
/// use arbor_actor::Exit;
/// use arbor_supervisor::DynamicSupervisorOptions;
/// use arbor_task::{TaskError, TaskSupervisor};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let tasks = TaskSupervisor::start(DynamicSupervisorOptions::default()).await?;
/// let ok = tasks.spawn_nolink(async { "sent" }).await?;
/// let bad = tasks.spawn_nolink(async { panic!("bad address") }).await?;
/// assert_eq!(ok.await, Ok("sent"));
/// assert_eq!(bad.await, Err(TaskError::Exited(Exit::Panic("bad address".into()))));
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct TaskSupervisor {
    supervisor: DynamicSupervisor,
}

impl TaskSupervisor {
    /// Starts a task supervisor.
    ///
    /// # Errors
    ///
    /// As [`DynamicSupervisor::start`] (for example `max_seconds` is zero).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future leaves no supervisor running.
    pub async fn start(options: DynamicSupervisorOptions) -> Result<Self, SupervisorError> {
        DynamicSupervisor::start(options).await.map(Self::from)
    }

    /// [`TaskSupervisor::start`], linked under `parent`.
    ///
    /// # Errors
    ///
    /// As [`TaskSupervisor::start`].
    ///
    /// # Cancel safety
    ///
    /// As [`TaskSupervisor::start`].
    pub async fn start_link(
        options: DynamicSupervisorOptions,
        parent: ActorCell,
    ) -> Result<Self, SupervisorError> {
        DynamicSupervisor::start_link(options, parent)
            .await
            .map(Self::from)
    }

    /// A child spec that starts a task supervisor under another supervisor; find it again
    /// with [`TaskSupervisor::from_child`].
    pub fn child_spec(id: impl Into<String>, options: DynamicSupervisorOptions) -> ChildSpec {
        DynamicSupervisor::child_spec(id, options)
    }

    /// The task supervisor, when `child` is one (or any DynamicSupervisor).
    pub fn from_child(child: &Child) -> Option<Self> {
        DynamicSupervisor::from_child(child).map(Self::from)
    }

    /// Starts `future` as a supervised task nobody awaits (Elixir's
    /// `Task.Supervisor.start_child/2`). It is temporary: never restarted.
    ///
    /// # Errors
    ///
    /// [`StartChildError`]: `max_children` reached, or the supervisor is not running.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not withdraw the request: the task may still start.
    pub async fn start_child<F>(&self, future: F) -> Result<Child, StartChildError>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let run = Run {
            body: Some(body(future, None, false)),
            owner: None,
        };
        self.supervisor.start_child(once_spec(run)).await
    }

    /// Starts a supervised task that is restarted as `restart` says: each start runs a
    /// fresh future from `make` (Elixir's `start_child/3` with `restart: :transient`, say,
    /// re-runs the function). Restarts count toward the supervisor's restart intensity.
    ///
    /// # Errors
    ///
    /// As [`TaskSupervisor::start_child`].
    ///
    /// # Cancel safety
    ///
    /// As [`TaskSupervisor::start_child`].
    pub async fn start_child_with<M, F>(
        &self,
        restart: Restart,
        make: M,
    ) -> Result<Child, StartChildError>
    where
        M: Fn() -> F + Send + Sync + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let spec = ChildSpec::from_fn(TASK_ID, move |supervisor| {
            let run = Run {
                body: Some(body(make(), None, false)),
                owner: None,
            };
            start_actor(run, supervisor)
        });
        self.supervisor.start_child(task_spec(spec, restart)).await
    }

    /// Starts `future` as a supervised task linked to the caller (Elixir's
    /// `Task.Supervisor.async/2`): dropping the handle kills it, and called from a
    /// server's callback, its crash takes that server down (as an exit signal, which the
    /// server's `handle_exit` sees).
    ///
    /// # Errors
    ///
    /// [`TaskError::Start`](crate::TaskError::Start) when the task could not start (`max_children` reached, the
    /// supervisor is not running).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not withdraw the request: the task may still start.
    pub async fn spawn<F>(&self, future: F) -> Result<Task<F::Output>, crate::TaskError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_task(future, Pid::current(), true)
            .await
            .map_err(crate::TaskError::Start)
    }

    /// Starts `future` as a supervised task not linked to the caller (Elixir's
    /// `Task.Supervisor.async_nolink/2`): its crash is only a result, and dropping the
    /// handle leaves it running.
    ///
    /// A server can have the result delivered to its `handle_info` with
    /// [`Task::reply_to`](crate::Task::reply_to), the book's pattern for slow work.
    ///
    /// # Errors
    ///
    /// As [`TaskSupervisor::spawn`].
    ///
    /// # Cancel safety
    ///
    /// As [`TaskSupervisor::spawn`].
    pub async fn spawn_nolink<F>(&self, future: F) -> Result<Task<F::Output>, crate::TaskError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_task(future, None, false)
            .await
            .map_err(crate::TaskError::Start)
    }

    /// Runs `f` on each item as a supervised task, linked to the caller (Elixir's
    /// `Task.Supervisor.async_stream/4`); see [`Task::async_stream`] for the semantics.
    ///
    /// # Errors
    ///
    /// [`StreamOptionsError`] for options that cannot work.
    pub fn async_stream<It, Fun, Fut>(
        &self,
        items: It,
        options: StreamOptions,
        f: Fun,
    ) -> Result<AsyncStream<It::IntoIter, Fun, Fut>, StreamOptionsError>
    where
        It: IntoIterator,
        Fun: FnMut(It::Item) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.stream(items, options, f, true)
    }

    /// As [`TaskSupervisor::async_stream`], with tasks not linked to the caller (Elixir's
    /// `async_stream_nolink`): a crashed item is an `Err` item and the stream goes on.
    ///
    /// # Errors
    ///
    /// [`StreamOptionsError`] for options that cannot work.
    pub fn async_stream_nolink<It, Fun, Fut>(
        &self,
        items: It,
        options: StreamOptions,
        f: Fun,
    ) -> Result<AsyncStream<It::IntoIter, Fun, Fut>, StreamOptionsError>
    where
        It: IntoIterator,
        Fun: FnMut(It::Item) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        self.stream(items, options, f, false)
    }

    /// A stream of supervised tasks; a linked one signals the calling server's crash.
    fn stream<It, Fun, Fut>(
        &self,
        items: It,
        options: StreamOptions,
        f: Fun,
        linked: bool,
    ) -> Result<AsyncStream<It::IntoIter, Fun, Fut>, StreamOptionsError>
    where
        It: IntoIterator,
        Fun: FnMut(It::Item) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let spawner = Spawner::Supervised {
            supervisor: self.clone(),
            owner: if linked { Pid::current() } else { None },
        };
        AsyncStream::new(items.into_iter(), options, f, spawner, linked)
    }

    /// The running tasks, in start order (Elixir's `Task.Supervisor.children/1`).
    ///
    /// # Errors
    ///
    /// The supervisor is not running.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn children(&self) -> Result<Vec<Child>, CallError> {
        let children = self.supervisor.which_children().await?;
        Ok(children
            .into_iter()
            .filter_map(|info| info.state.child().cloned())
            .collect())
    }

    /// How many tasks it holds.
    ///
    /// # Errors
    ///
    /// The supervisor is not running.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn count_children(&self) -> Result<ChildCounts, CallError> {
        self.supervisor.count_children().await
    }

    /// Stops the task `child` at once and forgets it.
    ///
    /// # Errors
    ///
    /// [`ChildError::NotFound`] when it is not a task of this supervisor.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not withdraw the request.
    pub async fn terminate_child(&self, child: &Child) -> Result<(), ChildError> {
        self.supervisor.terminate_child(child).await
    }

    /// Stops the supervisor and all its tasks, and returns how it ended.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not withdraw the stop.
    pub async fn stop(&self, reason: Exit) -> Exit {
        self.supervisor.stop(reason).await
    }

    /// The DynamicSupervisor underneath, for its full API (`which_children`, `tree`, …).
    pub fn as_dynamic(&self) -> &DynamicSupervisor {
        &self.supervisor
    }

    /// Starts one task child; its result comes back through the returned handle.
    pub(crate) async fn spawn_task<F>(
        &self,
        future: F,
        owner: Option<Pid>,
        linked: bool,
    ) -> Result<Task<F::Output>, StartChildError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let run = Run {
            body: Some(body(future, Some(tx), linked)),
            owner,
        };
        let child = self.supervisor.start_child(once_spec(run)).await?;
        Ok(Task::of_actor(child.cell(), rx, linked))
    }
}

impl From<DynamicSupervisor> for TaskSupervisor {
    fn from(supervisor: DynamicSupervisor) -> Self {
        TaskSupervisor { supervisor }
    }
}

/// The spec of a temporary task: its one run is taken by its one start.
fn once_spec(run: Run) -> ChildSpec {
    let once = Mutex::new(Some(run));
    let spec = ChildSpec::from_fn(TASK_ID, move |supervisor| {
        let run = once.lock().ok().and_then(|mut run| run.take());
        async move {
            let run = run.ok_or(StartError::Spawn(SpawnError::AlreadyRun))?;
            start_actor(run, supervisor).await
        }
    });
    task_spec(spec, Restart::Temporary)
}

/// A task's spec: a task stops at once when told to, as a process that does not trap
/// exits does.
fn task_spec(spec: ChildSpec, restart: Restart) -> ChildSpec {
    spec.restart(restart).shutdown(Shutdown::BrutalKill)
}

/// Spawns the task actor linked under its supervisor.
async fn start_actor(run: Run, supervisor: ActorCell) -> Result<Child, StartError> {
    let (actor, _) = TaskActor::spawn_linked(None, TaskActor, run, supervisor)
        .await
        .map_err(|error| StartError::Spawn(SpawnError::from(error)))?;
    Ok(Child::from_cell(actor.get_cell()))
}
