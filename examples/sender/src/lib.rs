//! sender: the email sender of "Concurrent Data Processing in Elixir" (chapter 1), on
//! arbor.
//!
//! Sending an email is simulated: [`send_email`] waits for a delay, and panics for
//! [`BAD_ADDRESS`]. The chapter then sends one email per user in five ways, each faster
//! or safer than the one before; here each is a function that reports what it sent and
//! how long it took ([`Report`]):
//!
//! | book                                                        | here                   |
//! |-------------------------------------------------------------|------------------------|
//! | `send_email/1` with `Process.sleep/1`, and the clause that raises | [`send_email`], [`BAD_ADDRESS`] |
//! | `notify_all/1` with `Enum.each/2`                           | [`notify_sequential`]  |
//! | … with `Task.start/1`                                       | [`notify_start`]       |
//! | … with `Task.async/1`, then `Task.await/1` on each          | [`notify_async_await`] |
//! | … with `Task.async_stream/3`, `max_concurrency`, `ordered: false` | [`notify_stream`] |
//! | … with `Task.Supervisor.async_stream_nolink/4`              | [`notify_supervised`]  |
//! | `Sender.Application` with `{Task.Supervisor, name: Sender.EmailTaskSupervisor}` | [`App`] |
//!
//! ```no_run
//! use std::time::Duration;
//! use sender::{addresses, notify_stream, notify_supervised, App, BAD_ADDRESS};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), sender::SenderError> {
//! let users = addresses(20);
//! let delay = Duration::from_millis(100);
//!
//! // At most 4 emails at once: 5 rounds of 100 ms.
//! let report = notify_stream(&users, delay, 4).await?;
//! assert_eq!(report.sent.len(), 20);
//! assert!(report.peak_in_flight <= 4);
//!
//! // The bad address crashes its task only: the 20 others are sent.
//! let app = App::start().await?;
//! let mut with_bad = users.clone();
//! with_bad.push(BAD_ADDRESS.to_owned());
//! let report = notify_supervised(&app, &with_bad, delay, 4).await?;
//! assert_eq!(report.sent.len(), 20);
//! assert!(report.failed.contains_key(BAD_ADDRESS));
//! app.stop().await;
//! # Ok(())
//! # }
//! ```
//!
//! `cargo run -p sender` runs every variant on the same users ([`Demo`]) and prints
//! their timings; `docs/apps.md` maps every concept of the chapter to the file that
//! shows it.

#![deny(clippy::unwrap_used, clippy::expect_used)]

mod app;
mod demo;
mod email;
mod error;
mod in_flight;
mod notify;
mod report;

pub use app::{App, EMAIL_TASK_SUPERVISOR, SENDER};
pub use demo::Demo;
pub use email::{addresses, send_email, with_bad_address, BAD_ADDRESS};
pub use error::SenderError;
pub use notify::{
    notify_async_await, notify_sequential, notify_start, notify_stream, notify_supervised,
    StartedSends,
};
pub use report::{Report, Variant};
