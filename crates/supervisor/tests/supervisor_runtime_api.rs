//! start_child, terminate_child, restart_child, delete_child, which_children,
//! count_children, and the tree snapshot.

mod support;

use arbor_supervisor::{
    AutoShutdown, ChildCounts, ChildError, ChildKind, ChildState, DynamicSupervisor,
    DynamicSupervisorOptions, NodeState, Restart, SpecError, StartChildError, Supervisor,
    SupervisorOptions,
};
use support::{child, state_of, Event, Lab, Name};

async fn two_children(lab: &mut Lab) -> Supervisor {
    let supervisor =
        Supervisor::start([lab.spec("a"), lab.spec("b")], SupervisorOptions::default())
            .await
            .unwrap();
    lab.next(2).await;
    supervisor
}

#[tokio::test]
async fn start_child_appends_and_refuses_a_taken_id_running_or_not() {
    let mut lab = Lab::new();
    let supervisor = two_children(&mut lab).await;
    let started = supervisor.start_child(lab.spec("c")).await.unwrap();
    assert_eq!(
        started
            .server::<support::Worker>()
            .unwrap()
            .call(Name)
            .await,
        Ok("c")
    );
    let ids: Vec<_> = supervisor
        .which_children()
        .await
        .unwrap()
        .into_iter()
        .map(|info| info.id)
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
    // Running: OTP's `{error, {already_started, Child}}`, with the running child.
    let running = supervisor.find_child("a").await.unwrap().unwrap();
    let again = supervisor.start_child(lab.spec("a")).await.unwrap_err();
    assert_eq!(
        again,
        StartChildError::AlreadyStarted {
            id: "a".into(),
            child: running
        }
    );
    // Kept but not running: OTP's `already_present`.
    supervisor.terminate_child("a").await.unwrap();
    let again = supervisor.start_child(lab.spec("a")).await.unwrap_err();
    assert_eq!(again, StartChildError::AlreadyPresent("a".into()));
    assert!(
        !lab.drain().contains(&Event::Started("a")),
        "a was not started again"
    );
}

#[tokio::test]
async fn terminate_restart_and_delete_child() {
    let mut lab = Lab::new();
    let supervisor = two_children(&mut lab).await;

    assert_eq!(
        supervisor.restart_child("a").await.unwrap_err(),
        ChildError::Running("a".into())
    );
    assert_eq!(
        supervisor.delete_child("a").await.unwrap_err(),
        ChildError::Running("a".into())
    );

    supervisor.terminate_child("a").await.unwrap();
    assert_eq!(
        lab.next(1).await,
        vec![Event::Stopped("a", arbor_actor::Exit::shutdown())]
    );
    assert_eq!(
        state_of(&supervisor, "a").await,
        Some(ChildState::Undefined),
        "spec kept"
    );
    assert_eq!(supervisor.count_children().await.unwrap().active, 1);

    supervisor.restart_child("a").await.unwrap();
    assert_eq!(lab.next(1).await, vec![Event::Started("a")]);
    assert_eq!(child(&supervisor, "a").await.call(Name).await, Ok("a"));

    supervisor.terminate_child("a").await.unwrap();
    supervisor.delete_child("a").await.unwrap();
    assert_eq!(state_of(&supervisor, "a").await, None);
    assert_eq!(
        supervisor.terminate_child("zz").await.unwrap_err(),
        ChildError::NotFound("zz".into())
    );
    assert_eq!(
        supervisor.delete_child("a").await.unwrap_err(),
        ChildError::NotFound("a".into())
    );
}

#[tokio::test]
async fn count_children_counts_specs_active_and_kinds() {
    let mut lab = Lab::new();
    let nested = DynamicSupervisor::child_spec("jobs", DynamicSupervisorOptions::default());
    let supervisor = Supervisor::start(
        [lab.spec("a"), lab.spec("b"), nested],
        SupervisorOptions::default(),
    )
    .await
    .unwrap();
    lab.next(2).await;
    supervisor.terminate_child("b").await.unwrap();
    let counts = supervisor.count_children().await.unwrap();
    assert_eq!(
        counts,
        ChildCounts {
            specs: 3,
            active: 2,
            supervisors: 1,
            workers: 2
        }
    );
}

#[tokio::test]
async fn the_tree_snapshot_walks_nested_supervisors() {
    let mut lab = Lab::new();
    let inner = Supervisor::child_spec(
        "inner",
        vec![lab.spec("x"), lab.spec("y")],
        SupervisorOptions::default(),
    );
    let jobs = DynamicSupervisor::child_spec("jobs", DynamicSupervisorOptions::default());
    let root = Supervisor::start(
        [lab.spec("a"), inner, jobs],
        SupervisorOptions::default().name("app"),
    )
    .await
    .unwrap();
    lab.next(3).await;
    let jobs = DynamicSupervisor::from_child(
        root.which_children().await.unwrap()[2]
            .state
            .child()
            .unwrap(),
    )
    .unwrap();
    jobs.start_child(lab.spec("job-1")).await.unwrap();

    let tree = root.tree().await.unwrap();
    assert_eq!(tree.id, "app");
    let top: Vec<_> = tree
        .children
        .iter()
        .map(|node| (node.id.as_str(), node.kind))
        .collect();
    assert_eq!(
        top,
        [
            ("a", ChildKind::Worker),
            ("inner", ChildKind::Supervisor),
            ("jobs", ChildKind::Supervisor)
        ]
    );
    let inner_ids: Vec<_> = tree.children[1]
        .children
        .iter()
        .map(|node| node.id.as_str())
        .collect();
    assert_eq!(inner_ids, ["x", "y"]);
    assert_eq!(tree.children[2].children[0].id, "job-1");
    assert!(tree
        .children
        .iter()
        .all(|node| node.state == NodeState::Running));
}

#[tokio::test]
async fn find_child_returns_the_running_child_by_id() {
    let mut lab = Lab::new();
    let supervisor = two_children(&mut lab).await;
    let b = supervisor.find_child("b").await.unwrap().unwrap();
    assert_eq!(
        b.server::<support::Worker>().unwrap().call(Name).await,
        Ok("b")
    );
    supervisor.terminate_child("b").await.unwrap();
    assert_eq!(supervisor.find_child("b").await.unwrap(), None);
    assert_eq!(supervisor.find_child("nope").await.unwrap(), None);
}

#[tokio::test]
async fn an_invalid_spec_is_refused_by_start_child() {
    let mut lab = Lab::new();
    let supervisor = two_children(&mut lab).await;
    let error = supervisor
        .start_child(lab.spec("c").significant(true))
        .await
        .unwrap_err();
    // OTP: `bad_combination` of `significant` with `auto_shutdown => never`.
    assert_eq!(
        error,
        StartChildError::InvalidSpec(SpecError::SignificantWithoutAutoShutdown { id: "c".into() })
    );
    assert_eq!(lab.drain(), vec![], "nothing started");
}

#[tokio::test]
async fn start_child_takes_a_significant_child_when_auto_shutdown_is_on() {
    let mut lab = Lab::new();
    let options = SupervisorOptions::default().auto_shutdown(AutoShutdown::AnySignificant);
    let supervisor = Supervisor::start([lab.spec("a")], options).await.unwrap();
    let job = lab
        .spec("job")
        .restart(Restart::Transient)
        .significant(true);
    supervisor.start_child(job).await.unwrap();
    let permanent = lab.spec("forever").significant(true);
    assert_eq!(
        supervisor.start_child(permanent).await.unwrap_err(),
        StartChildError::InvalidSpec(SpecError::SignificantPermanent {
            id: "forever".into()
        })
    );
}

#[tokio::test]
async fn nested_supervisors_are_named_after_their_id() {
    let mut lab = Lab::new();
    let inner = Supervisor::child_spec("inner", vec![lab.spec("x")], SupervisorOptions::default());
    let root = Supervisor::start([inner], SupervisorOptions::default())
        .await
        .unwrap();
    let inner = Supervisor::from_child(&root.find_child("inner").await.unwrap().unwrap()).unwrap();
    assert_eq!(inner.tree().await.unwrap().id, "inner");
}
