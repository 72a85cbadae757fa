//! Stop and restart a child found by its actor id.
//!
//! A child is named by its actor id, not by its place in the tree: an id names one
//! incarnation, so a click on a child that has restarted since the page last drew it
//! finds nothing and changes nothing (OTP's observer acts on a pid the same way).

use arbor_supervisor::{Child, ChildInfo, DynamicSupervisor, Supervisor};

/// What a click asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Kill the child: its supervisor restarts it as its restart kind says (a
    /// `temporary` child is not restarted).
    Restart,
    /// Stop it through its supervisor, within its `shutdown` (OTP's `terminate_child`).
    Stop,
}

/// Why an action did nothing.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ActionError {
    /// No running child has this actor id (it has stopped or restarted since).
    #[error("no running child is actor {0}")]
    NotFound(String),
    /// The supervisor refused or did not answer.
    #[error("the supervisor did not stop the child: {0}")]
    Supervisor(#[from] arbor_supervisor::ChildError),
}

/// The supervisor a child was found under.
enum Parent {
    Static(Supervisor),
    Dynamic(DynamicSupervisor),
}

impl Parent {
    async fn which_children(&self) -> Vec<ChildInfo> {
        let children = match self {
            Parent::Static(supervisor) => supervisor.which_children().await,
            Parent::Dynamic(supervisor) => supervisor.which_children().await,
        };
        // A supervisor that stops while it is searched has no children to act on.
        children.unwrap_or_default()
    }

    async fn terminate(&self, info: &ChildInfo, child: &Child) -> Result<(), ActionError> {
        match self {
            Parent::Static(supervisor) => supervisor.terminate_child(&info.id).await?,
            Parent::Dynamic(supervisor) => supervisor.terminate_child(child).await?,
        }
        Ok(())
    }

    fn of(child: &Child) -> Option<Parent> {
        Supervisor::from_child(child)
            .map(Parent::Static)
            .or_else(|| DynamicSupervisor::from_child(child).map(Parent::Dynamic))
    }
}

/// Does `action` to the running child of the tree under `root` whose actor id is
/// `actor`. The root itself is no supervisor's child, so it is never found.
pub(crate) async fn act(root: &Supervisor, actor: &str, action: Action) -> Result<(), ActionError> {
    let mut pending = vec![Parent::Static(root.clone())];
    while let Some(parent) = pending.pop() {
        for info in parent.which_children().await {
            let Some(child) = info.state.child() else {
                continue;
            };
            if child.id().to_string() == actor {
                tracing::info!(child = %info.id, %actor, ?action, "observer action");
                return match action {
                    Action::Restart => {
                        child.kill();
                        Ok(())
                    }
                    Action::Stop => parent.terminate(&info, child).await,
                };
            }
            pending.extend(Parent::of(child));
        }
    }
    Err(ActionError::NotFound(actor.to_owned()))
}
