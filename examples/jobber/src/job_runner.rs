//! `JobRunner`: the DynamicSupervisor that starts a [`JobSupervisor`](crate::JobSupervisor)
//! per job on demand (the book's `Jobber.JobRunner`).

use arbor::supervisor::{ChildSpec, DynamicSupervisor, DynamicSupervisorOptions};

/// The JobRunner's id in the application's tree, and its name in logs.
pub const JOB_RUNNER: &str = "job_runner";

/// The window for the JobRunner's restart intensity: the book's 30 s. Its children are
/// `Temporary` job supervisors, which it never restarts, so in practice nothing trips it.
pub const JOB_RUNNER_MAX_SECONDS: u64 = 30;

/// The JobRunner. It is a plain DynamicSupervisor; this type only builds its child spec.
#[derive(Debug, Clone, Copy)]
pub struct JobRunner;

impl JobRunner {
    /// The JobRunner as a child of the application's supervisor: one_for_one (the only
    /// strategy a DynamicSupervisor has), `max_seconds` 30.
    pub fn child_spec() -> ChildSpec {
        DynamicSupervisor::child_spec(
            JOB_RUNNER,
            DynamicSupervisorOptions::default().max_seconds(JOB_RUNNER_MAX_SECONDS),
        )
    }
}
