//! The chapter's claims, on tokio's paused clock: a send's delay is advanced, never slept
//! through, so elapsed times are exact.

use std::collections::BTreeSet;
use std::time::Duration;

use sender::{
    addresses, notify_async_await, notify_sequential, notify_start, notify_stream,
    notify_supervised, with_bad_address, App, Demo, SenderError, Variant, BAD_ADDRESS,
};

/// The book's delay: free on a paused clock.
const DELAY: Duration = Duration::from_secs(3);

fn set(addresses: &[String]) -> BTreeSet<String> {
    addresses.iter().cloned().collect()
}

/// `rounds` sends' worth of time.
fn rounds(rounds: usize) -> Duration {
    DELAY * u32::try_from(rounds).unwrap()
}

#[tokio::test(start_paused = true)]
async fn every_variant_sends_to_the_same_users() {
    let app = App::start().await.unwrap();
    let demo = Demo {
        users: 10,
        concurrency: 3,
        delay: DELAY,
    };
    let users = set(&addresses(10));
    for variant in Variant::ALL {
        let report = demo.run(&app, variant).await.unwrap();
        assert_eq!(report.variant, variant);
        assert_eq!(report.sent, users, "{variant}");
        if variant == Variant::Supervised {
            let failed: Vec<_> = report.failed.keys().collect();
            assert_eq!(failed, [BAD_ADDRESS]);
            assert!(report.failed[BAD_ADDRESS].contains("panic"), "{report:?}");
        } else {
            assert!(report.failed.is_empty(), "{variant}: {report:?}");
        }
    }
    app.stop().await;
}

#[tokio::test(start_paused = true)]
async fn sequential_sends_take_one_delay_each() {
    let report = notify_sequential(&addresses(4), DELAY).await;
    assert_eq!(report.elapsed, rounds(4));
    assert_eq!(report.peak_in_flight, 1);
}

#[tokio::test(start_paused = true)]
async fn tasks_send_everything_in_one_delay() {
    let users = addresses(50);
    let report = notify_async_await(&users, DELAY).await;
    assert_eq!(report.sent, set(&users));
    assert_eq!(report.elapsed, DELAY);
    assert_eq!(report.peak_in_flight, 50);
}

#[tokio::test(start_paused = true)]
async fn notify_start_returns_before_any_email_is_sent() {
    let users = addresses(5);
    let started = notify_start(&users, DELAY);
    assert_eq!(started.returned_after(), Duration::ZERO);
    let report = started.wait().await;
    assert_eq!(report.sent, set(&users));
    assert_eq!(report.returned_after, Some(Duration::ZERO));
    assert_eq!(report.elapsed, DELAY);
}

#[tokio::test(start_paused = true)]
async fn notify_start_reports_an_unconfirmed_send_as_failed() {
    let users = with_bad_address(addresses(4));
    let report = notify_start(&users, DELAY).wait().await;
    assert_eq!(report.sent, set(&addresses(4)));
    assert_eq!(report.failed.keys().collect::<Vec<_>>(), [BAD_ADDRESS]);
}

#[tokio::test(start_paused = true)]
async fn the_stream_never_runs_more_than_max_concurrency() {
    let app = App::start().await.unwrap();
    for (users, concurrency) in [(20, 4), (7, 3), (5, 8), (1, 1), (9, 1), (0, 2)] {
        let list = addresses(users);
        let expected = rounds(users.div_ceil(concurrency));
        let linked = notify_stream(&list, DELAY, concurrency).await.unwrap();
        let supervised = notify_supervised(&app, &list, DELAY, concurrency)
            .await
            .unwrap();
        for report in [linked, supervised] {
            let case = format!(
                "{} with {users} users, {concurrency} at once",
                report.variant
            );
            assert_eq!(report.sent, set(&list), "{case}");
            assert_eq!(report.peak_in_flight, users.min(concurrency), "{case}");
            assert_eq!(report.elapsed, expected, "{case}");
        }
    }
    app.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_panicking_address_does_not_stop_a_supervised_stream() {
    let app = App::start().await.unwrap();
    // First in line, one send at a time: every other send comes after the crash.
    let mut list = vec![BAD_ADDRESS.to_owned()];
    list.extend(addresses(5));
    let report = notify_supervised(&app, &list, DELAY, 1).await.unwrap();
    assert_eq!(report.sent, set(&addresses(5)));
    assert_eq!(report.failed.keys().collect::<Vec<_>>(), [BAD_ADDRESS]);
    // The crash costs no time: it happens before the send's delay.
    assert_eq!(report.elapsed, rounds(5));
    // The task supervisor lived through its task's crash.
    let again = notify_supervised(&app, &addresses(2), DELAY, 2)
        .await
        .unwrap();
    assert_eq!(again.sent.len(), 2);
    app.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_panicking_address_ends_a_linked_stream() {
    let mut list = vec![BAD_ADDRESS.to_owned()];
    list.extend(addresses(5));
    let report = notify_stream(&list, DELAY, 1).await.unwrap();
    assert!(report.sent.is_empty(), "{report:?}");
    assert_eq!(report.failed.keys().collect::<Vec<_>>(), [BAD_ADDRESS]);
}

#[tokio::test(start_paused = true)]
async fn an_awaited_task_that_panics_is_an_error_for_its_awaiter() {
    let list = with_bad_address(addresses(4));
    let report = notify_async_await(&list, DELAY).await;
    assert_eq!(report.sent, set(&addresses(4)));
    assert!(report.failed[BAD_ADDRESS].contains("panic"), "{report:?}");
}

#[tokio::test(start_paused = true)]
async fn a_concurrency_of_zero_is_refused() {
    let app = App::start().await.unwrap();
    let users = addresses(3);
    assert!(matches!(
        notify_stream(&users, DELAY, 0).await,
        Err(SenderError::Options(_))
    ));
    assert!(matches!(
        notify_supervised(&app, &users, DELAY, 0).await,
        Err(SenderError::Options(_))
    ));
    app.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_stopped_app_is_an_error_not_a_hang() {
    let app = App::start().await.unwrap();
    app.stop().await;
    assert!(matches!(
        notify_supervised(&app, &addresses(3), DELAY, 2).await,
        Err(SenderError::Unreachable(_))
    ));
}
