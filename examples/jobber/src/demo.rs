//! The demo scenario behind `cargo run -p jobber`: the book's IEx session, in one go.
//!
//! 1. a good job completes at once; a bad job errors, retries and fails;
//! 2. a doomed job panics until its JobSupervisor gives up, and the JobRunner is the same
//!    actor before and after;
//! 3. five imports run, and a sixth is refused;
//! 4. the JobRunner's `count_children` and `which_children`, and the whole tree;
//! 5. the idle job supervisors are stopped, then the application.
//!
//! The narrative goes to `out`; the jobs' and supervisors' own words go to `tracing`.

use std::io::{self, Write};
use std::time::Duration;

use arbor::actor::ractor::ActorId;
use arbor::actor::Exit;
use arbor::supervisor::{ChildCounts, ChildState};
use tokio::sync::watch;

use crate::error::{JobberError, StartError, StartJobError};
use crate::events::JobEnd;
use crate::job::{JobArgs, Work, WorkError};
use crate::job_registry::{JobType, RunningImport};
use crate::{Jobber, JobberOptions};

/// How fast the demo runs.
#[derive(Debug, Clone, Copy)]
pub struct DemoOptions {
    /// Each job's wait before a retry (the book's 5 s; the demo's default is 200 ms).
    pub retry_delay: Duration,
    /// How long one run of a job's work takes (the book's `Process.sleep(5000)`; the
    /// demo's default is 100 ms).
    pub work_time: Duration,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            retry_delay: Duration::from_millis(200),
            work_time: Duration::from_millis(100),
        }
    }
}

/// What the demo saw, for a caller to check.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    /// How the good job ended.
    pub good: Option<JobEnd>,
    /// How the bad job ended.
    pub bad: Option<JobEnd>,
    /// How the doomed job's supervisor exited.
    pub doomed_supervisor_exit: Exit,
    /// The JobRunner before the doomed job.
    pub runner_before: ActorId,
    /// The JobRunner after the doomed job.
    pub runner_after: ActorId,
    /// The imports running when the sixth was refused.
    pub running_imports: Vec<RunningImport>,
    /// Why the sixth import was refused (`None` if it was not).
    pub quota_error: Option<StartJobError>,
    /// The JobRunner's counts once every job has ended.
    pub counts_after_jobs: ChildCounts,
    /// How many idle job supervisors were stopped.
    pub idle_stopped: usize,
    /// The JobRunner's counts after that.
    pub counts_at_end: ChildCounts,
}

/// Why the demo stopped early.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The application did not start.
    #[error(transparent)]
    Start(#[from] StartError),
    /// A job that should have started did not.
    #[error(transparent)]
    StartJob(#[from] StartJobError),
    /// The application did not answer.
    #[error(transparent)]
    Jobber(#[from] JobberError),
    /// The job events ended before a job did.
    #[error("the job events ended before job {0} did")]
    EventsEnded(String),
    /// A job's supervisor was not a supervisor.
    #[error("job {0} has no supervisor handle")]
    NoJobSupervisor(String),
    /// Writing the narrative failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Work that takes `time` and succeeds (the book's `good_job`).
pub fn good_job(time: Duration) -> Work {
    Work::new(move || async move {
        tokio::time::sleep(time).await;
        Ok(())
    })
}

/// Work that takes `time` and fails (the book's `bad_job`).
pub fn bad_job(time: Duration) -> Work {
    Work::new(move || async move {
        tokio::time::sleep(time).await;
        Err(WorkError::new("the remote service said no"))
    })
}

/// Work that takes `time` and panics (the book's `doomed_job`, which raises `"Boom!"`).
pub fn doomed_job(time: Duration) -> Work {
    Work::new(move || async move {
        tokio::time::sleep(time).await;
        panic!("Boom!")
    })
}

/// Work that waits until `gate` opens, then takes `time` and succeeds: an import that
/// stays running for as long as the demo needs it to.
pub fn gated_job(gate: watch::Receiver<bool>, time: Duration) -> Work {
    Work::new(move || {
        let mut gate = gate.clone();
        async move {
            // A closed gate (its sender dropped) lets the work through as well.
            let _ = gate.wait_for(|open| *open).await;
            tokio::time::sleep(time).await;
            Ok(())
        }
    })
}

/// Runs the scenario, telling `out` what it does.
///
/// # Errors
///
/// [`DemoError`] when a step that should work does not.
pub async fn run(options: DemoOptions, out: &mut dyn Write) -> Result<DemoSummary, DemoError> {
    let jobber = Jobber::start_with(JobberOptions::new()).await?;
    let summary = scenario(&jobber, options, out).await?;
    writeln!(out, "\n== Stopping jobber")?;
    let exit = jobber.stop().await;
    writeln!(out, "jobber stopped: {exit}")?;
    Ok(summary)
}

/// The scenario on a running `jobber`, which it leaves running: [`run`] without the
/// start and the stop, for a program that stops the application itself (the binary
/// runs it under `arbor::app::Application`, so that ctrl-c stops it cleanly).
///
/// # Errors
///
/// [`DemoError`] when a step that should work does not.
pub async fn scenario(
    jobber: &Jobber,
    options: DemoOptions,
    out: &mut dyn Write,
) -> Result<DemoSummary, DemoError> {
    let mut events = jobber.subscribe();
    let job = |work: Work| JobArgs::new(work).retry_delay(options.retry_delay);

    writeln!(
        out,
        "\n== A good job and a bad job (retry delay {:?})",
        options.retry_delay
    )?;
    let good = jobber.start_job(job(good_job(options.work_time))).await?;
    let good_end = events.ended(&good.id).await;
    writeln!(out, "good job {} ended: {}", good.id, describe(good_end))?;
    let bad = jobber.start_job(job(bad_job(options.work_time))).await?;
    let bad_end = events.ended(&bad.id).await;
    writeln!(out, "bad job {} ended: {}", bad.id, describe(bad_end))?;

    writeln!(out, "\n== A doomed job: it panics every time it runs")?;
    let runner_before = jobber.job_runner_id().await?;
    writeln!(out, "JobRunner before: {runner_before}")?;
    let doomed = jobber.start_job(job(doomed_job(options.work_time))).await?;
    let doomed_supervisor = doomed
        .job_supervisor()
        .ok_or_else(|| DemoError::NoJobSupervisor(doomed.id.clone()))?;
    let doomed_supervisor_exit = doomed_supervisor.wait().await;
    writeln!(
        out,
        "doomed job {}'s supervisor gave up: {doomed_supervisor_exit}",
        doomed.id
    )?;
    let runner_after = jobber.job_runner_id().await?;
    let verdict = if runner_after == runner_before {
        "the same actor: the doomed job took down only its own supervisor"
    } else {
        "a new actor: the JobRunner was restarted"
    };
    writeln!(out, "JobRunner after:  {runner_after} ({verdict})")?;

    writeln!(out, "\n== The import quota")?;
    let (open, gate) = watch::channel(false);
    let mut imports = Vec::new();
    for _ in 0..5 {
        let import = job(gated_job(gate.clone(), options.work_time)).job_type(JobType::Import);
        imports.push(jobber.start_job(import).await?);
    }
    let email = job(gated_job(gate.clone(), options.work_time)).job_type(JobType::SendEmail);
    let email = jobber.start_job(email).await?;
    writeln!(out, "started 5 imports and 1 send_email job ({})", email.id)?;
    let running_imports = jobber.running_imports();
    writeln!(out, "running_imports():")?;
    for import in &running_imports {
        writeln!(
            out,
            "  %{{id: {:?}, pid: {}, type: import}}",
            import.id,
            import.pid.id()
        )?;
    }
    let sixth = jobber
        .start_job(job(gated_job(gate.clone(), options.work_time)).job_type(JobType::Import))
        .await;
    let quota_error = match sixth {
        Ok(started) => {
            writeln!(
                out,
                "a sixth import started ({}): the quota did not hold",
                started.id
            )?;
            None
        }
        Err(error) => {
            writeln!(out, "a sixth import: {error}")?;
            Some(error)
        }
    };

    writeln!(out, "\n== The supervision tree while the imports run")?;
    write!(out, "{}", jobber.tree().await?)?;

    // Let the imports (and the email) finish.
    let _ = open.send(true);
    for started in imports.iter().chain([&email]) {
        if events.ended(&started.id).await.is_none() {
            return Err(DemoError::EventsEnded(started.id.clone()));
        }
    }

    writeln!(
        out,
        "\n== Inspecting the JobRunner once every job has ended"
    )?;
    let counts_after_jobs = jobber.count_children().await?;
    writeln!(out, "count_children: {}", counts(&counts_after_jobs))?;
    writeln!(out, "which_children:")?;
    for info in jobber.which_children().await? {
        let state = match &info.state {
            ChildState::Running(child) => child.id().to_string(),
            ChildState::Restarting => "restarting".into(),
            ChildState::Undefined => "undefined".into(),
        };
        writeln!(out, "  {{{:?}, {state}, {:?}}}", info.id, info.kind)?;
    }
    if let Some(first) = jobber.which_children().await?.first() {
        if let Some(job_supervisor) = first
            .state
            .child()
            .and_then(arbor::supervisor::Supervisor::from_child)
        {
            let inner = job_supervisor
                .count_children()
                .await
                .map_err(JobberError::from)?;
            writeln!(
                out,
                "the first job supervisor ({}): {}",
                first.id,
                counts(&inner)
            )?;
        }
    }
    let idle_stopped = jobber.stop_idle_job_supervisors().await?;
    let counts_at_end = jobber.count_children().await?;
    writeln!(
        out,
        "stopped {idle_stopped} idle job supervisors; count_children: {}",
        counts(&counts_at_end)
    )?;

    Ok(DemoSummary {
        good: good_end,
        bad: bad_end,
        doomed_supervisor_exit,
        runner_before,
        runner_after,
        running_imports,
        quota_error,
        counts_after_jobs,
        idle_stopped,
        counts_at_end,
    })
}

fn describe(end: Option<JobEnd>) -> String {
    match end {
        Some(JobEnd { status, retries }) => format!("{status} after {retries} failed retries"),
        None => "unknown (the events ended)".into(),
    }
}

fn counts(counts: &ChildCounts) -> String {
    format!(
        "%{{active: {}, specs: {}, supervisors: {}, workers: {}}}",
        counts.active, counts.specs, counts.supervisors, counts.workers
    )
}
