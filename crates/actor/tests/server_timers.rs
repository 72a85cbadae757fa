//! Timers and the idle timeout, all on paused time.

mod support;

use std::time::Duration;

use arbor_actor::Exit;
use support::{drain, flush, probe, ArmIdle, Event, Note, NoteLater, Record};
use tokio::time::advance;

const SECOND: Duration = Duration::from_secs(1);

#[tokio::test(start_paused = true)]
async fn send_after_delivers_at_its_deadline_not_before() {
    let (server, mut events) = probe().await;
    drain(&mut events);
    let timer = server.send_after(10 * SECOND, Note(1));
    advance(9 * SECOND).await;
    flush(&server).await;
    assert_eq!(drain(&mut events), vec![]);
    assert!(timer.is_active());
    advance(SECOND).await;
    flush(&server).await;
    assert_eq!(drain(&mut events), vec![Event::Info(1)]);
    assert!(!timer.is_active());
    assert!(!timer.cancel(), "a fired timer cannot be cancelled");
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_timer_never_fires() {
    let (server, mut events) = probe().await;
    drain(&mut events);
    let timer = server.send_after(5 * SECOND, Note(1));
    assert!(timer.cancel());
    assert!(!timer.cancel(), "cancel reports only the first time");
    advance(60 * SECOND).await;
    flush(&server).await;
    assert_eq!(drain(&mut events), vec![]);
}

#[tokio::test(start_paused = true)]
async fn a_server_can_send_to_itself_later() {
    let (server, mut events) = probe().await;
    drain(&mut events);
    server.cast(NoteLater(3 * SECOND, 8)).unwrap();
    flush(&server).await;
    advance(3 * SECOND).await;
    flush(&server).await;
    assert_eq!(drain(&mut events), vec![Event::Info(8)]);
}

#[tokio::test(start_paused = true)]
async fn send_interval_ticks_every_period_until_cancelled() {
    let (server, mut events) = probe().await;
    drain(&mut events);
    let mut n = 0;
    let timer = server.send_interval(2 * SECOND, move || {
        n += 1;
        Note(n)
    });
    for _ in 0..3 {
        advance(2 * SECOND).await;
        flush(&server).await;
    }
    assert_eq!(
        drain(&mut events),
        vec![Event::Info(1), Event::Info(2), Event::Info(3)]
    );
    assert!(timer.cancel());
    advance(10 * SECOND).await;
    flush(&server).await;
    assert_eq!(drain(&mut events), vec![]);
}

#[tokio::test(start_paused = true)]
async fn an_interval_ends_by_itself_when_its_server_stops() {
    let (server, _events) = probe().await;
    let timer = server.send_interval(SECOND, || Note(0));
    server.stop_and_wait(Exit::Normal, SECOND).await.unwrap();
    advance(SECOND).await;
    // The timer task notices the dead server on its next tick.
    for _ in 0..100 {
        if !timer.is_active() {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(!timer.is_active());
    assert!(!timer.cancel());
}

#[tokio::test(start_paused = true)]
async fn idle_timeout_fires_when_no_message_arrives() {
    let (server, mut events) = probe().await;
    drain(&mut events);
    server.cast(ArmIdle(5 * SECOND)).unwrap();
    flush(&server).await; // this call is a message: it cancels the timeout…
    server.cast(ArmIdle(5 * SECOND)).unwrap(); // …so arm it again, last
    let armed = tokio::time::Instant::now();
    // Paused time jumps straight to the next timer: the idle timeout, exactly 5 s on.
    assert_eq!(events.recv().await, Some(Event::Idle));
    assert_eq!(armed.elapsed(), 5 * SECOND);
}

#[tokio::test(start_paused = true)]
async fn any_message_cancels_the_idle_timeout() {
    let (server, mut events) = probe().await;
    drain(&mut events);
    server.cast(ArmIdle(5 * SECOND)).unwrap();
    advance(4 * SECOND).await;
    server.cast(Record(1)).unwrap(); // does not ask again
    advance(60 * SECOND).await;
    flush(&server).await;
    assert_eq!(drain(&mut events), vec![Event::Cast(1)]);
}

#[tokio::test(start_paused = true)]
async fn huge_durations_mean_never_not_a_panic() {
    let (server, mut events) = probe().await;
    drain(&mut events);
    let timer = server.send_after(Duration::MAX, Note(1));
    let interval = server.send_interval(Duration::MAX, || Note(2));
    server.cast(ArmIdle(Duration::MAX)).unwrap();
    advance(3600 * SECOND).await;
    server.cast(Record(3)).unwrap();
    flush(&server).await;
    assert_eq!(drain(&mut events), vec![Event::Cast(3)]);
    assert!(timer.is_active() && interval.is_active());
    assert!(server.is_alive());
}
