//! The application: the import quota, running_imports, the JobRunner's survival of a
//! doomed job, and what count_children / which_children show.

mod support;

use arbor::actor::Exit;
use arbor::supervisor::{reached_max_intensity, ChildCounts, ChildKind, Supervisor};
use jobber::demo::{self, DemoOptions};
use jobber::{
    Job, JobArgs, JobType, Jobber, JobberOptions, StartJobError, StartedJob, DEFAULT_IMPORT_QUOTA,
};
use support::{panicking, Gate};
use tokio::task::JoinSet;

async fn start(jobber: &Jobber, gate: &Gate, job_type: JobType) -> StartedJob {
    jobber
        .start_job(JobArgs::new(gate.work()).job_type(job_type))
        .await
        .unwrap()
}

/// Opens the gate and waits until every job in `jobs` has stopped.
async fn finish(jobber: &Jobber, gate: &Gate, jobs: &[StartedJob]) {
    let servers: Vec<_> = jobs
        .iter()
        .map(|job| jobber.registry().server::<Job>(&job.id).unwrap())
        .collect();
    gate.open();
    for server in servers {
        assert_eq!(server.wait().await, Exit::Normal);
    }
}

#[tokio::test(start_paused = true)]
async fn a_sixth_running_import_is_refused() {
    let jobber = Jobber::start().await.unwrap();
    let gate = Gate::new();
    let mut imports = Vec::new();
    for _ in 0..DEFAULT_IMPORT_QUOTA {
        imports.push(start(&jobber, &gate, JobType::Import).await);
    }

    let sixth = jobber
        .start_job(JobArgs::new(gate.work()).job_type(JobType::Import))
        .await;
    assert_eq!(
        sixth.unwrap_err(),
        StartJobError::ImportQuotaReached { quota: 5 }
    );
    // Only imports count against the quota.
    let others = Gate::new();
    let email = start(&jobber, &others, JobType::SendEmail).await;
    let untyped = start(&jobber, &others, JobType::Untyped).await;
    assert_eq!(jobber.running_imports().len(), 5);

    // Once the imports have ended, there is room again.
    finish(&jobber, &gate, &imports).await;
    assert!(jobber.running_imports().is_empty());
    let again = jobber
        .start_job(JobArgs::new(others.work()).job_type(JobType::Import))
        .await;
    assert!(again.is_ok(), "{again:?}");
    finish(&jobber, &others, &[email, untyped, again.unwrap()]).await;
}

#[tokio::test(start_paused = true)]
async fn the_quota_holds_when_imports_start_at_once() {
    let jobber = Jobber::start_with(JobberOptions::new().import_quota(3))
        .await
        .unwrap();
    let gate = Gate::new();
    let mut starts = JoinSet::new();
    for _ in 0..10 {
        let jobber = jobber.clone();
        let work = gate.work();
        starts.spawn(async move {
            jobber
                .start_job(JobArgs::new(work).job_type(JobType::Import))
                .await
        });
    }
    let mut started = Vec::new();
    let mut refused = 0;
    while let Some(result) = starts.join_next().await {
        match result.unwrap() {
            Ok(job) => started.push(job),
            Err(StartJobError::ImportQuotaReached { quota: 3 }) => refused += 1,
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!((started.len(), refused), (3, 7));
    assert_eq!(jobber.running_imports().len(), 3);
    finish(&jobber, &gate, &started).await;
}

#[tokio::test(start_paused = true)]
async fn an_import_quota_of_zero_is_refused() {
    let error = Jobber::start_with(JobberOptions::new().import_quota(0))
        .await
        .unwrap_err();
    assert!(matches!(error, jobber::StartError::InvalidOptions(_)));
}

#[tokio::test(start_paused = true)]
async fn running_imports_lists_the_running_imports_only() {
    let jobber = Jobber::start().await.unwrap();
    let gate = Gate::new();
    let first = jobber
        .start_job(
            JobArgs::new(gate.work())
                .id("import-b")
                .job_type(JobType::Import),
        )
        .await
        .unwrap();
    let email = jobber
        .start_job(
            JobArgs::new(gate.work())
                .id("email")
                .job_type(JobType::SendEmail),
        )
        .await
        .unwrap();
    let second = jobber
        .start_job(
            JobArgs::new(gate.work())
                .id("import-a")
                .job_type(JobType::Import),
        )
        .await
        .unwrap();

    let running = jobber.running_imports();
    let ids: Vec<_> = running.iter().map(|import| import.id.as_str()).collect();
    assert_eq!(ids, ["import-a", "import-b"], "sorted by id, no email");
    for import in &running {
        let job = jobber.registry().server::<Job>(&import.id).unwrap();
        assert_eq!(import.pid, job.pid(), "the pid is the job's own");
    }

    finish(&jobber, &gate, &[first, email, second]).await;
    assert!(jobber.running_imports().is_empty(), "gone once they stop");
}

#[tokio::test(start_paused = true)]
async fn the_job_runner_survives_a_doomed_job() {
    let jobber = Jobber::start().await.unwrap();
    let gate = Gate::new();
    // A job running beside the doomed one: the book's point is that it survives too.
    let bystander = start(&jobber, &gate, JobType::SendEmail).await;
    let bystander_server = jobber.registry().server::<Job>(&bystander.id).unwrap();
    let runner_before = jobber.job_runner_id().await.unwrap();

    let (work, runs) = panicking(u32::MAX);
    let doomed = jobber.start_job(JobArgs::new(work)).await.unwrap();
    let doomed_supervisor = doomed.job_supervisor().unwrap();
    assert_eq!(doomed_supervisor.wait().await, reached_max_intensity());
    assert_eq!(runs.get(), 4, "the first run and three restarts");

    assert_eq!(
        jobber.job_runner_id().await.unwrap(),
        runner_before,
        "the same JobRunner"
    );
    assert!(bystander_server.is_alive(), "the bystander job still runs");
    let children = jobber.which_children().await.unwrap();
    let ids: Vec<_> = children.iter().map(|info| info.id.as_str()).collect();
    assert_eq!(
        ids,
        [bystander.id.as_str()],
        "the doomed job's supervisor is forgotten"
    );

    finish(&jobber, &gate, &[bystander]).await;
}

#[tokio::test(start_paused = true)]
async fn count_and_which_children_show_the_idle_job_supervisor() {
    let jobber = Jobber::start().await.unwrap();
    assert_eq!(
        jobber.count_children().await.unwrap(),
        ChildCounts::default()
    );

    let gate = Gate::new();
    let job = start(&jobber, &gate, JobType::Untyped).await;
    finish(&jobber, &gate, std::slice::from_ref(&job)).await;

    // The book's surprise: the job has ended, but its supervisor is still there.
    assert_eq!(
        jobber.count_children().await.unwrap(),
        ChildCounts {
            active: 1,
            specs: 1,
            supervisors: 1,
            workers: 0
        }
    );
    let children = jobber.which_children().await.unwrap();
    assert_eq!(children.len(), 1);
    assert_eq!(children[0].id, job.id);
    assert_eq!(children[0].kind, ChildKind::Supervisor);
    assert_eq!(children[0].state.child(), Some(&job.supervisor));

    let job_supervisor = Supervisor::from_child(&job.supervisor).unwrap();
    assert_eq!(
        job_supervisor.count_children().await.unwrap(),
        ChildCounts {
            active: 0,
            specs: 1,
            supervisors: 0,
            workers: 1
        }
    );

    assert_eq!(jobber.stop_idle_job_supervisors().await.unwrap(), 1);
    assert!(jobber.which_children().await.unwrap().is_empty());
    assert!(!job_supervisor.is_alive());
}

#[tokio::test(start_paused = true)]
async fn stop_idle_job_supervisors_leaves_running_jobs_alone() {
    let jobber = Jobber::start().await.unwrap();
    let (done, running) = (Gate::new(), Gate::new());
    let ended = start(&jobber, &done, JobType::Untyped).await;
    let busy = start(&jobber, &running, JobType::Import).await;
    finish(&jobber, &done, std::slice::from_ref(&ended)).await;

    assert_eq!(jobber.stop_idle_job_supervisors().await.unwrap(), 1);
    let ids: Vec<_> = jobber
        .which_children()
        .await
        .unwrap()
        .into_iter()
        .map(|info| info.id)
        .collect();
    assert_eq!(ids, [busy.id.as_str()]);
    finish(&jobber, &running, &[busy]).await;
}

#[tokio::test(start_paused = true)]
async fn with_auto_shutdown_a_job_supervisor_stops_with_its_job() {
    let jobber = Jobber::start_with(JobberOptions::new().auto_shutdown(true))
        .await
        .unwrap();
    let gate = Gate::new();
    let job = start(&jobber, &gate, JobType::Untyped).await;
    let job_supervisor = job.job_supervisor().unwrap();
    gate.open();
    assert_eq!(job_supervisor.wait().await, Exit::shutdown());
    assert_eq!(
        jobber.count_children().await.unwrap(),
        ChildCounts::default()
    );
}

#[tokio::test(start_paused = true)]
async fn a_taken_id_is_refused() {
    let jobber = Jobber::start().await.unwrap();
    let gate = Gate::new();
    let first = jobber
        .start_job(JobArgs::new(gate.work()).id("nightly"))
        .await
        .unwrap();
    let again = jobber
        .start_job(JobArgs::new(gate.work()).id("nightly"))
        .await;
    assert!(matches!(again, Err(StartJobError::Start(_))), "{again:?}");
    // The failed start left nothing behind under the JobRunner.
    assert_eq!(jobber.count_children().await.unwrap().specs, 1);
    finish(&jobber, &gate, &[first]).await;
}

#[tokio::test(start_paused = true)]
async fn the_tree_shows_every_job_under_its_supervisor() {
    let jobber = Jobber::start().await.unwrap();
    let gate = Gate::new();
    let job = jobber
        .start_job(JobArgs::new(gate.work()).id("tree-job"))
        .await
        .unwrap();
    let text = jobber.tree().await.unwrap().to_string();
    let lines: Vec<_> = text
        .lines()
        .map(|line| line.split(" (").next().unwrap_or(""))
        .collect();
    assert_eq!(
        lines,
        [
            "jobber",
            "├── job_registry",
            "└── job_runner",
            "    └── tree-job",
            "        └── tree-job",
        ]
    );
    finish(&jobber, &gate, &[job]).await;
    let stopped = jobber.stop().await;
    assert_eq!(stopped, Exit::shutdown());
}

#[tokio::test(start_paused = true)]
async fn the_demo_runs_to_the_end() {
    let mut out = Vec::new();
    let summary = demo::run(DemoOptions::default(), &mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();

    assert_eq!(
        summary.good.map(|end| end.status),
        Some(jobber::Status::Done)
    );
    assert_eq!(
        summary.bad.map(|end| (end.status, end.retries)),
        Some((jobber::Status::Failed, 3))
    );
    assert_eq!(summary.doomed_supervisor_exit, reached_max_intensity());
    assert_eq!(summary.runner_before, summary.runner_after);
    assert_eq!(summary.running_imports.len(), 5);
    assert_eq!(
        summary.quota_error,
        Some(StartJobError::ImportQuotaReached { quota: 5 })
    );
    // good, bad, five imports and the email; the doomed job's supervisor is gone.
    assert_eq!(
        summary.counts_after_jobs,
        ChildCounts {
            active: 8,
            specs: 8,
            supervisors: 8,
            workers: 0
        }
    );
    assert_eq!(summary.idle_stopped, 8);
    assert_eq!(summary.counts_at_end, ChildCounts::default());
    assert!(
        text.contains("a sixth import: import quota reached"),
        "{text}"
    );
    assert!(text.contains("the same actor"), "{text}");
}
