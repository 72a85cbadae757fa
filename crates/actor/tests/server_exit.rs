//! Exit reasons, `terminate` on every stop path OTP runs it on, crash reports, and the
//! typed reason a ractor supervisor reads back.

mod support;

use std::time::Duration;

use arbor_actor::ractor::{self, Actor, ActorProcessingErr, ActorRef, SupervisionEvent};
use arbor_actor::{Exit, Server, StartOptions};
use support::{
    drain, flush, probe, CapturedLogs, Crash, Event, PanicInTerminate, Plan, Probe, Record,
    StopWith,
};
use tokio::sync::mpsc;

const SECOND: Duration = Duration::from_secs(1);

async fn stopped_with(
    server: &Server<Probe>,
    events: &mut mpsc::UnboundedReceiver<Event>,
) -> (Exit, Vec<Event>) {
    let exit = server.wait().await;
    (exit, drain(events))
}

#[tokio::test]
async fn terminate_gets_the_reason_a_callback_stopped_with() {
    for reason in [
        Exit::Normal,
        Exit::shutdown(),
        Exit::shutdown_with("done"),
        Exit::error("bad input"),
    ] {
        let (server, mut events) = probe().await;
        server.cast(StopWith(reason.clone())).unwrap();
        let (exit, events) = stopped_with(&server, &mut events).await;
        assert_eq!(exit, reason);
        assert_eq!(events, vec![Event::Init, Event::Terminated(reason)]);
    }
}

#[tokio::test]
async fn a_panic_runs_terminate_and_is_logged_as_a_crash() {
    let logs = CapturedLogs::default();
    let _guard = logs.install();
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let options = StartOptions::new().name("worker-7");
    let server = Server::start_with(Probe { events: events_tx }, Plan::Ready, options)
        .await
        .unwrap();
    server.cast(Crash("disk on fire")).unwrap();
    let (exit, events) = stopped_with(&server, &mut events).await;
    assert_eq!(exit, Exit::Panic("disk on fire".into()));
    assert_eq!(
        events,
        vec![
            Event::Init,
            Event::Terminated(Exit::Panic("disk on fire".into()))
        ]
    );
    let crash = logs
        .text()
        .lines()
        .find(|line| line.contains("server terminating"))
        .map(str::to_owned)
        .expect("a crash report");
    assert!(crash.contains("ERROR"), "{crash}");
    assert!(crash.contains("server=worker-7"), "{crash}");
    assert!(crash.contains("panic: disk on fire"), "{crash}");
}

#[tokio::test]
async fn normal_and_shutdown_exits_are_not_logged_as_crashes() {
    let logs = CapturedLogs::default();
    let _guard = logs.install();
    let (server, _events) = probe().await;
    server.cast(StopWith(Exit::shutdown())).unwrap();
    server.wait().await;
    assert!(!logs.text().contains("ERROR"), "{}", logs.text());
}

#[tokio::test]
async fn stop_is_queued_behind_earlier_messages_then_runs_terminate() {
    let (server, mut events) = probe().await;
    server.cast(Record(1)).unwrap();
    server.cast(Record(2)).unwrap();
    server
        .stop_and_wait(Exit::shutdown(), SECOND)
        .await
        .unwrap();
    assert!(!server.is_alive());
    let (exit, events) = stopped_with(&server, &mut events).await;
    assert_eq!(exit, Exit::shutdown());
    assert_eq!(
        events,
        vec![
            Event::Init,
            Event::Cast(1),
            Event::Cast(2),
            Event::Terminated(Exit::shutdown())
        ]
    );
}

#[tokio::test]
async fn a_ractor_level_stop_runs_terminate_as_a_shutdown() {
    let (server, mut events) = probe().await;
    server.cell().stop(Some("supervisor says so".into()));
    let (exit, events) = stopped_with(&server, &mut events).await;
    assert_eq!(exit, Exit::shutdown());
    assert_eq!(
        events,
        vec![Event::Init, Event::Terminated(Exit::shutdown())]
    );
}

#[tokio::test]
async fn a_killed_server_exits_killed_without_terminate() {
    let (server, mut events) = probe().await;
    flush(&server).await;
    server.kill();
    let (exit, events) = stopped_with(&server, &mut events).await;
    assert_eq!(exit, Exit::Killed);
    assert_eq!(events, vec![Event::Init]);
}

#[tokio::test]
async fn a_panic_inside_terminate_is_logged_and_keeps_the_exit() {
    let logs = CapturedLogs::default();
    let _guard = logs.install();
    let (server, mut events) = probe().await;
    server.cast(PanicInTerminate).unwrap();
    server.cast(StopWith(Exit::Normal)).unwrap();
    let (exit, events) = stopped_with(&server, &mut events).await;
    assert_eq!(exit, Exit::Normal);
    assert_eq!(events.last(), Some(&Event::Terminated(Exit::Normal)));
    assert!(
        logs.text().contains("terminate panicked"),
        "{}",
        logs.text()
    );
}

#[tokio::test]
async fn stop_on_a_stopped_server_is_an_error() {
    let (server, _events) = probe().await;
    server.stop_and_wait(Exit::Normal, SECOND).await.unwrap();
    assert_eq!(
        server.stop(Exit::Normal),
        Err(arbor_actor::StopError::NoProc)
    );
}

/// A plain ractor actor standing in for a supervisor: forwards the exit it reads.
struct Parent;

impl Actor for Parent {
    type Msg = ();
    type State = mpsc::UnboundedSender<Exit>;
    type Arguments = mpsc::UnboundedSender<Exit>;

    async fn pre_start(
        &self,
        _: ActorRef<()>,
        exits: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(exits)
    }

    async fn handle_supervisor_evt(
        &self,
        _: ActorRef<()>,
        event: SupervisionEvent,
        exits: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(exit) = Exit::from_event(&event) {
            let _ = exits.send(exit);
        }
        Ok(())
    }
}

#[tokio::test]
async fn a_ractor_supervisor_reads_the_typed_exit_back() {
    let (exits_tx, mut exits) = mpsc::unbounded_channel();
    let (parent, _join) = ractor::Actor::spawn(None, Parent, exits_tx).await.unwrap();
    let reasons = [
        Exit::Normal,
        Exit::shutdown(),
        Exit::shutdown_with("drained"),
        Exit::error("bad"),
    ];
    for reason in reasons.clone() {
        let (events, _rx) = mpsc::unbounded_channel();
        let child = Server::start_link(Probe { events }, Plan::Ready, parent.get_cell())
            .await
            .unwrap();
        child.cast(StopWith(reason.clone())).unwrap();
        assert_eq!(exits.recv().await, Some(reason));
    }
    let (events, _rx) = mpsc::unbounded_channel();
    let child = Server::start_link(Probe { events }, Plan::Ready, parent.get_cell())
        .await
        .unwrap();
    child.cast(Crash("typed")).unwrap();
    assert_eq!(exits.recv().await, Some(Exit::Panic("typed".into())));
    parent.stop(None);
}

#[tokio::test]
async fn stop_with_killed_kills_without_terminate() {
    let (server, mut events) = probe().await;
    flush(&server).await;
    server.stop(Exit::Killed).unwrap();
    let (exit, events) = stopped_with(&server, &mut events).await;
    assert_eq!(exit, Exit::Killed);
    assert_eq!(events, vec![Event::Init]);
    assert_eq!(
        server.stop(Exit::Killed),
        Err(arbor_actor::StopError::NoProc)
    );
}

#[tokio::test]
async fn waiting_for_its_own_stop_is_refused() {
    let (server, _events) = probe().await;
    assert_eq!(
        server.call(support::StopAndWaitSelf).await,
        Ok(Err(arbor_actor::StopError::SelfWait))
    );
    assert!(server.is_alive());
}

#[tokio::test]
async fn a_ractor_stop_with_a_reason_reads_as_a_shutdown_to_the_parent() {
    let (exits_tx, mut exits) = mpsc::unbounded_channel();
    let (parent, _join) = ractor::Actor::spawn(None, Parent, exits_tx).await.unwrap();
    let (events, _rx) = mpsc::unbounded_channel();
    let child = Server::start_link(Probe { events }, Plan::Ready, parent.get_cell())
        .await
        .unwrap();
    child.cell().stop(Some("bye".into()));
    assert_eq!(exits.recv().await, Some(Exit::shutdown_with("bye")));
    assert_eq!(
        child.wait().await,
        Exit::shutdown(),
        "terminate saw a shutdown too"
    );
    parent.stop(None);
}

/// A server that keeps the default `handle_exit`.
struct Plain;

impl arbor_actor::GenServer for Plain {
    type Args = ();
    type State = ();
    async fn init(&self, _: (), _ctx: &mut arbor_actor::Context<Self>) -> arbor_actor::Init<()> {
        arbor_actor::Init::Ready(())
    }
}

#[tokio::test]
async fn by_default_a_linked_exit_other_than_normal_stops_the_server_with_that_reason() {
    for reason in [Exit::shutdown(), Exit::error("child broke")] {
        let parent = Server::start(Plain, ()).await.unwrap();
        let (events, _rx) = mpsc::unbounded_channel();
        let child = Server::start_link(Probe { events }, Plan::Ready, parent.cell())
            .await
            .unwrap();
        child.cast(StopWith(reason.clone())).unwrap();
        assert_eq!(parent.wait().await, reason);
    }
    let parent = Server::start(Plain, ()).await.unwrap();
    let (events, _rx) = mpsc::unbounded_channel();
    let child = Server::start_link(Probe { events }, Plan::Ready, parent.cell())
        .await
        .unwrap();
    child.cast(StopWith(Exit::Normal)).unwrap();
    child.wait().await;
    assert!(parent.is_alive(), "a normal exit is ignored");
}
