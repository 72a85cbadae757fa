//! Ordered start with rollback, reverse-ordered shutdown, each `Shutdown` kind, bad input.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use arbor_actor::{Exit, StartError};
use std::error::Error as _;

use arbor_supervisor::{
    AutoShutdown, DynamicSupervisor, DynamicSupervisorOptions, OptionsError, Restart, Shutdown,
    SpecError, Supervisor, SupervisorError, SupervisorOptions,
};
use support::{child, started, stopped, Event, Lab, StopWith};
use tokio::time::Instant;

#[tokio::test]
async fn a_child_that_fails_to_start_rolls_back_the_ones_started_before_it() {
    let mut lab = Lab::new();
    lab.knobs("c").fail_init.store(true, Ordering::SeqCst);
    let specs = vec![lab.spec("a"), lab.spec("b"), lab.spec("c"), lab.spec("d")];
    let error = Supervisor::start(specs, SupervisorOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        error,
        SupervisorError::ChildStart {
            id: "c".into(),
            error: StartError::Init(Exit::error("init refused")),
        }
    );
    let mut expected = started(&["a", "b"]);
    expected.extend(stopped(&["b", "a"], Exit::shutdown()));
    assert_eq!(lab.drain(), expected, "d never started; b then a stopped");
}

#[tokio::test]
async fn stopping_a_supervisor_stops_its_children_last_started_first() {
    let mut lab = Lab::new();
    let specs = vec![lab.spec("a"), lab.spec("b"), lab.spec("c")];
    let supervisor = Supervisor::start(specs, SupervisorOptions::default())
        .await
        .unwrap();
    lab.next(3).await;
    assert_eq!(supervisor.stop(Exit::shutdown()).await, Exit::shutdown());
    assert_eq!(lab.drain(), stopped(&["c", "b", "a"], Exit::shutdown()));
}

#[tokio::test(start_paused = true)]
async fn a_child_that_ignores_its_stop_is_killed_after_its_timeout() {
    let mut lab = Lab::new();
    lab.knobs("stuck")
        .hang_in_terminate
        .store(true, Ordering::SeqCst);
    let spec = lab
        .spec("stuck")
        .shutdown(Shutdown::Timeout(Duration::from_secs(2)));
    let supervisor = Supervisor::start([spec], SupervisorOptions::default())
        .await
        .unwrap();
    lab.next(1).await;
    let stuck = child(&supervisor, "stuck").await;
    let asked = Instant::now();
    supervisor.stop(Exit::shutdown()).await;
    assert_eq!(
        asked.elapsed(),
        Duration::from_secs(2),
        "waited exactly the timeout"
    );
    assert_eq!(stuck.wait().await, Exit::Killed);
}

#[tokio::test(start_paused = true)]
async fn infinity_waits_for_a_slow_child_to_finish_stopping() {
    let mut lab = Lab::new();
    lab.knobs("slow")
        .slow_terminate
        .store(true, Ordering::SeqCst);
    let spec = lab.spec("slow").shutdown(Shutdown::Infinity);
    let supervisor = Supervisor::start([spec], SupervisorOptions::default())
        .await
        .unwrap();
    lab.next(1).await;
    let slow = child(&supervisor, "slow").await;
    let asked = Instant::now();
    supervisor.stop(Exit::shutdown()).await;
    assert_eq!(
        asked.elapsed(),
        Duration::from_secs(10),
        "the whole terminate"
    );
    assert_eq!(slow.wait().await, Exit::shutdown());
}

#[tokio::test]
async fn brutal_kill_stops_a_child_without_terminate() {
    let mut lab = Lab::new();
    let spec = lab.spec("victim").shutdown(Shutdown::BrutalKill);
    let supervisor = Supervisor::start([spec], SupervisorOptions::default())
        .await
        .unwrap();
    lab.next(1).await;
    let victim = child(&supervisor, "victim").await;
    supervisor.stop(Exit::shutdown()).await;
    assert_eq!(victim.wait().await, Exit::Killed);
    assert_eq!(lab.drain(), vec![], "terminate did not run");
}

#[tokio::test]
async fn duplicate_child_ids_are_refused_at_start() {
    let mut lab = Lab::new();
    let specs = vec![lab.spec("a"), lab.spec("a")];
    let error = Supervisor::start(specs, SupervisorOptions::default())
        .await
        .unwrap_err();
    assert_eq!(error, SupervisorError::DuplicateChildId("a".into()));
    assert_eq!(lab.drain(), vec![], "nothing started");
}

#[tokio::test]
async fn a_zero_window_is_refused_at_start() {
    let error = Supervisor::start([], SupervisorOptions::default().max_seconds(0))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        SupervisorError::InvalidOptions(OptionsError::ZeroMaxSeconds)
    );
    assert_eq!(
        error.source().map(ToString::to_string),
        Some("max_seconds must be at least 1".to_string())
    );
    let error = DynamicSupervisor::start(DynamicSupervisorOptions::default().max_seconds(0))
        .await
        .unwrap_err();
    assert_eq!(
        error,
        SupervisorError::InvalidOptions(OptionsError::ZeroMaxSeconds)
    );
}

#[tokio::test]
async fn a_significant_permanent_child_is_refused() {
    let mut lab = Lab::new();
    let spec = lab.spec("a").significant(true);
    let options = SupervisorOptions::default().auto_shutdown(AutoShutdown::AnySignificant);
    let error = Supervisor::start([spec], options).await.unwrap_err();
    assert_eq!(
        error,
        SupervisorError::InvalidSpec(SpecError::SignificantPermanent { id: "a".into() })
    );
    assert_eq!(lab.drain(), vec![], "nothing started");
}

#[tokio::test]
async fn a_significant_child_is_refused_when_auto_shutdown_is_never() {
    // OTP: `bad_combination` of `significant => true` with `auto_shutdown => never`.
    let mut lab = Lab::new();
    let spec = lab.spec("a").restart(Restart::Transient).significant(true);
    let error = Supervisor::start([spec], SupervisorOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        error,
        SupervisorError::InvalidSpec(SpecError::SignificantWithoutAutoShutdown { id: "a".into() })
    );
    assert_eq!(lab.drain(), vec![], "nothing started");
}

#[tokio::test]
async fn a_significant_child_that_finishes_stops_its_supervisor() {
    let mut lab = Lab::new();
    let job = lab
        .spec("job")
        .restart(Restart::Transient)
        .significant(true);
    let options = SupervisorOptions::default().auto_shutdown(AutoShutdown::AnySignificant);
    let supervisor = Supervisor::start([lab.spec("helper"), job], options)
        .await
        .unwrap();
    lab.next(2).await;
    child(&supervisor, "job")
        .await
        .cast(StopWith(Exit::Normal))
        .unwrap();
    assert_eq!(supervisor.wait().await, Exit::shutdown());
    assert_eq!(
        lab.drain(),
        vec![
            Event::Stopped("job", Exit::Normal),
            Event::Stopped("helper", Exit::shutdown())
        ]
    );
}

#[tokio::test]
async fn all_significant_waits_for_the_last_significant_child() {
    let mut lab = Lab::new();
    let one = lab
        .spec("one")
        .restart(Restart::Transient)
        .significant(true);
    let two = lab
        .spec("two")
        .restart(Restart::Transient)
        .significant(true);
    let options = SupervisorOptions::default().auto_shutdown(AutoShutdown::AllSignificant);
    let supervisor = Supervisor::start([one, two], options).await.unwrap();
    lab.next(2).await;
    let first = child(&supervisor, "one").await;
    first.cast(StopWith(Exit::Normal)).unwrap();
    first.wait().await;
    assert!(supervisor.count_children().await.is_ok());
    assert!(
        supervisor.is_alive(),
        "one significant child is still running"
    );
    child(&supervisor, "two")
        .await
        .cast(StopWith(Exit::Normal))
        .unwrap();
    assert_eq!(supervisor.wait().await, Exit::shutdown());
}

#[tokio::test]
async fn a_nested_start_that_finds_a_name_taken_keeps_the_typed_error() {
    // The holder of the name, and a grandchild whose start finds the name taken.
    let mut lab = Lab::new();
    let holder = arbor_actor::Server::start(lab.worker("holder"), ())
        .await
        .unwrap()
        .pid();
    let taken = holder.clone();
    let grandchild = arbor_supervisor::ChildSpec::from_fn("grandchild", move |_| {
        let holder = taken.clone();
        async move {
            Err(StartError::AlreadyStarted {
                name: "jobs/42".into(),
                holder,
            })
        }
    });
    let inner = Supervisor::child_spec("inner", vec![grandchild], SupervisorOptions::default());
    let error = Supervisor::start([inner], SupervisorOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        error,
        SupervisorError::ChildStart {
            id: "inner".into(),
            error: StartError::AlreadyStarted {
                name: "jobs/42".into(),
                holder,
            },
        }
    );
}

/// Tells the test its pid from `init`, then hangs there if asked; reports `terminate`.
#[derive(Clone)]
struct Announce {
    pids: tokio::sync::mpsc::UnboundedSender<arbor_actor::Pid>,
    terminated: tokio::sync::mpsc::UnboundedSender<&'static str>,
    hang: bool,
}

impl arbor_actor::GenServer for Announce {
    type Args = ();
    type State = ();

    async fn init(&self, _: (), ctx: &mut arbor_actor::Context<Self>) -> arbor_actor::Init<()> {
        let _ = self.pids.send(ctx.myself().pid());
        if self.hang {
            std::future::pending::<()>().await;
        }
        arbor_actor::Init::Ready(())
    }

    async fn terminate(&self, _: &Exit, _: &mut (), _: &mut arbor_actor::Context<Self>) {
        let _ = self.terminated.send("terminate ran");
    }
}

#[tokio::test]
async fn a_start_abandoned_midway_kills_the_children_started_so_far_without_terminate() {
    let (pids, mut pid) = tokio::sync::mpsc::unbounded_channel();
    let (terminated, mut terminate) = tokio::sync::mpsc::unbounded_channel();
    let announce = |hang| Announce {
        pids: pids.clone(),
        terminated: terminated.clone(),
        hang,
    };
    let specs = [
        arbor_supervisor::ChildSpec::worker("a", announce(false), ()),
        arbor_supervisor::ChildSpec::worker("hangs", announce(true), ()),
    ];
    let mut start = Box::pin(Supervisor::start(specs, SupervisorOptions::default()));
    let mut started = Vec::new();
    while started.len() < 2 {
        tokio::select! {
            result = &mut start => panic!("the second child never finishes init: {result:?}"),
            Some(next) = pid.recv() => started.push(next),
        }
    }
    drop(start);
    for child in started {
        let server = child.server::<Announce>().expect("an Announce server");
        assert_eq!(server.wait().await, Exit::Killed);
    }
    drop((pids, terminated));
    assert_eq!(terminate.recv().await, None, "no child's terminate ran");
}
