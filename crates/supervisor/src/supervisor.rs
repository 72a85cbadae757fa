//! `Supervisor`: the handle to a running static supervisor.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use arbor_actor::ractor::{ActorCell, ActorId};
use arbor_actor::{CallError, Exit, HandleCall, Server, StageStats, StartError, StartOptions};
use tokio::sync::oneshot;

use crate::dynamic::DynamicServer;
use crate::runtime::{
    Boot, CountChildren, DeleteChild, RestartChild, StartChild, SupervisorServer, TerminateChild,
    WhichChildren,
};
use crate::{
    AutoShutdown, Child, ChildCounts, ChildError, ChildInfo, ChildKind, ChildSpec, ChildrenHook,
    DynamicSupervisor, NodeState, NodeStats, Restart, SpecError, StartChildError, SupervisorError,
    SupervisorOptions, TreeNode,
};

/// Supervisor calls wait as long as the work takes (a child's `init` may be slow), as
/// OTP's do; the supervisor answers as soon as it has done it.
pub(crate) const SUPERVISOR_CALL: Duration = Duration::MAX;

/// A running supervisor: starts its children in order, restarts them by its strategy,
/// stops them in reverse order. Cheap to clone.
///
/// # Examples
///
/// ```
/// use arbor_actor::{CallOutcome, Caller, Context, GenServer, HandleCall, Init};
/// use arbor_supervisor::{ChildSpec, Supervisor, SupervisorOptions};
///
/// #[derive(Clone)]
/// struct Counter;
/// impl GenServer for Counter {
///     type Args = u64;
///     type State = u64;
///     async fn init(&self, start: u64, _ctx: &mut Context<Self>) -> Init<u64> {
///         Init::Ready(start)
///     }
/// }
/// struct Get;
/// impl HandleCall<Get> for Counter {
///     type Reply = u64;
///     async fn handle_call(&self, _: Get, _: Caller<'_, u64>, n: &mut u64, _: &mut Context<Self>) -> CallOutcome<u64> {
///         CallOutcome::Reply(*n)
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let tree = Supervisor::start(
///     [ChildSpec::worker("hits", Counter, 0), ChildSpec::worker("misses", Counter, 10)],
///     SupervisorOptions::one_for_one().max_restarts(3).max_seconds(5),
/// )
/// .await?;
/// let counts = tree.count_children().await?;
/// assert_eq!((counts.specs, counts.active), (2, 2));
/// let misses = tree.which_children().await?[1].state.child().and_then(|c| c.server::<Counter>()).unwrap();
/// assert_eq!(misses.call(Get).await?, 10);
/// tree.stop(arbor_actor::Exit::shutdown()).await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Supervisor {
    server: Server<SupervisorServer>,
}

impl Supervisor {
    /// Starts a supervisor and its children, in order; returns once all have started.
    ///
    /// # Errors
    ///
    /// [`SupervisorError`]: invalid options, duplicate ids, a child that failed to start
    /// (the ones started before it are stopped again, last first).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future while children start abandons the start: the supervisor and
    /// the children started so far are killed at once, the one still in `init` included.
    /// They are not shut down in reverse order and their `terminate` does not run (ractor
    /// kills a dead actor's linked children); a start that fails on its own, by contrast,
    /// stops the children started so far in order.
    pub async fn start(
        children: impl IntoIterator<Item = ChildSpec>,
        options: SupervisorOptions,
    ) -> Result<Self, SupervisorError> {
        Self::start_inner(children.into_iter().collect(), options, None).await
    }

    /// [`Supervisor::start`], linked under `parent` (another supervisor's cell).
    ///
    /// # Errors
    ///
    /// As [`Supervisor::start`].
    ///
    /// # Cancel safety
    ///
    /// As [`Supervisor::start`].
    pub async fn start_link(
        children: impl IntoIterator<Item = ChildSpec>,
        options: SupervisorOptions,
        parent: ActorCell,
    ) -> Result<Self, SupervisorError> {
        Self::start_inner(children.into_iter().collect(), options, Some(parent)).await
    }

    /// A child spec that starts this kind of supervisor under another one (kind
    /// supervisor, `Shutdown::Infinity`), named after `id` unless `options` name it.
    pub fn child_spec(
        id: impl Into<String>,
        children: Vec<ChildSpec>,
        options: SupervisorOptions,
    ) -> ChildSpec {
        let id = id.into();
        let options = SupervisorOptions {
            name: options.name.or_else(|| Some(id.clone())),
            ..options
        };
        ChildSpec::from_fn(id, move |parent| {
            let children = children.clone();
            let options = options.clone();
            async move {
                Supervisor::start_link(children, options, parent)
                    .await
                    .map(|supervisor| Child::from(supervisor.server))
                    .map_err(SupervisorError::into_start_error)
            }
        })
        .as_supervisor()
    }

    async fn start_inner(
        specs: Vec<ChildSpec>,
        options: SupervisorOptions,
        parent: Option<ActorCell>,
    ) -> Result<Self, SupervisorError> {
        options.validate()?;
        validate_specs(&specs, options.auto_shutdown)?;
        let (failure, failed) = oneshot::channel();
        let mut start = StartOptions::new();
        start.name = options.name.as_deref().map(Arc::from);
        start.link = parent;
        let boot = Boot { specs, failure };
        match Server::start_with(SupervisorServer { options }, boot, start).await {
            Ok(server) => Ok(Supervisor { server }),
            Err(error) => Err(failed.await.unwrap_or(SupervisorError::Start(error))),
        }
    }

    /// Starts a new child and adds it at the end of the start order.
    ///
    /// # Errors
    ///
    /// [`StartChildError`]: the id is taken (`AlreadyStarted` with the running child, or
    /// `AlreadyPresent` for a child kept but not running), the spec is invalid for this
    /// supervisor (`InvalidSpec`), the child failed to start, or the supervisor is not
    /// running.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not withdraw the request: the child may still start.
    pub async fn start_child(&self, spec: ChildSpec) -> Result<Child, StartChildError> {
        self.request(StartChild(spec))
            .await
            .map_err(StartChildError::Supervisor)?
    }

    /// Stops the child with this id as its `shutdown` says; its spec is kept (removed for
    /// a temporary child).
    ///
    /// # Errors
    ///
    /// [`ChildError::NotFound`], or the supervisor is not running.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not withdraw the request.
    pub async fn terminate_child(&self, id: &str) -> Result<(), ChildError> {
        self.child_request(TerminateChild(id.to_string())).await
    }

    /// Starts again a child that is not running (terminated with `terminate_child`).
    ///
    /// # Errors
    ///
    /// [`ChildError`]: not found, running, failed to start, or the supervisor is not running.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not withdraw the request.
    pub async fn restart_child(&self, id: &str) -> Result<Child, ChildError> {
        self.child_request(RestartChild(id.to_string())).await
    }

    /// Removes the spec of a child that is not running.
    ///
    /// # Errors
    ///
    /// [`ChildError`]: not found, running, or the supervisor is not running.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future does not withdraw the request.
    pub async fn delete_child(&self, id: &str) -> Result<(), ChildError> {
        self.child_request(DeleteChild(id.to_string())).await
    }

    /// Every child, in start order, with its state.
    ///
    /// # Errors
    ///
    /// The supervisor is not running.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, CallError> {
        self.request(WhichChildren).await
    }

    /// The running child with this id, if any.
    ///
    /// # Errors
    ///
    /// The supervisor is not running.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn find_child(&self, id: &str) -> Result<Option<Child>, CallError> {
        let children = self.which_children().await?;
        Ok(children
            .into_iter()
            .find(|info| info.id == id)
            .and_then(|info| info.state.child().cloned()))
    }

    /// How many children it has, by kind and running.
    ///
    /// # Errors
    ///
    /// The supervisor is not running.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn count_children(&self) -> Result<ChildCounts, CallError> {
        self.request(CountChildren).await
    }

    crate::handle::supervisor_handle_methods!(
        "Stops the supervisor: its children first, last started first, each as its spec says; returns once everything has stopped, with the supervisor's exit."
    );

    /// The supervisor as a child of another supervisor, when it was started by one.
    pub fn from_child(child: &Child) -> Option<Self> {
        child
            .server::<SupervisorServer>()
            .map(|server| Supervisor { server })
    }

    async fn request<M>(
        &self,
        request: M,
    ) -> Result<<SupervisorServer as HandleCall<M>>::Reply, CallError>
    where
        SupervisorServer: HandleCall<M>,
        M: Send + 'static,
    {
        self.server.call_timeout(request, SUPERVISOR_CALL).await
    }

    async fn child_request<M, R>(&self, request: M) -> Result<R, ChildError>
    where
        SupervisorServer: HandleCall<M, Reply = Result<R, ChildError>>,
        M: Send + 'static,
    {
        self.request(request)
            .await
            .map_err(ChildError::Supervisor)?
    }
}

impl SupervisorError {
    /// How a nested supervisor's failure reads to the supervisor starting it.
    ///
    /// A grandchild whose via name is taken keeps its typed error (the name and the
    /// holder), so the parent reads `ChildStart { error: AlreadyStarted { .. } }` rather
    /// than a string. Other failures become an `Init` error whose text carries the whole
    /// chain of causes.
    pub(crate) fn into_start_error(self) -> StartError {
        match self {
            SupervisorError::Start(error)
            | SupervisorError::ChildStart {
                error: error @ StartError::AlreadyStarted { .. },
                ..
            } => error,
            other => StartError::Init(Exit::error(error_chain(&other))),
        }
    }
}

fn validate_specs(specs: &[ChildSpec], auto_shutdown: AutoShutdown) -> Result<(), SupervisorError> {
    let mut seen = HashSet::new();
    for spec in specs {
        check_spec(spec, auto_shutdown).map_err(SupervisorError::InvalidSpec)?;
        if !seen.insert(spec.id.as_str()) {
            return Err(SupervisorError::DuplicateChildId(spec.id.clone()));
        }
    }
    Ok(())
}

/// What is wrong with a spec under a supervisor with this `auto_shutdown`, if anything,
/// in OTP's order: a significant child needs an `auto_shutdown` other than `Never`, and
/// must not be permanent (it could never stop the supervisor).
pub(crate) fn check_spec(spec: &ChildSpec, auto_shutdown: AutoShutdown) -> Result<(), SpecError> {
    if !spec.significant {
        return Ok(());
    }
    if auto_shutdown == AutoShutdown::Never {
        return Err(SpecError::SignificantWithoutAutoShutdown {
            id: spec.id.clone(),
        });
    }
    if spec.restart == Restart::Permanent {
        return Err(SpecError::SignificantPermanent {
            id: spec.id.clone(),
        });
    }
    Ok(())
}

type SubtreeFuture = Pin<Box<dyn Future<Output = Vec<TreeNode>> + Send>>;

/// The nodes for `children`, recursing into nested supervisors.
pub(crate) fn subtrees(children: Vec<ChildInfo>) -> SubtreeFuture {
    Box::pin(async move {
        let mut nodes = Vec::with_capacity(children.len());
        for info in children {
            // Any kind: a ConsumerSupervisor may be started as a worker.
            let grandchildren = match info.state.child() {
                Some(child) => nested(child).await,
                None => Vec::new(),
            };
            let stats = info.state.child().and_then(Child::stats);
            nodes.push(TreeNode {
                id: info.id,
                kind: info.kind,
                actor: info.state.child().map(|child| child.id().to_string()),
                state: NodeState::from(&info.state),
                stats: NodeStats::of(stats, info.restarts),
                stage: stats
                    .and_then(|stats| stats.stage())
                    .map(StageStats::snapshot),
                children: grandchildren,
            });
        }
        nodes
    })
}

async fn nested(child: &Child) -> Vec<TreeNode> {
    let infos = if let Some(supervisor) = Supervisor::from_child(child) {
        supervisor.which_children().await
    } else if let Some(dynamic) = child.server::<DynamicServer>() {
        DynamicSupervisor::from_server(dynamic)
            .which_children()
            .await
    } else if let Some(ChildrenHook(children)) = ChildrenHook::of(child) {
        children(child).await
    } else {
        return Vec::new();
    };
    match infos {
        Ok(infos) => subtrees(infos).await,
        Err(_) => Vec::new(),
    }
}

pub(crate) fn root_node<G: arbor_actor::GenServer>(
    server: &Server<G>,
    children: Vec<TreeNode>,
) -> TreeNode {
    TreeNode {
        id: server.name().unwrap_or("root").to_string(),
        kind: ChildKind::Supervisor,
        actor: Some(server.id().to_string()),
        state: if server.is_alive() {
            NodeState::Running
        } else {
            NodeState::Undefined
        },
        stats: NodeStats::of(Some(server.stats()), 0),
        stage: None,
        children,
    }
}

/// An error and its sources, as one line: `outer: inner: …`.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
