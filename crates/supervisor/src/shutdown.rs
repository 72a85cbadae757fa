//! How a child is stopped: ask, wait up to a limit, then kill.

use std::time::Duration;

use arbor_actor::ractor::ActorCell;
use arbor_actor::Exit;
use tokio::time::Instant;

use crate::{Child, ChildSpec};

/// How long a supervisor waits for a child to stop before killing it (OTP's `shutdown`
/// child-spec key).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use arbor_supervisor::Shutdown;
///
/// assert_eq!(Shutdown::default(), Shutdown::Timeout(Duration::from_secs(5)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub enum Shutdown {
    /// Kill at once, without `terminate` (OTP's `:brutal_kill`).
    BrutalKill,
    /// Ask the child to stop (`terminate` runs), and kill it if it has not stopped
    /// within the duration. Workers default to 5 seconds.
    Timeout(Duration),
    /// Ask the child to stop and wait as long as it takes: the default for supervisors,
    /// which need the time to stop their own children.
    Infinity,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::Timeout(Duration::from_secs(5))
    }
}

/// The supervisor doing the stopping: its cell (to unlink from) and its name (for logs).
#[derive(Debug)]
pub(crate) struct Stopper {
    pub(crate) cell: ActorCell,
    pub(crate) name: String,
}

impl Stopper {
    /// The supervisor whose callback is running, for the children it stops.
    pub(crate) fn of<G: arbor_actor::GenServer>(ctx: &arbor_actor::Context<G>) -> Self {
        Stopper {
            cell: ctx.myself().cell(),
            name: ctx.myself().to_string(),
        }
    }
}

/// Stops one child as its spec's `shutdown` says and waits until it is gone. The child is
/// unlinked first, so its exit is not mistaken for a crash.
pub(crate) async fn shut_down(child: &Child, spec: &ChildSpec, by: &Stopper) {
    child.cell().unlink(by.cell.clone());
    ask(child, spec.shutdown);
    wait(child, spec, by, Instant::now()).await;
}

/// Stops `children` at once as their specs' `shutdown` says (ask, wait, kill), each
/// unlinked from `supervisor` first so its exit is not taken for a crash: how a
/// DynamicSupervisor, or a supervisor of your own, stops its children. Returns once all
/// are gone.
///
/// # Cancel safety
///
/// Every child is asked to stop at the first poll, before anything is awaited. Dropping
/// the future after that stops the waiting only: the children still stop as asked, but one
/// that outlives its `shutdown` deadline is not killed.
pub async fn shut_down_children(
    children: &[(Child, &ChildSpec)],
    supervisor: &ActorCell,
    name: &str,
) {
    let by = Stopper {
        cell: supervisor.clone(),
        name: name.to_string(),
    };
    shut_down_all(children, &by).await;
}

/// Stops many children at once (DynamicSupervisor): every stop is asked first, then each
/// is waited for against the same start time.
pub(crate) async fn shut_down_all(children: &[(Child, &ChildSpec)], by: &Stopper) {
    let asked_at = Instant::now();
    for (child, spec) in children {
        child.cell().unlink(by.cell.clone());
        ask(child, spec.shutdown);
    }
    for (child, spec) in children {
        wait(child, spec, by, asked_at).await;
    }
}

fn ask(child: &Child, shutdown: Shutdown) {
    match shutdown {
        Shutdown::BrutalKill => child.kill(),
        Shutdown::Timeout(_) | Shutdown::Infinity => child.request_stop(Exit::shutdown()),
    }
}

async fn wait(child: &Child, spec: &ChildSpec, by: &Stopper, asked_at: Instant) {
    let cell = child.cell();
    match spec.shutdown {
        Shutdown::BrutalKill | Shutdown::Infinity => {
            let _ = cell.wait(None).await;
        }
        Shutdown::Timeout(limit) => {
            let left = (asked_at + limit).saturating_duration_since(Instant::now());
            if cell.wait(Some(left)).await.is_err() {
                tracing::warn!(
                    supervisor = %by.name,
                    child = %spec.id,
                    actor = %child,
                    timeout = ?limit,
                    "child did not stop in time; killing it"
                );
                child.kill();
                let _ = cell.wait(None).await;
            }
        }
    }
}
