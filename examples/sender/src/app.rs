//! The app's supervision tree: a root supervisor over the email task supervisor.

use arbor::prelude::*;

use crate::SenderError;

/// The root supervisor's name, in logs.
pub const SENDER: &str = "sender";

/// The email task supervisor's child id (and name, in logs): the book's
/// `Sender.EmailTaskSupervisor`.
pub const EMAIL_TASK_SUPERVISOR: &str = "sender.email_task_supervisor";

/// The running app (the book's `Sender.Application`):
///
/// ```text
/// sender                          Supervisor, one_for_one
/// └── sender.email_task_supervisor  TaskSupervisor: one temporary task per email
/// ```
///
/// Cheap to clone.
#[derive(Debug, Clone)]
pub struct App {
    root: Supervisor,
}

impl App {
    /// Starts the supervision tree.
    ///
    /// # Errors
    ///
    /// [`SenderError::Start`] when the tree does not start.
    pub async fn start() -> Result<Self, SenderError> {
        let root = Supervisor::start(
            [TaskSupervisor::child_spec(
                EMAIL_TASK_SUPERVISOR,
                DynamicSupervisorOptions::default(),
            )],
            SupervisorOptions::one_for_one().name(SENDER),
        )
        .await?;
        Ok(App { root })
    }

    /// The email task supervisor running now. Asked of the root supervisor each time,
    /// as the book looks its supervisor up by name: a handle kept from an earlier call
    /// would point at a dead supervisor once the root has restarted it.
    ///
    /// # Errors
    ///
    /// [`SenderError::Unreachable`] when the app has stopped;
    /// [`SenderError::NoTaskSupervisor`] when the task supervisor is not running.
    pub async fn email_task_supervisor(&self) -> Result<TaskSupervisor, SenderError> {
        self.root
            .find_child(EMAIL_TASK_SUPERVISOR)
            .await?
            .as_ref()
            .and_then(TaskSupervisor::from_child)
            .ok_or(SenderError::NoTaskSupervisor)
    }

    /// The root supervisor, for its full API (`which_children`, `tree`, ...).
    pub fn supervisor(&self) -> &Supervisor {
        &self.root
    }

    /// Stops the app: the task supervisor and any task still running, then the root.
    pub async fn stop(&self) -> Exit {
        self.root.stop(Exit::shutdown()).await
    }
}
