//! The errors of the jobber API.

use arbor::actor::CallError;
use arbor::supervisor::{ChildError, StartChildError, SupervisorError};

/// Why [`Jobber::start_job`](crate::Jobber::start_job) started no job.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartJobError {
    /// As many imports as the quota allows are running: the book's
    /// `{:error, :import_quota_reached}`.
    #[error("import quota reached: {quota} imports are running")]
    ImportQuotaReached {
        /// The quota.
        quota: usize,
    },
    /// The JobRunner could not be reached.
    #[error(transparent)]
    Jobber(#[from] JobberError),
    /// The JobRunner did not start the job's supervisor (or the supervisor its job).
    #[error(transparent)]
    Start(#[from] StartChildError),
}

/// Why a question to the jobber application got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobberError {
    /// The JobRunner is not running right now (its supervisor is restarting it).
    #[error("the job runner is not running")]
    JobRunnerDown,
    /// A supervisor of the application could not be reached.
    #[error("supervisor unreachable: {0}")]
    Supervisor(#[from] CallError),
    /// A job supervisor could not be stopped.
    #[error(transparent)]
    Child(#[from] ChildError),
}

/// Why [`Jobber::start`](crate::Jobber::start) did not start the application.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// The options are invalid.
    #[error("invalid jobber options: {0}")]
    InvalidOptions(String),
    /// Its supervision tree did not start.
    #[error(transparent)]
    Supervisor(#[from] SupervisorError),
}
