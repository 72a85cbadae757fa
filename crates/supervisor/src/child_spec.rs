//! `ChildSpec`: how to start a child, and how to treat it when it exits.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use arbor_actor::ractor::ActorCell;
use arbor_actor::{GenServer, Server, StartError, StartOptions};
use futures_util::FutureExt;

use crate::{Child, Restart, Shutdown};

/// What a child's start function returns.
pub type StartFuture = Pin<Box<dyn Future<Output = Result<Child, StartError>> + Send>>;

type StartFn = Arc<dyn Fn(ActorCell) -> StartFuture + Send + Sync>;

/// Whether a child is a worker or a supervisor (OTP's `type` child-spec key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum ChildKind {
    /// Any child that is not a supervisor.
    #[default]
    Worker,
    /// A supervisor: it gets `Shutdown::Infinity` by default.
    Supervisor,
}

/// How to start a child and how to treat it when it exits: OTP's child specification.
///
/// The start function is called again for every restart, so it must be able to build a
/// fresh child each time (hence `Clone` arguments).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use arbor_actor::{Context, GenServer, Init};
/// use arbor_supervisor::{ChildKind, ChildSpec, Restart, Shutdown};
///
/// #[derive(Clone)]
/// struct Cache;
/// impl GenServer for Cache {
///     type Args = usize;
///     type State = usize;
///     async fn init(&self, capacity: usize, _ctx: &mut Context<Self>) -> Init<usize> {
///         Init::Ready(capacity)
///     }
/// }
///
/// let spec = ChildSpec::worker("cache", Cache, 1024)
///     .restart(Restart::Transient)
///     .shutdown(Shutdown::Timeout(Duration::from_secs(1)));
/// assert_eq!(spec.id, "cache");
/// assert_eq!(spec.kind, ChildKind::Worker);
/// ```
#[derive(Clone)]
#[non_exhaustive]
#[must_use]
pub struct ChildSpec {
    /// The child's id, unique within its supervisor.
    pub id: String,
    /// When it is restarted. Default: `Permanent`.
    pub restart: Restart,
    /// How it is stopped. Default: 5 s for workers, `Infinity` for supervisors.
    pub shutdown: Shutdown,
    /// Worker or supervisor.
    pub kind: ChildKind,
    /// Whether its exit can stop the supervisor under `AutoShutdown` (OTP 24's
    /// significant children). Default: `false`.
    pub significant: bool,
    start: StartFn,
}

impl ChildSpec {
    /// A worker that is an arbor server of behaviour `G`, started with `args` (cloned
    /// for each restart) and named `id` in logs.
    pub fn worker<G>(id: impl Into<String>, server: G, args: G::Args) -> Self
    where
        G: GenServer + Clone,
        G::Args: Clone + Sync,
    {
        let id = id.into();
        // Shared by every incarnation's logs, so a restart allocates no name.
        let options = StartOptions::new().name(id.as_str());
        Self::worker_with(id, server, args, options)
    }

    /// A worker started with `options` (its name, via-naming and init timeout; the link
    /// is the supervisor's). Each restart registers again under the same via name, so
    /// the restarted server is reachable by that name.
    ///
    /// # Examples
    ///
    /// ```
    /// # use arbor_actor::{Context, GenServer, Init};
    /// # #[derive(Clone)]
    /// # struct Cache;
    /// # impl GenServer for Cache {
    /// #     type Args = usize;
    /// #     type State = usize;
    /// #     async fn init(&self, size: usize, _ctx: &mut Context<Self>) -> Init<usize> {
    /// #         Init::Ready(size)
    /// #     }
    /// # }
    /// use std::time::Duration;
    /// use arbor_actor::StartOptions;
    /// use arbor_supervisor::ChildSpec;
    ///
    /// let options = StartOptions::new().name("cache").init_timeout(Duration::from_secs(1));
    /// let spec = ChildSpec::worker_with("cache", Cache, 1024, options);
    /// assert_eq!(spec.id, "cache");
    /// ```
    pub fn worker_with<G>(
        id: impl Into<String>,
        server: G,
        args: G::Args,
        options: StartOptions,
    ) -> Self
    where
        G: GenServer + Clone,
        G::Args: Clone + Sync,
    {
        Self::from_fn(id, move |supervisor| {
            let options = options.clone().link(supervisor);
            // `map`, not an `async` block, which would hold the start future twice: the
            // supervisor boxes this future once per start, and at this size it stays in
            // the allocator's per-thread cache.
            Server::start_with(server.clone(), args.clone(), options)
                .map(|started| started.map(Child::from))
        })
    }

    /// A worker started by `start`, which receives the supervisor's cell to link the
    /// child under (with [`Server::start_link`] or ractor's `spawn_linked`).
    pub fn from_fn<F, Fut>(id: impl Into<String>, start: F) -> Self
    where
        F: Fn(ActorCell) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Child, StartError>> + Send + 'static,
    {
        ChildSpec {
            id: id.into(),
            restart: Restart::default(),
            shutdown: Shutdown::default(),
            kind: ChildKind::Worker,
            significant: false,
            start: Arc::new(move |supervisor| Box::pin(start(supervisor))),
        }
    }

    /// Sets when the child is restarted.
    pub fn restart(mut self, restart: Restart) -> Self {
        self.restart = restart;
        self
    }

    /// Sets how the child is stopped.
    pub fn shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Marks the child as a supervisor (and gives it `Shutdown::Infinity`).
    pub fn as_supervisor(mut self) -> Self {
        self.kind = ChildKind::Supervisor;
        self.shutdown = Shutdown::Infinity;
        self
    }

    /// Marks the child significant for `AutoShutdown`.
    pub fn significant(mut self, significant: bool) -> Self {
        self.significant = significant;
        self
    }

    /// Starts one incarnation of the child, linked under `supervisor`: what a supervisor
    /// does with the spec (use it to build supervisors of your own).
    pub fn start(&self, supervisor: ActorCell) -> StartFuture {
        (self.start)(supervisor)
    }
}

impl fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("restart", &self.restart)
            .field("shutdown", &self.shutdown)
            .field("kind", &self.kind)
            .field("significant", &self.significant)
            .finish_non_exhaustive()
    }
}
