//! The app's errors.

use std::fmt;

use arbor::prelude::CallError;
use arbor::supervisor::SupervisorError;
use arbor::task::StreamOptionsError;

/// Why a variant, or the app, could not run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SenderError {
    /// The stream options cannot work (a concurrency of 0).
    Options(StreamOptionsError),
    /// The app's supervision tree did not start.
    Start(SupervisorError),
    /// The app's root supervisor did not answer: the app has stopped.
    Unreachable(CallError),
    /// The email task supervisor is not running (it is being restarted, or the app is
    /// stopping).
    NoTaskSupervisor,
}

impl fmt::Display for SenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The cause is the source, not part of the message: `{:#}` shows both.
            SenderError::Options(_) => f.write_str("invalid stream options"),
            SenderError::Start(_) => f.write_str("the sender app did not start"),
            SenderError::Unreachable(_) => f.write_str("the sender app is not running"),
            SenderError::NoTaskSupervisor => {
                f.write_str("the email task supervisor is not running")
            }
        }
    }
}

impl std::error::Error for SenderError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SenderError::Options(error) => Some(error),
            SenderError::Start(error) => Some(error),
            SenderError::Unreachable(error) => Some(error),
            SenderError::NoTaskSupervisor => None,
        }
    }
}

impl From<StreamOptionsError> for SenderError {
    fn from(error: StreamOptionsError) -> Self {
        SenderError::Options(error)
    }
}

impl From<SupervisorError> for SenderError {
    fn from(error: SupervisorError) -> Self {
        SenderError::Start(error)
    }
}

impl From<CallError> for SenderError {
    fn from(error: CallError) -> Self {
        SenderError::Unreachable(error)
    }
}
