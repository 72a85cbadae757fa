//! The errors of arbor-supervisor, one enum per kind of operation, and the validation
//! errors they wrap.

use arbor_actor::{CallError, StartError};

use crate::Child;

/// Why [`Supervisor::start`](crate::Supervisor::start) or
/// [`DynamicSupervisor::start`](crate::DynamicSupervisor::start) returned no supervisor.
///
/// # Examples
///
/// ```
/// use arbor_supervisor::{OptionsError, Supervisor, SupervisorError, SupervisorOptions};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let error = Supervisor::start([], SupervisorOptions::default().max_seconds(0)).await.unwrap_err();
/// assert_eq!(error, SupervisorError::InvalidOptions(OptionsError::ZeroMaxSeconds));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SupervisorError {
    /// An option is invalid (for example `max_seconds` is zero); nothing was started.
    #[error("invalid supervisor options")]
    InvalidOptions(#[source] OptionsError),
    /// A child spec is invalid (for example significant but permanent); nothing was
    /// started.
    #[error("invalid child spec")]
    InvalidSpec(#[source] SpecError),
    /// Two child specs share an id.
    #[error("duplicate child id {0:?}")]
    DuplicateChildId(String),
    /// A child failed to start; the children started before it were stopped again.
    #[error("child {id:?} failed to start")]
    ChildStart {
        /// The child's id.
        id: String,
        /// Why it did not start.
        #[source]
        error: StartError,
    },
    /// The supervisor's own actor did not start.
    #[error("the supervisor did not start")]
    Start(#[source] StartError),
}

/// An invalid supervisor option: which one, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptionsError {
    /// `max_seconds` is 0: the restart-intensity window must be at least one second (OTP's
    /// `invalid_period`).
    #[error("max_seconds must be at least 1")]
    ZeroMaxSeconds,
}

/// An invalid child spec: which child, and why.
///
/// # Examples
///
/// ```
/// use arbor_supervisor::{ChildSpec, SpecError, Supervisor, SupervisorError, SupervisorOptions};
/// # use arbor_actor::{Context, GenServer, Init};
/// # #[derive(Clone)]
/// # struct Job;
/// # impl GenServer for Job {
/// #     type Args = ();
/// #     type State = ();
/// #     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
/// #         Init::Ready(())
/// #     }
/// # }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // A significant child needs a supervisor whose auto_shutdown is not Never.
/// let job = ChildSpec::worker("job", Job, ()).restart(arbor_supervisor::Restart::Transient).significant(true);
/// let error = Supervisor::start([job], SupervisorOptions::default()).await.unwrap_err();
/// assert_eq!(
///     error,
///     SupervisorError::InvalidSpec(SpecError::SignificantWithoutAutoShutdown { id: "job".into() })
/// );
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// A significant child is `Permanent`: it would always be restarted, so it could never
    /// stop its supervisor (OTP's `bad_combination` of `restart` and `significant`).
    #[error("child {id:?} is significant, so it must be transient or temporary")]
    SignificantPermanent {
        /// The child's id.
        id: String,
    },
    /// A significant child under a supervisor whose `auto_shutdown` is `Never`: its exit
    /// could never mean anything (OTP's `bad_combination` of `auto_shutdown` and
    /// `significant`).
    #[error("child {id:?} is significant, but the supervisor's auto_shutdown is Never")]
    SignificantWithoutAutoShutdown {
        /// The child's id.
        id: String,
    },
    /// A significant child given to a DynamicSupervisor, which has no `auto_shutdown`
    /// (Elixir's `invalid_significant`).
    #[error("child {id:?} is significant, which a DynamicSupervisor does not support")]
    SignificantInDynamicSupervisor {
        /// The child's id.
        id: String,
    },
}

/// Why `start_child` did not start a child.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StartChildError {
    /// A child with this id is running: OTP's `{error, {already_started, Child}}`.
    #[error("child {id:?} is already started")]
    AlreadyStarted {
        /// The id asked for.
        id: String,
        /// The running child that holds it.
        child: Child,
    },
    /// A child with this id is kept by the supervisor but not running (terminated, or
    /// waiting to restart): OTP's `already_present`. `restart_child` starts it again.
    #[error("a child with id {0:?} is already present")]
    AlreadyPresent(String),
    /// The child's start function failed.
    #[error("child {id:?} failed to start")]
    Start {
        /// The child's id.
        id: String,
        /// Why it did not start.
        #[source]
        error: StartError,
    },
    /// The spec itself is invalid (for example: significant but permanent).
    #[error("invalid child spec")]
    InvalidSpec(#[source] SpecError),
    /// The DynamicSupervisor already holds `max_children` children.
    #[error("the supervisor already holds its maximum of {0} children")]
    MaxChildren(usize),
    /// The supervisor could not be reached.
    #[error("supervisor unreachable")]
    Supervisor(#[source] CallError),
}

/// Why `terminate_child`, `restart_child` or `delete_child` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
    #[error("child {id:?} failed to start")]
    Start {
        /// The child's id.
        id: String,
        /// Why it did not start.
        #[source]
        error: StartError,
    },
    /// The supervisor could not be reached.
    #[error("supervisor unreachable")]
    Supervisor(#[source] CallError),
}
