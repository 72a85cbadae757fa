//! `TaskSupervisor`: supervised tasks, their limits, restarts and place in a tree.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use arbor_actor::Exit;
use arbor_supervisor::{
    DynamicSupervisorOptions, Restart, StartChildError, Supervisor, SupervisorOptions,
};
use arbor_task::{TaskError, TaskSupervisor};
use support::{sleep_ms, Watch};
use tokio::sync::oneshot;

async fn supervisor() -> TaskSupervisor {
    TaskSupervisor::start(DynamicSupervisorOptions::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn start_child_runs_a_supervised_task_that_nobody_awaits() {
    let tasks = supervisor().await;
    let (tx, rx) = oneshot::channel();
    tasks
        .start_child(async move {
            let _ = tx.send("sent");
        })
        .await
        .unwrap();
    assert_eq!(rx.await, Ok("sent"));
}

#[tokio::test]
async fn children_lists_the_running_tasks_and_terminate_child_stops_one() {
    let tasks = supervisor().await;
    let watch = Watch::new();
    let mut started = Vec::new();
    for _ in 0..3 {
        let token = watch.token();
        let child = tasks
            .start_child(async move {
                let _token = token;
                std::future::pending::<()>().await;
            })
            .await
            .unwrap();
        started.push(child);
    }
    assert_eq!(tasks.children().await.unwrap(), started);
    tasks.terminate_child(&started[1]).await.unwrap();
    assert_eq!(
        tasks.children().await.unwrap(),
        vec![started[0].clone(), started[2].clone()]
    );
    assert_eq!(tasks.stop(Exit::shutdown()).await, Exit::shutdown());
    // Stopping the supervisor stopped every task.
    watch.gone().await;
}

#[tokio::test]
async fn a_finished_task_leaves_the_supervisor() {
    let tasks = supervisor().await;
    let task = tasks.spawn_nolink(async { 7 }).await.unwrap();
    let running = tasks.children().await.unwrap();
    assert_eq!(task.await, Ok(7));
    for child in running {
        child
            .cell()
            .wait(Some(Duration::from_secs(5)))
            .await
            .unwrap();
    }
    // A stopped actor's exit reaches its supervisor before any later call does.
    assert_eq!(tasks.count_children().await.unwrap().active, 0);
}

#[tokio::test]
async fn max_children_caps_every_kind_of_task() {
    let tasks = TaskSupervisor::start(DynamicSupervisorOptions::default().max_children(2))
        .await
        .unwrap();
    let _a = tasks
        .spawn_nolink(std::future::pending::<()>())
        .await
        .unwrap();
    let _b = tasks
        .start_child(std::future::pending::<()>())
        .await
        .unwrap();
    let refused = tasks.spawn(async { 1 }).await.unwrap_err();
    assert_eq!(refused, TaskError::Start(StartChildError::MaxChildren(2)));
    assert_eq!(
        tasks.start_child(async {}).await,
        Err(StartChildError::MaxChildren(2))
    );
}

#[tokio::test]
async fn a_dropped_linked_task_is_killed_and_an_unlinked_one_runs_on() {
    let tasks = supervisor().await;
    let linked = Watch::new();
    let token = linked.token();
    let task = tasks
        .spawn(async move {
            let _token = token;
            std::future::pending::<()>().await;
        })
        .await
        .unwrap();
    drop(task);
    linked.gone().await;

    let (tx, rx) = oneshot::channel();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let task = tasks
        .spawn_nolink(async move {
            let _ = go_rx.await;
            let _ = tx.send("still ran");
        })
        .await
        .unwrap();
    drop(task);
    let _ = go_tx.send(());
    assert_eq!(rx.await, Ok("still ran"));
}

#[tokio::test(start_paused = true)]
async fn a_transient_task_is_restarted_until_it_succeeds() {
    let tasks = supervisor().await;
    let attempts = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let make = {
        let attempts = Arc::clone(&attempts);
        move || {
            let attempt = attempts.fetch_add(1, Ordering::SeqCst) + 1;
            let tx = tx.clone();
            async move {
                sleep_ms(10).await;
                assert!(attempt >= 3, "attempt {attempt} fails");
                let _ = tx.send(attempt);
            }
        }
    };
    tasks
        .start_child_with(Restart::Transient, make)
        .await
        .unwrap();
    assert_eq!(rx.recv().await, Some(3));
    // A transient task that finished normally is not restarted again.
    sleep_ms(1_000).await;
    assert_eq!(attempts.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_task_supervisor_lives_in_a_tree() {
    let app = Supervisor::start(
        [TaskSupervisor::child_spec(
            "email_tasks",
            DynamicSupervisorOptions::default(),
        )],
        SupervisorOptions::one_for_one(),
    )
    .await
    .unwrap();
    let children = app.which_children().await.unwrap();
    let tasks = children
        .iter()
        .find_map(|info| info.state.child().and_then(TaskSupervisor::from_child))
        .unwrap();
    let task = tasks.spawn_nolink(async { "in a tree" }).await.unwrap();
    assert_eq!(
        task.await_timeout(Duration::from_secs(5)).await,
        Ok("in a tree")
    );
    let watch = Watch::new();
    let token = watch.token();
    tasks
        .start_child(async move {
            let _token = token;
            std::future::pending::<()>().await;
        })
        .await
        .unwrap();
    assert_eq!(app.stop(Exit::shutdown()).await, Exit::shutdown());
    watch.gone().await;
}

#[tokio::test]
async fn a_linked_task_whose_handle_was_lost_while_starting_stops() {
    let tasks = supervisor().await;
    let watch = Watch::new();
    let token = watch.token();
    let mut spawning = Box::pin(tasks.spawn(async move {
        let _token = token;
        std::future::pending::<()>().await;
    }));
    // The start request is on its way; the caller gives up before the handle exists.
    assert!(futures::poll!(spawning.as_mut()).is_pending());
    drop(spawning);
    watch.gone().await;
}
