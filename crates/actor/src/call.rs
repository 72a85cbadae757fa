//! Call correlation: one reply channel per call, so a late reply can never reach a later
//! call, and a precise error when no reply comes.

use std::sync::atomic::{fence, Ordering};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::envelope::{CallEnvelope, Envelope};
use crate::reply::Abandoned;
use crate::timer::{deadline_after, is_limited};
use crate::{CallError, GenServer, HandleCall, Server};

pub(crate) async fn call<G, M>(
    server: &Server<G>,
    request: M,
    timeout: Duration,
) -> Result<G::Reply, CallError>
where
    G: HandleCall<M>,
    M: Send + 'static,
{
    if crate::current::current_server() == Some(server.id()) {
        return Err(CallError::SelfCall);
    }
    let (reply, answer) = oneshot::channel();
    server
        .deliver(Envelope::message(CallEnvelope::new(request, reply)))
        .map_err(|_| CallError::NoProc)?;
    // Arming a timer is most of a call's cost over a plain channel round trip: a call
    // without a limit arms none.
    let deadline = is_limited(timeout).then(|| deadline_after(timeout));
    let answered = match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline, answer_or_stop(server, answer)).await,
        None => Ok(answer_or_stop(server, answer).await),
    };
    let abandoned = match answered {
        Ok(Ok(Ok(reply))) => return Ok(reply),
        Ok(Ok(Err(Abandoned))) => true,
        Ok(Err(_channel_dropped)) => false,
        Err(_elapsed) => return Err(CallError::Timeout(timeout)),
    };
    let deadline = deadline.unwrap_or_else(|| deadline_after(timeout));
    Err(unanswered(server, abandoned, deadline, timeout).await)
}

/// The reply, or, once the server has stopped, whatever the reply channel holds then.
///
/// Waiting for the reply alone is not enough: a request that enters the mailbox while the
/// stopping actor drops it can stay in the channel, its reply handle alive, for as long as
/// any handle to the server lives. OTP's call monitors the server for the same reason.
///
/// Watching the stop costs a waiter on the actor (60 to 100 ns, a fifth of a call), so
/// only a call that finds the stop already decided pays it. Any other request was in the
/// mailbox before the stop was decided (the fence orders our send before our read of
/// the flag), so the mailbox drops it with the actor and the reply channel closes.
async fn answer_or_stop<R>(
    server: &Server<impl GenServer>,
    mut answer: oneshot::Receiver<Result<R, Abandoned>>,
) -> Result<Result<R, Abandoned>, oneshot::error::RecvError> {
    fence(Ordering::SeqCst);
    if !server.shared().is_stopping() {
        return answer.await;
    }
    tokio::select! {
        biased;
        answered = &mut answer => answered,
        _ = server.actor_ref().wait(None) => match answer.try_recv() {
            Ok(answered) => Ok(answered),
            // Nothing can answer a stopped server's call: its reply handles refuse.
            Err(_) => Ok(Err(Abandoned)),
        },
    }
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
