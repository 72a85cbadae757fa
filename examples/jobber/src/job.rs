//! `Job`: one server per job. It runs its work right after it starts (`handle_continue`),
//! retries a failed run after a delay (`send_after`), and stops once it is done or out of
//! retries (the book's `Jobber.Job`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use arbor::actor::{
    Context, Exit, GenServer, HandleContinue, HandleInfo, Init, Outcome, StartOptions,
};
use arbor::supervisor::{ChildSpec, Restart};
use tokio::sync::broadcast;

use crate::job_registry::{JobRegistry, JobType};
use crate::random_id::random_job_id;

/// How many times a failed job is retried unless told otherwise (the book's default).
pub const DEFAULT_MAX_RETRIES: u32 = 3;

/// How long a failed job waits before it runs again unless told otherwise (the book's 5 s).
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(5);

/// Why one run of a job's work failed: the book's `:error`, with a message for the logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WorkError(String);

impl WorkError {
    /// A failure described by `message`.
    pub fn new(message: impl Into<String>) -> Self {
        WorkError(message.into())
    }
}

/// What one run of a job's work returns.
pub type WorkFuture = Pin<Box<dyn Future<Output = Result<(), WorkError>> + Send>>;

/// The work a job runs: a function called once per attempt, returning `Ok(())` (the
/// book's `{:ok, data}`, whose data it ignores) or a [`WorkError`] (`:error`). A panic in
/// it is a crash of the job, for its supervisor to handle.
///
/// Async, so that slow work (the book's `Process.sleep`) awaits instead of blocking a
/// thread, and so that tests can hold a job running or advance paused time through it.
#[derive(Clone)]
pub struct Work(Arc<dyn Fn() -> WorkFuture + Send + Sync>);

impl Work {
    /// Work that runs `work()` to completion on each attempt.
    pub fn new<F, Fut>(work: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), WorkError>> + Send + 'static,
    {
        Work(Arc::new(move || Box::pin(work())))
    }

    /// One attempt.
    pub fn run(&self) -> WorkFuture {
        (self.0)()
    }
}

impl fmt::Debug for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Work(..)")
    }
}

/// Where a job is: the book's `"new"`, `"errored"`, `"failed"` and `"done"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Not run yet.
    New,
    /// Its last run failed; a retry is scheduled.
    Errored,
    /// Out of retries: it gives up.
    Failed,
    /// Its work succeeded.
    Done,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::New => "new",
            Status::Errored => "errored",
            Status::Failed => "failed",
            Status::Done => "done",
        })
    }
}

/// What happened to a job, as its logs say it; see [`Job::report_to`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobEvent {
    /// Its work succeeded ("job completed").
    Completed {
        /// The job's id.
        id: String,
    },
    /// Its first run failed ("job errored").
    Errored {
        /// The job's id.
        id: String,
        /// Why.
        error: WorkError,
    },
    /// A retry failed ("job retry failed"); `retries` counts the failed retries so far.
    RetryFailed {
        /// The job's id.
        id: String,
        /// Failed retries so far.
        retries: u32,
        /// Why.
        error: WorkError,
    },
    /// It is done or out of retries and stops ("job exiting"). A crashing job does not
    /// send this: it never gets to decide to stop.
    Exiting {
        /// The job's id.
        id: String,
        /// [`Status::Done`] or [`Status::Failed`].
        status: Status,
        /// Failed retries.
        retries: u32,
    },
}

impl JobEvent {
    /// The id of the job it is about.
    pub fn id(&self) -> &str {
        match self {
            JobEvent::Completed { id }
            | JobEvent::Errored { id, .. }
            | JobEvent::RetryFailed { id, .. }
            | JobEvent::Exiting { id, .. } => id,
        }
    }
}

/// How to start a job: the book's keyword list `[work: .., id: .., type: .., max_retries: ..]`.
#[derive(Debug, Clone)]
pub struct JobArgs {
    work: Work,
    id: Option<String>,
    job_type: JobType,
    max_retries: u32,
    retry_delay: Duration,
}

impl JobArgs {
    /// A job that runs `work`: a random id, [`JobType::Untyped`],
    /// [`DEFAULT_MAX_RETRIES`] and [`DEFAULT_RETRY_DELAY`].
    pub fn new(work: Work) -> Self {
        JobArgs {
            work,
            id: None,
            job_type: JobType::default(),
            max_retries: DEFAULT_MAX_RETRIES,
            retry_delay: DEFAULT_RETRY_DELAY,
        }
    }

    /// Sets the id, its key in the registry (default: a random short url-safe id).
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the type, its value in the registry (default: [`JobType::Untyped`]).
    pub fn job_type(mut self, job_type: JobType) -> Self {
        self.job_type = job_type;
        self
    }

    /// Sets how many failed retries it takes to give up (default: [`DEFAULT_MAX_RETRIES`];
    /// 0 gives up at the first failure).
    pub fn max_retries(mut self, max_retries: u32) -> Self {
        self.max_retries = max_retries;
        self
    }

    /// Sets the wait before each retry (default: [`DEFAULT_RETRY_DELAY`]).
    pub fn retry_delay(mut self, retry_delay: Duration) -> Self {
        self.retry_delay = retry_delay;
        self
    }
}

/// A job server's configuration: what stays the same across its runs and restarts.
///
/// Start one on its own with `Server::start(Job::new(args), ())`, or under a supervisor
/// with [`Job::child_spec`] (what [`JobSupervisor`](crate::JobSupervisor) does).
#[derive(Debug, Clone)]
pub struct Job {
    id: String,
    job_type: JobType,
    work: Work,
    max_retries: u32,
    retry_delay: Duration,
    events: Option<broadcast::Sender<JobEvent>>,
}

impl Job {
    /// A job from `args`, with a random id unless `args` gives one.
    ///
    /// The id is chosen here, once, rather than when each incarnation starts (the book's
    /// `start_link` picks a new one per restart), so a restarted job is found again under
    /// the same key.
    pub fn new(args: JobArgs) -> Self {
        Job {
            id: args.id.unwrap_or_else(random_job_id),
            job_type: args.job_type,
            work: args.work,
            max_retries: args.max_retries,
            retry_delay: args.retry_delay,
            events: None,
        }
    }

    /// Also sends every [`JobEvent`] of this job to `events` (a job without listeners
    /// only logs).
    pub fn report_to(mut self, events: broadcast::Sender<JobEvent>) -> Self {
        self.events = Some(events);
        self
    }

    /// The job's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The job's type.
    pub fn job_type(&self) -> &JobType {
        &self.job_type
    }

    /// The job as a child: registered in `registry` under its id with its type as value
    /// (the book's `via/2`) on every start, and `Transient`, so it is restarted after a
    /// crash but not after it stops on its own (the book's `restart: :transient`).
    pub fn child_spec(&self, registry: &JobRegistry) -> ChildSpec {
        let via = registry.via(self.id.clone(), self.job_type.clone());
        let options = StartOptions::new().via(via);
        ChildSpec::worker_with(self.id.clone(), self.clone(), (), options)
            .restart(Restart::Transient)
    }

    fn report(&self, event: JobEvent) {
        if let Some(events) = &self.events {
            // No receiver is fine: nobody is listening, the logs still say it.
            let _ = events.send(event);
        }
    }
}

/// What changes while a job runs: the server's state (the book's struct fields
/// `retries` and `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Where the job is.
    pub status: Status,
    /// Failed retries so far.
    pub retries: u32,
}

impl Default for Progress {
    fn default() -> Self {
        Progress {
            status: Status::New,
            retries: 0,
        }
    }
}

impl Progress {
    /// Folds the result of one run in (the book's three `handle_job_result` clauses): a
    /// success is done; a first failure is errored; a failed retry counts, and the job has
    /// failed once the count reaches `max_retries`.
    ///
    /// Unlike the book, which compares with `==`, `max_retries: 0` fails at the first
    /// failure instead of retrying forever.
    pub fn record(&mut self, result: &Result<(), WorkError>, max_retries: u32) {
        self.status = match (result, self.status) {
            (Ok(()), _) => Status::Done,
            (Err(_), Status::New) if max_retries == 0 => Status::Failed,
            (Err(_), Status::New) => Status::Errored,
            (Err(_), _) => {
                self.retries += 1;
                if self.retries >= max_retries {
                    Status::Failed
                } else {
                    Status::Errored
                }
            }
        };
    }
}

impl GenServer for Job {
    type Args = ();
    type State = Progress;

    async fn init(&self, _: (), ctx: &mut Context<Self>) -> Init<Progress> {
        // The supervisor waits for init: run the work right after it instead.
        ctx.continue_with(Run);
        Init::Ready(Progress::default())
    }
}

/// Run the work once (the book's `{:continue, :run}`).
#[derive(Debug)]
struct Run;

/// Time to try again (the book's `:retry`).
#[derive(Debug)]
struct Retry;

impl HandleContinue<Run> for Job {
    async fn handle_continue(
        &self,
        _: Run,
        progress: &mut Progress,
        ctx: &mut Context<Self>,
    ) -> Outcome {
        let first_run = progress.status == Status::New;
        let result = self.work.run().await;
        progress.record(&result, self.max_retries);
        match (&result, first_run) {
            (Ok(()), _) => {
                tracing::info!(job = %self.id, "job completed");
                self.report(JobEvent::Completed {
                    id: self.id.clone(),
                });
            }
            (Err(error), true) => {
                tracing::warn!(job = %self.id, %error, "job errored");
                self.report(JobEvent::Errored {
                    id: self.id.clone(),
                    error: error.clone(),
                });
            }
            (Err(error), false) => {
                tracing::warn!(job = %self.id, %error, retries = progress.retries, "job retry failed");
                self.report(JobEvent::RetryFailed {
                    id: self.id.clone(),
                    retries: progress.retries,
                    error: error.clone(),
                });
            }
        }
        if progress.status == Status::Errored {
            ctx.send_after(self.retry_delay, Retry);
            return Outcome::NoReply;
        }
        tracing::info!(job = %self.id, status = %progress.status, "job exiting");
        self.report(JobEvent::Exiting {
            id: self.id.clone(),
            status: progress.status,
            retries: progress.retries,
        });
        // Done, or out of retries: nothing a restart could fix, so a normal exit, which a
        // transient child's supervisor leaves alone.
        Outcome::Stop(Exit::Normal)
    }
}

impl HandleInfo<Retry> for Job {
    async fn handle_info(&self, _: Retry, _: &mut Progress, ctx: &mut Context<Self>) -> Outcome {
        // Retrying is running again.
        ctx.continue_with(Run);
        Outcome::NoReply
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fail() -> Result<(), WorkError> {
        Err(WorkError::new("no"))
    }

    #[test]
    fn a_success_is_done_at_once() {
        let mut progress = Progress::default();
        progress.record(&Ok(()), 3);
        assert_eq!(
            progress,
            Progress {
                status: Status::Done,
                retries: 0
            }
        );
    }

    #[test]
    fn three_failed_retries_fail_the_job() {
        let mut progress = Progress::default();
        let mut seen = Vec::new();
        for _ in 0..4 {
            progress.record(&fail(), 3);
            seen.push((progress.status, progress.retries));
        }
        assert_eq!(
            seen,
            [
                (Status::Errored, 0),
                (Status::Errored, 1),
                (Status::Errored, 2),
                (Status::Failed, 3)
            ]
        );
    }

    #[test]
    fn zero_retries_fail_at_the_first_failure() {
        let mut progress = Progress::default();
        progress.record(&fail(), 0);
        assert_eq!(progress.status, Status::Failed);
    }
}
