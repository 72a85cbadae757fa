//! The errors of arbor-supervisor, one enum per kind of operation.

use arbor_actor::{CallError, StartError};

/// Why [`Supervisor::start`](crate::Supervisor::start) or
/// [`DynamicSupervisor::start`](crate::DynamicSupervisor::start) returned no supervisor.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SupervisorError {
    /// The options are invalid (for example `max_seconds` is zero).
    #[error("invalid supervisor options: {0}")]
    InvalidOptions(String),
    /// Two child specs share an id.
    #[error("duplicate child id {0:?}")]
    DuplicateChildId(String),
    /// A child failed to start; the children started before it were stopped again.
    #[error("child {id:?} failed to start: {error}")]
    ChildStart {
        /// The child's id.
        id: String,
        /// Why it did not start.
        error: StartError,
    },
    /// The supervisor's own actor did not start.
    #[error("the supervisor did not start: {0}")]
    Start(StartError),
}

/// Why `start_child` did not start a child.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartChildError {
    /// A child with this id is already in the supervisor.
    #[error("a child with id {0:?} is already present")]
    AlreadyPresent(String),
    /// The child's start function failed.
    #[error("child {id:?} failed to start: {error}")]
    Start {
        /// The child's id.
        id: String,
        /// Why it did not start.
        error: StartError,
    },
    /// The spec itself is invalid (for example: significant but permanent).
    #[error("invalid child spec: {0}")]
    InvalidSpec(String),
    /// The DynamicSupervisor already holds `max_children` children.
    #[error("the supervisor already holds its maximum of {0} children")]
    MaxChildren(usize),
    /// The supervisor could not be reached.
    #[error("supervisor unreachable: {0}")]
    Supervisor(CallError),
}

/// Why `terminate_child`, `restart_child` or `delete_child` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChildError {
    /// No child has this id (or, for a DynamicSupervisor, this actor).
    #[error("no child {0:?} in this supervisor")]
    NotFound(String),
    /// `restart_child` / `delete_child` on a child that is running.
    #[error("child {0:?} is running")]
    Running(String),
    /// `restart_child` / `delete_child` on a child waiting to be restarted.
    #[error("child {0:?} is being restarted")]
    Restarting(String),
    /// `restart_child` could not start the child.
    #[error("child {id:?} failed to start: {error}")]
    Start {
        /// The child's id.
        id: String,
        /// Why it did not start.
        error: StartError,
    },
    /// The supervisor could not be reached.
    #[error("supervisor unreachable: {0}")]
    Supervisor(CallError),
}
