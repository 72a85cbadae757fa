//! One job's life: runs, retries after the delay, final status. Time is paused, so the
//! retry delays are the book's 5 s and cost nothing.

mod support;

use std::time::Duration;

use jobber::{JobArgs, JobEnd, JobEvent, Jobber, Status, WorkError, DEFAULT_RETRY_DELAY};
use support::{failing, panicking};
use tokio::time::Instant;

#[tokio::test(start_paused = true)]
async fn a_good_job_is_done_at_the_first_run() {
    let jobber = Jobber::start().await.unwrap();
    let mut events = jobber.subscribe();
    let (work, runs) = failing(0);
    let job = jobber.start_job(JobArgs::new(work)).await.unwrap();
    let end = events.ended(&job.id).await;
    assert_eq!(
        end,
        Some(JobEnd {
            status: Status::Done,
            retries: 0
        })
    );
    assert_eq!(runs.get(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_bad_job_is_retried_max_retries_times_then_fails() {
    let jobber = Jobber::start().await.unwrap();
    let mut events = jobber.subscribe();
    let (work, runs) = failing(u32::MAX);
    let started = Instant::now();
    let job = jobber.start_job(JobArgs::new(work)).await.unwrap();

    let mut seen = Vec::new();
    while let Some(event) = events.recv().await {
        let last = matches!(event, JobEvent::Exiting { .. });
        seen.push(event);
        if last {
            break;
        }
    }
    let id = job.id.clone();
    let error = |run: u32| WorkError::new(format!("run {run} failed"));
    assert_eq!(
        seen,
        [
            JobEvent::Errored {
                id: id.clone(),
                error: error(1)
            },
            JobEvent::RetryFailed {
                id: id.clone(),
                retries: 1,
                error: error(2)
            },
            JobEvent::RetryFailed {
                id: id.clone(),
                retries: 2,
                error: error(3)
            },
            JobEvent::RetryFailed {
                id: id.clone(),
                retries: 3,
                error: error(4)
            },
            JobEvent::Exiting {
                id,
                status: Status::Failed,
                retries: 3
            },
        ]
    );
    assert_eq!(runs.get(), 4, "the first run and three retries");
    // Three retries, each after the book's 5 s (paused time: exact, and free).
    assert_eq!(started.elapsed(), 3 * DEFAULT_RETRY_DELAY);
}

#[tokio::test(start_paused = true)]
async fn a_job_failing_twice_then_succeeding_is_done() {
    let jobber = Jobber::start().await.unwrap();
    let mut events = jobber.subscribe();
    let (work, runs) = failing(2);
    let job = jobber.start_job(JobArgs::new(work)).await.unwrap();
    // Run 1 errs, retry 1 fails (1 failed retry), retry 2 succeeds.
    assert_eq!(
        events.ended(&job.id).await,
        Some(JobEnd {
            status: Status::Done,
            retries: 1
        })
    );
    assert_eq!(runs.get(), 3);
}

#[tokio::test(start_paused = true)]
async fn max_retries_and_retry_delay_are_per_job() {
    let jobber = Jobber::start().await.unwrap();
    let mut events = jobber.subscribe();
    let (work, runs) = failing(u32::MAX);
    let started = Instant::now();
    let args = JobArgs::new(work)
        .max_retries(1)
        .retry_delay(Duration::from_millis(10));
    let job = jobber.start_job(args).await.unwrap();
    assert_eq!(
        events.ended(&job.id).await,
        Some(JobEnd {
            status: Status::Failed,
            retries: 1
        })
    );
    assert_eq!(runs.get(), 2);
    assert_eq!(started.elapsed(), Duration::from_millis(10));
}

#[tokio::test(start_paused = true)]
async fn zero_max_retries_fails_at_the_first_failure() {
    let jobber = Jobber::start().await.unwrap();
    let mut events = jobber.subscribe();
    let (work, runs) = failing(u32::MAX);
    let job = jobber
        .start_job(JobArgs::new(work).max_retries(0))
        .await
        .unwrap();
    assert_eq!(
        events.ended(&job.id).await,
        Some(JobEnd {
            status: Status::Failed,
            retries: 0
        })
    );
    assert_eq!(runs.get(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_crashed_job_is_restarted_under_the_same_id() {
    let jobber = Jobber::start().await.unwrap();
    let mut events = jobber.subscribe();
    // Panics once: its JobSupervisor restarts it (transient), and the new incarnation,
    // registered again under the same id, succeeds.
    let (work, runs) = panicking(1);
    let job = jobber
        .start_job(JobArgs::new(work).id("flaky"))
        .await
        .unwrap();
    assert_eq!(job.id, "flaky");
    assert_eq!(
        events.ended("flaky").await,
        Some(JobEnd {
            status: Status::Done,
            retries: 0
        })
    );
    assert_eq!(runs.get(), 2);
}
