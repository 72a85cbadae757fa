//! What ends an application's wait: a signal from the operating system or a
//! [`StopHandle`].

use std::sync::Arc;

use tokio::sync::Notify;

/// Why an application began to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// ctrl-c (SIGINT).
    Interrupt,
    /// SIGTERM, as sent by `kill`, systemd or a container runtime.
    Terminate,
    /// [`StopHandle::stop`] was called.
    Requested,
    /// The work given to [`Running::run_until`](crate::Running::run_until) finished.
    Finished,
}

impl std::fmt::Display for Trigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Trigger::Interrupt => "interrupt (ctrl-c)",
            Trigger::Terminate => "terminate (SIGTERM)",
            Trigger::Requested => "stop requested",
            Trigger::Finished => "its work finished",
        })
    }
}

/// Stops a running application from the program itself, as a signal would: the tree
/// is shut down in order and the outcome says [`Trigger::Requested`].
///
/// Cheap to clone; a stop asked before the application waits is not lost.
///
/// # Examples
///
/// ```
/// use arbor_app::{Application, Outcome, Trigger};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app = Application::builder([]);
/// app.stop_handle().stop();
/// let outcome = app.run().await;
/// assert!(matches!(outcome, Outcome::Stopped { trigger: Trigger::Requested }));
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct StopHandle {
    requested: Arc<Notify>,
}

impl StopHandle {
    /// Asks the application to stop. Calling it again changes nothing.
    pub fn stop(&self) {
        // One waiter, the application: `notify_one` keeps the permit if it is not
        // waiting yet.
        self.requested.notify_one();
    }

    pub(crate) async fn requested(&self) {
        self.requested.notified().await;
    }
}

/// The operating system's stop signals, installed at start so that a signal sent as
/// soon as the tree runs is caught rather than killing the process.
#[derive(Debug)]
pub(crate) struct Signals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    pub(crate) fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let install = |kind: SignalKind, name: &str| match signal(kind) {
                Ok(stream) => Some(stream),
                Err(error) => {
                    // Without the handler the signal keeps its default action (the
                    // process dies); the application still stops through its handle.
                    tracing::warn!(signal = name, %error, "cannot listen for the signal");
                    None
                }
            };
            Signals {
                interrupt: install(SignalKind::interrupt(), "SIGINT"),
                terminate: install(SignalKind::terminate(), "SIGTERM"),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// The first signal received; never returns when none can be received.
    pub(crate) async fn received(&mut self) -> Trigger {
        #[cfg(unix)]
        {
            tokio::select! {
                Some(()) = next(&mut self.interrupt) => Trigger::Interrupt,
                Some(()) = next(&mut self.terminate) => Trigger::Terminate,
                else => std::future::pending().await,
            }
        }
        #[cfg(not(unix))]
        {
            match tokio::signal::ctrl_c().await {
                Ok(()) => Trigger::Interrupt,
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for ctrl-c");
                    std::future::pending().await
                }
            }
        }
    }
}

#[cfg(unix)]
async fn next(signal: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
    match signal {
        Some(signal) => signal.recv().await,
        None => None,
    }
}
