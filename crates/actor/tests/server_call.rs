//! Calls: typed replies, timeouts, late replies, dead servers, exits while pending.

mod support;

use std::time::Duration;

use arbor_actor::{CallError, Exit, DEFAULT_CALL_TIMEOUT};
use support::{
    drain, probe, CallCrash, CallSelf, CallStop, Crash, Echo, Event, PanicInTerminate, Ping, Slow,
    SlowTerminate,
};

#[tokio::test]
async fn each_request_gets_its_own_reply_type() {
    let (server, _events) = probe().await;
    let number: u32 = server.call(Echo(7)).await.unwrap();
    let text: &str = server.call(Ping).await.unwrap();
    assert_eq!((number, text), (7, "pong"));
}

#[tokio::test(start_paused = true)]
async fn a_call_times_out_after_its_timeout() {
    let (server, _events) = probe().await;
    let slow = Slow {
        after: Duration::from_secs(10),
        value: 1,
    };
    let result = server.call_timeout(slow, Duration::from_secs(1)).await;
    assert_eq!(result, Err(CallError::Timeout(Duration::from_secs(1))));
}

#[tokio::test(start_paused = true)]
async fn call_defaults_to_a_five_second_timeout() {
    let (server, _events) = probe().await;
    let slow = Slow {
        after: Duration::from_secs(6),
        value: 1,
    };
    assert_eq!(
        server.call(slow).await,
        Err(CallError::Timeout(DEFAULT_CALL_TIMEOUT))
    );
    assert_eq!(DEFAULT_CALL_TIMEOUT, Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn a_late_reply_is_never_seen_by_the_next_call() {
    let (server, _events) = probe().await;
    let slow = Slow {
        after: Duration::from_secs(2),
        value: 99,
    };
    let first = server.call_timeout(slow, Duration::from_secs(1)).await;
    assert_eq!(first, Err(CallError::Timeout(Duration::from_secs(1))));
    // The next call is queued behind the slow one, whose reply (99) comes late.
    assert_eq!(server.call(Echo(5)).await, Ok(5));
    assert_eq!(server.call(Echo(6)).await, Ok(6));
}

#[tokio::test(start_paused = true)]
async fn a_dropped_call_future_does_not_disturb_the_next_call() {
    let (server, _events) = probe().await;
    let slow = Slow {
        after: Duration::from_secs(1),
        value: 99,
    };
    // Abandon the call as soon as it is sent.
    let abandoned = tokio::time::timeout(Duration::from_millis(1), server.call(slow)).await;
    assert!(abandoned.is_err());
    assert_eq!(server.call(Echo(3)).await, Ok(3));
}

#[tokio::test(start_paused = true)]
async fn a_call_to_a_stopped_server_fails_at_once() {
    let (server, _events) = probe().await;
    server
        .stop_and_wait(Exit::Normal, Duration::from_secs(1))
        .await
        .unwrap();
    let before = tokio::time::Instant::now();
    assert_eq!(server.call(Echo(1)).await, Err(CallError::NoProc));
    assert_eq!(
        before.elapsed(),
        Duration::ZERO,
        "no waiting on a dead server"
    );
}

#[tokio::test]
async fn a_call_pending_when_its_handler_panics_returns_the_panic() {
    let (server, _events) = probe().await;
    let result = server.call(CallCrash("handler boom")).await;
    assert_eq!(
        result,
        Err(CallError::Exited(Exit::Panic("handler boom".into())))
    );
    assert_eq!(server.wait().await, Exit::Panic("handler boom".into()));
}

#[tokio::test]
async fn a_call_queued_behind_a_crash_returns_the_crash() {
    let (server, _events) = probe().await;
    server.cast(Crash("earlier message")).unwrap();
    let result = server.call(Echo(1)).await;
    assert_eq!(
        result,
        Err(CallError::Exited(Exit::Panic("earlier message".into())))
    );
}

#[tokio::test]
async fn a_call_that_stops_the_server_returns_the_exit() {
    let (server, _events) = probe().await;
    let stop = CallStop {
        exit: Exit::shutdown_with("asked"),
        reply: None,
    };
    assert_eq!(
        server.call(stop).await,
        Err(CallError::Exited(Exit::shutdown_with("asked")))
    );
    assert_eq!(server.wait().await, Exit::shutdown_with("asked"));
}

#[tokio::test]
async fn stop_with_reply_answers_then_stops() {
    let (server, _events) = probe().await;
    let stop = CallStop {
        exit: Exit::Normal,
        reply: Some(8),
    };
    assert_eq!(server.call(stop).await, Ok(8));
    assert_eq!(server.wait().await, Exit::Normal);
    assert!(!server.is_alive());
}

#[tokio::test(start_paused = true)]
async fn stop_with_reply_answers_after_terminate_has_run() {
    // OTP's `{:stop, reason, reply, state}` runs `terminate` before the reply is sent, so
    // a caller holding the reply can rely on the server's cleanup being done.
    let (server, mut events) = probe().await;
    server
        .cast(SlowTerminate(Duration::from_millis(50)))
        .unwrap();
    let stop = CallStop {
        exit: Exit::shutdown_with("done"),
        reply: Some(8),
    };
    assert_eq!(server.call(stop).await, Ok(8));
    assert_eq!(
        drain(&mut events),
        vec![Event::Init, Event::Terminated(Exit::shutdown_with("done"))],
        "terminate had run when the reply arrived"
    );
    assert_eq!(server.wait().await, Exit::shutdown_with("done"));
}

#[tokio::test]
async fn stop_with_reply_still_answers_when_terminate_panics() {
    let (server, _events) = probe().await;
    server.cast(PanicInTerminate).unwrap();
    let stop = CallStop {
        exit: Exit::Normal,
        reply: Some(3),
    };
    assert_eq!(server.call(stop).await, Ok(3));
    assert_eq!(server.wait().await, Exit::Normal);
}

#[tokio::test]
async fn a_server_calling_itself_gets_an_error_not_a_deadlock() {
    let (server, _events) = probe().await;
    assert_eq!(server.call(CallSelf).await, Ok(Err(CallError::SelfCall)));
    assert!(server.is_alive());
}

#[tokio::test]
async fn a_killed_server_fails_its_pending_call_with_killed() {
    let (server, mut events) = probe().await;
    let pending = tokio::spawn({
        let server = server.clone();
        async move {
            server
                .call(Slow {
                    after: Duration::from_secs(3600),
                    value: 1,
                })
                .await
        }
    });
    // Kill only once the call is inside its handler.
    assert_eq!(events.recv().await, Some(support::Event::Init));
    assert_eq!(events.recv().await, Some(support::Event::Busy(1)));
    server.kill();
    assert_eq!(pending.await.unwrap(), Err(CallError::Exited(Exit::Killed)));
    assert_eq!(server.wait().await, Exit::Killed);
}

#[tokio::test]
async fn a_huge_timeout_means_no_limit_not_an_overflow() {
    let (server, _events) = probe().await;
    assert_eq!(server.call_timeout(Echo(4), Duration::MAX).await, Ok(4));
}

/// A call sent as the server stops must come back with the exit (or the reply), never
/// wait out its limit: OTP's call monitors the server, so its exit ends the call.
async fn race_calls_with(stop: fn(&arbor_actor::Server<support::Probe>)) {
    for _ in 0..20_000 {
        let (server, _events) = probe().await;
        let stopper = tokio::spawn({
            let server = server.clone();
            async move { stop(&server) }
        });
        let answer = server.call_timeout(Echo(1), Duration::from_secs(2)).await;
        assert!(
            matches!(
                answer,
                Ok(1) | Err(CallError::Exited(_)) | Err(CallError::NoProc)
            ),
            "{answer:?}"
        );
        stopper.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_racing_a_normal_stop_ends_with_the_exit_not_the_timeout() {
    race_calls_with(|server| server.cast(support::StopWith(Exit::Normal)).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_racing_a_kill_ends_with_the_exit_not_the_timeout() {
    race_calls_with(|server| server.kill()).await;
}
