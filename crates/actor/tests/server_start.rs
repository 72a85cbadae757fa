//! Starting servers: `start` returns after `init`, init outcomes, continue-first, links.

mod support;

use std::future::Future;
use std::pin::pin;
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Duration;

use arbor_actor::{Exit, Server, StartError, StartOptions};
use support::{drain, flush, Event, Plan, Probe, Record};
use tokio::sync::{mpsc, oneshot};

fn probe_config() -> (Probe, mpsc::UnboundedReceiver<Event>) {
    let (events, rx) = mpsc::unbounded_channel();
    (Probe { events }, rx)
}

#[tokio::test]
async fn start_returns_after_init_has_run() {
    let (probe, mut events) = probe_config();
    let server = Server::start(probe, Plan::Ready).await.unwrap();
    // No await between start and the check: init must already have reported.
    assert_eq!(events.try_recv(), Ok(Event::Init));
    assert!(server.is_alive());
}

#[tokio::test]
async fn init_ignore_is_reported_as_ignored() {
    let (probe, _events) = probe_config();
    let error = Server::start(probe, Plan::Ignore).await.unwrap_err();
    assert_eq!(error, StartError::Ignored);
}

#[tokio::test]
async fn init_stop_fails_the_start_without_terminate() {
    let (probe, mut events) = probe_config();
    let error = Server::start(probe, Plan::Stop(Exit::error("no config")))
        .await
        .unwrap_err();
    assert_eq!(error, StartError::Init(Exit::error("no config")));
    assert_eq!(
        drain(&mut events),
        vec![Event::Init],
        "terminate must not run"
    );
}

#[tokio::test]
async fn init_panic_fails_the_start_with_the_panic_message() {
    let (probe, _events) = probe_config();
    let error = Server::start(probe, Plan::Panic("bad init"))
        .await
        .unwrap_err();
    assert_eq!(error, StartError::Init(Exit::Panic("bad init".into())));
}

#[tokio::test(start_paused = true)]
async fn init_timeout_fails_a_slow_start() {
    let (probe, _events) = probe_config();
    let options = StartOptions::new().init_timeout(Duration::from_secs(1));
    let error = Server::start_with(probe, Plan::Sleep(Duration::from_secs(10)), options)
        .await
        .unwrap_err();
    assert_eq!(error, StartError::Timeout(Duration::from_secs(1)));
}

#[tokio::test(start_paused = true)]
async fn calling_itself_from_init_is_an_error_not_a_deadlock() {
    let (probe, _events) = probe_config();
    let started = tokio::time::Instant::now();
    let error = Server::start(probe, Plan::CallSelf).await.unwrap_err();
    assert_eq!(error, StartError::Init(Exit::error("Err(SelfCall)")));
    assert_eq!(
        started.elapsed(),
        Duration::ZERO,
        "refused at once, not timed out"
    );
}

#[test]
fn start_outside_a_runtime_is_an_error_not_a_panic() {
    let (probe, _events) = probe_config();
    let mut start = pin!(Server::start(probe, Plan::Ready));
    let mut cx = TaskContext::from_waker(Waker::noop());
    match start.as_mut().poll(&mut cx) {
        Poll::Ready(result) => assert_eq!(result.unwrap_err(), StartError::NoRuntime),
        Poll::Pending => panic!("start outside a runtime must fail at once"),
    }
}

#[tokio::test]
async fn continue_from_init_runs_before_a_message_already_queued() {
    let (probe, mut events) = probe_config();
    let (open, gate) = oneshot::channel();
    let server = Server::start(probe, Plan::ContinueAfter(gate))
        .await
        .unwrap();
    // Queued while the continuation is still blocked on its gate.
    server.cast(Record(1)).unwrap();
    open.send(()).unwrap();
    flush(&server).await;
    assert_eq!(
        drain(&mut events),
        vec![Event::Init, Event::Continued("from init"), Event::Cast(1)]
    );
}

#[tokio::test]
async fn continue_from_a_callback_runs_before_the_next_message() {
    let (server, mut events) = support::probe().await;
    let (open, gate) = oneshot::channel();
    server.cast(support::ContinueLater(gate)).unwrap();
    server.cast(Record(2)).unwrap();
    open.send(()).unwrap();
    flush(&server).await;
    assert_eq!(
        drain(&mut events),
        vec![Event::Init, Event::Continued("from cast"), Event::Cast(2)]
    );
}

#[tokio::test]
async fn names_are_labels_so_parallel_servers_never_collide() {
    let (first, _a) = probe_config();
    let (second, _b) = probe_config();
    let options = StartOptions::new().name("same-name");
    let one = Server::start_with(first, Plan::Ready, options.clone())
        .await
        .unwrap();
    let two = Server::start_with(second, Plan::Ready, options)
        .await
        .unwrap();
    assert_eq!(one.name(), Some("same-name"));
    assert_eq!(two.name(), Some("same-name"));
    assert_ne!(one, two);
    assert_eq!(one.to_string(), "same-name");
}

#[tokio::test]
async fn a_linked_server_crash_stops_its_parent() {
    let (parent, mut parent_events) = support::probe().await;
    let (child_probe, _child_events) = probe_config();
    let child = Server::start_link(child_probe, Plan::Ready, parent.cell())
        .await
        .unwrap();
    child.cast(support::Crash("child down")).unwrap();
    let exit = parent.wait().await;
    assert_eq!(exit, Exit::error("linked actor exited: panic: child down"));
    let events = drain(&mut parent_events);
    assert!(
        events.contains(&Event::Exit("panic: child down".into())),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_linked_server_normal_exit_leaves_its_parent_running() {
    let (parent, mut parent_events) = support::probe().await;
    let (child_probe, _child_events) = probe_config();
    let child = Server::start_link(child_probe, Plan::Ready, parent.cell())
        .await
        .unwrap();
    child.stop(Exit::Normal).unwrap();
    assert_eq!(child.wait().await, Exit::Normal);
    flush(&parent).await;
    assert!(parent.is_alive());
    assert!(drain(&mut parent_events).contains(&Event::Exit("normal".into())));
}

/// A name service that gives no name at all.
#[derive(Debug)]
struct RefusesEverything;

impl arbor_actor::Naming for RefusesEverything {
    fn register(&self, _pid: &arbor_actor::Pid) -> Result<(), arbor_actor::NameError> {
        Err(arbor_actor::NameError::Refused("no names here".into()))
    }

    fn name(&self) -> String {
        "nowhere/x".into()
    }
}

#[tokio::test]
async fn a_name_refused_by_its_service_fails_the_start_before_init() {
    let (events, mut rx) = mpsc::unbounded_channel();
    let options = StartOptions::new().via(RefusesEverything);
    let started = Server::start_with(Probe { events }, Plan::Ready, options).await;
    assert_eq!(
        started.err(),
        Some(StartError::NameRefused {
            name: "nowhere/x".into(),
            reason: "no names here".into()
        })
    );
    assert_eq!(drain(&mut rx), Vec::<Event>::new(), "init never ran");
}

#[tokio::test]
async fn a_zero_init_timeout_is_refused_before_anything_starts() {
    let options = StartOptions::new().init_timeout(Duration::ZERO);
    let (events, _rx) = tokio::sync::mpsc::unbounded_channel();
    let started = Server::start_with(Probe { events }, Plan::Ready, options).await;
    assert_eq!(started.unwrap_err(), StartError::ZeroInitTimeout);
}
