//! Group restarts (`OneForAll`, `RestForOne`) as OTP runs them: every child of the group
//! starts again, those stopped on purpose included; a sibling that fails to start makes the
//! whole group restart again through the mailbox, each round one more restart; meanwhile
//! only the failing child is `Restarting`, the ones after it are stopped.

mod support;

use std::sync::atomic::Ordering;

use arbor_actor::Exit;
use arbor_supervisor::{ChildCounts, ChildState, Supervisor, SupervisorOptions};
use support::{child, panic_of, started, state_of, Crash, Event, Lab};

/// Enough restarts that a test's own loop never trips the intensity.
fn patient(options: SupervisorOptions) -> SupervisorOptions {
    options.max_restarts(u32::MAX)
}

fn is_running(state: &Option<ChildState>) -> bool {
    matches!(state, Some(ChildState::Running(_)))
}

#[tokio::test]
async fn one_for_all_restarts_the_whole_group_again_when_a_sibling_fails_to_start() {
    // OTP: each round starts c1, fails on c2, and the next round stops c1 again.
    let mut lab = Lab::new();
    let specs = vec![lab.spec("c1"), lab.spec("c2")];
    let supervisor = Supervisor::start(specs, patient(SupervisorOptions::one_for_all()))
        .await
        .unwrap();
    assert_eq!(lab.next(2).await, started(&["c1", "c2"]));
    lab.knobs("c2").fail_inits.store(2, Ordering::SeqCst);
    child(&supervisor, "c2").await.cast(Crash).unwrap();

    let round = |first: Event| vec![first, Event::Started("c1"), Event::Refused("c2")];
    let mut expected = round(Event::Stopped("c2", panic_of("c2")));
    expected.insert(1, Event::Stopped("c1", Exit::shutdown()));
    expected.extend(round(Event::Stopped("c1", Exit::shutdown())));
    expected.extend([
        Event::Stopped("c1", Exit::shutdown()),
        Event::Started("c1"),
        Event::Started("c2"),
    ]);
    assert_eq!(lab.next(expected.len()).await, expected);
    let counts = supervisor.count_children().await.unwrap();
    assert_eq!((counts.specs, counts.active), (2, 2));
}

#[tokio::test(start_paused = true)]
async fn each_round_of_a_failing_group_restart_counts_toward_intensity() {
    let mut lab = Lab::new();
    let specs = vec![lab.spec("c1"), lab.spec("c2")];
    // The crash is one restart, each retry another: the third is one too many.
    let options = SupervisorOptions::one_for_all().max_restarts(2);
    let supervisor = Supervisor::start(specs, options).await.unwrap();
    lab.next(2).await;
    lab.knobs("c2")
        .fail_inits
        .store(usize::MAX, Ordering::SeqCst);
    child(&supervisor, "c2").await.cast(Crash).unwrap();
    assert_eq!(
        supervisor.wait().await,
        arbor_supervisor::reached_max_intensity()
    );
    let refusals = lab
        .drain()
        .into_iter()
        .filter(|event| *event == Event::Refused("c2"))
        .count();
    assert_eq!(
        refusals, 2,
        "two rounds ran before the third restart tripped"
    );
}

#[tokio::test]
async fn one_for_all_group_restart_starts_a_child_terminated_on_purpose() {
    let mut lab = Lab::new();
    let specs = vec![lab.spec("a"), lab.spec("b"), lab.spec("c")];
    let supervisor = Supervisor::start(specs, SupervisorOptions::one_for_all())
        .await
        .unwrap();
    lab.next(3).await;
    supervisor.terminate_child("b").await.unwrap();
    assert_eq!(
        lab.next(1).await,
        vec![Event::Stopped("b", Exit::shutdown())]
    );

    child(&supervisor, "a").await.cast(Crash).unwrap();
    let mut expected = vec![
        Event::Stopped("a", panic_of("a")),
        Event::Stopped("c", Exit::shutdown()),
    ];
    expected.extend(started(&["a", "b", "c"]));
    assert_eq!(lab.next(expected.len()).await, expected);
    assert_eq!(
        supervisor.count_children().await.unwrap(),
        ChildCounts {
            specs: 3,
            active: 3,
            supervisors: 0,
            workers: 3
        }
    );
}

#[tokio::test]
async fn rest_for_one_group_restart_starts_a_later_child_terminated_on_purpose() {
    let mut lab = Lab::new();
    let specs = vec![lab.spec("a"), lab.spec("b"), lab.spec("c")];
    let supervisor = Supervisor::start(specs, SupervisorOptions::rest_for_one())
        .await
        .unwrap();
    lab.next(3).await;
    supervisor.terminate_child("c").await.unwrap();
    lab.next(1).await;
    child(&supervisor, "b").await.cast(Crash).unwrap();
    let mut expected = vec![Event::Stopped("b", panic_of("b"))];
    expected.extend(started(&["b", "c"]));
    assert_eq!(lab.next(expected.len()).await, expected);
    assert_eq!(supervisor.count_children().await.unwrap().active, 3);
}

#[tokio::test]
async fn rest_for_one_reports_the_later_children_stopped_while_a_restart_keeps_failing() {
    let mut lab = Lab::new();
    let specs = vec![lab.spec("a"), lab.spec("b"), lab.spec("c")];
    let supervisor = Supervisor::start(specs, patient(SupervisorOptions::rest_for_one()))
        .await
        .unwrap();
    lab.next(3).await;
    lab.knobs("b")
        .fail_inits
        .store(usize::MAX, Ordering::SeqCst);
    child(&supervisor, "b").await.cast(Crash).unwrap();
    assert_eq!(
        lab.next(3).await,
        vec![
            Event::Stopped("b", panic_of("b")),
            Event::Stopped("c", Exit::shutdown()),
            Event::Refused("b"),
        ]
    );
    // The supervisor keeps retrying b through its mailbox; look in between two tries.
    let states: Vec<_> = supervisor
        .which_children()
        .await
        .unwrap()
        .into_iter()
        .map(|info| info.state)
        .collect();
    assert!(states[0].child().is_some(), "a untouched: {states:?}");
    assert_eq!(states[1], ChildState::Restarting, "{states:?}");
    assert_eq!(
        states[2],
        ChildState::Undefined,
        "c is stopped, not restarting"
    );

    lab.knobs("b").fail_inits.store(0, Ordering::SeqCst);
    loop {
        match lab.events.recv().await.unwrap() {
            Event::Started("c") => break,
            Event::Refused(_) | Event::Started("b") => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(is_running(&state_of(&supervisor, "c").await));
    supervisor.stop(Exit::shutdown()).await;
}
