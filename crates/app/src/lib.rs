//! The application shell: run an arbor supervision tree as a program, stop it cleanly
//! on ctrl-c or SIGTERM, and exit with a status that says how it ended.
//!
//! ```text
//! main ─ Application ─ root Supervisor ─┬─ child 1 ─┐ started first,
//!         │                             ├─ child 2  │ stopped last
//!         │                             └─ child 3 ─┘
//!         └─ waits for ctrl-c / SIGTERM / StopHandle, then stops the tree
//!            (reverse start order, each child's Shutdown) within the deadline
//! ```
//!
//! ```no_run
//! use std::process::ExitCode;
//! use std::time::Duration;
//! use arbor_app::Application;
//! use arbor_supervisor::{ChildSpec, SupervisorOptions};
//!
//! # fn children() -> Vec<ChildSpec> { Vec::new() }
//! #[tokio::main]
//! async fn main() -> ExitCode {
//!     Application::builder(children())
//!         .options(SupervisorOptions::one_for_one().name("my_app"))
//!         .deadline(Duration::from_secs(10))
//!         .run()
//!         .await
//!         .exit_code()
//! }
//! ```
//!
//! # What each ending means
//!
//! - [`Outcome::Stopped`] (exit 0): a signal or the [`StopHandle`] asked, and every
//!   child stopped in order: the last started first, each given its `Shutdown`.
//! - [`Outcome::Killed`] (exit 4): asked to stop, but the tree had not stopped by the
//!   deadline. A child whose `terminate` hangs with `Shutdown::Infinity`, or a
//!   sum of `Shutdown` timeouts above the deadline, ends here. What was left was killed
//!   (its `terminate` did not run).
//! - [`Outcome::GaveUp`] (exit 3): the root supervisor reached its maximum restart
//!   intensity and stopped by itself (OTP's application exiting with
//!   `reached_max_restart_intensity`).
//! - [`Outcome::Exited`] (exit 0 or 1): the root supervisor stopped by itself for
//!   another reason.
//! - [`Outcome::FailedToStart`] (exit 1): the tree did not start.
//!
//! # Guidelines
//!
//! Give the deadline room for the children's `Shutdown` timeouts: with the default
//! 5 s per worker, three workers that each use their full time need 15 s. The deadline
//! is a backstop, not the normal path: an `Outcome::Killed` in the logs means some
//! `terminate` is slower than its budget.
//!
//! Signals are listened for from [`ApplicationBuilder::start`] on: a SIGTERM that
//! arrives while the tree starts is acted on as soon as the tree runs.
//!
//! With the `logging` feature, the `logging` module installs a tracing subscriber the way an
//! application wants it: colours only on a terminal, plain or JSON lines.
#![doc(test(attr(deny(warnings))))]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![forbid(unsafe_code)]

mod application;
#[cfg(feature = "logging")]
pub mod logging;
mod outcome;
mod stop;

pub use application::{Application, ApplicationBuilder, Running, DEFAULT_DEADLINE};
pub use outcome::Outcome;
pub use stop::{StopHandle, Trigger};
