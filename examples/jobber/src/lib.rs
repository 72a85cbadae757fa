//! jobber: the job runner of "Concurrent Data Processing in Elixir" (chapter 2), on arbor.
//!
//! Every job is a server that runs a piece of work, retries it after a delay when it
//! fails, and stops when it is done or out of retries. Jobs start on demand under a
//! DynamicSupervisor, each behind a small supervisor of its own, and are named in a
//! registry with their type, which is how the application limits concurrent imports.
//!
//! ```text
//! jobber (Supervisor, one_for_one)
//! ├── job_registry           JobRegistry: id => type, unique keys
//! └── job_runner             JobRunner: DynamicSupervisor, max_seconds 30
//!     └── <id>               JobSupervisor: one_for_one, max_seconds 30, temporary
//!         └── <id>           Job: transient, registered as <id> => type
//! ```
//!
//! | book                                   | here                                         |
//! |----------------------------------------|----------------------------------------------|
//! | `Jobber.Job`                           | [`Job`], [`JobArgs`], [`Work`], [`Status`]   |
//! | `Jobber.JobRunner`                     | [`JobRunner`]                                |
//! | `Jobber.JobSupervisor`                 | [`JobSupervisor`]                            |
//! | `Jobber.JobRegistry`                   | [`JobRegistry`], [`JobType`]                 |
//! | `Jobber.start_job/1`                   | [`Jobber::start_job`]                        |
//! | `Jobber.running_imports/0`             | [`Jobber::running_imports`]                  |
//! | `DynamicSupervisor.count_children/1`   | [`Jobber::count_children`]                   |
//! | `DynamicSupervisor.which_children/1`   | [`Jobber::which_children`]                   |
//!
//! ```no_run
//! use std::time::Duration;
//! use jobber::{JobArgs, JobType, Jobber, Work, WorkError};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let jobber = Jobber::start().await?;
//! let mut events = jobber.subscribe();
//! let import = Work::new(|| async {
//!     tokio::time::sleep(Duration::from_secs(1)).await;
//!     Err(WorkError::new("the remote service said no"))
//! });
//! let job = jobber.start_job(JobArgs::new(import).job_type(JobType::Import)).await?;
//! assert_eq!(jobber.running_imports().len(), 1);
//! let end = events.ended(&job.id).await; // failed after 3 retries, 5 s apart
//! # Ok(())
//! # }
//! ```
//!
//! `cargo run -p jobber` runs [`demo::run`]; `docs/apps.md` maps every concept of the
//! book's chapter to the file that shows it.

#![deny(clippy::unwrap_used, clippy::expect_used)]

mod app;
pub mod demo;
mod error;
mod events;
mod job;
mod job_registry;
mod job_runner;
mod job_supervisor;
mod random_id;

pub use app::{Jobber, JobberOptions, StartedJob, DEFAULT_IMPORT_QUOTA, JOBBER, JOB_REGISTRY_ID};
pub use error::{JobberError, StartError, StartJobError};
pub use events::{JobEnd, JobEvents};
pub use job::{
    Job, JobArgs, JobEvent, Progress, Status, Work, WorkError, WorkFuture, DEFAULT_MAX_RETRIES,
    DEFAULT_RETRY_DELAY,
};
pub use job_registry::{
    count_running, job_registry, running_imports, JobRegistry, JobType, RunningImport, JOB_REGISTRY,
};
pub use job_runner::{JobRunner, JOB_RUNNER, JOB_RUNNER_MAX_SECONDS};
pub use job_supervisor::{JobSupervisor, JOB_SUPERVISOR_MAX_SECONDS};
pub use random_id::random_job_id;
