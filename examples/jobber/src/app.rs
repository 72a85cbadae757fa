//! `Jobber`: the application. Its tree, its public API (`start_job`, `running_imports`)
//! and the runtime questions the book asks of the JobRunner.

use std::sync::Arc;

use arbor::actor::ractor::ActorId;
use arbor::actor::Exit;
use arbor::supervisor::{
    Child, ChildCounts, ChildInfo, ChildKind, DynamicSupervisor, Supervisor, SupervisorOptions,
    TreeNode,
};
use tokio::sync::{broadcast, Mutex};

use crate::error::{JobberError, StartError, StartJobError};
use crate::events::JobEvents;
use crate::job::{Job, JobArgs, JobEvent};
use crate::job_registry::{self, JobRegistry, JobType, RunningImport};
use crate::job_runner::{JobRunner, JOB_RUNNER};
use crate::job_supervisor::JobSupervisor;

/// How many imports may run at once unless told otherwise (the book's 5).
pub const DEFAULT_IMPORT_QUOTA: usize = 5;

/// The application's name: its root supervisor's, in logs and in the tree.
pub const JOBBER: &str = "jobber";

/// The registry's id in the application's tree.
pub const JOB_REGISTRY_ID: &str = "job_registry";

/// How many job events a slow subscriber may fall behind before it misses some.
const EVENT_CAPACITY: usize = 1024;

/// How to start the application.
#[derive(Debug, Clone)]
pub struct JobberOptions {
    import_quota: usize,
    auto_shutdown: bool,
}

impl Default for JobberOptions {
    fn default() -> Self {
        JobberOptions {
            import_quota: DEFAULT_IMPORT_QUOTA,
            auto_shutdown: false,
        }
    }
}

impl JobberOptions {
    /// The defaults: an import quota of 5, job supervisors that stay after their job.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many imports may run at once (default [`DEFAULT_IMPORT_QUOTA`]; at least 1).
    pub fn import_quota(mut self, quota: usize) -> Self {
        self.import_quota = quota;
        self
    }

    /// Whether a job's supervisor stops once its job has ended on its own (default
    /// `false`: it stays, idle, as in the book; see
    /// [`Jobber::stop_idle_job_supervisors`]).
    pub fn auto_shutdown(mut self, auto_shutdown: bool) -> Self {
        self.auto_shutdown = auto_shutdown;
        self
    }
}

/// The jobber application: a root supervisor (the book's `Jobber.Supervisor`) over the
/// [`JobRegistry`] and the [`JobRunner`], one [`JobSupervisor`] per job under the
/// JobRunner, and the job under it.
///
/// ```text
/// jobber (Supervisor, one_for_one)
/// ├── job_registry (the registry's keeper)
/// └── job_runner (DynamicSupervisor, max_seconds 30)
///     ├── <id> (Supervisor, one_for_one, max_seconds 30, temporary)
///     │   └── <id> (Job, transient, registered as <id> => its type)
///     └── ...
/// ```
///
/// A cheap handle: clones share the application.
#[derive(Debug, Clone)]
pub struct Jobber {
    root: Supervisor,
    registry: JobRegistry,
    events: broadcast::Sender<JobEvent>,
    options: JobberOptions,
    /// Serialises the starts of imports (see `start_job`).
    import_start: Arc<Mutex<()>>,
}

impl Jobber {
    /// Starts the application with the default options.
    ///
    /// # Errors
    ///
    /// [`StartError::Supervisor`] when its tree does not start.
    pub async fn start() -> Result<Self, StartError> {
        Self::start_with(JobberOptions::default()).await
    }

    /// Starts the application: the registry first, then the JobRunner, which may rely on
    /// it (the book's `Jobber.Application.start/2`).
    ///
    /// # Errors
    ///
    /// [`StartError::InvalidOptions`] for an import quota of 0;
    /// [`StartError::Supervisor`] when its tree does not start.
    pub async fn start_with(options: JobberOptions) -> Result<Self, StartError> {
        if options.import_quota == 0 {
            return Err(StartError::InvalidOptions(
                "import_quota must be at least 1".into(),
            ));
        }
        let registry = job_registry::job_registry();
        let root = Supervisor::start(
            [
                registry.child_spec(JOB_REGISTRY_ID),
                JobRunner::child_spec(),
            ],
            SupervisorOptions::one_for_one().name(JOBBER),
        )
        .await?;
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        Ok(Jobber {
            root,
            registry,
            events,
            options,
            import_start: Arc::new(Mutex::new(())),
        })
    }

    /// Starts a job under a [`JobSupervisor`] of its own, under the JobRunner (the book's
    /// `Jobber.start_job/1`). Returns once the job's `init` has run; its work runs next.
    ///
    /// # Errors
    ///
    /// [`StartJobError::ImportQuotaReached`] for an import while the quota's worth of
    /// imports run (only imports: the book's check refuses every job then, which the
    /// quota does not call for); [`StartJobError::Start`] when the id is taken
    /// (`StartError::AlreadyStarted` inside) or the start failed;
    /// [`StartJobError::Jobber`] when the JobRunner is not running.
    pub async fn start_job(&self, args: JobArgs) -> Result<StartedJob, StartJobError> {
        let job = Job::new(args).report_to(self.events.clone());
        // Held from the count to the registration, so that two imports started at once
        // cannot both see room for one.
        let _import_slot = if *job.job_type() == JobType::Import {
            let slot = self.import_start.lock().await;
            let running = job_registry::count_running(&self.registry, &JobType::Import);
            if running >= self.options.import_quota {
                tracing::warn!(
                    job = %job.id(),
                    running,
                    quota = self.options.import_quota,
                    "import quota reached"
                );
                return Err(StartJobError::ImportQuotaReached {
                    quota: self.options.import_quota,
                });
            }
            Some(slot)
        } else {
            None
        };
        self.start_under_runner(job).await
    }

    async fn start_under_runner(&self, job: Job) -> Result<StartedJob, StartJobError> {
        let spec = JobSupervisor::child_spec(&job, &self.registry, self.options.auto_shutdown);
        let runner = self.job_runner().await?;
        let supervisor = runner.start_child(spec).await?;
        Ok(StartedJob {
            id: job.id().to_owned(),
            job_type: job.job_type().clone(),
            supervisor,
        })
    }

    /// The running imports, by id (the book's `Jobber.running_imports/0`).
    pub fn running_imports(&self) -> Vec<RunningImport> {
        job_registry::running_imports(&self.registry)
    }

    /// The job registry: running jobs by id, with their type.
    pub fn registry(&self) -> &JobRegistry {
        &self.registry
    }

    /// The events of every job started from now on.
    pub fn subscribe(&self) -> JobEvents {
        JobEvents::new(self.events.subscribe())
    }

    /// The JobRunner running now. Asked of the root supervisor each time: a restarted
    /// JobRunner is a new actor (the book's `Process.whereis(Jobber.JobRunner)`).
    ///
    /// # Errors
    ///
    /// [`JobberError::JobRunnerDown`] while it is being restarted;
    /// [`JobberError::Supervisor`] when the application has stopped.
    pub async fn job_runner(&self) -> Result<DynamicSupervisor, JobberError> {
        self.root
            .find_child(JOB_RUNNER)
            .await?
            .as_ref()
            .and_then(DynamicSupervisor::from_child)
            .ok_or(JobberError::JobRunnerDown)
    }

    /// The actor id of the JobRunner running now: the same id before and after an event
    /// means the same actor, never restarted in between.
    ///
    /// # Errors
    ///
    /// As [`Jobber::job_runner`].
    pub async fn job_runner_id(&self) -> Result<ActorId, JobberError> {
        Ok(self.job_runner().await?.id())
    }

    /// The JobRunner's `count_children`: one supervisor per job whose supervisor runs.
    ///
    /// # Errors
    ///
    /// As [`Jobber::job_runner`].
    pub async fn count_children(&self) -> Result<ChildCounts, JobberError> {
        Ok(self.job_runner().await?.count_children().await?)
    }

    /// The JobRunner's `which_children`, in start order: each job's supervisor, with the
    /// job's id as its id.
    ///
    /// # Errors
    ///
    /// As [`Jobber::job_runner`].
    pub async fn which_children(&self) -> Result<Vec<ChildInfo>, JobberError> {
        Ok(self.job_runner().await?.which_children().await?)
    }

    /// Stops every job supervisor whose job has ended and returns how many it stopped
    /// (the book finds them with `which_children` and `count_children`, and stops them
    /// with `Supervisor.stop/1`).
    ///
    /// # Errors
    ///
    /// As [`Jobber::job_runner`], or a job supervisor that could not be asked or stopped.
    pub async fn stop_idle_job_supervisors(&self) -> Result<usize, JobberError> {
        let runner = self.job_runner().await?;
        let mut stopped = 0;
        for info in runner.which_children().await? {
            let Some(child) = info
                .state
                .child()
                .filter(|_| info.kind == ChildKind::Supervisor)
            else {
                continue;
            };
            let Some(job_supervisor) = Supervisor::from_child(child) else {
                continue;
            };
            match job_supervisor.count_children().await {
                Ok(counts) if counts.active == 0 => {
                    runner.terminate_child(child).await?;
                    stopped += 1;
                }
                // Still working, or gone by itself since `which_children`: leave it.
                Ok(_) | Err(_) => {}
            }
        }
        Ok(stopped)
    }

    /// A snapshot of the whole tree, from the root.
    ///
    /// # Errors
    ///
    /// [`JobberError::Supervisor`] when the application has stopped.
    pub async fn tree(&self) -> Result<TreeNode, JobberError> {
        Ok(self.root.tree().await?)
    }

    /// The root supervisor.
    pub fn root(&self) -> &Supervisor {
        &self.root
    }

    /// Stops the application: the JobRunner (and every job) first, then the registry.
    pub async fn stop(&self) -> Exit {
        self.root.stop(Exit::shutdown()).await
    }
}

/// A job that [`Jobber::start_job`] started.
#[derive(Debug, Clone)]
pub struct StartedJob {
    /// The job's id (the one given, or the random one picked).
    pub id: String,
    /// The job's type.
    pub job_type: JobType,
    /// The job's supervisor, as the JobRunner's child (the book's `{:ok, pid}`).
    pub supervisor: Child,
}

impl StartedJob {
    /// The job's supervisor, as a supervisor handle.
    pub fn job_supervisor(&self) -> Option<Supervisor> {
        Supervisor::from_child(&self.supervisor)
    }
}
