//! How an application ended, and the process exit code that says so.

use std::process::{ExitCode, Termination};
use std::time::Duration;

use arbor_actor::Exit;
use arbor_supervisor::{reached_max_intensity, SupervisorError};

use crate::stop::Trigger;

/// How an application ended, returned by [`ApplicationBuilder::run`](crate::ApplicationBuilder::run)
/// and [`Running::wait`](crate::Running::wait).
///
/// [`Outcome::exit_code`] turns it into the process's exit status; `main` may also
/// return it as it is (it implements [`Termination`]).
///
/// | Outcome | Exit code |
/// |---|---|
/// | [`Stopped`](Outcome::Stopped) | 0 |
/// | [`Exited`](Outcome::Exited), normal reason | 0 |
/// | [`Exited`](Outcome::Exited), abnormal reason | 1 |
/// | [`FailedToStart`](Outcome::FailedToStart) | 1 |
/// | [`GaveUp`](Outcome::GaveUp) | 3 |
/// | [`Killed`](Outcome::Killed) | 4 |
///
/// # Examples
///
/// ```
/// use std::process::ExitCode;
/// use std::time::Duration;
/// use arbor_app::{Outcome, Trigger};
///
/// let killed = Outcome::Killed { trigger: Trigger::Terminate, deadline: Duration::from_secs(30) };
/// assert_eq!(killed.code(), 4);
/// assert_eq!(killed.exit_code(), ExitCode::from(4));
/// assert_eq!(killed.to_string(), "killed: the tree had not stopped 30s after terminate (SIGTERM)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Asked to stop, and the whole tree stopped in order within the deadline.
    Stopped {
        /// What asked.
        trigger: Trigger,
    },
    /// Asked to stop, but the tree had not stopped by the deadline: what was left was
    /// killed, without `terminate`.
    Killed {
        /// What asked.
        trigger: Trigger,
        /// The deadline that passed.
        deadline: Duration,
    },
    /// The root supervisor gave up before anyone asked: its children crashed more
    /// often than its restart intensity allows ([`reached_max_intensity`]).
    GaveUp,
    /// The root supervisor stopped on its own for another reason (for example an
    /// automatic shutdown after a significant child ended).
    Exited(Exit),
    /// The tree did not start; nothing runs.
    FailedToStart(SupervisorError),
}

impl Outcome {
    /// The outcome of a root supervisor that stopped before anyone asked.
    pub(crate) fn from_root_exit(exit: Exit) -> Self {
        if exit == reached_max_intensity() {
            Outcome::GaveUp
        } else {
            Outcome::Exited(exit)
        }
    }

    /// The process exit status for this outcome (see the table on [`Outcome`]).
    pub fn code(&self) -> u8 {
        match self {
            Outcome::Stopped { .. } => 0,
            Outcome::Exited(exit) if exit.is_normal() => 0,
            Outcome::Exited(_) | Outcome::FailedToStart(_) => 1,
            Outcome::GaveUp => 3,
            Outcome::Killed { .. } => 4,
        }
    }

    /// [`Outcome::code`] as the process's [`ExitCode`].
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.code())
    }

    /// `true` for the outcomes that exit with 0.
    pub fn is_success(&self) -> bool {
        self.code() == 0
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Stopped { trigger } => write!(f, "stopped in order after {trigger}"),
            Outcome::Killed { trigger, deadline } => write!(
                f,
                "killed: the tree had not stopped {deadline:?} after {trigger}"
            ),
            Outcome::GaveUp => {
                f.write_str("gave up: the root supervisor reached its maximum restart intensity")
            }
            Outcome::Exited(exit) => write!(f, "the root supervisor exited: {exit}"),
            Outcome::FailedToStart(error) => {
                write!(f, "failed to start: {error}")?;
                let mut source = std::error::Error::source(error);
                while let Some(cause) = source {
                    write!(f, ": {cause}")?;
                    source = cause.source();
                }
                Ok(())
            }
        }
    }
}

impl Termination for Outcome {
    fn report(self) -> ExitCode {
        if !self.is_success() {
            eprintln!("{self}");
        }
        self.exit_code()
    }
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> Self {
        outcome.exit_code()
    }
}
