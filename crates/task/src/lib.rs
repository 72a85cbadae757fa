//! Tasks: one unit of async work with one result, Elixir's `Task` and `Task.Supervisor`
//! on arbor.
//!
//! A task is the simplest concurrency: start work now, collect its result later. The book
//! begins with it, and so can you:
//!
//! ```
//! use std::time::Duration;
//! use futures::StreamExt;
//! use arbor_task::{StreamOptions, Task};
//!
//! async fn send_email(to: &str) -> String {
//!     tokio::time::sleep(Duration::from_millis(30)).await;
//!     format!("sent to {to}")
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Fire and forget (Task.start).
//! Task::start(async { send_email("ops@example.com").await; });
//!
//! // Start now, await later (Task.async / Task.await): 5 s by default.
//! let task = Task::spawn(send_email("hello@example.com"));
//! assert_eq!(task.await?, "sent to hello@example.com");
//!
//! // Many at once, at most two running, results in input order (Task.async_stream).
//! let users = ["a@example.com", "b@example.com", "c@example.com"];
//! let sent: Vec<_> = Task::async_stream(users, StreamOptions::default().max_concurrency(2), |to| send_email(to))?
//!     .collect()
//!     .await;
//! assert_eq!(sent.len(), 3);
//! # Ok(())
//! # }
//! ```
//!
//! - [`Task`]: `spawn` (linked to its owner), `start` (fire and forget), `await` /
//!   [`await_timeout`](Task::await_timeout), [`yield_for`](Task::yield_for),
//!   [`shutdown`](Task::shutdown), [`yield_many`](Task::yield_many),
//!   [`reply_to`](Task::reply_to) (the result as a server message).
//! - [`AsyncStream`]: `async_stream` with [`StreamOptions`] (`max_concurrency`, `ordered`,
//!   `timeout`, `on_timeout`) and `zip_input_on_exit`.
//! - [`TaskSupervisor`]: tasks as children of a supervisor, linked (`spawn`) or not
//!   (`spawn_nolink`), in a supervision tree by its child spec.
//!
//! # Guarantees
//!
//! - A task's panic reaches its awaiter as [`TaskError::Exited`] with
//!   [`Exit::Panic`](arbor_actor::Exit::Panic) and the panic's message; never as a panic,
//!   never as a hang.
//! - After an `await` times out, the task is shut down and its result never appears.
//! - A linked task dies with its owner: dropping its handle kills it; spawned from a
//!   server's callback, the server's exit kills it and its crash reaches the server.
//! - `async_stream` runs at most `max_concurrency` tasks, reads its input only as slots
//!   free up, and shuts its tasks down when dropped.
//!
//! See `docs/guide-task.md` for the guide.
#![doc(test(attr(deny(warnings))))]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![forbid(unsafe_code)]

mod error;
mod runner;
mod stream;
mod supervisor;
mod task;

pub use error::{ItemError, StreamOptionsError, TaskError};
pub use stream::{AsyncStream, OnTimeout, StreamOptions};
pub use supervisor::TaskSupervisor;
pub use task::{Await, Task, TaskId, TaskReply, DEFAULT_AWAIT_TIMEOUT};
