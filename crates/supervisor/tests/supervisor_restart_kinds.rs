//! Permanent / transient / temporary children against normal, shutdown and abnormal exits.

mod support;

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
