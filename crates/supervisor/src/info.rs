//! What `which_children`, `count_children` and `tree` report.

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
