//! `Task<T>`: a handle to one unit of async work with one result (Elixir's `%Task{}`).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use arbor_actor::ractor::{ActorCell, ActorId, ActorRuntime};
use arbor_actor::{Exit, HandleInfo, Pid, Server};
use arbor_supervisor::Shutdown;
use futures_util::FutureExt;
use tokio::sync::oneshot;
use tokio::task::{JoinError, JoinHandle};
use tokio::time::Sleep;

use crate::runner::{body, Run, TaskActor};
use crate::stream::{AsyncStream, Spawner};
use crate::{StreamOptions, StreamOptionsError, TaskError};

/// How long awaiting a task waits by default (Elixir's `Task.await/2` default of 5 s).
pub const DEFAULT_AWAIT_TIMEOUT: Duration = Duration::from_secs(5);

/// From thirty years on, a timeout is no limit (as `Server::call_timeout` reads it).
const NO_LIMIT: Duration = Duration::from_secs(30 * 365 * 24 * 3600);

/// A task: async work started at once, whose one result its owner awaits.
///
/// [`Task::spawn`] is Elixir's `Task.async`: the task is linked to its owner. Awaiting it
/// (`task.await`, which waits up to [`DEFAULT_AWAIT_TIMEOUT`], or
/// [`Task::await_timeout`]) gives its result, or a [`TaskError`] saying why there is none:
/// a panic is [`Exit::Panic`] with its message, never a propagated panic. A task whose
/// await times out is shut down, and its late result is never seen anywhere.
///
/// Linked means, in Rust terms:
/// - the owner is whoever holds the handle: dropping it kills the task, as an owner's exit
///   kills its linked tasks (await it, [`Task::shutdown`] it, or use [`Task::start`] for
///   work nobody awaits);
/// - spawned from a server's callback, the task is also linked to that server: the
///   server's [`handle_exit`](arbor_actor::GenServer::handle_exit) sees its exit, and by
///   default a crashed task takes the server down with the task's reason, while a
///   stopping server takes its tasks with it.
///
/// `await` consumes the handle, so a task cannot be awaited twice.
///
/// Timeouts need tokio's time driver: run tasks on a runtime built with `enable_time()` or
/// `enable_all()` (what `#[tokio::main]` and `#[tokio::test]` build). Without it, arming the
/// timer of an `await` panics inside tokio.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use arbor_task::{Task, TaskError};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), TaskError> {
/// let task = Task::spawn(async { 6 * 7 });
/// assert_eq!(task.await?, 42);
///
/// let slow = Task::spawn(async {
///     tokio::time::sleep(Duration::from_secs(60)).await;
///     "too late"
/// });
/// assert_eq!(
///     slow.await_timeout(Duration::from_millis(10)).await,
///     Err(TaskError::Timeout(Duration::from_millis(10)))
/// );
/// # Ok(())
/// # }
/// ```
#[must_use = "dropping a Task kills it; await it, or use Task::start for fire-and-forget work"]
pub struct Task<T> {
    state: State<T>,
    /// Whether dropping the handle kills the task (a linked task dies with its owner).
    linked: bool,
}

enum State<T> {
    /// A tokio task: what a task is outside servers and supervisors, the cheapest kind.
    Local(JoinHandle<T>),
    /// A ractor actor: linked under the server that spawned it, or a supervisor's child.
    Actor {
        cell: ActorCell,
        result: oneshot::Receiver<Result<T, Exit>>,
    },
    /// The task never ran.
    Failed(TaskError),
    /// The result was handed out.
    Taken,
}

impl Task<()> {
    /// Starts `future` as a task nobody awaits (Elixir's `Task.start/1`): it is not linked
    /// to the caller, and a panic in it is logged at error level.
    ///
    /// With no tokio runtime the work cannot run: that is logged at error level too.
    ///
    /// # Examples
    ///
    /// ```
    /// use arbor_task::Task;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (tx, rx) = tokio::sync::oneshot::channel();
    /// Task::start(async move {
    ///     let _ = tx.send("email sent");
    /// });
    /// assert_eq!(rx.await, Ok("email sent"));
    /// # }
    /// ```
    pub fn start<F>(future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!("Task::start outside a tokio runtime: the task did not run");
            return;
        };
        runtime.spawn(async move {
            if let Err(panic) = AssertUnwindSafe(future).catch_unwind().await {
                let reason = Exit::from_panic(panic);
                tracing::error!(%reason, "task started with Task::start crashed");
            }
        });
    }

    /// Runs `f` on each item as a concurrent task linked to the caller, and yields the
    /// results as a stream (Elixir's `Task.async_stream/3`): see [`AsyncStream`] for the
    /// exact rules on concurrency, order, input reading and timeouts.
    ///
    /// # Errors
    ///
    /// [`StreamOptionsError`] for options that cannot work (`max_concurrency` 0, a zero
    /// timeout).
    pub fn async_stream<It, Fun, Fut>(
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
        AsyncStream::new(items.into_iter(), options, f, Spawner::Local, true)
    }
}

impl<T: Send + 'static> Task<T> {
    /// Starts `future` as a task linked to its owner (Elixir's `Task.async/1`).
    ///
    /// From a server's callback the task is also linked to that server (see [`Task`]);
    /// elsewhere it is a plain tokio task, as cheap as `tokio::spawn`.
    ///
    /// With no tokio runtime the task cannot run; awaiting it gives
    /// [`TaskError::NoRuntime`].
    pub fn spawn<F>(future: F) -> Task<T>
    where
        F: Future<Output = T> + Send + 'static,
    {
        let state = match Pid::current() {
            Some(server) => linked_actor(future, server.cell().clone()),
            // Inside a tokio task the runtime is there: spawn without taking a handle
            // (its reference count is shared by every worker thread).
            None if tokio::task::try_id().is_some() => State::Local(tokio::spawn(future)),
            None => match tokio::runtime::Handle::try_current() {
                Ok(runtime) => State::Local(runtime.spawn(future)),
                Err(_) => State::Failed(TaskError::NoRuntime),
            },
        };
        Task {
            state,
            linked: true,
        }
    }

    /// A task running as the ractor actor `cell`, its result coming on `result`.
    pub(crate) fn of_actor(
        cell: ActorCell,
        result: oneshot::Receiver<Result<T, Exit>>,
        linked: bool,
    ) -> Self {
        Task {
            state: State::Actor { cell, result },
            linked,
        }
    }

    /// Waits up to `timeout` for the result (Elixir's `Task.await/2`). On timeout the task
    /// is shut down and its result, should it come later, is dropped. `Duration::MAX` (or
    /// any duration of thirty years or more) waits as long as it takes and arms no timer
    /// (Elixir's `:infinity`).
    ///
    /// # Errors
    ///
    /// [`TaskError::Timeout`] when the task had not finished in time;
    /// [`TaskError::Exited`] when it stopped without a result (a panic, a kill).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the task, which kills it (see [`Task`]).
    pub fn await_timeout(self, timeout: Duration) -> Await<T> {
        Await {
            task: self,
            timeout,
            deadline: None,
        }
    }

    /// Waits up to `timeout` for the result, leaving the task running if it has not
    /// finished (Elixir's `Task.yield/2`): `None` while it runs, `Some` with its result
    /// once it has finished. A zero timeout only looks.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future leaves the task and its result in the handle.
    pub async fn yield_for(&mut self, timeout: Duration) -> Option<Result<T, TaskError>> {
        if let Some(ready) = std::future::poll_fn(|cx| self.poll_result(cx)).now_or_never() {
            return Some(ready);
        }
        tokio::time::timeout(timeout, std::future::poll_fn(|cx| self.poll_result(cx)))
            .await
            .ok()
    }

    /// Shuts the task down and returns its result if it finished meanwhile (Elixir's
    /// `Task.shutdown/2`): `None` when it was shut down before finishing.
    ///
    /// A task is stopped at once, at its next `.await` (it does not trap exits);
    /// `how` says how long to wait for that: [`Shutdown::BrutalKill`] does not wait,
    /// [`Shutdown::Timeout`] waits up to the limit, [`Shutdown::Infinity`] until it is gone.
    /// Either way a result that had already arrived is returned.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future leaves the task shut down.
    pub async fn shutdown(mut self, how: Shutdown) -> Option<Result<T, TaskError>> {
        self.kill();
        let outcome = match how {
            Shutdown::BrutalKill => std::future::poll_fn(|cx| self.poll_result(cx)).now_or_never(),
            Shutdown::Timeout(limit) => {
                tokio::time::timeout(limit, std::future::poll_fn(|cx| self.poll_result(cx)))
                    .await
                    .ok()
            }
            Shutdown::Infinity => Some(std::future::poll_fn(|cx| self.poll_result(cx)).await),
        };
        match outcome {
            Some(Err(TaskError::Exited(Exit::Killed))) | None => None,
            finished => finished,
        }
    }

    /// Waits up to `timeout` for every task (Elixir's `Task.yield_many/2`) and returns
    /// each one's state, in order: `Some` with the result of a task that finished, `None`
    /// for one still running (it keeps running; its handle stays in `tasks`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use arbor_task::Task;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mut tasks = vec![
    ///     Task::spawn(async { 1 }),
    ///     Task::spawn(async {
    ///         tokio::time::sleep(Duration::from_secs(60)).await;
    ///         2
    ///     }),
    /// ];
    /// let states = Task::yield_many(&mut tasks, Duration::from_millis(10)).await;
    /// assert_eq!(states, vec![Some(Ok(1)), None]);
    /// # }
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Dropping the future loses the results gathered so far; the tasks go on.
    pub async fn yield_many(
        tasks: &mut [Task<T>],
        timeout: Duration,
    ) -> Vec<Option<Result<T, TaskError>>> {
        let mut states: Vec<Option<Result<T, TaskError>>> = tasks.iter().map(|_| None).collect();
        let all_done = std::future::poll_fn(|cx| {
            let mut running = false;
            for (task, state) in tasks.iter_mut().zip(states.iter_mut()) {
                if state.is_none() {
                    match task.poll_result(cx) {
                        Poll::Ready(result) => *state = Some(result),
                        Poll::Pending => running = true,
                    }
                }
            }
            if running {
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        });
        let _ = tokio::time::timeout(timeout, all_done).await;
        states
    }

    /// Has the result delivered to `server`'s `handle_info` as a [`TaskReply`], instead of
    /// awaited: the book's pattern for a server that starts slow work and goes on serving
    /// (Elixir's `{ref, result}` and `:DOWN` messages, as one typed message). The task
    /// stays as linked as it was; the delivery holds its handle until it ends.
    ///
    /// # Examples
    ///
    /// ```
    /// use arbor_actor::{Context, GenServer, HandleCast, HandleInfo, Init, Outcome, Server};
    /// use arbor_supervisor::DynamicSupervisorOptions;
    /// use arbor_task::{TaskReply, TaskSupervisor};
    /// use tokio::sync::mpsc;
    ///
    /// /// Starts a slow job per cast, and reports each result when it arrives.
    /// struct Jobs {
    ///     tasks: TaskSupervisor,
    ///     done: mpsc::UnboundedSender<Result<u64, String>>,
    /// }
    /// impl GenServer for Jobs {
    ///     type Args = ();
    ///     type State = ();
    ///     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
    ///         Init::Ready(())
    ///     }
    /// }
    /// struct Run(u64);
    /// impl HandleCast<Run> for Jobs {
    ///     async fn handle_cast(&self, Run(n): Run, _: &mut (), ctx: &mut Context<Self>) -> Outcome {
    ///         if let Ok(task) = self.tasks.spawn_nolink(async move { n * 2 }).await {
    ///             task.reply_to(ctx.myself()); // the server is free again at once
    ///         }
    ///         Outcome::NoReply
    ///     }
    /// }
    /// impl HandleInfo<TaskReply<u64>> for Jobs {
    ///     async fn handle_info(&self, reply: TaskReply<u64>, _: &mut (), _: &mut Context<Self>) -> Outcome {
    ///         let _ = self.done.send(reply.result.map_err(|error| error.to_string()));
    ///         Outcome::NoReply
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let tasks = TaskSupervisor::start(DynamicSupervisorOptions::default()).await?;
    /// let (done, mut results) = mpsc::unbounded_channel();
    /// let jobs = Server::start(Jobs { tasks, done }, ()).await?;
    /// jobs.cast(Run(21))?;
    /// assert_eq!(results.recv().await, Some(Ok(42)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn reply_to<G>(self, server: &Server<G>)
    where
        G: HandleInfo<TaskReply<T>>,
    {
        let server = server.clone();
        let id = self.id();
        let deliver = async move {
            let result = self.join().await;
            if server.send(TaskReply { id, result }).is_err() {
                tracing::debug!(%server, "task reply dropped: the server is not running");
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(deliver)),
            Err(_) => tracing::error!("Task::reply_to outside a tokio runtime: no reply will come"),
        }
    }

    /// Waits for the result with no time limit.
    pub(crate) async fn join(mut self) -> Result<T, TaskError> {
        std::future::poll_fn(|cx| self.poll_result(cx)).await
    }

    /// Polls for the result; once it is handed out, the handle is spent.
    fn poll_result(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, TaskError>> {
        let result = match &mut self.state {
            State::Local(handle) => ready!(Pin::new(handle).poll(cx)).map_err(join_exit),
            State::Actor { result, .. } => match ready!(Pin::new(result).poll(cx)) {
                Ok(outcome) => outcome.map_err(TaskError::Exited),
                // The actor ended without sending: it was killed.
                Err(_) => Err(TaskError::Exited(Exit::Killed)),
            },
            State::Failed(error) => Err(error.clone()),
            State::Taken => return Poll::Ready(Err(TaskError::AlreadyTaken)),
        };
        self.state = State::Taken;
        Poll::Ready(result)
    }
}

/// Starts `future` in a task actor linked under `server`.
fn linked_actor<F>(future: F, server: ActorCell) -> State<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    let run = Run {
        body: Some(body(future, Some(tx), true)),
        owner: None,
    };
    match ActorRuntime::<TaskActor>::spawn_linked_instant(None, TaskActor, run, server) {
        Ok((actor, _)) => State::Actor {
            cell: actor.get_cell(),
            result: rx,
        },
        Err(error) => State::Failed(TaskError::Exited(Exit::error(error))),
    }
}

/// What a tokio task's end says about its exit.
pub(crate) fn join_exit(error: JoinError) -> TaskError {
    match error.try_into_panic() {
        Ok(panic) => TaskError::Exited(Exit::from_panic(panic)),
        Err(_) => TaskError::Exited(Exit::Killed),
    }
}

impl<T> Task<T> {
    /// Which task this is: what a [`TaskReply`] carries, to tell replies apart.
    pub fn id(&self) -> TaskId {
        match &self.state {
            State::Local(handle) => TaskId(Some(Ident::Local(handle.id()))),
            State::Actor { cell, .. } => TaskId(Some(Ident::Actor(cell.get_id()))),
            State::Failed(_) | State::Taken => TaskId(None),
        }
    }

    /// Stops the task at its next `.await`.
    fn kill(&self) {
        match &self.state {
            State::Local(handle) => handle.abort(),
            State::Actor { cell, .. } => cell.kill(),
            State::Failed(_) | State::Taken => {}
        }
    }
}

impl<T> Drop for Task<T> {
    /// A linked task dies with its owner: the handle going away is the owner going away.
    fn drop(&mut self) {
        if self.linked {
            self.kill();
        }
    }
}

/// Which task a [`TaskReply`] comes from (Elixir's task `ref`); compare it with
/// [`Task::id`]. A task that never ran has an id equal to no running task's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TaskId(Option<Ident>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Ident {
    Local(tokio::task::Id),
    Actor(ActorId),
}

/// A task's result, delivered to a server's `handle_info` by [`Task::reply_to`].
#[derive(Debug)]
#[non_exhaustive]
pub struct TaskReply<T> {
    /// The task it comes from.
    pub id: TaskId,
    /// Its result, or why there is none.
    pub result: Result<T, TaskError>,
}

impl<T: Send + 'static> IntoFuture for Task<T> {
    type Output = Result<T, TaskError>;
    type IntoFuture = Await<T>;

    /// `task.await`: waits up to [`DEFAULT_AWAIT_TIMEOUT`] (see [`Task::await_timeout`]).
    fn into_future(self) -> Await<T> {
        self.await_timeout(DEFAULT_AWAIT_TIMEOUT)
    }
}

pin_project_lite::pin_project! {
    /// The future of awaiting a [`Task`]: its result, or why there is none.
    #[must_use = "futures do nothing unless awaited"]
    pub struct Await<T> {
        task: Task<T>,
        timeout: Duration,
        // Armed at the first poll: the wait starts when awaiting does, and building the
        // future needs no runtime.
        #[pin]
        deadline: Option<Sleep>,
    }
}

impl<T: Send + 'static> Future for Await<T> {
    type Output = Result<T, TaskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(result) = this.task.poll_result(cx) {
            return Poll::Ready(result);
        }
        if this.deadline.is_none() {
            if *this.timeout >= NO_LIMIT {
                // Elixir's `:infinity`: no timer to arm, the cheapest await.
                return Poll::Pending;
            }
            this.deadline.set(Some(tokio::time::sleep(*this.timeout)));
        }
        if let Some(deadline) = this.deadline.as_pin_mut() {
            ready!(deadline.poll(cx));
        }
        this.task.kill();
        this.task.state = State::Taken;
        Poll::Ready(Err(TaskError::Timeout(*this.timeout)))
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Local(handle) => format!("local {}", handle.id()),
            State::Actor { cell, .. } => format!("actor {}", cell.get_id()),
            State::Failed(error) => format!("failed: {error}"),
            State::Taken => "taken".to_string(),
        };
        f.debug_struct("Task")
            .field("state", &state)
            .field("linked", &self.linked)
            .finish()
    }
}

impl<T> fmt::Debug for Await<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Await")
            .field("task", &self.task)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}
