//! Call correlation: one reply channel per call, so a late reply can never reach a later
//! call, and a precise error when no reply comes.

use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::envelope::{CallEnvelope, Envelope};
use crate::reply::Abandoned;
use crate::timer::deadline_after;
use crate::{runtime, CallError, GenServer, HandleCall, Server};

pub(crate) async fn call<G, M>(
    server: &Server<G>,
    request: M,
    timeout: Duration,
) -> Result<G::Reply, CallError>
where
    G: HandleCall<M>,
    M: Send + 'static,
{
    if runtime::current_server() == Some(server.id()) {
        return Err(CallError::SelfCall);
    }
    let (reply, answer) = oneshot::channel();
    server
        .deliver(Envelope::message(CallEnvelope { request, reply }))
        .map_err(|_| CallError::NoProc)?;
    let deadline = deadline_after(timeout);
    let abandoned = match tokio::time::timeout_at(deadline, answer).await {
        Ok(Ok(Ok(reply))) => return Ok(reply),
        Ok(Ok(Err(Abandoned))) => true,
        Ok(Err(_channel_dropped)) => false,
        Err(_elapsed) => return Err(CallError::Timeout(timeout)),
    };
    Err(unanswered(server, abandoned, deadline, timeout).await)
}

/// Why a call got no reply: its handle was dropped by a live server, or the server is
/// exiting (then wait, within the call's deadline, for the reason).
async fn unanswered<G: GenServer>(
    server: &Server<G>,
    abandoned: bool,
    deadline: Instant,
    timeout: Duration,
) -> CallError {
    if let Some(exit) = server.shared().exit() {
        return CallError::Exited(exit.clone());
    }
    if abandoned && server.is_alive() {
        return CallError::NoReply;
    }
    match tokio::time::timeout_at(deadline, server.actor_ref().wait(None)).await {
        Ok(_) => CallError::Exited(server.exit_after_stop()),
        Err(_elapsed) => CallError::Timeout(timeout),
    }
}
