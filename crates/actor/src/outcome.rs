//! What callbacks return: OTP's return tuples as enums (the state is `&mut`, so it is not
//! part of the value).

use crate::Exit;

/// What [`GenServer::init`](crate::GenServer::init) returns.
///
/// | OTP                     | `Init`            |
/// |-------------------------|-------------------|
/// | `{:ok, state}`          | `Init::Ready(state)` |
/// | `{:ok, state, {:continue, c}}` | `ctx.continue_with(c)` then `Init::Ready(state)` |
/// | `:ignore`               | `Init::Ignore`    |
/// | `{:stop, reason}`       | `Init::Stop(reason)` |
///
/// # Examples
///
/// ```
/// use arbor_actor::{Context, Exit, GenServer, Init, Server, StartError};
///
/// struct NeedsPort;
/// impl GenServer for NeedsPort {
///     type Args = u16;
///     type State = u16;
///     async fn init(&self, port: u16, _ctx: &mut Context<Self>) -> Init<u16> {
///         if port == 0 {
///             Init::Stop(Exit::error("port 0 is not a port"))
///         } else {
///             Init::Ready(port)
///         }
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let error = Server::start(NeedsPort, 0).await.unwrap_err();
/// assert_eq!(error, StartError::Init(Exit::error("port 0 is not a port")));
/// # }
/// ```
#[derive(Debug)]
pub enum Init<S> {
    /// Start with this state.
    Ready(S),
    /// Do not start, without an error (OTP's `:ignore`).
    Ignore,
    /// Fail the start with this reason.
    Stop(Exit),
}

/// What [`HandleCall::handle_call`](crate::HandleCall::handle_call) returns.
///
/// # Examples
///
/// ```
/// use arbor_actor::{CallOutcome, Exit};
///
/// let answer: CallOutcome<u32> = CallOutcome::Reply(42);
/// let goodbye: CallOutcome<u32> = CallOutcome::StopWithReply(Exit::Normal, 0);
/// # let _ = (answer, goodbye);
/// ```
#[derive(Debug)]
pub enum CallOutcome<R> {
    /// Answer the caller (OTP's `{:reply, reply, state}`).
    Reply(R),
    /// Answer later through the handle taken with [`Caller::defer`](crate::Caller::defer)
    /// (OTP's `{:noreply, state}`). If the handle was not taken, the caller gets
    /// [`CallError::NoReply`](crate::CallError::NoReply) at once.
    NoReply,
    /// Stop without answering; the caller gets
    /// [`CallError::Exited`](crate::CallError::Exited) with this reason.
    Stop(Exit),
    /// Stop, and answer once `terminate` has run (OTP's `{:stop, reason, reply, state}`):
    /// a caller holding the reply can count on the server's cleanup being done. A server
    /// killed during its `terminate` never answers; its caller gets
    /// [`CallError::Exited`](crate::CallError::Exited).
    StopWithReply(Exit, R),
}

/// What cast, info, continue and exit callbacks return.
///
/// # Examples
///
/// ```
/// use arbor_actor::{Exit, Outcome};
///
/// fn after_job(left: usize) -> Outcome {
///     if left == 0 { Outcome::Stop(Exit::Normal) } else { Outcome::NoReply }
/// }
/// assert_eq!(after_job(0), Outcome::Stop(Exit::Normal));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Keep running (OTP's `{:noreply, state}`).
    NoReply,
    /// Stop with this reason (OTP's `{:stop, reason, state}`); `terminate` runs first.
    Stop(Exit),
}
