//! `Pid`: an untyped reference to one running actor, for name services and other
//! bookkeeping that must not know a server's behaviour type.

use std::any::TypeId;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use ractor::{ActorCell, ActorId, ActorStatus};

use crate::record::Record;
use crate::{GenServer, Server};

/// An untyped reference to one running actor: an arbor [`Server`] of any behaviour, or a
/// plain ractor actor. Cheap to clone; equal when it names the same actor.
///
/// A registry stores pids: it asks [`Pid::is_stopping`] on every read and hears of the
/// actor's stop through [`Pid::on_stop`]. [`Pid::server`] gets the typed handle back.
///
/// # Examples
///
/// ```
/// use arbor_actor::{Context, GenServer, Init, Pid, Server};
///
/// struct Idle;
/// impl GenServer for Idle {
///     type Args = ();
///     type State = ();
///     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
///         Init::Ready(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = Server::start(Idle, ()).await?;
/// let pid: Pid = server.pid();
/// assert!(!pid.is_stopping());
/// assert_eq!(pid.server::<Idle>(), Some(server.clone()));
/// server.kill();
/// server.wait().await;
/// assert!(pid.is_stopping());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Pid {
    // One allocation per pid, so that a clone (what every registry lookup returns) is a
    // single reference-count increment.
    inner: Arc<PidInner>,
}

struct PidInner {
    cell: ActorCell,
    /// Present for arbor servers: their stop is known before ractor's status moves.
    shared: Option<Arc<Record>>,
}

/// What [`Pid::on_stop`] did with the hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnStop {
    /// The hook will run once, as soon as the server's stop is decided; until then
    /// [`Pid::cancel_on_stop`] with this id takes it back.
    Registered(StopHookId),
    /// The server is already stopping: the hook was dropped without running.
    AlreadyStopping,
    /// The pid names a plain ractor actor, which offers no such hook: the hook was
    /// dropped without running. Check [`Pid::is_stopping`] on read instead.
    Unsupported,
}

/// Names one hook registered with [`Pid::on_stop`], to take it back with
/// [`Pid::cancel_on_stop`]. Ids are per server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StopHookId(pub(crate) u64);

impl Pid {
    pub(crate) fn of_server(cell: ActorCell, shared: Arc<Record>) -> Self {
        Self::new(cell, Some(shared))
    }

    fn new(cell: ActorCell, shared: Option<Arc<Record>>) -> Self {
        Pid {
            inner: Arc::new(PidInner { cell, shared }),
        }
    }

    /// The ractor id of the actor.
    pub fn id(&self) -> ActorId {
        self.inner.cell.get_id()
    }

    /// The actor's ractor cell.
    pub fn cell(&self) -> &ActorCell {
        &self.inner.cell
    }

    /// The name given at start, for arbor servers started with one.
    pub fn name(&self) -> Option<&str> {
        self.inner.shared.as_ref().and_then(|shared| shared.name())
    }

    /// `true` once the actor's stop is decided: a callback returned a stop, a panic was
    /// caught, a stop request was reached, or it was killed. For an arbor server that is
    /// before `terminate` runs and before any caller can see the stop (a call failing,
    /// `wait` returning), so a registry that asks on every read never hands out a stopping
    /// server. [`Server::is_alive`](crate::Server::is_alive), OTP's `Process.alive?/1`, is
    /// still `true` during `terminate`.
    pub fn is_stopping(&self) -> bool {
        let running = matches!(
            self.inner.cell.get_status(),
            ActorStatus::Starting | ActorStatus::Running | ActorStatus::Upgrading
        );
        !running
            || self
                .inner
                .shared
                .as_ref()
                .is_some_and(|shared| shared.is_stopping())
    }

    /// Runs `hook` once when the server's stop is decided, with the exit reason: before
    /// `terminate` runs and before any caller can see the stop. It runs on the thread that
    /// decided the stop: the server's own, except for a server killed with
    /// [`Server::kill`](crate::Server::kill), whose hooks run inside `kill`, on the killer's
    /// thread (with [`Exit::Killed`](crate::Exit::Killed)); for an actor killed through
    /// ractor directly, as its task ends. It must not block.
    pub fn on_stop(&self, hook: impl FnOnce(&crate::Exit) + Send + 'static) -> OnStop {
        match &self.inner.shared {
            Some(shared) => shared.on_stop(Box::new(hook)),
            None => OnStop::Unsupported,
        }
    }

    /// Takes back the stop hook `id` without running it: a watcher that no longer cares
    /// (a subscription that ended) must, or the server would hold its hook, and what the
    /// hook holds, until it stops (OTP's `demonitor`). Returns whether the hook was still
    /// waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use arbor_actor::{Context, GenServer, Init, OnStop, Server};
    ///
    /// struct Idle;
    /// impl GenServer for Idle {
    ///     type Args = ();
    ///     type State = ();
    ///     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
    ///         Init::Ready(())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = Server::start(Idle, ()).await?;
    /// let pid = server.pid();
    /// let OnStop::Registered(id) = pid.on_stop(|_| println!("stopped")) else { unreachable!() };
    /// assert_eq!(pid.stop_hook_count(), 1);
    /// assert!(pid.cancel_on_stop(id));
    /// assert_eq!(pid.stop_hook_count(), 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn cancel_on_stop(&self, id: StopHookId) -> bool {
        self.inner
            .shared
            .as_ref()
            .is_some_and(|shared| shared.cancel_stop_hook(id))
    }

    /// How many stop hooks wait for this server's stop (0 for a plain ractor actor).
    pub fn stop_hook_count(&self) -> usize {
        self.inner
            .shared
            .as_ref()
            .map_or(0, |shared| shared.stop_hook_count())
    }

    /// The server whose callback is running on this task: OTP's `self()`. `None` outside
    /// a server's callbacks (in `main`, in a plain tokio task).
    ///
    /// # Examples
    ///
    /// ```
    /// use arbor_actor::{CallOutcome, Caller, Context, GenServer, HandleCall, Init, Pid, Server};
    ///
    /// struct WhoAmI;
    /// impl GenServer for WhoAmI {
    ///     type Args = ();
    ///     type State = ();
    ///     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
    ///         Init::Ready(())
    ///     }
    /// }
    /// struct Ask;
    /// impl HandleCall<Ask> for WhoAmI {
    ///     type Reply = Option<Pid>;
    ///     async fn handle_call(&self, _: Ask, _: Caller<'_, Option<Pid>>, _: &mut (), _: &mut Context<Self>) -> CallOutcome<Option<Pid>> {
    ///         CallOutcome::Reply(Pid::current())
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = Server::start(WhoAmI, ()).await?;
    /// assert_eq!(server.call(Ask).await?, Some(server.pid()));
    /// assert_eq!(Pid::current(), None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn current() -> Option<Pid> {
        crate::current::current_pid()
    }

    /// Sends the server an exit signal from `from` with `reason`, as if `from` were linked
    /// under it and had exited: its [`GenServer::handle_exit`] runs, whose default stops
    /// the server with any reason but `Normal` (OTP's `Process.exit/2` from a linked
    /// process). The signal is queued behind the messages already sent.
    ///
    /// It is how an actor that cannot be linked under the server through ractor (which
    /// gives every actor one parent), such as a task started under a task supervisor on
    /// the server's behalf, still takes the server down when it crashes.
    ///
    /// # Errors
    ///
    /// [`StopError::NoProc`](crate::StopError::NoProc) when the server is not running, or
    /// the pid names a plain ractor actor, which has no `handle_exit`.
    pub fn exit_signal(
        &self,
        from: ActorCell,
        reason: crate::Exit,
    ) -> Result<(), crate::StopError> {
        match &self.inner.shared {
            Some(shared) if shared.send_exit_signal(from, reason) => Ok(()),
            _ => Err(crate::StopError::NoProc),
        }
    }

    /// The typed handle, when the pid names an arbor server of behaviour `G`.
    pub fn server<G: GenServer>(&self) -> Option<Server<G>> {
        let shared = self.inner.shared.as_ref()?;
        if shared.behaviour() != TypeId::of::<G>() {
            return None;
        }
        let post = match shared.protocol_post() {
            None => crate::protocol::post_envelope::<G>,
            Some(post) => *post.downcast_ref::<crate::protocol::Post<G>>()?,
        };
        Some(Server::from_parts(
            self.inner.cell.clone(),
            Arc::clone(shared),
            post,
        ))
    }
}

impl From<ActorCell> for Pid {
    /// A pid for a plain ractor actor (for an arbor server, prefer [`Server::pid`], which
    /// knows of its stop earlier).
    fn from(cell: ActorCell) -> Self {
        Pid::new(cell, None)
    }
}

impl From<&Pid> for Pid {
    /// A clone, so that APIs taking `impl Into<Pid>` accept `&pid` as well.
    fn from(pid: &Pid) -> Self {
        pid.clone()
    }
}

impl<G: GenServer> From<&Server<G>> for Pid {
    fn from(server: &Server<G>) -> Self {
        server.pid()
    }
}

impl PartialEq for Pid {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl Eq for Pid {}

impl Hash for Pid {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

impl fmt::Debug for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pid")
            .field("id", &self.id())
            .field("name", &self.name())
            .finish()
    }
}

impl fmt::Display for Pid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.id()),
            None => write!(f, "{}", self.id()),
        }
    }
}
