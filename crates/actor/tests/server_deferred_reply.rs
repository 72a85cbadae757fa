//! Deferred replies: `Caller::defer` + `ReplyTo::reply`, OTP's `{:noreply, state}` +
//! `GenServer.reply/2`.
//!
//! `tokio::join!` polls its first future first, so the deferred call is queued before
//! anything the second future sends.

mod support;

use std::time::Duration;

use arbor_actor::{CallError, Exit};
use support::{
    drain, flush, probe, Defer, DeferToTask, DropDeferred, Echo, Event, Forget, Release, StopWith,
};
use tokio::sync::oneshot;

#[tokio::test]
async fn a_deferred_call_is_answered_from_another_message() {
    let (server, _events) = probe().await;
    let (answer, ()) = tokio::join!(server.call(Defer), async {
        flush(&server).await; // the Defer call is now parked in the state
        server.cast(Release(42)).unwrap();
    });
    assert_eq!(answer, Ok(42));
}

#[tokio::test]
async fn a_deferred_call_is_answered_from_another_task() {
    let (server, _events) = probe().await;
    let (release, on_release) = oneshot::channel();
    let (answer, ()) = tokio::join!(server.call(DeferToTask(on_release)), async {
        // The server keeps serving while the task holds the reply.
        assert_eq!(server.call(Echo(1)).await, Ok(1));
        release.send(7).unwrap();
    });
    assert_eq!(answer, Ok(7));
}

#[tokio::test]
async fn dropping_a_deferred_handle_fails_the_caller_instead_of_hanging() {
    let (server, _events) = probe().await;
    let (answer, ()) = tokio::join!(server.call(Defer), async {
        flush(&server).await;
        server.cast(DropDeferred).unwrap();
    });
    assert_eq!(answer, Err(CallError::NoReply));
    assert!(server.is_alive());
}

#[tokio::test]
async fn no_reply_without_taking_the_handle_fails_the_caller_at_once() {
    let (server, _events) = probe().await;
    assert_eq!(server.call(Forget).await, Err(CallError::NoReply));
}

#[tokio::test]
async fn a_deferred_caller_sees_the_exit_when_the_server_stops() {
    let (server, _events) = probe().await;
    let (answer, ()) = tokio::join!(server.call(Defer), async {
        flush(&server).await;
        server
            .cast(StopWith(Exit::shutdown_with("closing")))
            .unwrap();
    });
    assert_eq!(
        answer,
        Err(CallError::Exited(Exit::shutdown_with("closing")))
    );
}

#[tokio::test(start_paused = true)]
async fn replying_after_the_caller_timed_out_reports_it_and_drops_the_value() {
    let (server, mut events) = probe().await;
    let first = server.call_timeout(Defer, Duration::from_secs(1)).await;
    assert_eq!(first, Err(CallError::Timeout(Duration::from_secs(1))));
    server.cast(Release(5)).unwrap();
    flush(&server).await;
    assert_eq!(drain(&mut events), vec![Event::Init, Event::Replied(false)]);
    // The late value went nowhere: the next deferred call gets its own answer.
    let (answer, ()) = tokio::join!(server.call(Defer), async {
        flush(&server).await;
        server.cast(Release(6)).unwrap();
    });
    assert_eq!(answer, Ok(6));
}

#[tokio::test]
async fn a_reply_sent_after_the_server_stopped_gives_the_caller_its_exit() {
    let (server, _events) = probe().await;
    let (release, on_release) = oneshot::channel();
    let (answer, ()) = tokio::join!(server.call(DeferToTask(on_release)), async {
        flush(&server).await;
        server
            .stop_and_wait(Exit::Normal, Duration::from_secs(1))
            .await
            .unwrap();
        release.send(7).unwrap(); // the task holding the handle answers too late
    });
    assert_eq!(answer, Err(CallError::Exited(Exit::Normal)));
}
