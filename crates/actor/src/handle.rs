//! `Server<G>`: the clonable handle to a running server.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ractor::{ActorCell, ActorId, ActorRef, ActorStatus};

use crate::envelope::{CastEnvelope, Envelope, InfoEnvelope, Inner};
use crate::protocol::{Mail, Post};
use crate::record::Record;
use crate::{
    call, timer, CallError, Exit, GenServer, HandleCall, HandleCast, HandleInfo, Pid, Protocol,
    SendError, StopError, TimerRef,
};

/// How long [`Server::call`] waits for a reply (OTP's default of 5 seconds).
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// A handle to a running server of behaviour `G`: cheap to clone, `Send + Sync`.
///
/// The handle names one incarnation of the server: after a restart by a supervisor the new
/// server has a new handle (reach it again by name through a registry).
///
/// # Examples
///
/// ```
/// use arbor_actor::{CallOutcome, Caller, Context, Exit, GenServer, HandleCall, Init, Server};
///
/// struct Echo;
/// impl GenServer for Echo {
///     type Args = ();
///     type State = ();
///     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
///         Init::Ready(())
///     }
/// }
/// impl HandleCall<String> for Echo {
///     type Reply = String;
///     async fn handle_call(&self, text: String, _: Caller<'_, String>, _: &mut (), _: &mut Context<Self>) -> CallOutcome<String> {
///         CallOutcome::Reply(text)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let echo = Server::start(Echo, ()).await?;
/// assert_eq!(echo.call("hi".to_string()).await?, "hi");
/// echo.stop_and_wait(Exit::Normal, std::time::Duration::from_secs(1)).await?;
/// assert!(!echo.is_alive());
/// # Ok(())
/// # }
/// ```
pub struct Server<G: GenServer> {
    actor: ActorRef<Envelope<G>>,
    shared: Arc<Record>,
    /// How envelopes reach the actor: a [`Protocol`] server's actor takes them as mail.
    post: Post<G>,
}

impl<G: GenServer> Server<G> {
    pub(crate) fn from_parts(actor: ActorCell, shared: Arc<Record>, post: Post<G>) -> Self {
        Server {
            actor: ActorRef::from(actor),
            shared,
            post,
        }
    }

    pub(crate) fn shared(&self) -> &Record {
        &self.shared
    }

    /// Sends `request` and waits up to [`DEFAULT_CALL_TIMEOUT`] for the reply.
    ///
    /// # Errors
    ///
    /// See [`CallError`]: timeout, no such process, the server exited while the call was
    /// pending, the reply handle was dropped, or a server calling itself.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the call: the request may still be handled, and its
    /// reply is dropped. No later call can receive it.
    pub async fn call<M>(&self, request: M) -> Result<G::Reply, CallError>
    where
        G: HandleCall<M>,
        M: Send + 'static,
    {
        call::call(self, request, DEFAULT_CALL_TIMEOUT).await
    }

    /// [`Server::call`] with its own timeout. `Duration::MAX` (or any duration of thirty
    /// years or more) means no limit, and such a call arms no timer: the cheapest call.
    ///
    /// # Errors
    ///
    /// As [`Server::call`].
    ///
    /// # Cancel safety
    ///
    /// As [`Server::call`].
    pub async fn call_timeout<M>(
        &self,
        request: M,
        timeout: Duration,
    ) -> Result<G::Reply, CallError>
    where
        G: HandleCall<M>,
        M: Send + 'static,
    {
        call::call(self, request, timeout).await
    }

    /// Sends a fire-and-forget message to `handle_cast`. Never waits.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the message when the server is not running.
    pub fn cast<M>(&self, message: M) -> Result<(), SendError<M>>
    where
        G: HandleCast<M>,
        M: Send + 'static,
    {
        self.deliver_payload(Envelope::message(CastEnvelope::new(message)))
    }

    /// Sends a plain message to `handle_info` (OTP's `send/2`). Never waits.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the message when the server is not running.
    pub fn send<M>(&self, message: M) -> Result<(), SendError<M>>
    where
        G: HandleInfo<M>,
        M: Send + 'static,
    {
        self.deliver_payload(Envelope::message(InfoEnvelope::new(message)))
    }

    /// Sends `message` to `handle_info` after `after` (OTP's `Process.send_after/3`).
    pub fn send_after<M>(&self, after: Duration, message: M) -> TimerRef
    where
        G: HandleInfo<M>,
        M: Send + 'static,
    {
        let server = self.clone();
        timer::after(self.shared.runtime(), after, move || {
            if server.send(message).is_err() {
                tracing::debug!(server = %server, "timer message dropped: the server is not running");
            }
        })
    }

    /// Sends `make()` to `handle_info` every `period` (OTP's `:timer.send_interval/3`),
    /// until cancelled or the server stops.
    pub fn send_interval<M, F>(&self, period: Duration, mut make: F) -> TimerRef
    where
        G: HandleInfo<M>,
        M: Send + 'static,
        F: FnMut() -> M + Send + 'static,
    {
        let server = self.clone();
        timer::every(self.shared.runtime(), period, move || {
            server.send(make()).is_ok()
        })
    }

    /// Asks the server to stop with `reason`. The request is queued behind the messages
    /// already sent, then `terminate(reason)` runs. `Exit::Killed` kills it instead (see
    /// [`Server::kill`]). Does not wait; see [`Server::stop_and_wait`].
    ///
    /// # Errors
    ///
    /// [`StopError::NoProc`] when the server is not running.
    pub fn stop(&self, reason: Exit) -> Result<(), StopError> {
        if reason == Exit::Killed {
            if !self.is_alive() {
                return Err(StopError::NoProc);
            }
            self.kill();
            return Ok(());
        }
        self.deliver(Envelope(Inner::Stop(reason)))
            .map_err(|_| StopError::NoProc)
    }

    /// Asks the server to stop with `reason` and waits until it has stopped (its
    /// `terminate` has run), for at most `timeout` (OTP's `GenServer.stop/3`).
    ///
    /// # Errors
    ///
    /// [`StopError::NoProc`] when the server is not running; [`StopError::Timeout`] when it
    /// has not stopped in time (it goes on stopping); [`StopError::SelfWait`] when called
    /// from the server's own callbacks, which could only wait for themselves.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not withdraw the stop request.
    pub async fn stop_and_wait(&self, reason: Exit, timeout: Duration) -> Result<(), StopError> {
        if crate::current::current_server() == Some(self.id()) {
            return Err(StopError::SelfWait);
        }
        self.stop(reason)?;
        self.actor
            .wait(Some(timeout))
            .await
            .map_err(|_| StopError::Timeout(timeout))
    }

    /// Kills the server at once: its current callback is abandoned at its next `.await`,
    /// `terminate` does not run, and the exit is [`Exit::Killed`] (OTP's `:kill`).
    pub fn kill(&self) {
        // The stop is decided here, by the killer: stop hooks run now, so whatever
        // watches the server hears of it before `wait` returns.
        self.shared.begin_stop(&Exit::Killed);
        self.actor.kill();
    }

    /// Waits until the server has stopped and returns why. Called from the server's own
    /// callbacks it would wait forever: return [`Outcome::Stop`](crate::Outcome::Stop)
    /// there instead.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future changes nothing.
    pub async fn wait(&self) -> Exit {
        let _ = self.actor.wait(None).await;
        self.exit_after_stop()
    }

    /// `true` while the server runs, `terminate` included (as an OTP process is alive
    /// during `terminate/2`); `false` once `terminate` has run and its actor is stopping.
    /// [`Pid::is_stopping`](crate::Pid::is_stopping) says whether the stop is decided.
    pub fn is_alive(&self) -> bool {
        matches!(
            self.actor.get_status(),
            ActorStatus::Starting | ActorStatus::Running | ActorStatus::Upgrading
        )
    }

    /// The name given at start, if any (used in logs; not a global registration).
    pub fn name(&self) -> Option<&str> {
        self.shared.name()
    }

    /// What this server reports of itself (messages handled, stage counters), read
    /// without sending it a message.
    pub fn stats(&self) -> &crate::ProcessStats {
        self.shared.stats()
    }

    /// The ractor id of this server's actor.
    pub fn id(&self) -> ActorId {
        self.actor.get_id()
    }

    /// An untyped reference to this server, for registries and other name services.
    pub fn pid(&self) -> Pid {
        Pid::of_server(self.cell(), Arc::clone(&self.shared))
    }

    /// The untyped ractor cell, to link, monitor or use ractor's tools.
    pub fn cell(&self) -> ActorCell {
        self.actor.get_cell()
    }

    /// The typed ractor reference of this server's actor. A server started with
    /// [`Server::start_protocol_with`] receives its envelopes wrapped: sending one on this
    /// reference fails, use the server's methods.
    pub fn actor_ref(&self) -> &ActorRef<Envelope<G>> {
        &self.actor
    }

    /// The reason of a server known to have stopped: one that stopped before its
    /// `terminate` finished was killed.
    pub(crate) fn exit_after_stop(&self) -> Exit {
        self.shared.final_exit()
    }

    /// Sends an envelope; on failure the envelope comes back when ractor returned it.
    pub(crate) fn deliver(&self, envelope: Envelope<G>) -> Result<(), Option<Envelope<G>>> {
        (self.post)(&self.actor, envelope)
    }

    fn deliver_payload<M: 'static>(&self, envelope: Envelope<G>) -> Result<(), SendError<M>> {
        let Err(undelivered) = self.deliver(envelope) else {
            return Ok(());
        };
        match undelivered.and_then(Envelope::into_payload::<M>) {
            Some(message) => Err(SendError(message)),
            // ractor hands back every message it refuses on a typed reference, so this
            // cannot happen; if it ever did, the loss is still reported.
            None => {
                tracing::error!(server = %self, "message to a stopped server was lost");
                Ok(())
            }
        }
    }
}

impl<G: Protocol> Server<G> {
    /// Sends a message of the server's own [`Protocol`] to `handle_protocol`, in order with
    /// every other message this sender sends it. Never waits.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the message when the server is not running. A server started
    /// without [`Server::start_protocol_with`] cannot take the message: ractor drops it,
    /// and the loss is logged at error level.
    pub fn send_protocol(&self, message: G::Message) -> Result<(), SendError<G::Message>> {
        match ActorCell::send_message(&self.actor, Mail::<G>::Protocol(message)) {
            Ok(()) => Ok(()),
            Err(ractor::MessagingErr::SendErr(Mail::Protocol(message))) => Err(SendError(message)),
            // ractor hands back a refused message of the actor's own type; a server started
            // without its protocol has another type, and ractor drops the message.
            Err(_) => {
                tracing::error!(server = %self, "protocol message lost: the server was not started with start_protocol_with");
                Ok(())
            }
        }
    }
}

impl<G: GenServer> Clone for Server<G> {
    fn clone(&self) -> Self {
        Server {
            actor: self.actor.clone(),
            shared: Arc::clone(&self.shared),
            post: self.post,
        }
    }
}

impl<G: GenServer> PartialEq for Server<G> {
    fn eq(&self, other: &Self) -> bool {
        self.actor == other.actor
    }
}

impl<G: GenServer> Eq for Server<G> {}

impl<G: GenServer> fmt::Debug for Server<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("id", &self.id())
            .field("name", &self.name())
            .finish()
    }
}

/// The server's name if it has one, else its actor id: how logs refer to it.
impl<G: GenServer> fmt::Display for Server<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{}", self.id()),
        }
    }
}
