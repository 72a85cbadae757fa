//! `Child`: a handle to a started child, whatever its behaviour.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use arbor_actor::ractor::{ActorCell, ActorId, ActorStatus};
use arbor_actor::{Exit, GenServer, ProcessStats, Server};

/// What a supervisor needs from a running child: its cell, and a way to ask it to stop
/// with a typed reason.
trait ChildHandle: Send + Sync + 'static {
    fn cell(&self) -> ActorCell;
    fn request_stop(&self, reason: Exit);
    fn kill(&self);
    fn as_any(&self) -> &dyn Any;
    fn stats(&self) -> Option<&ProcessStats>;
}

impl<G: GenServer> ChildHandle for Server<G> {
    fn cell(&self) -> ActorCell {
        Server::cell(self)
    }

    fn request_stop(&self, reason: Exit) {
        // Fails only when the server is already stopping, which is what was asked.
        let _ = self.stop(reason);
    }

    fn kill(&self) {
        Server::kill(self);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn stats(&self) -> Option<&ProcessStats> {
        Some(Server::stats(self))
    }
}

/// A plain ractor actor: it is stopped through ractor, with the reason as a string.
struct PlainActor(ActorCell);

impl ChildHandle for PlainActor {
    fn cell(&self) -> ActorCell {
        self.0.clone()
    }

    fn request_stop(&self, reason: Exit) {
        self.0.stop(Some(reason.to_string()));
    }

    fn kill(&self) {
        self.0.kill();
    }

    fn as_any(&self) -> &dyn Any {
        &self.0
    }

    fn stats(&self) -> Option<&ProcessStats> {
        None
    }
}

/// A started child: an arbor server, a supervisor, or any ractor actor.
///
/// Cheap to clone. It names one incarnation: a restarted child is a new `Child`.
///
/// # Examples
///
/// ```
/// use arbor_actor::{Context, GenServer, Init, Server};
/// use arbor_supervisor::Child;
///
/// #[derive(Clone)]
/// struct Worker;
/// impl GenServer for Worker {
///     type Args = ();
///     type State = ();
///     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
///         Init::Ready(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = Server::start(Worker, ()).await?;
/// let child = Child::from(server.clone());
/// assert_eq!(child.server::<Worker>(), Some(server));
/// assert!(child.is_alive());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Child {
    handle: Arc<dyn ChildHandle>,
    id: ActorId,
}

impl Child {
    /// A child that is an arbor server.
    pub fn from_server<G: GenServer>(server: Server<G>) -> Self {
        let id = server.id();
        Child {
            handle: Arc::new(server),
            id,
        }
    }

    /// A child that is a plain ractor actor; it is asked to stop with `ActorCell::stop`.
    pub fn from_cell(cell: ActorCell) -> Self {
        let id = cell.get_id();
        Child {
            handle: Arc::new(PlainActor(cell)),
            id,
        }
    }

    /// The child's ractor id.
    pub fn id(&self) -> ActorId {
        self.id
    }

    /// The child's ractor cell.
    pub fn cell(&self) -> ActorCell {
        self.handle.cell()
    }

    /// The typed handle, when the child is an arbor server of behaviour `G`.
    pub fn server<G: GenServer>(&self) -> Option<Server<G>> {
        self.handle.as_any().downcast_ref::<Server<G>>().cloned()
    }

    /// `true` until the child starts stopping.
    pub fn is_alive(&self) -> bool {
        matches!(
            self.cell().get_status(),
            ActorStatus::Starting | ActorStatus::Running | ActorStatus::Upgrading
        )
    }

    /// The child's statistics, read without a message; `None` for a plain ractor actor.
    pub fn stats(&self) -> Option<&ProcessStats> {
        self.handle.stats()
    }

    pub(crate) fn request_stop(&self, reason: Exit) {
        self.handle.request_stop(reason);
    }

    /// Kills the child at once (OTP's `:brutal_kill`): an arbor server's stop is decided
    /// before ractor kills its actor, so its watchers and pending callers hear of it first.
    pub fn kill(&self) {
        self.handle.kill();
    }
}

impl<G: GenServer> From<Server<G>> for Child {
    fn from(server: Server<G>) -> Self {
        Child::from_server(server)
    }
}

impl PartialEq for Child {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Child {}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Child").field(&self.id).finish()
    }
}

impl fmt::Display for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.id)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Child {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.id)
    }
}
