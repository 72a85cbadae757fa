//! Starting servers: `start`, `start_link`, and [`StartOptions`].

use std::any::{Any, TypeId};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorCell, SpawnErr};
use tokio::runtime::Handle;

use crate::protocol::Post;
use crate::record::{ExitSignalFn, Record};
use crate::runtime::{InitRefused, ProtocolRuntime, Runtime};
use crate::{
    GenServer, Naming, OwnProtocol, Protocol, ProtocolHandler, Server, SpawnError, StartError,
};

/// Options for [`Server::start_with`]; every field is optional.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use arbor_actor::StartOptions;
///
/// let options = StartOptions::new().name("cache").init_timeout(Duration::from_secs(1));
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
#[must_use]
pub struct StartOptions {
    /// A name for logs and crash reports. Default: none (logs show the via name, if any,
    /// else the actor id). It is not a global registration: see [`StartOptions::via`].
    pub name: Option<Arc<str>>,
    /// A name service to register the server in before `init` runs (OTP's `{:via, ..}`).
    /// Default: none.
    pub via: Option<Arc<dyn Naming>>,
    /// The ractor cell to link the server under (its supervisor). Default: none.
    pub link: Option<ActorCell>,
    /// How long `init` may take before the start fails with [`StartError::Timeout`].
    /// Default: no limit (OTP's `:infinity`).
    pub init_timeout: Option<Duration>,
}

impl StartOptions {
    /// The defaults: no name, no via-naming, no link, no init timeout.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the name shown in logs.
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Registers the server in `naming` before `init` runs, so it never runs unnamed; a
    /// taken name fails the start with [`StartError::AlreadyStarted`], a name the service
    /// cannot give with [`StartError::NameRefused`].
    pub fn via(mut self, naming: impl Naming) -> Self {
        self.via = Some(Arc::new(naming));
        self
    }

    /// Links the server under `supervisor`.
    pub fn link(mut self, supervisor: ActorCell) -> Self {
        self.link = Some(supervisor);
        self
    }

    /// Limits how long `init` may take. Zero is refused at start
    /// ([`StartError::ZeroInitTimeout`]).
    pub fn init_timeout(mut self, limit: Duration) -> Self {
        self.init_timeout = Some(limit);
        self
    }
}

impl<G: GenServer> Server<G> {
    /// Starts an unlinked server and returns once `init` has run.
    ///
    /// # Errors
    ///
    /// [`StartError`]: `init` refused or failed, or no tokio runtime.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future while `init` runs abandons the start; no server is left running.
    pub fn start(server: G, args: G::Args) -> impl Future<Output = Result<Self, StartError>> {
        Self::start_with(server, args, StartOptions::default())
    }

    /// Starts a server linked under `supervisor` (a ractor cell, such as a supervisor's),
    /// and returns once `init` has run: the supervisor is told when it exits.
    ///
    /// # Errors
    ///
    /// As [`Server::start`], plus [`StartError::Spawn`] when the supervisor is stopping.
    ///
    /// # Cancel safety
    ///
    /// As [`Server::start`].
    pub fn start_link(
        server: G,
        args: G::Args,
        supervisor: ActorCell,
    ) -> impl Future<Output = Result<Self, StartError>> {
        Self::start_with(server, args, StartOptions::new().link(supervisor))
    }

    /// Starts a server with [`StartOptions`] and returns once `init` has run.
    ///
    /// # Errors
    ///
    /// As [`Server::start_link`], plus [`StartError::Timeout`] when `init` outlasts
    /// [`StartOptions::init_timeout`].
    ///
    /// # Cancel safety
    ///
    /// As [`Server::start`].
    pub fn start_with(
        server: G,
        args: G::Args,
        options: StartOptions,
    ) -> impl Future<Output = Result<Self, StartError>> {
        let how = How {
            post: crate::protocol::post_envelope::<G>,
            exit_signal: crate::envelope::send_exit_signal::<G>,
            protocol_post: None,
        };
        launch(server, args, options, how, |runtime| runtime)
    }
}

impl<G: Protocol> Server<G> {
    /// [`Server::start_with`] for a server with a [`Protocol`] of its own: its actor
    /// receives protocol messages ([`Server::send_protocol`]) beside its envelopes. A
    /// protocol server started any other way cannot receive its protocol.
    ///
    /// # Errors
    ///
    /// As [`Server::start_with`].
    ///
    /// # Cancel safety
    ///
    /// As [`Server::start`].
    pub fn start_protocol_with(
        server: G,
        args: G::Args,
        options: StartOptions,
    ) -> impl Future<Output = Result<Self, StartError>> {
        Self::start_protocol_by::<OwnProtocol>(server, args, options)
    }

    /// [`Server::start_protocol_with`], with its protocol messages handed to `H` rather
    /// than to [`Protocol::handle_protocol`] (see [`ProtocolHandler`]).
    ///
    /// # Errors
    ///
    /// As [`Server::start_with`].
    ///
    /// # Cancel safety
    ///
    /// As [`Server::start`].
    pub fn start_protocol_by<H: ProtocolHandler<G>>(
        server: G,
        args: G::Args,
        options: StartOptions,
    ) -> impl Future<Output = Result<Self, StartError>> {
        let post: Post<G> = crate::protocol::post_mail::<G>;
        let how = How {
            post,
            exit_signal: crate::protocol::send_exit_signal::<G>,
            protocol_post: Some(Box::new(post)),
        };
        launch(server, args, options, how, ProtocolRuntime::<G, H>::new)
    }
}

/// How a server's handles and pids reach its actor.
struct How<G: GenServer> {
    post: Post<G>,
    exit_signal: ExitSignalFn,
    protocol_post: Option<Box<dyn Any + Send + Sync>>,
}

/// Spawns the actor `wrap` makes of the server's runtime, and waits for `init`.
///
/// A plain `fn` returning an `async move` block, not an `async fn`: an `async fn` keeps its
/// arguments twice in its future (as passed and as bound), and a supervisor boxes this
/// future once per child start. Nothing runs before the first poll, as before.
#[allow(clippy::manual_async_fn)] // the point of the function: see above
fn launch<G, A>(
    server: G,
    args: G::Args,
    options: StartOptions,
    how: How<G>,
    wrap: impl FnOnce(Runtime<G>) -> A,
) -> impl Future<Output = Result<Server<G>, StartError>>
where
    G: GenServer,
    A: Actor<Arguments = G::Args>,
{
    async move {
        if options.init_timeout == Some(Duration::ZERO) {
            return Err(StartError::ZeroInitTimeout);
        }
        let runtime = Handle::try_current().map_err(|_| StartError::NoRuntime)?;
        let name = options
            .name
            .or_else(|| options.via.as_ref().map(|via| Arc::from(via.name())));
        let shared = Arc::new(Record::new(
            name,
            (TypeId::of::<G>(), std::any::type_name::<G>()),
            runtime,
            how.exit_signal,
            how.protocol_post,
        ));
        let handler = wrap(Runtime {
            server,
            shared: Arc::clone(&shared),
            via: options.via,
            post: how.post,
        });
        // No ractor name: ractor's registry is process-global, and arbor keeps none.
        let spawn = async {
            let spawned = match options.link {
                Some(supervisor) => A::spawn_linked(None, handler, args, supervisor).await,
                None => A::spawn(None, handler, args).await,
            };
            spawned.map(|(actor, _join)| actor.get_cell())
        };
        let spawned = match options.init_timeout {
            // Boxed: a timer inline would grow every start's future by its size, for the
            // few starts that set a limit.
            Some(limit) => Box::pin(tokio::time::timeout(limit, spawn))
                .await
                .map_err(|_| StartError::Timeout(limit))?,
            None => spawn.await,
        };
        let actor = spawned.map_err(start_error)?;
        Ok(Server::from_parts(actor, shared, how.post))
    }
}

fn start_error(error: SpawnErr) -> StartError {
    match error {
        SpawnErr::StartupFailed(cause) => match cause.downcast::<InitRefused>() {
            Ok(refused) => match *refused {
                InitRefused::Ignore => StartError::Ignored,
                InitRefused::Stop(exit) => StartError::Init(exit),
                InitRefused::Taken { name, holder } => StartError::AlreadyStarted { name, holder },
                InitRefused::NameRefused { name, reason } => {
                    StartError::NameRefused { name, reason }
                }
            },
            Err(other) => StartError::Spawn(SpawnError::Startup(other.to_string())),
        },
        other => StartError::Spawn(SpawnError::from(other)),
    }
}
