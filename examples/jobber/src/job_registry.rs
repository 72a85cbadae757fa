//! `JobRegistry`: running jobs by id, each with its type as the entry's value (the book's
//! `Jobber.JobRegistry`, `keys: :unique`), and the query behind the import quota.

use std::fmt;

use arbor::actor::Pid;
use arbor::registry::Registry;

/// Running jobs: key the job's id, value its [`JobType`]. Unique keys: an id names one job.
pub type JobRegistry = Registry<String, JobType>;

/// The registry's name, in logs and in the jobs' via names (`job_registry/"r4Fl3I4"`).
pub const JOB_REGISTRY: &str = "job_registry";

/// A new, empty job registry.
pub fn job_registry() -> JobRegistry {
    Registry::unique(JOB_REGISTRY)
}

/// What kind of work a job does: the label the book passes as `type:`, kept as the job's
/// registry value so the registry can answer "which imports are running?".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum JobType {
    /// No label (the book's job started without `type:`).
    #[default]
    Untyped,
    /// An import from a third-party system: at most a quota of these run at once.
    Import,
    /// Sending an email.
    SendEmail,
}

impl fmt::Display for JobType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JobType::Untyped => "untyped",
            JobType::Import => "import",
            JobType::SendEmail => "send_email",
        })
    }
}

/// One running import, as [`running_imports`] lists it (the book's `%{id:, pid:, type:}`;
/// the type is always import here, so it is left out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningImport {
    /// The job's id.
    pub id: String,
    /// The job's actor.
    pub pid: Pid,
}

/// The running import jobs, by id. The book's match spec `{:"$1", :"$2", :"$3"}` with the
/// guard `$3 == "import"` and the result `%{id: $1, pid: $2}` is a closure over (key,
/// actor, value) that filters and maps in one go.
pub fn running_imports(registry: &JobRegistry) -> Vec<RunningImport> {
    let mut imports = registry.select(|id, pid, job_type| {
        (*job_type == JobType::Import).then(|| RunningImport {
            id: id.clone(),
            pid: pid.clone(),
        })
    });
    // The registry's order is its shards' order; sorted, the list reads the same each time.
    imports.sort_by(|a, b| a.id.cmp(&b.id));
    imports
}

/// How many jobs of `job_type` are running, without building a list.
pub fn count_running(registry: &JobRegistry, job_type: &JobType) -> usize {
    registry.count_select(|_, _, running| running == job_type)
}
