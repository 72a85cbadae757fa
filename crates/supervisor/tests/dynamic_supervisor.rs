//! DynamicSupervisor: runtime children, max_children, terminate by child, the same
//! restart and intensity rules, extra arguments, stopping all children at once.

mod support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use arbor_actor::Exit;
use arbor_supervisor::{
    ChildError, ChildSpec, ChildState, DynamicSupervisor, DynamicSupervisorOptions, Restart,
    SpecError, StartChildError,
};
use support::{panic_of, Crash, Event, Lab, Name, StopWith, Worker};
use tokio::time::advance;

async fn runner(options: DynamicSupervisorOptions) -> DynamicSupervisor {
    DynamicSupervisor::start(options).await.unwrap()
}

#[tokio::test]
async fn start_child_returns_the_running_child() {
    let mut lab = Lab::new();
    let runner = runner(DynamicSupervisorOptions::default()).await;
    let child = runner.start_child(lab.spec("job")).await.unwrap();
    assert_eq!(
        child.server::<Worker>().unwrap().call(Name).await,
        Ok("job")
    );
    assert_eq!(lab.next(1).await, vec![Event::Started("job")]);
}

#[tokio::test]
async fn max_children_is_a_typed_error_when_full() {
    let mut lab = Lab::new();
    let runner = runner(DynamicSupervisorOptions::default().max_children(2)).await;
    runner.start_child(lab.spec("one")).await.unwrap();
    let two = runner.start_child(lab.spec("two")).await.unwrap();
    assert_eq!(
        runner.start_child(lab.spec("three")).await.unwrap_err(),
        StartChildError::MaxChildren(2)
    );
    runner.terminate_child(&two).await.unwrap();
    runner.start_child(lab.spec("three")).await.unwrap();
}

#[tokio::test]
async fn terminate_child_stops_it_and_forgets_it() {
    let mut lab = Lab::new();
    let runner = runner(DynamicSupervisorOptions::default()).await;
    let child = runner.start_child(lab.spec("job")).await.unwrap();
    lab.next(1).await;
    runner.terminate_child(&child).await.unwrap();
    assert_eq!(
        lab.next(1).await,
        vec![Event::Stopped("job", Exit::shutdown())]
    );
    assert_eq!(runner.count_children().await.unwrap().specs, 0);
    assert!(matches!(
        runner.terminate_child(&child).await,
        Err(ChildError::NotFound(_))
    ));
}

#[tokio::test]
async fn a_restarted_child_moves_to_the_end_of_the_start_order() {
    // As OTP: a restart is a start, and which_children lists children in start order.
    let mut lab = Lab::new();
    let runner = runner(DynamicSupervisorOptions::default()).await;
    runner.start_child(lab.spec("first")).await.unwrap();
    let middle = runner.start_child(lab.spec("middle")).await.unwrap();
    runner.start_child(lab.spec("last")).await.unwrap();
    lab.next(3).await;
    middle.server::<Worker>().unwrap().cast(Crash).unwrap();
    assert_eq!(
        lab.next(2).await,
        vec![
            Event::Stopped("middle", panic_of("middle")),
            Event::Started("middle")
        ]
    );
    let children = runner.which_children().await.unwrap();
    let ids: Vec<_> = children.iter().map(|info| info.id.as_str()).collect();
    assert_eq!(
        ids,
        ["first", "last", "middle"],
        "the new incarnation is the latest"
    );
    let restarted = children[2].state.child().unwrap();
    assert_ne!(restarted, &middle, "a new incarnation");
}

#[tokio::test]
async fn temporary_and_transient_children_follow_their_restart_kind() {
    let mut lab = Lab::new();
    let runner = runner(DynamicSupervisorOptions::default()).await;
    let temporary = runner
        .start_child(lab.spec("temp").restart(Restart::Temporary))
        .await
        .unwrap();
    let transient = runner
        .start_child(lab.spec("trans").restart(Restart::Transient))
        .await
        .unwrap();
    lab.next(2).await;
    temporary.server::<Worker>().unwrap().cast(Crash).unwrap();
    transient
        .server::<Worker>()
        .unwrap()
        .cast(StopWith(Exit::Normal))
        .unwrap();
    temporary.server::<Worker>().unwrap().wait().await;
    transient.server::<Worker>().unwrap().wait().await;
    assert_eq!(
        runner.count_children().await.unwrap().specs,
        0,
        "neither restarted, both forgotten"
    );
    assert!(!lab
        .drain()
        .iter()
        .any(|event| matches!(event, Event::Started(_))));
}

#[tokio::test(start_paused = true)]
async fn intensity_applies_as_in_a_static_supervisor() {
    let mut lab = Lab::new();
    let runner = runner(
        DynamicSupervisorOptions::default()
            .max_restarts(3)
            .max_seconds(30),
    )
    .await;
    runner.start_child(lab.spec("doomed")).await.unwrap();
    lab.next(1).await;
    for _ in 0..3 {
        let children = runner.which_children().await.unwrap();
        children[0]
            .state
            .child()
            .unwrap()
            .server::<Worker>()
            .unwrap()
            .cast(Crash)
            .unwrap();
        assert_eq!(lab.next(2).await[1], Event::Started("doomed"));
        advance(Duration::from_secs(5)).await;
    }
    let children = runner.which_children().await.unwrap();
    children[0]
        .state
        .child()
        .unwrap()
        .server::<Worker>()
        .unwrap()
        .cast(Crash)
        .unwrap();
    assert_eq!(
        runner.wait().await,
        arbor_supervisor::reached_max_intensity()
    );
}

#[tokio::test]
async fn children_can_be_built_from_the_extra_arguments() {
    let mut lab = Lab::new();
    let worker = lab.worker("from-extra");
    let runner = DynamicSupervisor::start_with_extra(DynamicSupervisorOptions::default(), worker)
        .await
        .unwrap();
    let child = runner
        .start_child_with(|worker| ChildSpec::worker("job", worker.clone(), ()))
        .await
        .unwrap();
    assert_eq!(
        child.server::<Worker>().unwrap().call(Name).await,
        Ok("from-extra")
    );
}

#[tokio::test]
async fn stopping_stops_every_child() {
    let mut lab = Lab::new();
    let runner = runner(DynamicSupervisorOptions::default()).await;
    let mut children = Vec::new();
    for _ in 0..10 {
        children.push(runner.start_child(lab.spec("job")).await.unwrap());
    }
    assert_eq!(runner.stop(Exit::shutdown()).await, Exit::shutdown());
    assert!(children.iter().all(|child| !child.is_alive()));
    let stops = lab
        .drain()
        .into_iter()
        .filter(|event| matches!(event, Event::Stopped(..)))
        .count();
    assert_eq!(stops, 10, "each child ran terminate");
    assert!(matches!(
        runner.start_child(lab.spec("late")).await,
        Err(StartChildError::Supervisor(_))
    ));
}

#[tokio::test]
async fn a_dynamic_child_stuck_restarting_can_be_terminated() {
    let mut lab = Lab::new();
    let runner =
        DynamicSupervisor::start(DynamicSupervisorOptions::default().max_restarts(u32::MAX))
            .await
            .unwrap();
    let job = runner.start_child(lab.spec("job")).await.unwrap();
    lab.next(1).await;
    lab.knobs("job")
        .fail_inits
        .store(usize::MAX, Ordering::SeqCst);
    job.server::<Worker>().unwrap().cast(Crash).unwrap();
    assert_eq!(
        lab.next(2).await,
        vec![
            Event::Stopped("job", panic_of("job")),
            Event::Refused("job")
        ]
    );
    assert_eq!(
        runner.which_children().await.unwrap()[0].state,
        ChildState::Restarting
    );

    // The handle of the incarnation that crashed names the child while it restarts.
    runner.terminate_child(&job).await.unwrap();
    assert_eq!(runner.count_children().await.unwrap().specs, 0);
    let refused_before = lab.drain().len();
    // The loop is over: a few more round trips through the mailbox see no more tries.
    for _ in 0..10 {
        runner.count_children().await.unwrap();
    }
    assert_eq!(
        lab.drain(),
        vec![],
        "no tries after {refused_before} queued ones"
    );
    assert!(runner.is_alive());
}

#[tokio::test]
async fn a_significant_child_is_refused() {
    // A DynamicSupervisor has no auto_shutdown: OTP's DynamicSupervisor answers
    // `invalid_significant`.
    let mut lab = Lab::new();
    let runner = runner(DynamicSupervisorOptions::default()).await;
    let spec = lab
        .spec("job")
        .restart(Restart::Transient)
        .significant(true);
    assert_eq!(
        runner.start_child(spec).await.unwrap_err(),
        StartChildError::InvalidSpec(SpecError::SignificantInDynamicSupervisor {
            id: "job".into()
        })
    );
    assert_eq!(lab.drain(), vec![], "nothing started");
}
