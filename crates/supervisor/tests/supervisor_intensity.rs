//! Restart intensity on paused time: max_restarts inside the window are fine, one more
//! escalates; restarts spread beyond the window never trip; escalation climbs the tree.

mod support;

use std::time::Duration;

use arbor_actor::Exit;
use arbor_supervisor::{Supervisor, SupervisorOptions};
use support::{child, panic_of, started, stopped, Crash, Event, Lab};
use tokio::time::advance;

const SECOND: Duration = Duration::from_secs(1);

fn intensity_exit() -> Exit {
    arbor_supervisor::reached_max_intensity()
}

async fn crash_and_restart(supervisor: &Supervisor, lab: &mut Lab) {
    child(supervisor, "b").await.cast(Crash).unwrap();
    assert_eq!(
        lab.next(2).await,
        vec![Event::Stopped("b", panic_of("b")), Event::Started("b")]
    );
}

#[tokio::test(start_paused = true)]
async fn the_restart_after_max_restarts_within_the_window_escalates() {
    let mut lab = Lab::new();
    let specs = vec![lab.spec("a"), lab.spec("b"), lab.spec("c")];
    let options = SupervisorOptions::one_for_one()
        .max_restarts(3)
        .max_seconds(5);
    let supervisor = Supervisor::start(specs, options).await.unwrap();
    lab.next(3).await;
    for _ in 0..3 {
        crash_and_restart(&supervisor, &mut lab).await; // at t = 0, 1, 2: fine
        advance(SECOND).await;
    }
    child(&supervisor, "b").await.cast(Crash).unwrap(); // t = 3: the 4th within 5 s
    assert_eq!(supervisor.wait().await, intensity_exit());
    let mut expected = vec![Event::Stopped("b", panic_of("b"))];
    // As in OTP, the children are stopped with `shutdown`, whatever the supervisor's reason.
    expected.extend(stopped(&["c", "a"], Exit::shutdown()));
    assert_eq!(
        lab.drain(),
        expected,
        "every other child stopped, last started first"
    );
}

#[tokio::test(start_paused = true)]
async fn restarts_spread_beyond_the_window_never_trip() {
    let mut lab = Lab::new();
    let options = SupervisorOptions::one_for_one()
        .max_restarts(3)
        .max_seconds(5);
    let supervisor = Supervisor::start([lab.spec("b")], options).await.unwrap();
    lab.next(1).await;
    for _ in 0..20 {
        crash_and_restart(&supervisor, &mut lab).await;
        advance(2 * SECOND).await; // at most 3 restarts in any 5 s
    }
    assert!(supervisor.is_alive());
}

#[tokio::test(start_paused = true)]
async fn escalation_climbs_two_levels_to_the_root() {
    let mut lab = Lab::new();
    let strict = SupervisorOptions::one_for_one().max_restarts(0);
    let middle = Supervisor::child_spec(
        "middle",
        vec![lab.spec("leaf")],
        strict.clone().name("middle"),
    );
    let root = Supervisor::start([lab.spec("sibling"), middle], strict.name("root"))
        .await
        .unwrap();
    assert_eq!(lab.next(2).await, started(&["sibling", "leaf"]));
    let middle = root.which_children().await.unwrap()[1]
        .state
        .child()
        .cloned()
        .unwrap();
    let middle = Supervisor::from_child(&middle).unwrap();
    child(&middle, "leaf").await.cast(Crash).unwrap();
    // leaf crashes → middle may not restart it → middle fails → root may not restart it.
    assert_eq!(root.wait().await, intensity_exit());
    assert_eq!(middle.wait().await, intensity_exit());
    assert_eq!(
        lab.drain(),
        vec![
            Event::Stopped("leaf", panic_of("leaf")),
            Event::Stopped("sibling", Exit::shutdown()),
        ]
    );
}
