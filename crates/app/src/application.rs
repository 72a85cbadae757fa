//! [`Application`]: start a root tree, wait for a stop, shut the tree down in order.

use std::future::Future;
use std::time::Duration;

use arbor_actor::Exit;
use arbor_supervisor::{ChildSpec, Supervisor, SupervisorOptions};

use crate::outcome::Outcome;
use crate::stop::{Signals, StopHandle, Trigger};

/// How long the tree may take to stop by default: under the 30 s that Kubernetes and
/// systemd's default give a process between SIGTERM and SIGKILL, so the application
/// still reports its own outcome when the deadline passes.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(25);

/// An arbor application (OTP's `application`): a root supervision tree that runs until
/// ctrl-c, SIGTERM or a [`StopHandle`] asks it to stop, or until it gives up on its own.
///
/// Asked to stop, the root supervisor stops its children in reverse start order, each
/// within its [`Shutdown`](arbor_supervisor::Shutdown), as
/// [`Supervisor::stop`] does; whatever is still running at the
/// [deadline](ApplicationBuilder::deadline) is killed. The [`Outcome`] says which way
/// it went and gives the process's exit code.
///
/// # Examples
///
/// ```
/// use arbor_actor::{Context, GenServer, Init};
/// use arbor_app::{Application, Outcome, Trigger};
/// use arbor_supervisor::{ChildSpec, SupervisorOptions};
///
/// #[derive(Clone)]
/// struct Clock;
/// impl GenServer for Clock {
///     type Args = ();
///     type State = ();
///     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> {
///         Init::Ready(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let app = Application::builder([ChildSpec::worker("clock", Clock, ())])
///     .options(SupervisorOptions::one_for_one().name("clock_app"))
///     .start()
///     .await?;
/// assert_eq!(app.supervisor().count_children().await?.active, 1);
/// // A real `main` would end with `app.wait().await.exit_code()`, and stop on ctrl-c.
/// app.stop_handle().stop();
/// assert_eq!(app.wait().await, Outcome::Stopped { trigger: Trigger::Requested });
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Application;

impl Application {
    /// An application whose root supervisor starts `children` (one_for_one unless
    /// [`ApplicationBuilder::options`] says otherwise).
    pub fn builder(children: impl IntoIterator<Item = ChildSpec>) -> ApplicationBuilder {
        ApplicationBuilder {
            root: Root::Specs {
                children: children.into_iter().collect(),
                options: SupervisorOptions::one_for_one().name("application"),
            },
            deadline: DEFAULT_DEADLINE,
            stop: StopHandle::default(),
        }
    }

    /// An application around a root supervisor already started, for programs whose
    /// own start function builds the tree (and returns handles into it).
    pub fn of(root: Supervisor) -> ApplicationBuilder {
        ApplicationBuilder {
            root: Root::Started(root),
            deadline: DEFAULT_DEADLINE,
            stop: StopHandle::default(),
        }
    }
}

/// The options of an [`Application`]; [`start`](ApplicationBuilder::start) or
/// [`run`](ApplicationBuilder::run) it.
#[derive(Debug)]
pub struct ApplicationBuilder {
    root: Root,
    deadline: Duration,
    stop: StopHandle,
}

#[derive(Debug)]
enum Root {
    Specs {
        children: Vec<ChildSpec>,
        options: SupervisorOptions,
    },
    Started(Supervisor),
}

impl ApplicationBuilder {
    /// The root supervisor's options: strategy, restart intensity, name (default
    /// one_for_one, named `application`). Ignored by [`Application::of`], whose root
    /// has its own.
    pub fn options(mut self, options: SupervisorOptions) -> Self {
        if let Root::Specs { children, .. } = self.root {
            self.root = Root::Specs { children, options };
        }
        self
    }

    /// How long the whole tree may take to stop once asked (default
    /// [`DEFAULT_DEADLINE`]); the children still running then are killed, and the
    /// outcome is [`Outcome::Killed`].
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// A handle that stops the application as a signal would.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Starts the tree and listens for ctrl-c and SIGTERM from here on.
    ///
    /// # Errors
    ///
    /// [`SupervisorError`](arbor_supervisor::SupervisorError) when the tree does not
    /// start (the children started before the failing one are stopped again).
    ///
    /// # Cancel safety
    ///
    /// As [`Supervisor::start`]: dropping the future abandons the start and kills what
    /// had started.
    pub async fn start(self) -> Result<Running, arbor_supervisor::SupervisorError> {
        let signals = Signals::install();
        let root = match self.root {
            Root::Specs { children, options } => Supervisor::start(children, options).await?,
            Root::Started(root) => root,
        };
        tracing::info!(deadline = ?self.deadline, "application started");
        Ok(Running {
            root,
            signals,
            deadline: self.deadline,
            stop: self.stop,
        })
    }

    /// Starts the tree and runs it until it is asked to stop or stops on its own:
    /// [`start`](ApplicationBuilder::start) then [`Running::wait`].
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropping the future before a stop is asked leaves the tree
    /// running without the shell (no signal stops it); dropping it while the tree stops
    /// leaves the rest of the stop to the supervisor, with no deadline.
    pub async fn run(self) -> Outcome {
        match self.start().await {
            Ok(running) => running.wait().await,
            Err(error) => {
                tracing::error!(%error, "the application did not start");
                Outcome::FailedToStart(error)
            }
        }
    }
}

/// A started [`Application`]: its root supervisor, and the wait for its end.
#[derive(Debug)]
pub struct Running {
    root: Supervisor,
    signals: Signals,
    deadline: Duration,
    stop: StopHandle,
}

impl Running {
    /// The root supervisor, to start children under it or look into the tree.
    pub fn supervisor(&self) -> &Supervisor {
        &self.root
    }

    /// A handle that stops the application as a signal would.
    pub fn stop_handle(&self) -> StopHandle {
        self.stop.clone()
    }

    /// Waits for ctrl-c, SIGTERM or the [`StopHandle`], then stops the tree in order
    /// within the deadline; returns at once if the root supervisor stops on its own.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropping the future before a stop is asked leaves the tree
    /// running without the shell (no signal stops it); dropping it while the tree stops
    /// leaves the rest of the stop to the supervisor, with no deadline.
    pub async fn wait(mut self) -> Outcome {
        let ending = self.ending().await;
        self.finish(ending).await
    }

    /// Runs `work` (a program's main job, a demo, a batch) beside the tree. When it
    /// finishes, the tree is stopped as if asked ([`Trigger::Finished`]) and its output
    /// comes back; when a signal or the [`StopHandle`] comes first, or the root stops
    /// on its own, `work` is dropped before the tree stops, and the output is `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use arbor_app::{Application, Outcome, Trigger};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let app = Application::builder([]).start().await?;
    /// let (answer, outcome) = app.run_until(async { 6 * 7 }).await;
    /// assert_eq!(answer, Some(42));
    /// assert_eq!(outcome, Outcome::Stopped { trigger: Trigger::Finished });
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Cancel safety
    ///
    /// As [`Running::wait`].
    pub async fn run_until<F: Future>(mut self, work: F) -> (Option<F::Output>, Outcome) {
        let (output, ending) = tokio::select! {
            output = work => (Some(output), Ending::Asked(Trigger::Finished)),
            ending = self.ending() => (None, ending),
        };
        (output, self.finish(ending).await)
    }

    /// What ends the wait: a stop asked for, or the root stopping on its own.
    async fn ending(&mut self) -> Ending {
        tokio::select! {
            exit = self.root.wait() => Ending::Exited(Outcome::from_root_exit(exit)),
            trigger = self.signals.received() => Ending::Asked(trigger),
            () = self.stop.requested() => Ending::Asked(Trigger::Requested),
        }
    }

    async fn finish(self, ending: Ending) -> Outcome {
        match ending {
            Ending::Exited(outcome) => {
                tracing::error!(%outcome, "the application stopped on its own");
                outcome
            }
            Ending::Asked(trigger) => {
                tracing::info!(%trigger, deadline = ?self.deadline, "stopping the application");
                self.stop_tree(trigger).await
            }
        }
    }

    async fn stop_tree(self, trigger: Trigger) -> Outcome {
        let stopped = tokio::time::timeout(self.deadline, self.root.stop(Exit::shutdown())).await;
        if stopped.is_ok() {
            tracing::info!(%trigger, "application stopped");
            return Outcome::Stopped { trigger };
        }
        tracing::error!(
            deadline = ?self.deadline,
            "the tree did not stop by the deadline; killing the rest"
        );
        // A killed actor's linked children are killed with it, the whole way down.
        self.root.cell().kill();
        self.root.wait().await;
        Outcome::Killed {
            trigger,
            deadline: self.deadline,
        }
    }
}

/// Why [`Running`] stops waiting.
#[derive(Debug)]
enum Ending {
    Asked(Trigger),
    Exited(Outcome),
}
