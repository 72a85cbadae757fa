//! `JobSupervisor`: a small supervisor in front of each job (the book's
//! `Jobber.JobSupervisor`), so that a job that keeps crashing takes down only its own
//! supervisor, never the JobRunner and the other jobs.

use arbor::supervisor::{AutoShutdown, ChildSpec, Restart, Supervisor, SupervisorOptions};

use crate::job::Job;
use crate::job_registry::JobRegistry;

/// The window in which a job may be restarted `max_restarts` (3) times: the book's 30 s,
/// wide enough to catch a job that takes seconds to crash each time.
pub const JOB_SUPERVISOR_MAX_SECONDS: u64 = 30;

/// The per-job supervisor. Not a behaviour of its own: in arbor a supervisor is
/// configured by its children and options, so this type only builds its child spec.
#[derive(Debug, Clone, Copy)]
pub struct JobSupervisor;

impl JobSupervisor {
    /// A supervisor for `job` (its spec's id is the job's id):
    ///
    /// - `one_for_one`, `max_seconds` 30: it restarts the job after a crash, and gives up
    ///   at the fourth crash within 30 s;
    /// - `Temporary` in the JobRunner: when it gives up, the JobRunner forgets it instead
    ///   of restarting it, so the failure stops here;
    /// - with `auto_shutdown`, the job is significant and the supervisor stops once the
    ///   job has ended on its own (OTP 24's cure for the idle supervisor the book finds
    ///   with `count_children`); without it, it stays, idle, as in the book.
    pub fn child_spec(job: &Job, registry: &JobRegistry, auto_shutdown: bool) -> ChildSpec {
        let mut options = SupervisorOptions::one_for_one()
            .max_seconds(JOB_SUPERVISOR_MAX_SECONDS)
            .name(format!("job_supervisor/{}", job.id()));
        let mut child = job.child_spec(registry);
        if auto_shutdown {
            child = child.significant(true);
            options = options.auto_shutdown(AutoShutdown::AnySignificant);
        }
        Supervisor::child_spec(job.id(), vec![child], options).restart(Restart::Temporary)
    }
}
