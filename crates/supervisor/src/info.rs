//! What `which_children`, `count_children` and `tree` report.

use std::fmt;

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
}

impl ChildInfo {
    pub(crate) fn of(spec: &ChildSpec, state: &ChildState) -> Self {
        ChildInfo {
            id: spec.id.clone(),
            state: state.clone(),
            kind: spec.kind,
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
/// use arbor_supervisor::{ChildKind, NodeState, TreeNode};
///
/// let node = |id: &str, kind, actor: Option<&str>, children| TreeNode {
///     id: id.into(),
///     kind,
///     state: if actor.is_some() { NodeState::Running } else { NodeState::Restarting },
///     actor: actor.map(Into::into),
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
    /// A supervisor's own children, in start order.
    pub children: Vec<TreeNode>,
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
