//! The errors of arbor-task.

use std::time::Duration;

use arbor_actor::Exit;
use arbor_supervisor::StartChildError;

/// Why a task gave no result: what `Task.await` exits with in Elixir, as a value.
///
/// # Examples
///
/// ```
/// use arbor_actor::Exit;
/// use arbor_task::{Task, TaskError};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let task = Task::spawn(async { panic!("boom") });
/// let error: TaskError = task.await.unwrap_err();
/// assert_eq!(error, TaskError::Exited(Exit::Panic("boom".into())));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// The task stopped without a result: it panicked (`Exit::Panic`), was shut down or
    /// killed (`Exit::Killed`), or its supervisor stopped it.
    #[error("the task exited: {0}")]
    Exited(Exit),
    /// No result within the timeout. After an `await` the task has been shut down; after a
    /// stream item's timeout, that item's task has.
    #[error("the task timed out after {0:?}")]
    Timeout(Duration),
    /// The result was already taken by an earlier [`Task::yield_for`](crate::Task::yield_for).
    #[error("the task's result was already taken")]
    AlreadyTaken,
    /// The task could not be started under its supervisor.
    #[error("the task did not start")]
    Start(#[source] StartChildError),
    /// There was no tokio runtime to run the task on.
    #[error("no tokio runtime to run the task on")]
    NoRuntime,
}

/// Why an [`async_stream`](crate::Task::async_stream) was not built: an option has a value
/// that cannot work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamOptionsError {
    /// `max_concurrency` is zero: no task could ever run.
    #[error("max_concurrency must be at least 1")]
    ZeroConcurrency,
    /// The per-item timeout is zero: every task would time out before it ran.
    #[error("the per-item timeout must be longer than zero (use `no_timeout` for none)")]
    ZeroTimeout,
}

/// One item of an [`AsyncStream`](crate::AsyncStream) that gave no result: Elixir's
/// `{:exit, reason}`, or `{:exit, {input, reason}}` with
/// [`zip_input_on_exit`](crate::AsyncStream::zip_input_on_exit).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a stream item failed")]
pub struct ItemError<I> {
    /// Why it failed: [`TaskError::Exited`] for a crash, [`TaskError::Timeout`] for a
    /// timeout.
    #[source]
    pub error: TaskError,
    /// The input the task was started with, when the stream zips inputs on exit.
    pub input: Option<I>,
}
