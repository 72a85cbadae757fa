//! The three strategies with four children: exactly which children stop and start, and
//! in which order.

mod support;

use arbor_actor::Exit;
use arbor_supervisor::{Strategy, Supervisor, SupervisorOptions};
use support::{child, panic_of, started, stopped, Crash, Event, Lab, Name};

const CHILDREN: [&str; 4] = ["a", "b", "c", "d"];

async fn tree(strategy: Strategy) -> (Supervisor, Lab) {
    let mut lab = Lab::new();
    let specs: Vec<_> = CHILDREN.iter().map(|id| lab.spec(id)).collect();
    let supervisor = Supervisor::start(specs, SupervisorOptions::new(strategy))
        .await
        .unwrap();
    assert_eq!(
        lab.next(4).await,
        started(&CHILDREN),
        "children start in list order"
    );
    (supervisor, lab)
}

async fn crash(supervisor: &Supervisor, id: &str) {
    child(supervisor, id).await.cast(Crash).unwrap();
}

#[tokio::test]
async fn one_for_one_restarts_only_the_failed_child() {
    let (supervisor, mut lab) = tree(Strategy::OneForOne).await;
    let before = child(&supervisor, "b").await;
    crash(&supervisor, "c").await;
    assert_eq!(
        lab.next(2).await,
        vec![Event::Stopped("c", panic_of("c")), Event::Started("c")]
    );
    assert_eq!(child(&supervisor, "b").await, before, "siblings untouched");
    assert_eq!(child(&supervisor, "c").await.call(Name).await, Ok("c"));
    assert_eq!(lab.drain(), vec![]);
}

#[tokio::test]
async fn one_for_all_stops_the_others_in_reverse_then_restarts_all_in_order() {
    let (supervisor, mut lab) = tree(Strategy::OneForAll).await;
    crash(&supervisor, "c").await;
    let mut expected = vec![Event::Stopped("c", panic_of("c"))];
    expected.extend(stopped(&["d", "b", "a"], Exit::shutdown()));
    expected.extend(started(&CHILDREN));
    assert_eq!(lab.next(expected.len()).await, expected);
    for id in CHILDREN {
        assert_eq!(child(&supervisor, id).await.call(Name).await, Ok(id));
    }
}

#[tokio::test]
async fn rest_for_one_restarts_the_failed_child_and_those_started_after_it() {
    let (supervisor, mut lab) = tree(Strategy::RestForOne).await;
    let a = child(&supervisor, "a").await;
    crash(&supervisor, "b").await;
    let mut expected = vec![Event::Stopped("b", panic_of("b"))];
    expected.extend(stopped(&["d", "c"], Exit::shutdown()));
    expected.extend(started(&["b", "c", "d"]));
    assert_eq!(lab.next(expected.len()).await, expected);
    assert_eq!(
        child(&supervisor, "a").await,
        a,
        "children before it untouched"
    );
}

#[tokio::test]
async fn a_group_restart_does_not_take_its_own_stops_for_crashes() {
    // one_for_all stops b, c, d itself: their exits must not trigger more restarts.
    let (supervisor, mut lab) = tree(Strategy::OneForAll).await;
    crash(&supervisor, "a").await;
    lab.next(1 + 3 + 4).await;
    let counts = supervisor.count_children().await.unwrap();
    assert_eq!((counts.specs, counts.active), (4, 4));
    assert_eq!(lab.drain(), vec![], "no further restarts");
}

#[tokio::test]
async fn a_stale_exit_of_a_replaced_child_is_not_a_crash() {
    let (supervisor, mut lab) = tree(Strategy::OneForOne).await;
    let old = child(&supervisor, "b").await;
    crash(&supervisor, "b").await;
    assert_eq!(
        lab.next(2).await,
        vec![Event::Stopped("b", panic_of("b")), Event::Started("b")]
    );
    let current = child(&supervisor, "b").await;
    assert_ne!(current, old);
    // The replaced incarnation's exit arrives (again) after its replacement started.
    supervisor
        .pid()
        .exit_signal(old.cell(), panic_of("b"))
        .unwrap();
    // A call is a barrier: the signal was handled before the answer.
    let counts = supervisor.count_children().await.unwrap();
    assert_eq!((counts.specs, counts.active), (4, 4));
    assert_eq!(
        child(&supervisor, "b").await,
        current,
        "the current b lives on"
    );
    assert_eq!(lab.drain(), vec![], "no restart");
}
