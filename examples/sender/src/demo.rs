//! The demo `cargo run -p sender` runs: each variant on the same users, timed.

use std::time::Duration;

use crate::email::{addresses, with_bad_address};
use crate::{
    notify_async_await, notify_sequential, notify_start, notify_stream, notify_supervised, App,
    Report, SenderError, Variant,
};

/// The demo's settings (the CLI's flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Demo {
    /// How many users get an email.
    pub users: usize,
    /// How many sends the stream variants run at once.
    pub concurrency: usize,
    /// How long one send takes.
    pub delay: Duration,
}

impl Demo {
    /// The addresses `variant` sends to: the users, and for the supervised variant the
    /// bad address too, since only that variant survives it.
    pub fn addresses(&self, variant: Variant) -> Vec<String> {
        let users = addresses(self.users);
        match variant {
            Variant::Supervised => with_bad_address(users),
            _ => users,
        }
    }

    /// Runs one variant; `app` holds the task supervisor the supervised variant uses.
    ///
    /// # Errors
    ///
    /// As [`notify_stream`] and [`notify_supervised`].
    pub async fn run(&self, app: &App, variant: Variant) -> Result<Report, SenderError> {
        let addresses = self.addresses(variant);
        let delay = self.delay;
        match variant {
            Variant::Sequential => Ok(notify_sequential(&addresses, delay).await),
            Variant::Start => Ok(notify_start(&addresses, delay).wait().await),
            Variant::Async => Ok(notify_async_await(&addresses, delay).await),
            Variant::Stream => notify_stream(&addresses, delay, self.concurrency).await,
            Variant::Supervised => {
                notify_supervised(app, &addresses, delay, self.concurrency).await
            }
        }
    }
}
