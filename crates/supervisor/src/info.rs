//! What `which_children`, `count_children` and `tree` report.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use arbor_actor::{ProcessStats, StageSnapshot};

use arbor_actor::CallError;

use crate::{Child, ChildKind, ChildSpec};

/// One child as `which_children` reports it (OTP's `{id, child, type, modules}`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ChildInfo {
    /// The child's id (for a DynamicSupervisor child: the id of the spec it started from).
    pub id: String,
    /// Whether it runs, is being restarted, or is not running.
    pub state: ChildState,
    /// Worker or supervisor.
    pub kind: ChildKind,
    /// How many times the supervisor restarted this child.
    pub restarts: u64,
}

impl ChildInfo {
    pub(crate) fn of(spec: &ChildSpec, state: &ChildState, restarts: u64) -> Self {
        ChildInfo {
            id: spec.id.clone(),
            state: state.clone(),
            kind: spec.kind,
            restarts,
        }
    }
}

/// The state of one child: OTP's pid, `:restarting` or `:undefined`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum ChildState {
    /// Running, with its handle.
    Running(Child),
    /// Exited and waiting to be started again.
    Restarting,
    /// Not running (stopped on purpose, exited as its restart kind allows, or ignored at
    /// start); its spec is kept.
    Undefined,
}

impl ChildState {
    /// The running child, if any.
    pub fn child(&self) -> Option<&Child> {
        match self {
            ChildState::Running(child) => Some(child),
            ChildState::Restarting | ChildState::Undefined => None,
        }
    }
}

/// Counts of a supervisor's children (OTP's `count_children`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ChildCounts {
    /// Every child spec, running or not.
    pub specs: usize,
    /// Children that are running.
    pub active: usize,
    /// Specs of kind supervisor.
    pub supervisors: usize,
    /// Specs of kind worker.
    pub workers: usize,
}

impl ChildCounts {
    /// Counts children given as (kind, running).
    pub(crate) fn tally(children: impl IntoIterator<Item = (ChildKind, bool)>) -> Self {
        let mut counts = ChildCounts::default();
        for (kind, running) in children {
            counts.specs += 1;
            counts.active += usize::from(running);
            match kind {
                ChildKind::Supervisor => counts.supervisors += 1,
                ChildKind::Worker => counts.workers += 1,
            }
        }
        counts
    }
}

/// A recursive snapshot of a supervision tree, from [`Supervisor::tree`](crate::Supervisor::tree).
///
/// It serialises to JSON (feature `serde`), and its `Display` draws it for people, one
/// node per line with its kind and its actor id (or its state when it is not running),
/// children indented under their supervisor:
///
/// ```
/// use arbor_supervisor::{ChildKind, NodeState, NodeStats, TreeNode};
///
/// let node = |id: &str, kind, actor: Option<&str>, children| TreeNode {
///     id: id.into(),
///     kind,
///     state: if actor.is_some() { NodeState::Running } else { NodeState::Restarting },
///     actor: actor.map(Into::into),
///     stats: NodeStats::default(),
///     stage: None,
///     children,
/// };
/// let jobs = node("jobs", ChildKind::Supervisor, Some("0.3"), vec![
///     node("job-1", ChildKind::Worker, None, vec![]),
/// ]);
/// let tree = node("app", ChildKind::Supervisor, Some("0.1"), vec![
///     node("registry", ChildKind::Worker, Some("0.2"), vec![]),
///     jobs,
/// ]);
///
/// assert_eq!(tree.to_string(), "\
/// app (supervisor, 0.1)
/// ├── registry (worker, 0.2)
/// └── jobs (supervisor, 0.3)
///     └── job-1 (worker, restarting)
/// ");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TreeNode {
    /// The child's id (the root: the supervisor's name, or `"root"`).
    pub id: String,
    /// Worker or supervisor.
    pub kind: ChildKind,
    /// The child's actor id when running.
    pub actor: Option<String>,
    /// The state, as in `which_children`.
    pub state: NodeState,
    /// The process's statistics (zero when it is not running).
    pub stats: NodeStats,
    /// A stage's kind, subscriptions, demand, buffer and event counts; `None` for a
    /// process that is not a stage.
    pub stage: Option<StageSnapshot>,
    /// A supervisor's own children, in start order (a ConsumerSupervisor's too).
    pub children: Vec<TreeNode>,
}

/// The statistics of one node of a [`TreeNode`] snapshot, read from the process without
/// sending it a message, so a busy or stuck process cannot hold a snapshot up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct NodeStats {
    /// Messages the running incarnation has handled (`0` for a process that is not an
    /// arbor server).
    pub messages: u64,
    /// How many times its supervisor restarted it.
    pub restarts: u64,
    /// Messages waiting in its mailbox: `None`, as ractor 0.16 does not expose it.
    pub mailbox: Option<u64>,
}

impl NodeStats {
    /// The statistics of a process with `stats` (if it is an arbor server) that was
    /// restarted `restarts` times.
    pub fn of(stats: Option<&ProcessStats>, restarts: u64) -> Self {
        NodeStats {
            messages: stats.map_or(0, ProcessStats::messages),
            restarts,
            mailbox: stats.and_then(ProcessStats::mailbox),
        }
    }
}

impl TreeNode {
    fn fmt_line(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ChildKind::Supervisor => "supervisor",
            ChildKind::Worker => "worker",
        };
        let state = match (self.state, &self.actor) {
            (NodeState::Running, Some(actor)) => actor.as_str(),
            (NodeState::Running, None) => "running",
            (NodeState::Restarting, _) => "restarting",
            (NodeState::Undefined, _) => "not running",
        };
        writeln!(f, "{} ({kind}, {state})", self.id)
    }

    fn fmt_children(&self, f: &mut fmt::Formatter<'_>, prefix: &str) -> fmt::Result {
        for (at, child) in self.children.iter().enumerate() {
            let last = at + 1 == self.children.len();
            let (branch, indent) = if last {
                ("└── ", "    ")
            } else {
                ("├── ", "│   ")
            };
            write!(f, "{prefix}{branch}")?;
            child.fmt_line(f)?;
            child.fmt_children(f, &format!("{prefix}{indent}"))?;
        }
        Ok(())
    }
}

impl fmt::Display for TreeNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_line(f)?;
        self.fmt_children(f, "")
    }
}

/// The state of a node in a [`TreeNode`] snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum NodeState {
    /// Running.
    Running,
    /// Waiting to be restarted.
    Restarting,
    /// Not running.
    Undefined,
}

impl From<&ChildState> for NodeState {
    fn from(state: &ChildState) -> Self {
        match state {
            ChildState::Running(_) => NodeState::Running,
            ChildState::Restarting => NodeState::Restarting,
            ChildState::Undefined => NodeState::Undefined,
        }
    }
}

/// What a [`ChildrenHook`] returns: the children of the process it was set on.
pub type ChildrenFuture = Pin<Box<dyn Future<Output = Result<Vec<ChildInfo>, CallError>> + Send>>;

/// How [`Supervisor::tree`](crate::Supervisor::tree) lists the children of a process
/// that supervises without being a `Supervisor` or a `DynamicSupervisor` (a
/// ConsumerSupervisor): set on the process's statistics with
/// [`ProcessStats::set_introspection`], called with the process as a [`Child`].
///
/// A plain function, not a closure: the process's own record holds it, and a closure
/// holding the process's handle would keep that record alive forever.
///
/// # Examples
///
/// ```
/// use arbor_actor::{Context, GenServer, Init, Server};
/// use arbor_supervisor::{Child, ChildrenFuture, ChildrenHook};
///
/// struct Pool;
/// impl GenServer for Pool {
///     type Args = ();
///     type State = ();
///     async fn init(&self, _: (), ctx: &mut Context<Self>) -> Init<()> {
///         fn none(_: &Child) -> ChildrenFuture {
///             Box::pin(async { Ok(Vec::new()) })
///         }
///         ctx.myself().stats().set_introspection(Box::new(ChildrenHook(none)));
///         Init::Ready(())
///     }
/// }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = Server::start(Pool, ()).await?;
/// assert!(ChildrenHook::of(&Child::from(pool)).is_some());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ChildrenHook(pub fn(&Child) -> ChildrenFuture);

impl ChildrenHook {
    /// The hook set on `child`, if any.
    pub fn of(child: &Child) -> Option<Self> {
        child
            .stats()?
            .introspection()?
            .downcast_ref::<ChildrenHook>()
            .copied()
    }
}
