//! `Server<G>`: the clonable handle to a running server.

use std::any::TypeId;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use ractor::{ActorCell, ActorId, ActorRef, ActorStatus};
use tokio::runtime::Handle;

use crate::envelope::{CastEnvelope, Envelope, InfoEnvelope, Inner};
use crate::pid::{OnStop, StopHookId};
use crate::{
    call, runtime, timer, CallError, Exit, GenServer, HandleCall, HandleCast, HandleInfo, Pid,
    SendError, StopError, TimerRef,
};

/// Work to run once when a server's stop is decided (see [`Pid::on_stop`]).
pub(crate) type StopHook = Box<dyn FnOnce(&Exit) + Send>;

/// A server's stop hooks, each under the id it was registered with, so that a watcher
/// that loses interest can take its hook back.
#[derive(Default)]
pub(crate) struct StopHooks {
    hooks: Vec<(StopHookId, StopHook)>,
    next: u64,
}

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
    shared: Arc<Shared>,
}

/// What every handle of one server shares with the server itself.
pub(crate) struct Shared {
    name: Option<Arc<str>>,
    /// The behaviour's type, so an untyped [`Pid`] can give back a typed handle.
    behaviour: TypeId,
    /// Set once the stop is decided, before any caller can observe it.
    stopping: AtomicBool,
    /// Run when `stopping` is set, in the order registered; `None` once they have run.
    stop_hooks: Mutex<Option<StopHooks>>,
    /// Why the server is stopping, decided as soon as it is known.
    exit: OnceLock<Exit>,
    /// Set once `terminate` has run to its end: a server that stopped without it was killed.
    terminated: AtomicBool,
    /// The server's own cell, known once its actor exists.
    cell: OnceLock<ActorCell>,
    runtime: Handle,
    /// Delivers an exit signal to this server (typed by its behaviour; see [`Pid::exit_signal`]).
    exit_signal: ExitSignalFn,
}

/// Queues an exit signal `(from, reason)` for the server whose cell is the first argument.
pub(crate) type ExitSignalFn = fn(&ActorCell, ActorCell, Exit) -> bool;

impl Shared {
    pub(crate) fn new(
        name: Option<Arc<str>>,
        behaviour: TypeId,
        runtime: Handle,
        exit_signal: ExitSignalFn,
    ) -> Self {
        Shared {
            exit_signal,
            name,
            behaviour,
            stopping: AtomicBool::new(false),
            stop_hooks: Mutex::new(Some(StopHooks::default())),
            exit: OnceLock::new(),
            terminated: AtomicBool::new(false),
            cell: OnceLock::new(),
            runtime,
        }
    }

    /// Records why the server is stopping; the first reason decided wins. Stop hooks run
    /// first, so nothing that watches the server can see the exit before they have.
    pub(crate) fn decide_exit(&self, exit: &Exit) {
        self.begin_stop(exit);
        let _ = self.exit.get_or_init(|| exit.clone());
    }

    /// Marks the server as stopping and runs its stop hooks with `exit`, once.
    pub(crate) fn begin_stop(&self, exit: &Exit) {
        if self.stopping.swap(true, Ordering::AcqRel) {
            return;
        }
        let hooks = match self.stop_hooks.lock() {
            Ok(mut hooks) => hooks.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        for (_, hook) in hooks.into_iter().flat_map(|hooks| hooks.hooks) {
            hook(exit);
        }
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    pub(crate) fn on_stop(&self, hook: StopHook) -> OnStop {
        let mut hooks = self.lock_hooks();
        match hooks.as_mut() {
            Some(hooks) => {
                let id = StopHookId(hooks.next);
                hooks.next += 1;
                hooks.hooks.push((id, hook));
                OnStop::Registered(id)
            }
            None => OnStop::AlreadyStopping,
        }
    }

    /// Takes hook `id` back without running it; `false` when it is not waiting (it ran,
    /// or was taken back before).
    pub(crate) fn cancel_stop_hook(&self, id: StopHookId) -> bool {
        let mut hooks = self.lock_hooks();
        let Some(hooks) = hooks.as_mut() else {
            return false;
        };
        match hooks.hooks.iter().position(|(held, _)| *held == id) {
            Some(at) => {
                // Dropped outside the lock would be nicer, but a hook is a small closure.
                drop(hooks.hooks.remove(at));
                true
            }
            None => false,
        }
    }

    /// How many stop hooks wait.
    pub(crate) fn stop_hook_count(&self) -> usize {
        self.lock_hooks()
            .as_ref()
            .map_or(0, |hooks| hooks.hooks.len())
    }

    fn lock_hooks(&self) -> std::sync::MutexGuard<'_, Option<StopHooks>> {
        match self.stop_hooks.lock() {
            Ok(hooks) => hooks,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub(crate) fn behaviour(&self) -> TypeId {
        self.behaviour
    }

    pub(crate) fn exit(&self) -> Option<&Exit> {
        self.exit.get()
    }

    pub(crate) fn set_cell(&self, cell: ActorCell) {
        let _ = self.cell.set(cell);
    }

    pub(crate) fn id(&self) -> Option<ActorId> {
        self.cell.get().map(ActorCell::get_id)
    }

    /// Whether the server is gone: its `terminate` finished, or its actor stopped.
    pub(crate) fn has_stopped(&self) -> bool {
        self.terminated.load(Ordering::Acquire)
            || self
                .cell
                .get()
                .is_none_or(|cell| cell.get_status() == ActorStatus::Stopped)
    }

    pub(crate) fn mark_terminated(&self) {
        self.terminated.store(true, Ordering::Release);
    }

    /// The exit of a server known to have stopped.
    pub(crate) fn final_exit(&self) -> Exit {
        match self.exit.get() {
            Some(exit) if self.terminated.load(Ordering::Acquire) => exit.clone(),
            _ => Exit::Killed,
        }
    }

    pub(crate) fn runtime(&self) -> &Handle {
        &self.runtime
    }

    /// Queues an exit signal for this server; `false` when it is not running.
    pub(crate) fn send_exit_signal(&self, from: ActorCell, reason: Exit) -> bool {
        match self.cell.get() {
            Some(cell) if !self.is_stopping() => (self.exit_signal)(cell, from, reason),
            _ => false,
        }
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("name", &self.name)
            .field("exit", &self.exit.get())
            .field("stopping", &self.is_stopping())
            .finish_non_exhaustive()
    }
}

impl<G: GenServer> Server<G> {
    pub(crate) fn from_parts(actor: ActorRef<Envelope<G>>, shared: Arc<Shared>) -> Self {
        Server { actor, shared }
    }

    pub(crate) fn shared(&self) -> &Shared {
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
        if runtime::current_server() == Some(self.id()) {
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
        self.shared.name.as_deref()
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

    /// The typed ractor reference of this server's actor.
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
        self.actor
            .send_message(envelope)
            .map_err(|error| match error {
                ractor::MessagingErr::SendErr(envelope) => Some(envelope),
                ractor::MessagingErr::ChannelClosed | ractor::MessagingErr::InvalidActorType => {
                    None
                }
            })
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

impl<G: GenServer> Clone for Server<G> {
    fn clone(&self) -> Self {
        Server {
            actor: self.actor.clone(),
            shared: Arc::clone(&self.shared),
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
