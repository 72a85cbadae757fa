//! Permanent / transient / temporary children against normal, shutdown and abnormal exits.

mod support;

use std::sync::atomic::Ordering;

use arbor_actor::Exit;
use arbor_supervisor::{ChildState, Restart, Supervisor, SupervisorOptions};
use support::{child, state_of, Crash, Event, Lab, StopWith};

/// Starts one child of this kind, makes it exit as `how` says, and reports whether it
/// was restarted and what `which_children` shows afterwards.
async fn exit_child(restart: Restart, how: Exit) -> (bool, Option<ChildState>) {
    let mut lab = Lab::new();
    let spec = lab.spec("w").restart(restart);
    let supervisor = Supervisor::start([spec], SupervisorOptions::one_for_one())
        .await
        .unwrap();
    assert_eq!(lab.next(1).await, vec![Event::Started("w")]);
    let worker = child(&supervisor, "w").await;
    if how == Exit::Panic("w crashed".into()) {
        worker.cast(Crash).unwrap();
    } else {
        worker.cast(StopWith(how.clone())).unwrap();
    }
    assert_eq!(worker.wait().await, how);
    // The supervisor has taken the exit in before this call (exits come first).
    let state = state_of(&supervisor, "w").await;
    let restarted = lab.drain().contains(&Event::Started("w"));
    (restarted, state)
}

fn crash() -> Exit {
    Exit::Panic("w crashed".into())
}

#[tokio::test]
async fn permanent_children_restart_after_every_exit() {
    for how in [Exit::Normal, Exit::shutdown(), crash()] {
        let (restarted, state) = exit_child(Restart::Permanent, how.clone()).await;
        assert!(restarted, "after {how}");
        assert!(matches!(state, Some(ChildState::Running(_))), "after {how}");
    }
}

#[tokio::test]
async fn transient_children_restart_only_after_abnormal_exits() {
    for how in [Exit::Normal, Exit::shutdown(), Exit::shutdown_with("done")] {
        let (restarted, state) = exit_child(Restart::Transient, how.clone()).await;
        assert!(!restarted, "after {how}");
        assert_eq!(state, Some(ChildState::Undefined), "spec kept after {how}");
    }
    let (restarted, state) = exit_child(Restart::Transient, crash()).await;
    assert!(restarted);
    assert!(matches!(state, Some(ChildState::Running(_))));
}

#[tokio::test]
async fn temporary_children_never_restart_and_are_removed() {
    for how in [Exit::Normal, Exit::shutdown(), crash()] {
        let (restarted, state) = exit_child(Restart::Temporary, how.clone()).await;
        assert!(!restarted, "after {how}");
        assert_eq!(state, None, "spec removed after {how}");
    }
}

#[tokio::test]
async fn a_temporary_child_that_ignores_its_start_is_not_kept() {
    let mut lab = Lab::new();
    lab.knobs("temp").ignore_init.store(true, Ordering::SeqCst);
    lab.knobs("perm").ignore_init.store(true, Ordering::SeqCst);
    let specs = vec![
        lab.spec("a"),
        lab.spec("temp").restart(Restart::Temporary),
        lab.spec("perm"),
    ];
    let supervisor = Supervisor::start(specs, SupervisorOptions::default())
        .await
        .unwrap();
    let ids: Vec<_> = supervisor
        .which_children()
        .await
        .unwrap()
        .into_iter()
        .map(|info| (info.id, info.state.child().is_some()))
        .collect();
    assert_eq!(
        ids,
        [("a".to_string(), true), ("perm".to_string(), false)],
        "the temporary one is dropped, the permanent one kept as undefined"
    );
}

#[tokio::test]
async fn a_temporary_child_that_ignores_a_group_restart_is_dropped() {
    let mut lab = Lab::new();
    let specs = vec![lab.spec("a"), lab.spec("temp").restart(Restart::Temporary)];
    let supervisor = Supervisor::start(specs, SupervisorOptions::one_for_all())
        .await
        .unwrap();
    lab.next(2).await;
    lab.knobs("a").ignore_init.store(true, Ordering::SeqCst);
    child(&supervisor, "a").await.cast(Crash).unwrap();
    // a (permanent) ignores its restart: kept, undefined. temp was stopped: removed, as OTP.
    assert_eq!(
        lab.next(2).await[1],
        Event::Stopped("temp", Exit::shutdown())
    );
    assert_eq!(
        state_of(&supervisor, "a").await,
        Some(ChildState::Undefined)
    );
    assert_eq!(state_of(&supervisor, "temp").await, None);
}
