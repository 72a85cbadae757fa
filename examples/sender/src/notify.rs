//! The chapter's versions of `notify_all/1`: each sends one email per address, and
//! reports what it sent and how long it took.

use std::future::Future;
use std::time::Duration;

use arbor::prelude::*;
use arbor::task::DEFAULT_AWAIT_TIMEOUT;
use futures::{Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::email::send_email;
use crate::in_flight::InFlight;
use crate::{App, Report, SenderError, Variant};

/// Sends one email after the other: the baseline every other variant is compared with.
///
/// # Panics
///
/// When an address is [`BAD_ADDRESS`](crate::BAD_ADDRESS): no task stands between the
/// send and the caller, so its crash is the caller's, as in the book.
pub async fn notify_sequential(addresses: &[String], delay: Duration) -> Report {
    let started = Instant::now();
    let in_flight = InFlight::default();
    let mut report = Report::new(Variant::Sequential);
    for address in addresses {
        let sent = counted_send(&in_flight, address.clone(), delay).await;
        report.sent.insert(sent);
    }
    finish(report, started, &in_flight)
}

/// Starts one fire-and-forget task per address (`Task::start`) and returns at once,
/// before any email is sent.
///
/// Nothing comes back from such a task, so each one confirms its send on a channel;
/// [`StartedSends::wait`] reads the confirmations until every task has ended. A task that
/// panics only logs its crash: its address is reported as failed, without a reason.
pub fn notify_start(addresses: &[String], delay: Duration) -> StartedSends {
    let started = Instant::now();
    let in_flight = InFlight::default();
    let (confirm, confirmations) = mpsc::unbounded_channel();
    for address in addresses {
        let send = counted_send(&in_flight, address.clone(), delay);
        let confirm = confirm.clone();
        Task::start(async move {
            let sent = send.await;
            // Whoever started the sends may have stopped listening; the email is sent.
            let _ = confirm.send(sent);
        });
    }
    StartedSends {
        addresses: addresses.to_vec(),
        confirmations,
        started,
        returned_after: started.elapsed(),
        in_flight,
    }
}

/// Sends started by [`notify_start`], still running: wait for them with
/// [`StartedSends::wait`], or drop this to let them finish unobserved.
#[derive(Debug)]
#[must_use = "the sends run anyway; wait() tells when they have ended"]
pub struct StartedSends {
    addresses: Vec<String>,
    confirmations: mpsc::UnboundedReceiver<String>,
    started: Instant,
    returned_after: Duration,
    in_flight: InFlight,
}

impl StartedSends {
    /// How long [`notify_start`] took to return.
    pub fn returned_after(&self) -> Duration {
        self.returned_after
    }

    /// Waits until every task has ended and reports what they sent.
    pub async fn wait(mut self) -> Report {
        let mut report = Report::new(Variant::Start);
        // The channel closes once the last task drops its sender: a task that panics
        // drops it too, so this ends however the tasks end.
        while let Some(sent) = self.confirmations.recv().await {
            report.sent.insert(sent);
        }
        for address in self.addresses {
            if !report.sent.contains(&address) {
                let why = "the task ended without confirming (its crash is in the log)";
                report.failed.insert(address, why.to_owned());
            }
        }
        report.returned_after = Some(self.returned_after);
        finish(report, self.started, &self.in_flight)
    }
}

/// Starts one task per address (`Task::spawn`, the book's `Task.async`), then awaits
/// each in turn: all run at once, however many there are.
///
/// A task that panics is reported as failed with its panic; the others are unaffected.
pub async fn notify_async_await(addresses: &[String], delay: Duration) -> Report {
    let started = Instant::now();
    let in_flight = InFlight::default();
    let tasks: Vec<_> = addresses
        .iter()
        .map(|address| {
            let task = Task::spawn(counted_send(&in_flight, address.clone(), delay));
            (address.clone(), task)
        })
        .collect();
    let mut report = Report::new(Variant::Async);
    for (address, task) in tasks {
        match task.await_timeout(send_timeout(delay)).await {
            Ok(sent) => {
                report.sent.insert(sent);
            }
            Err(error) => {
                report.failed.insert(address, error.to_string());
            }
        }
    }
    finish(report, started, &in_flight)
}

/// Sends through `Task::async_stream`: at most `max_concurrency` emails at once, results
/// taken as they come (`ordered(false)`), so a slow send holds up no other.
///
/// The stream's tasks are linked to it: a task that panics ends the stream, as the
/// book's crash takes its caller down. The panicking address is reported as failed; the
/// addresses after it get no email.
///
/// # Errors
///
/// [`SenderError::Options`] when `max_concurrency` is 0.
pub async fn notify_stream(
    addresses: &[String],
    delay: Duration,
    max_concurrency: usize,
) -> Result<Report, SenderError> {
    let started = Instant::now();
    let in_flight = InFlight::default();
    let results = Task::async_stream(
        addresses.to_vec(),
        stream_options(delay, max_concurrency),
        |address| counted_send(&in_flight, address, delay),
    )?
    .zip_input_on_exit();
    let report = collect(Variant::Stream, results).await;
    Ok(finish(report, started, &in_flight))
}

/// Sends as [`notify_stream`] does, but through the app's email task supervisor with
/// `async_stream_nolink`: a task that panics is only a failed result, and the stream
/// goes on with the other addresses.
///
/// # Errors
///
/// [`SenderError::Options`] when `max_concurrency` is 0; [`SenderError::Unreachable`]
/// or [`SenderError::NoTaskSupervisor`] when the app's task supervisor is not running.
pub async fn notify_supervised(
    app: &App,
    addresses: &[String],
    delay: Duration,
    max_concurrency: usize,
) -> Result<Report, SenderError> {
    let started = Instant::now();
    let in_flight = InFlight::default();
    let supervisor = app.email_task_supervisor().await?;
    let results = supervisor
        .async_stream_nolink(
            addresses.to_vec(),
            stream_options(delay, max_concurrency),
            |address| counted_send(&in_flight, address, delay),
        )?
        .zip_input_on_exit();
    let report = collect(Variant::Supervised, results).await;
    Ok(finish(report, started, &in_flight))
}

/// One send, counted in flight while it runs.
fn counted_send(
    in_flight: &InFlight,
    address: String,
    delay: Duration,
) -> impl Future<Output = String> + Send + 'static {
    let in_flight = in_flight.clone();
    async move {
        let _counted = in_flight.enter();
        send_email(address, delay).await
    }
}

/// How long a send may take: its delay, plus the book's default task timeout (5 s) as
/// the margin before it counts as stuck. A fixed 5 s would fail every send of a slow
/// mail service (`--delay-ms 6000`) rather than the stuck ones.
fn send_timeout(delay: Duration) -> Duration {
    delay.saturating_add(DEFAULT_AWAIT_TIMEOUT)
}

fn stream_options(delay: Duration, max_concurrency: usize) -> StreamOptions {
    StreamOptions::default()
        .max_concurrency(max_concurrency)
        .ordered(false)
        .timeout(send_timeout(delay))
}

/// Reads a stream's results to its end.
async fn collect<S>(variant: Variant, mut results: S) -> Report
where
    S: Stream<Item = Result<String, ItemError<String>>> + Unpin,
{
    let mut report = Report::new(variant);
    while let Some(result) = results.next().await {
        match result {
            Ok(sent) => {
                report.sent.insert(sent);
            }
            Err(ItemError { error, input }) => {
                // Every input is zipped into its error (`zip_input_on_exit`).
                let address = input.unwrap_or_else(|| "(unknown address)".to_owned());
                report.failed.insert(address, error.to_string());
            }
        }
    }
    report
}

fn finish(mut report: Report, started: Instant, in_flight: &InFlight) -> Report {
    report.elapsed = started.elapsed();
    report.peak_in_flight = in_flight.peak();
    report
}
