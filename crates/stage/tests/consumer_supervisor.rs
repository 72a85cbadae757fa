//! ConsumerSupervisor: one child per event, at most `max_demand` at once, asking again
//! as children exit.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arbor_actor::{Context, Exit, GenServer, HandleContinue, Init, Outcome, Server};
use arbor_stage::{
    Cancel, ConsumerChildError, ConsumerSupervisor, InvalidOptions, Stage, SubscribeOptions,
};
use arbor_supervisor::{Child, ChildSpec, Restart};
use support::Counter;
use tokio::sync::{mpsc, Semaphore};

/// What jobs share with the test: a gate they wait on, a gauge of how many run.
struct Shared {
    running: AtomicUsize,
    most: AtomicUsize,
    /// The first job to run panics once when set.
    crash_once: AtomicBool,
    gate: Semaphore,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            running: AtomicUsize::new(0),
            most: AtomicUsize::new(0),
            crash_once: AtomicBool::new(false),
            gate: Semaphore::new(0),
        }
    }
}

impl Shared {
    fn enter(&self) {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
    }
    fn leave(&self) {
        self.running.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A child per event: waits at the gate, reports its event, stops normally.
#[derive(Clone)]
struct Job {
    shared: Arc<Shared>,
    started: mpsc::UnboundedSender<u64>,
    done: mpsc::UnboundedSender<u64>,
}

struct Run;

impl GenServer for Job {
    type Args = u64;
    type State = u64;
    async fn init(&self, event: u64, ctx: &mut Context<Self>) -> Init<u64> {
        self.shared.enter();
        let _ = self.started.send(event);
        ctx.continue_with(Run);
        Init::Ready(event)
    }
    async fn terminate(&self, _: &Exit, _: &mut u64, _: &mut Context<Self>) {
        self.shared.leave();
    }
}

impl HandleContinue<Run> for Job {
    async fn handle_continue(&self, _: Run, event: &mut u64, _: &mut Context<Self>) -> Outcome {
        let permit = self.shared.gate.acquire().await.unwrap();
        permit.forget();
        if self.shared.crash_once.swap(false, Ordering::SeqCst) {
            panic!("job crashed on purpose");
        }
        let _ = self.done.send(*event);
        Outcome::Stop(Exit::Normal)
    }
}

type Events = mpsc::UnboundedReceiver<u64>;

/// A consumer supervisor of jobs, with the receivers of their `started` and `done` reports.
fn jobs(shared: &Arc<Shared>) -> (ConsumerSupervisor<u64>, Events, Events) {
    let (done, done_rx) = mpsc::unbounded_channel();
    let (started, started_rx) = mpsc::unbounded_channel();
    let job = Job {
        shared: Arc::clone(shared),
        started,
        done,
    };
    let supervisor =
        ConsumerSupervisor::children(move |event| ChildSpec::worker("job", job.clone(), event));
    (supervisor, started_rx, done_rx)
}

/// An endless producer and a consumer supervisor of jobs asking it for `max_demand`;
/// the jobs report their start on the returned channel.
async fn supervising(
    shared: &Arc<Shared>,
    max_demand: usize,
) -> (Stage<Counter>, Stage<ConsumerSupervisor<u64>>, Events) {
    let producer = Stage::producer(Counter::default(), 0)
        .start()
        .await
        .unwrap();
    let (supervisor, started, _done) = jobs(shared);
    let supervisor = Stage::consumer(supervisor, ())
        .subscribe_to(&producer, SubscribeOptions::new().max_demand(max_demand))
        .start()
        .await
        .unwrap();
    (producer, supervisor, started)
}

/// A producer that ends normally does not stop the supervisor (its children finish).
fn transient(max_demand: usize) -> SubscribeOptions<u64> {
    SubscribeOptions::new()
        .max_demand(max_demand)
        .cancel(Cancel::Transient)
}

async fn receive(done: &mut mpsc::UnboundedReceiver<u64>, count: usize) -> Vec<u64> {
    let mut events = Vec::new();
    for _ in 0..count {
        let next = tokio::time::timeout(support::STALL, done.recv()).await;
        events.push(
            next.expect("no job reported for 10 s")
                .expect("jobs stopped reporting"),
        );
    }
    events.sort_unstable();
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_max_demand_children_run_and_every_event_gets_one() {
    let shared = Arc::new(Shared::default());
    let producer = Stage::producer(Counter { limit: Some(100) }, 0)
        .start()
        .await
        .unwrap();
    let (supervisor, mut started, mut done) = jobs(&shared);
    let supervisor = Stage::consumer(supervisor, ())
        .subscribe_to(&producer, transient(10).min_demand(5))
        .start()
        .await
        .unwrap();

    // With the gate shut, exactly max_demand children start, and no more are asked for.
    assert_eq!(receive(&mut started, 10).await, (0..10).collect::<Vec<_>>());
    producer.buffered_count().await.unwrap();
    assert_eq!(supervisor.count_children().await.unwrap().active, 10);
    assert_eq!(supervisor.which_children().await.unwrap().len(), 10);

    shared.gate.add_permits(100);
    assert_eq!(receive(&mut done, 100).await, (0..100).collect::<Vec<_>>());
    assert!(shared.most.load(Ordering::SeqCst) <= 10);
    assert_eq!(producer.wait().await, Exit::Normal);
    assert!(
        supervisor.is_alive(),
        "a transient subscription outlives a normal end"
    );
}

#[tokio::test]
async fn transient_children_are_restarted_after_a_crash() {
    let shared = Arc::new(Shared::default());
    shared.crash_once.store(true, Ordering::SeqCst);
    shared.gate.add_permits(100);
    let producer = Stage::producer(Counter { limit: Some(5) }, 0)
        .start()
        .await
        .unwrap();
    let (supervisor, _started, mut done) = jobs(&shared);
    let supervisor = supervisor.restart(Restart::Transient).unwrap();
    Stage::consumer(supervisor, ())
        .subscribe_to(&producer, transient(5))
        .start()
        .await
        .unwrap();
    // Every event is done once: the crashed one by its restarted child.
    assert_eq!(receive(&mut done, 5).await, vec![0, 1, 2, 3, 4]);
}

#[tokio::test]
async fn temporary_children_are_not_restarted_and_free_their_demand() {
    let shared = Arc::new(Shared::default());
    shared.crash_once.store(true, Ordering::SeqCst);
    shared.gate.add_permits(100);
    let producer = Stage::producer(Counter { limit: Some(20) }, 0)
        .start()
        .await
        .unwrap();
    let (supervisor, _started, mut done) = jobs(&shared);
    let supervisor = Stage::consumer(supervisor, ())
        .subscribe_to(&producer, transient(2).min_demand(1))
        .start()
        .await
        .unwrap();
    // 19 jobs report; the one that crashed is gone, and demand still flowed.
    assert_eq!(receive(&mut done, 19).await.len(), 19);
    assert_eq!(producer.wait().await, Exit::Normal);
    supervisor.count_children().await.unwrap();
    assert!(done.try_recv().is_err());
}

#[tokio::test]
async fn permanent_children_are_refused() {
    let shared = Arc::new(Shared::default());
    let (supervisor, _started, _done) = jobs(&shared);
    assert_eq!(
        supervisor.restart(Restart::Permanent).unwrap_err(),
        InvalidOptions::PermanentChildren
    );
}

#[tokio::test]
async fn a_restart_window_of_zero_seconds_is_refused() {
    let shared = Arc::new(Shared::default());
    let (supervisor, _started, _done) = jobs(&shared);
    assert_eq!(
        supervisor.intensity(3, 0).unwrap_err(),
        InvalidOptions::ZeroRestartWindow
    );
    let (supervisor, _started, _done) = jobs(&shared);
    assert!(supervisor.intensity(3, 1).is_ok());
}

#[tokio::test(start_paused = true)]
async fn stopping_the_supervisor_stops_its_children() {
    let shared = Arc::new(Shared::default());
    let (_producer, supervisor, mut started) = supervising(&shared, 4).await;
    receive(&mut started, 4).await;
    let children: Vec<Child> = supervisor
        .which_children()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|info| info.state.child().cloned())
        .collect();
    assert_eq!(children.len(), 4);
    supervisor
        .stop_and_wait(Exit::shutdown(), std::time::Duration::from_secs(10))
        .await
        .unwrap();
    // Blocked at the gate, they ignore the stop request and are killed after their
    // shutdown timeout (paused time runs it out at once).
    assert!(children.iter().all(|child| !child.is_alive()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_run_one_per_event_within_max_demand() {
    let shared = Arc::new(Shared::default());
    let producer = Stage::producer(Counter { limit: Some(1000) }, 0)
        .start()
        .await
        .unwrap();
    let (done, mut done_rx) = mpsc::unbounded_channel();
    let gauge = Arc::clone(&shared);
    let tasks = ConsumerSupervisor::tasks(move |event: u64| {
        let (gauge, done) = (Arc::clone(&gauge), done.clone());
        async move {
            gauge.enter();
            tokio::task::yield_now().await;
            gauge.leave();
            let _ = done.send(event);
        }
    });
    let supervisor = Stage::consumer(tasks, ())
        .subscribe_to(&producer, transient(50))
        .start()
        .await
        .unwrap();
    assert_eq!(
        receive(&mut done_rx, 1000).await,
        (0..1000).collect::<Vec<_>>()
    );
    assert!(shared.most.load(Ordering::SeqCst) <= 50);
    assert_eq!(producer.wait().await, Exit::Normal);
    assert!(supervisor.is_alive());
}

#[tokio::test]
async fn a_server_child_is_an_ordinary_server() {
    // Children are ordinary arbor servers: a handle from which_children answers calls.
    let shared = Arc::new(Shared::default());
    let (_producer, supervisor, mut started) = supervising(&shared, 1).await;
    receive(&mut started, 1).await;
    let info = supervisor.which_children().await.unwrap().remove(0);
    assert_eq!(info.kind, arbor_supervisor::ChildKind::Worker);
    let child = info.state.child().cloned().unwrap();
    let job: Server<Job> = child.server::<Job>().unwrap();
    assert!(job.is_alive());
}

/// A child that crashes right after its first start; every later start fails (its
/// restart never succeeds while `fail_restarts` is set). Reports each start attempt's event.
#[derive(Clone)]
struct Flaky {
    starts: Arc<AtomicUsize>,
    /// Start attempts that fail after the first start (usize::MAX: all of them).
    failing: Arc<AtomicUsize>,
    attempts: mpsc::UnboundedSender<u64>,
    done: mpsc::UnboundedSender<u64>,
    /// The handle of its first start.
    first: Arc<Mutex<Option<Child>>>,
}

struct CrashNow;

impl GenServer for Flaky {
    type Args = u64;
    type State = u64;
    async fn init(&self, event: u64, ctx: &mut Context<Self>) -> Init<u64> {
        let _ = self.attempts.send(event);
        let start = self.starts.fetch_add(1, Ordering::SeqCst);
        if start == 0 {
            *self.first.lock().unwrap() = Some(Child::from(ctx.myself().clone()));
            ctx.continue_with(CrashNow);
            return Init::Ready(event);
        }
        let left = self.failing.load(Ordering::SeqCst);
        if left > 0 {
            if left != usize::MAX {
                self.failing.fetch_sub(1, Ordering::SeqCst);
            }
            return Init::Stop(Exit::error("cannot start"));
        }
        ctx.continue_with(Run);
        Init::Ready(event)
    }
}

impl HandleContinue<CrashNow> for Flaky {
    async fn handle_continue(&self, _: CrashNow, _: &mut u64, _: &mut Context<Self>) -> Outcome {
        Outcome::Stop(Exit::error("crashed on purpose"))
    }
}

impl HandleContinue<Run> for Flaky {
    async fn handle_continue(&self, _: Run, event: &mut u64, _: &mut Context<Self>) -> Outcome {
        let _ = self.done.send(*event);
        Outcome::Stop(Exit::Normal)
    }
}

/// A transient consumer supervisor of [`Flaky`] children whose restarts fail `failing`
/// times; with the receivers of start attempts and of finished events.
fn flaky(failing: usize) -> (ConsumerSupervisor<u64>, Events, Events) {
    let (supervisor, attempts, done, _) = flaky_with_first(failing);
    (supervisor, attempts, done)
}

/// [`flaky`], with where the first child's handle is put.
fn flaky_with_first(
    failing: usize,
) -> (
    ConsumerSupervisor<u64>,
    Events,
    Events,
    Arc<Mutex<Option<Child>>>,
) {
    let (attempts, attempts_rx) = mpsc::unbounded_channel();
    let (done, done_rx) = mpsc::unbounded_channel();
    let first = Arc::new(Mutex::new(None));
    let flaky = Flaky {
        starts: Arc::new(AtomicUsize::new(0)),
        failing: Arc::new(AtomicUsize::new(failing)),
        attempts,
        done,
        first: Arc::clone(&first),
    };
    let supervisor =
        ConsumerSupervisor::children(move |event| ChildSpec::worker("flaky", flaky.clone(), event))
            .restart(Restart::Transient)
            .unwrap();
    (supervisor, attempts_rx, done_rx, first)
}

fn drain(events: &mut Events) -> Vec<u64> {
    let mut all = Vec::new();
    while let Ok(event) = events.try_recv() {
        all.push(event);
    }
    all
}

#[tokio::test(start_paused = true)]
async fn a_child_whose_restart_always_fails_trips_the_intensity_and_keeps_its_demand() {
    let producer = Stage::producer(Counter { limit: Some(3) }, 0)
        .start()
        .await
        .unwrap();
    let (supervisor, mut attempts, _done) = flaky(usize::MAX);
    let supervisor = Stage::consumer(supervisor, ())
        .subscribe_to(&producer, transient(1))
        .start()
        .await
        .unwrap();
    let exit = tokio::time::timeout(support::STALL, supervisor.wait())
        .await
        .expect("a child that never restarts trips the restart intensity");
    assert_eq!(exit, arbor_supervisor::reached_max_intensity());
    // The first start, then 3 failed restarts (the default intensity: 3 in 5 s), the 4th
    // trips; all of them for event 0: its demand was never given back for event 1.
    assert_eq!(drain(&mut attempts), vec![0, 0, 0, 0]);
}

#[tokio::test(start_paused = true)]
async fn a_restart_that_fails_once_is_retried_and_the_event_completes() {
    let producer = Stage::producer(Counter { limit: Some(3) }, 0)
        .start()
        .await
        .unwrap();
    let (supervisor, mut attempts, mut done) = flaky(1);
    let supervisor = Stage::consumer(supervisor, ())
        .subscribe_to(&producer, transient(1))
        .start()
        .await
        .unwrap();
    assert_eq!(receive(&mut done, 3).await, vec![0, 1, 2]);
    // Event 0: started, restart failed, restarted; events 1 and 2 wait for it.
    assert_eq!(drain(&mut attempts), vec![0, 0, 0, 1, 2]);
    assert!(supervisor.is_alive(), "two restarts stay within 3 in 5 s");
}

#[tokio::test]
async fn count_children_counts_the_template_as_one_spec() {
    let shared = Arc::new(Shared::default());
    let (_producer, supervisor, mut started) = supervising(&shared, 3).await;
    receive(&mut started, 3).await;
    let counts = supervisor.count_children().await.unwrap();
    assert_eq!(
        (
            counts.specs,
            counts.active,
            counts.workers,
            counts.supervisors
        ),
        (1, 3, 3, 0)
    );
}

/// Sets its flag when dropped: a task's end, whether it finished or was aborted.
struct Ended(Arc<AtomicBool>);

impl Drop for Ended {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A consumer supervisor of tasks that sleep `work` and then record that they finished.
fn sleepers(
    work: std::time::Duration,
) -> (
    ConsumerSupervisor<u64>,
    Arc<AtomicBool>,
    Arc<AtomicBool>,
    Events,
) {
    let ended = Arc::new(AtomicBool::new(false));
    let finished = Arc::new(AtomicBool::new(false));
    let (started, started_rx) = mpsc::unbounded_channel();
    let (end, fin) = (Arc::clone(&ended), Arc::clone(&finished));
    let tasks = ConsumerSupervisor::tasks(move |event: u64| {
        let guard = Ended(Arc::clone(&end));
        let (finished, started) = (Arc::clone(&fin), started.clone());
        async move {
            let _guard = guard;
            let _ = started.send(event);
            tokio::time::sleep(work).await;
            finished.store(true, Ordering::SeqCst);
        }
    });
    (tasks, ended, finished, started_rx)
}

/// How stopping a consumer supervisor ended its one task, which sleeps `sleep`:
/// (the task has ended, it ran to its end, how long the stop took).
async fn stop_one_task(
    sleep: std::time::Duration,
    shutdown: Option<arbor_supervisor::Shutdown>,
) -> (bool, bool, std::time::Duration) {
    let producer = Stage::producer(Counter { limit: Some(1) }, 0)
        .start()
        .await
        .unwrap();
    let (tasks, ended, finished, mut started) = sleepers(sleep);
    let tasks = match shutdown {
        Some(shutdown) => tasks.task_shutdown(shutdown),
        None => tasks,
    };
    let supervisor = Stage::consumer(tasks, ())
        .subscribe_to(&producer, transient(1))
        .start()
        .await
        .unwrap();
    receive(&mut started, 1).await;
    let asked = tokio::time::Instant::now();
    supervisor
        .stop_and_wait(Exit::shutdown(), std::time::Duration::from_secs(60))
        .await
        .unwrap();
    (
        ended.load(Ordering::SeqCst),
        finished.load(Ordering::SeqCst),
        asked.elapsed(),
    )
}

#[tokio::test(start_paused = true)]
async fn stopping_waits_for_a_task_that_finishes_within_the_shutdown_deadline() {
    let (ended, finished, _) = stop_one_task(std::time::Duration::from_secs(1), None).await;
    assert!(finished, "the task ran to its end");
    assert!(ended);
}

#[tokio::test(start_paused = true)]
async fn stopping_ends_a_task_that_outlives_the_shutdown_deadline_before_returning() {
    let (ended, finished, took) = stop_one_task(std::time::Duration::from_secs(3600), None).await;
    assert!(ended, "the task has ended");
    assert!(!finished, "it was aborted");
    assert!(
        took >= std::time::Duration::from_secs(5),
        "after the 5 s deadline"
    );
}

#[tokio::test(start_paused = true)]
async fn brutal_kill_task_shutdown_aborts_tasks_at_once_and_waits_for_their_end() {
    let brutal = Some(arbor_supervisor::Shutdown::BrutalKill);
    let (ended, finished, took) = stop_one_task(std::time::Duration::from_secs(1), brutal).await;
    assert!(ended, "the task has ended");
    assert!(!finished, "it was aborted");
    assert_eq!(took, std::time::Duration::ZERO, "at once");
}

#[tokio::test(start_paused = true)]
async fn start_child_starts_a_child_outside_the_demand_flow() {
    let shared = Arc::new(Shared::default());
    let (producer, supervisor, mut started) = supervising(&shared, 1).await;
    assert_eq!(receive(&mut started, 1).await, vec![0]);
    let by_event = supervisor.which_children().await.unwrap().remove(0);
    let by_event = by_event.state.child().cloned().unwrap();

    let extra = supervisor.start_child(100).await.unwrap();
    assert_eq!(receive(&mut started, 1).await, vec![100]);
    assert!(extra.is_alive());
    let counts = supervisor.count_children().await.unwrap();
    assert_eq!((counts.specs, counts.active), (1, 2));

    // Terminating the extra child frees no demand: no event 1 is asked for.
    supervisor.terminate_child(&extra).await.unwrap();
    assert!(!extra.is_alive());
    producer.buffered_count().await.unwrap();
    supervisor.count_children().await.unwrap();
    assert!(
        started.try_recv().is_err(),
        "no event asked for in its place"
    );

    // Terminating the event's child frees its demand: event 1 gets a child.
    supervisor.terminate_child(&by_event).await.unwrap();
    assert!(!by_event.is_alive());
    assert_eq!(receive(&mut started, 1).await, vec![1]);
}

#[tokio::test(start_paused = true)]
async fn terminate_child_refuses_an_actor_that_is_not_its_child() {
    let shared = Arc::new(Shared::default());
    let (supervisor, _started, _done) = jobs(&shared);
    let supervisor = Stage::consumer(supervisor, ()).start().await.unwrap();
    let child = supervisor.start_child(1).await.unwrap();
    supervisor.terminate_child(&child).await.unwrap();
    let again = supervisor.terminate_child(&child).await;
    assert!(
        matches!(again, Err(ConsumerChildError::NotFound(_))),
        "{again:?}"
    );

    // A child of another consumer supervisor is not this one's.
    let (other, _started, _done) = jobs(&shared);
    let other = Stage::consumer(other, ()).start().await.unwrap();
    let theirs = other.start_child(2).await.unwrap();
    let refused = supervisor.terminate_child(&theirs).await;
    assert!(matches!(refused, Err(ConsumerChildError::NotFound(_))));
    assert!(theirs.is_alive());
}

#[tokio::test]
async fn start_child_reports_a_child_that_fails_to_start() {
    let (attempts, _attempts) = mpsc::unbounded_channel();
    let (done, _done) = mpsc::unbounded_channel();
    // Every start after the first fails.
    let flaky = Flaky {
        starts: Arc::new(AtomicUsize::new(1)),
        failing: Arc::new(AtomicUsize::new(usize::MAX)),
        attempts,
        done,
        first: Arc::default(),
    };
    let supervisor =
        ConsumerSupervisor::children(move |event| ChildSpec::worker("flaky", flaky.clone(), event));
    let supervisor = Stage::consumer(supervisor, ()).start().await.unwrap();
    match supervisor.start_child(5).await {
        Err(ConsumerChildError::Start { id, error }) => {
            assert_eq!(id, "flaky");
            assert_eq!(
                error,
                arbor_actor::StartError::Init(Exit::error("cannot start"))
            );
        }
        other => panic!("expected a start error, got {other:?}"),
    }
    assert_eq!(supervisor.count_children().await.unwrap().active, 0);
}

#[tokio::test]
async fn start_child_is_refused_by_a_consumer_supervisor_of_tasks_and_a_stopped_one() {
    let tasks = ConsumerSupervisor::tasks(|_: u64| async {});
    let tasks = Stage::consumer(tasks, ()).start().await.unwrap();
    assert_eq!(
        tasks.start_child(1).await.unwrap_err(),
        ConsumerChildError::TaskTemplate
    );
    tasks
        .stop_and_wait(Exit::shutdown(), std::time::Duration::from_secs(10))
        .await
        .unwrap();
    assert!(matches!(
        tasks.start_child(1).await,
        Err(ConsumerChildError::Supervisor(_))
    ));
}

#[tokio::test(start_paused = true)]
async fn terminate_child_gives_up_a_child_waiting_to_restart_and_frees_its_demand() {
    let producer = Stage::producer(Counter { limit: Some(2) }, 0)
        .start()
        .await
        .unwrap();
    let (supervisor, mut attempts, _done, first) = flaky_with_first(usize::MAX);
    // A wide intensity: the retries go on until the child is terminated.
    let supervisor = supervisor.intensity(u32::MAX, 5).unwrap();
    let supervisor = Stage::consumer(supervisor, ())
        .subscribe_to(&producer, transient(1))
        .start()
        .await
        .unwrap();
    assert_eq!(receive(&mut attempts, 1).await, vec![0]);
    assert_eq!(receive(&mut attempts, 1).await, vec![0], "a failed restart");
    // The handle of the actor that crashed names the child waiting to restart.
    let child = first.lock().unwrap().clone().unwrap();
    supervisor.terminate_child(&child).await.unwrap();
    // Its demand is freed: event 1 gets a start (which fails too; its retries go on).
    let mut next = receive(&mut attempts, 1).await;
    while next == vec![0] {
        next = receive(&mut attempts, 1).await;
    }
    assert_eq!(next, vec![1]);
}

/// Crashes at every attempt, once started; reports each (event, attempt).
#[derive(Clone)]
struct AlwaysCrashes {
    attempts: mpsc::UnboundedSender<(u64, u32)>,
}

impl GenServer for AlwaysCrashes {
    type Args = (u64, u32);
    type State = ();
    async fn init(&self, args: (u64, u32), ctx: &mut Context<Self>) -> Init<()> {
        let _ = self.attempts.send(args);
        ctx.continue_with(CrashNow);
        Init::Ready(())
    }
}

impl HandleContinue<CrashNow> for AlwaysCrashes {
    async fn handle_continue(&self, _: CrashNow, _: &mut (), _: &mut Context<Self>) -> Outcome {
        Outcome::Stop(Exit::error("crashed on purpose"))
    }
}

#[tokio::test(start_paused = true)]
async fn an_event_that_uses_up_its_attempts_goes_to_the_hook_without_tripping_the_intensity() {
    let producer = Stage::producer(Counter { limit: Some(4) }, 0)
        .start()
        .await
        .unwrap();
    let (attempts, mut attempts_rx) = mpsc::unbounded_channel();
    let (dead, mut dead_rx) = mpsc::unbounded_channel();
    let child = AlwaysCrashes { attempts };
    // Default intensity (3 restarts in 5 s): 4 events x 2 restarts would trip it.
    let supervisor = ConsumerSupervisor::children_with_attempts(
        3,
        move |event, attempt| ChildSpec::worker("crashes", child.clone(), (event, attempt)),
        move |event, exit| {
            let _ = dead.send((event, exit));
        },
    )
    .unwrap();
    let supervisor = Stage::consumer(supervisor, ())
        .subscribe_to(&producer, transient(1))
        .start()
        .await
        .unwrap();
    for event in 0..4 {
        let next = tokio::time::timeout(support::STALL, dead_rx.recv()).await;
        assert_eq!(
            next.unwrap(),
            Some((event, Exit::error("crashed on purpose")))
        );
    }
    let mut seen = Vec::new();
    while let Ok(attempt) = attempts_rx.try_recv() {
        seen.push(attempt);
    }
    let expected: Vec<(u64, u32)> = (0..4)
        .flat_map(|event| (1..=3).map(move |attempt| (event, attempt)))
        .collect();
    assert_eq!(
        seen, expected,
        "each event: attempts 1, 2, 3, one at a time"
    );
    assert!(supervisor.is_alive());
}

#[tokio::test(start_paused = true)]
async fn an_event_whose_retry_succeeds_never_reaches_the_hook() {
    let producer = Stage::producer(Counter { limit: Some(3) }, 0)
        .start()
        .await
        .unwrap();
    let (attempts, mut attempts_rx) = mpsc::unbounded_channel();
    let (done, mut done_rx) = mpsc::unbounded_channel();
    let (dead, mut dead_rx) = mpsc::unbounded_channel::<u64>();
    let flaky = Flaky {
        starts: Arc::new(AtomicUsize::new(0)),
        failing: Arc::new(AtomicUsize::new(0)),
        attempts,
        done,
        first: Arc::default(),
    };
    let supervisor = ConsumerSupervisor::children_with_attempts(
        2,
        move |event, _attempt| ChildSpec::worker("flaky", flaky.clone(), event),
        move |event, _| {
            let _ = dead.send(event);
        },
    )
    .unwrap();
    Stage::consumer(supervisor, ())
        .subscribe_to(&producer, transient(1))
        .start()
        .await
        .unwrap();
    assert_eq!(receive(&mut done_rx, 3).await, vec![0, 1, 2]);
    assert_eq!(drain(&mut attempts_rx), vec![0, 0, 1, 2]);
    assert!(dead_rx.try_recv().is_err());
}

#[test]
fn zero_attempts_are_refused() {
    let refused = ConsumerSupervisor::children_with_attempts(
        0,
        |event: u64, _| ChildSpec::worker("job", Pusherless, event),
        |_, _| {},
    );
    assert_eq!(refused.unwrap_err(), InvalidOptions::ZeroAttempts);
}

#[derive(Clone)]
struct Pusherless;

impl GenServer for Pusherless {
    type Args = u64;
    type State = ();
    async fn init(&self, _: u64, _: &mut Context<Self>) -> Init<()> {
        Init::Ready(())
    }
}

#[tokio::test]
async fn drained_waits_for_every_task_of_a_finished_producer() {
    let producer = Stage::producer(Counter { limit: Some(30) }, 0)
        .start()
        .await
        .unwrap();
    let gate = Arc::new(Semaphore::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let (held, counted) = (Arc::clone(&gate), Arc::clone(&finished));
    let tasks = ConsumerSupervisor::tasks(move |_: u64| {
        let (gate, finished) = (Arc::clone(&held), Arc::clone(&counted));
        async move {
            let _ = gate.acquire().await.map(|permit| permit.forget());
            finished.fetch_add(1, Ordering::SeqCst);
        }
    });
    let supervisor = Stage::consumer(tasks, ())
        .subscribe_to(&producer, transient(50))
        .start()
        .await
        .unwrap();
    // The producer has sent its 30 events before it ends, so they are ahead of the call.
    assert_eq!(producer.wait().await, Exit::Normal);
    let mut drained = Box::pin(supervisor.drained());
    for _ in 0..20 {
        assert!(
            futures::poll!(&mut drained).is_pending(),
            "30 tasks are held"
        );
        tokio::task::yield_now().await;
    }
    gate.add_permits(30);
    drained.await.unwrap();
    assert_eq!(finished.load(Ordering::SeqCst), 30);
    // Drained already: answered at once.
    supervisor.drained().await.unwrap();
}

#[tokio::test]
async fn drained_fails_when_the_stage_stops_first() {
    let producer = Stage::producer(Counter { limit: Some(5) }, 0)
        .start()
        .await
        .unwrap();
    let tasks = ConsumerSupervisor::tasks(|_: u64| std::future::pending::<()>())
        .task_shutdown(arbor_supervisor::Shutdown::BrutalKill);
    let supervisor = Stage::consumer(tasks, ())
        .subscribe_to(&producer, transient(10))
        .start()
        .await
        .unwrap();
    assert_eq!(producer.wait().await, Exit::Normal);
    let mut drained = Box::pin(supervisor.drained());
    // Polled once, the call is sent: it is queued before the stop.
    assert!(futures::poll!(&mut drained).is_pending());
    supervisor
        .stop_and_wait(Exit::shutdown(), std::time::Duration::from_secs(10))
        .await
        .unwrap();
    assert!(drained.await.is_err());
}
