//! The errors of arbor-actor, one enum per operation.

use std::fmt;
use std::time::Duration;

use crate::{Exit, Pid};

/// Why [`Server::start`](crate::Server::start) and its variants did not return a running server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// `init` returned [`Init::Ignore`](crate::Init::Ignore): OTP's `:ignore`.
    #[error("init returned ignore")]
    Ignored,
    /// `init` returned [`Init::Stop`](crate::Init::Stop) or panicked.
    #[error("init failed: {0}")]
    Init(Exit),
    /// `init` did not finish within [`StartOptions::init_timeout`](crate::StartOptions::init_timeout).
    #[error("init did not finish within {0:?}")]
    Timeout(Duration),
    /// The name given with [`StartOptions::via`](crate::StartOptions::via) is held by
    /// another live server: OTP's `{:error, {:already_started, pid}}`.
    #[error("{name} is already registered by {holder}")]
    AlreadyStarted {
        /// The name, as the name service shows it.
        name: String,
        /// The server holding it.
        holder: Pid,
    },
    /// The name service given with [`StartOptions::via`](crate::StartOptions::via)
    /// refused the name for another reason than a live holder (see
    /// [`NameError::Refused`](crate::NameError::Refused)); `init` did not run.
    #[error("{name} cannot be registered: {reason}")]
    NameRefused {
        /// The name, as the name service shows it.
        name: String,
        /// Why the service refused it.
        reason: String,
    },
    /// `start` was called outside a tokio runtime.
    #[error("no tokio runtime: servers must be started inside a tokio runtime")]
    NoRuntime,
    /// [`StartOptions::init_timeout`](crate::StartOptions::init_timeout) was zero: `init`
    /// could never finish in time. Nothing was started.
    #[error("init_timeout must be longer than zero")]
    ZeroInitTimeout,
    /// The actor could not be spawned (for example: its supervisor is shutting down).
    #[error("the actor could not be spawned")]
    Spawn(#[source] SpawnError),
}

/// Why an actor could not be spawned: [`StartError::Spawn`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// ractor's own registry already holds an actor of this name.
    #[error("ractor already has an actor named {0}")]
    NameTaken(String),
    /// ractor failed the actor's startup outside arbor's `init` (its own text).
    #[error("ractor failed the actor's startup: {0}")]
    Startup(String),
    /// A start that can run once was asked to run again (a temporary task's spec).
    #[error("this start can run once, and has already run")]
    AlreadyRun,
}

impl From<ractor::SpawnErr> for SpawnError {
    fn from(error: ractor::SpawnErr) -> Self {
        match error {
            ractor::SpawnErr::ActorAlreadyRegistered(name) => SpawnError::NameTaken(name),
            other => SpawnError::Startup(other.to_string()),
        }
    }
}

/// Why [`Server::call`](crate::Server::call) or [`Server::call_timeout`](crate::Server::call_timeout)
/// returned no reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallError {
    /// No reply within the call's timeout. A reply that arrives later is dropped.
    #[error("call timed out after {0:?}")]
    Timeout(Duration),
    /// The server was not running when the call was sent.
    #[error("no such process: the server is not running")]
    NoProc,
    /// The server exited, with this reason, while the call was pending.
    #[error("server exited: {0}")]
    Exited(Exit),
    /// The server dropped the call's reply handle without answering.
    #[error("the server dropped the reply handle without answering")]
    NoReply,
    /// The server called itself from one of its own callbacks, which could only wait
    /// for its own reply forever.
    #[error("a server cannot call itself from its own callbacks")]
    SelfCall,
}

/// Why [`Server::cast`](crate::Server::cast) or [`Server::send`](crate::Server::send) could
/// not deliver a message: the server is not running. The message comes back.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("no such process: the server is not running")]
pub struct SendError<M>(pub M);

impl<M> SendError<M> {
    /// The message that was not delivered.
    pub fn into_inner(self) -> M {
        self.0
    }
}

// By hand, so that `SendError<M>: Debug` does not need `M: Debug`.
impl<M> fmt::Debug for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

/// Why [`Server::stop`](crate::Server::stop) or [`Server::stop_and_wait`](crate::Server::stop_and_wait)
/// did not stop the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StopError {
    /// The server was not running.
    #[error("no such process: the server is not running")]
    NoProc,
    /// The server did not finish stopping within the timeout; it is still stopping.
    #[error("the server did not stop within {0:?}")]
    Timeout(Duration),
    /// `stop_and_wait` was called from the server's own callbacks, where it could only
    /// wait for itself; return `Outcome::Stop` instead.
    #[error("a server cannot wait for its own stop from its own callbacks")]
    SelfWait,
}
