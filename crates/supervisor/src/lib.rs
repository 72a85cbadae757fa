//! Supervision trees: a supervisor starts its children in order, restarts them when they
//! exit as their restart kind says, and gives up — exiting itself, so its own supervisor
//! sees a failure — when they restart too often.
//!
//! ```text
//!            app (one_for_one)
//!           /        |         \
//!      registry   cache   job_runner (DynamicSupervisor)
//!                           /     \
//!                        job 1   job 2
//! ```
//!
//! ```
//! use arbor_actor::{Context, Exit, GenServer, Init};
//! use arbor_supervisor::{ChildSpec, DynamicSupervisor, DynamicSupervisorOptions, Supervisor, SupervisorOptions};
//!
//! #[derive(Clone)]
//! struct Cache;
//! impl GenServer for Cache {
//!     type Args = ();
//!     type State = ();
//!     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
//!         Init::Ready(())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let app = Supervisor::start(
//!     [
//!         ChildSpec::worker("cache", Cache, ()),
//!         DynamicSupervisor::child_spec("job_runner", DynamicSupervisorOptions::default().max_seconds(30)),
//!     ],
//!     SupervisorOptions::one_for_one().name("app"),
//! )
//! .await?;
//! let tree = app.tree().await?;
//! assert_eq!(tree.children.len(), 2);
//! println!("{tree}"); // one line per node: app (supervisor, …), ├── cache (worker, …), …
//! assert_eq!(app.stop(Exit::shutdown()).await, Exit::shutdown());
//! # Ok(())
//! # }
//! ```
//!
//! # Strategies and restart kinds
//!
//! [`Strategy`] says which children restart together (`OneForOne`, `OneForAll`,
//! `RestForOne`); [`Restart`] says whether a child that exited restarts at all
//! (`Permanent`, `Transient`, `Temporary`); [`Shutdown`] says how a child is stopped
//! (`BrutalKill`, `Timeout(d)`, `Infinity`).
//!
//! # Restart intensity, worked
//!
//! With `max_restarts: 3, max_seconds: 5` (the defaults): a child crashing at t = 0 s,
//! 1 s and 2 s is restarted three times. A fourth crash at t = 4 s is the fourth restart
//! within 5 s: the supervisor stops every child (last started first) and exits with
//! [`reached_max_intensity()`], an abnormal exit. Had the fourth crash come at t = 6 s,
//! the crash at 0 s would have left the window (6 − 0 > 5) and it would have been
//! restarted.
//!
//! # Guarantees
//!
//! - Children start in list order; a child that fails to start stops the ones started
//!   before it (last first), and the supervisor's start returns the error.
//! - A supervisor stops its children one by one, last started first, each asked to stop
//!   (its `terminate` runs) and killed only after its `Shutdown` timeout; a
//!   DynamicSupervisor asks all of its children at once.
//! - Exits of actors the supervisor stopped itself, or already replaced, are never taken
//!   for crashes.
//! - Every crash, restart, shutdown and intensity trip is a `tracing` event with the
//!   supervisor's name, the child's id and the reason.
//!
//! See `docs/guide-supervisor.md` for the guide.
#![doc(test(attr(deny(warnings))))]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![forbid(unsafe_code)]

mod child;
mod child_spec;
mod children;
mod dynamic;
mod error;
mod handle;
mod info;
mod intensity;
mod options;
mod reports;
mod restart;
mod runtime;
mod shutdown;
mod strategy;
mod supervisor;
mod telemetry;

pub use child::Child;
pub use child_spec::{ChildKind, ChildSpec, StartFuture};
pub use dynamic::DynamicSupervisor;
pub use error::{ChildError, OptionsError, SpecError, StartChildError, SupervisorError};
pub use info::{
    ChildCounts, ChildInfo, ChildState, ChildrenFuture, ChildrenHook, NodeState, NodeStats,
    TreeNode,
};
pub use intensity::{reached_max_intensity, Intensity, Tripped};
pub use options::{AutoShutdown, DynamicSupervisorOptions, SupervisorOptions};
pub use reports::Reports;
pub use restart::Restart;
pub use shutdown::{shut_down_children, Shutdown};
pub use strategy::Strategy;
pub use supervisor::Supervisor;
