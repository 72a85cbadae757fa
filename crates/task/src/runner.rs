//! The ractor actor a task runs in when it must be an actor: linked under the server that
//! spawned it, or a child of a task supervisor. Elsewhere a task is a plain tokio task.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

use arbor_actor::ractor::{Actor, ActorProcessingErr, ActorRef};
use arbor_actor::{Exit, Pid};
use futures_util::FutureExt;
use tokio::sync::oneshot;

/// A task's whole run: its future, with its result already on its way to the awaiter.
/// `Err` is the abnormal exit the actor then fails with.
pub(crate) type Body = Pin<Box<dyn Future<Output = Result<(), Exit>> + Send>>;

/// Where a task's result goes: to whoever holds its [`Task`](crate::Task) handle.
pub(crate) type ResultSender<T> = oneshot::Sender<Result<T, Exit>>;

/// Runs `future`, catching its panic as [`Exit::Panic`], and sends the outcome to
/// `result` when there is someone to tell.
///
/// A linked task whose awaiter is gone before it finishes stops at once: its owner went
/// away, and nobody can read its result (this covers a handle lost while its task was
/// still being started under a supervisor).
pub(crate) fn body<F>(future: F, result: Option<ResultSender<F::Output>>, linked: bool) -> Body
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    Box::pin(async move {
        let run = AssertUnwindSafe(future).catch_unwind();
        let outcome = match result {
            Some(mut result) if linked => {
                tokio::select! {
                    outcome = run => Some((outcome, result)),
                    () = result.closed() => None,
                }
            }
            Some(result) => Some((run.await, result)),
            None => return run.await.map(drop).map_err(Exit::from_panic),
        };
        let Some((outcome, result)) = outcome else {
            return Ok(());
        };
        let outcome = outcome.map_err(Exit::from_panic);
        let exit = outcome.as_ref().err().cloned();
        // The awaiter may be gone (shut down, dropped): nothing is waiting then.
        let _ = result.send(outcome);
        exit.map_or(Ok(()), Err)
    })
}

/// The ractor handler; the state is the body until it runs, and the owner to signal.
pub(crate) struct TaskActor;

/// What a task actor starts with.
pub(crate) struct Run {
    pub(crate) body: Option<Body>,
    /// A server the task is linked to without being its ractor child (a supervised task
    /// spawned on a server's behalf): it gets the task's abnormal exit as an exit signal.
    pub(crate) owner: Option<Pid>,
}

impl Actor for TaskActor {
    type Msg = ();
    type State = Run;
    type Arguments = Run;

    async fn pre_start(&self, _myself: ActorRef<()>, run: Run) -> Result<Run, ActorProcessingErr> {
        Ok(run)
    }

    /// The body runs here, before any message: a kill cancels it at its next `.await`.
    async fn post_start(
        &self,
        myself: ActorRef<()>,
        run: &mut Run,
    ) -> Result<(), ActorProcessingErr> {
        let Some(body) = run.body.take() else {
            return Ok(());
        };
        match body.await {
            Ok(()) => {
                myself.stop(Some(Exit::Normal.to_string()));
                Ok(())
            }
            Err(exit) => {
                if let Some(owner) = &run.owner {
                    // The owner may already be gone; then there is no one left to take down.
                    let _ = owner.exit_signal(myself.get_cell(), exit.clone());
                }
                Err(Box::new(exit))
            }
        }
    }
}
