//! `Task`: spawn, await with its timeouts, yield, shutdown, yield_many, start, drop.

mod support;

use std::future::IntoFuture;
use std::time::Duration;

use arbor_actor::Exit;
use arbor_supervisor::Shutdown;
use arbor_task::{Task, TaskError, DEFAULT_AWAIT_TIMEOUT};
use support::{sleep_ms, Watch};
use tokio::sync::oneshot;

#[tokio::test]
async fn await_gives_the_result() {
    let task = Task::spawn(async { 6 * 7 });
    assert_eq!(task.await, Ok(42));
}

#[tokio::test]
async fn a_panic_is_a_typed_exit_for_the_awaiter() {
    let task = Task::spawn(async {
        sleep_ms(1).await;
        panic!("bad address")
    });
    let result: Result<(), TaskError> = task.await;
    assert_eq!(
        result,
        Err(TaskError::Exited(Exit::Panic("bad address".into())))
    );
}

#[tokio::test(start_paused = true)]
async fn await_times_out_after_five_seconds_by_default_and_kills_the_task() {
    assert_eq!(DEFAULT_AWAIT_TIMEOUT, Duration::from_secs(5));
    let watch = Watch::new();
    let token = watch.token();
    let (late_tx, late_rx) = oneshot::channel::<&str>();
    let task = Task::spawn(async move {
        let _token = token;
        sleep_ms(5_001).await;
        let _ = late_tx.send("late reply");
    });
    let started = tokio::time::Instant::now();
    assert_eq!(task.await, Err(TaskError::Timeout(Duration::from_secs(5))));
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    watch.gone().await;
    // The task died before it could answer: the late reply never appears.
    assert!(late_rx.await.is_err());
}

#[tokio::test(start_paused = true)]
async fn await_within_the_default_timeout_succeeds() {
    let task = Task::spawn(async {
        sleep_ms(4_999).await;
        "in time"
    });
    assert_eq!(task.await, Ok("in time"));
}

#[tokio::test(start_paused = true)]
async fn await_timeout_uses_its_own_limit() {
    let task = Task::spawn(async {
        sleep_ms(200).await;
        1
    });
    assert_eq!(
        task.await_timeout(Duration::from_millis(100)).await,
        Err(TaskError::Timeout(Duration::from_millis(100)))
    );
    let task = Task::spawn(async {
        sleep_ms(200).await;
        2
    });
    assert_eq!(task.await_timeout(Duration::from_secs(1)).await, Ok(2));
}

#[tokio::test(start_paused = true)]
async fn yield_for_leaves_a_running_task_running() {
    let mut task = Task::spawn(async {
        sleep_ms(1_000).await;
        "done"
    });
    assert_eq!(task.yield_for(Duration::from_millis(500)).await, None);
    assert_eq!(task.yield_for(Duration::ZERO).await, None);
    assert_eq!(
        task.yield_for(Duration::from_millis(600)).await,
        Some(Ok("done"))
    );
    // The result was handed out once.
    assert_eq!(
        task.yield_for(Duration::ZERO).await,
        Some(Err(TaskError::AlreadyTaken))
    );
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_a_running_task_and_returns_none() {
    for how in [
        Shutdown::BrutalKill,
        Shutdown::Timeout(Duration::from_secs(1)),
        Shutdown::Infinity,
    ] {
        let watch = Watch::new();
        let token = watch.token();
        let task = Task::spawn(async move {
            let _token = token;
            sleep_ms(60_000).await;
        });
        tokio::task::yield_now().await;
        assert_eq!(task.shutdown(how).await, None, "{how:?}");
        watch.gone().await;
    }
}

#[tokio::test]
async fn shutdown_returns_a_result_that_already_arrived() {
    let (tx, rx) = oneshot::channel();
    let task = Task::spawn(async move {
        let _ = tx.send(());
        "finished"
    });
    rx.await.unwrap();
    // Finished (or finishing) before the shutdown: its result is not lost.
    assert_eq!(
        task.shutdown(Shutdown::Timeout(Duration::from_secs(1)))
            .await,
        Some(Ok("finished"))
    );
}

#[tokio::test]
async fn shutdown_reports_a_crash_that_already_happened() {
    let task = Task::spawn(async { panic!("crashed") });
    // One thread: yielding lets the task run, and crash, before the shutdown.
    tokio::task::yield_now().await;
    let result: Option<Result<(), TaskError>> = task.shutdown(Shutdown::Infinity).await;
    assert_eq!(
        result,
        Some(Err(TaskError::Exited(Exit::Panic("crashed".into()))))
    );
}

#[tokio::test(start_paused = true)]
async fn yield_many_returns_each_state_in_order() {
    let mut tasks = vec![
        Task::spawn(async {
            sleep_ms(10).await;
            Ok(1)
        }),
        Task::spawn(async {
            sleep_ms(10_000).await;
            Ok(2)
        }),
        Task::spawn(async {
            sleep_ms(20).await;
            Err("no")
        }),
    ];
    let states = Task::yield_many(&mut tasks, Duration::from_secs(1)).await;
    assert_eq!(states, vec![Some(Ok(Ok(1))), None, Some(Ok(Err("no")))]);
    // The slow one kept running; its result comes to a later yield.
    let states = Task::yield_many(&mut tasks[1..2], Duration::from_secs(10)).await;
    assert_eq!(states, vec![Some(Ok(Ok(2)))]);
}

#[tokio::test(start_paused = true)]
async fn yield_many_returns_early_when_all_finish() {
    let mut tasks: Vec<Task<u32>> = (0..3)
        .map(|n| {
            Task::spawn(async move {
                sleep_ms(u64::from(n) * 10).await;
                n
            })
        })
        .collect();
    let started = tokio::time::Instant::now();
    let states = Task::yield_many(&mut tasks, Duration::from_secs(60)).await;
    assert_eq!(states, vec![Some(Ok(0)), Some(Ok(1)), Some(Ok(2))]);
    assert_eq!(started.elapsed(), Duration::from_millis(20));
}

#[tokio::test(start_paused = true)]
async fn dropping_a_task_kills_it() {
    let watch = Watch::new();
    let token = watch.token();
    let task = Task::spawn(async move {
        let _token = token;
        sleep_ms(60_000).await;
    });
    drop(task);
    watch.gone().await;
}

#[tokio::test]
async fn start_runs_without_an_awaiter_and_survives_a_panic() {
    let (tx, rx) = oneshot::channel();
    Task::start(async { panic!("logged, not propagated") });
    Task::start(async move {
        let _ = tx.send("ran");
    });
    assert_eq!(rx.await, Ok("ran"));
}

#[test]
fn a_task_spawned_outside_a_runtime_reports_it() {
    let task = Task::spawn(async { 1 });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    assert_eq!(
        runtime.block_on(task.into_future()),
        Err(TaskError::NoRuntime)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_on_many_threads_all_answer() {
    let tasks: Vec<Task<u64>> = (0..1_000)
        .map(|n| Task::spawn(async move { n * 2 }))
        .collect();
    let mut sum = 0;
    for task in tasks {
        sum += task.await.unwrap();
    }
    assert_eq!(sum, (0..1_000).map(|n| n * 2).sum::<u64>());
}

#[tokio::test(start_paused = true)]
async fn an_await_with_no_limit_waits_as_long_as_it_takes() {
    let task = Task::spawn(async {
        sleep_ms(3_600_000).await;
        "an hour later"
    });
    assert_eq!(task.await_timeout(Duration::MAX).await, Ok("an hour later"));
}
