//! `BookingsPipeline`: the book's pipeline. `prepare_messages` parses the chunk and
//! loads its users in one go, `handle_message` checks availability and picks the
//! batcher by event, `handle_batch` inserts the tickets and sends the emails,
//! `handle_failed` discards sold-out bookings instead of retrying them.

use std::sync::Arc;
use std::time::Duration;

use arbor::broadway::{
    AckAction, AckConfig, BatchInfo, BatcherOptions, BoxError, Message, Pipeline, Status,
};

use crate::booking::{self, Payload};
use crate::store::TicketStore;

/// The pipeline's context: where tickets go.
#[derive(Clone)]
pub struct Tickets {
    /// The store.
    pub store: Arc<dyn TicketStore>,
}

impl std::fmt::Debug for Tickets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tickets").finish_non_exhaustive()
    }
}

/// Why a sold-out booking fails.
pub const BOOKINGS_CLOSED: &str = "bookings-closed";
/// Why a booking that does not parse fails.
pub const MALFORMED: &str = "malformed booking";

/// The batchers, as in the chapter: cinema 75, musical 100, default 50 (1 s timeout).
pub fn batchers() -> Vec<(&'static str, BatcherOptions<Payload>)> {
    let timeout = Duration::from_secs(1);
    vec![
        (
            "cinema",
            BatcherOptions::new().batch_size(75).batch_timeout(timeout),
        ),
        (
            "musical",
            BatcherOptions::new().batch_size(100).batch_timeout(timeout),
        ),
        (
            "default",
            BatcherOptions::new().batch_size(50).batch_timeout(timeout),
        ),
    ]
}

/// The book's `BookingsPipeline`.
#[derive(Debug, Clone, Copy, Default)]
pub struct BookingsPipeline;

impl Pipeline for BookingsPipeline {
    type Data = Payload;
    type Context = Tickets;

    async fn prepare_messages(
        &self,
        messages: &mut [Message<Payload>],
        _: &Tickets,
    ) -> Result<(), BoxError> {
        for message in messages.iter_mut() {
            let parsed = booking::parse(&message.data().raw);
            match parsed {
                Some(parsed) => message.data_mut().booking = Some(parsed),
                None => message.failed(MALFORMED),
            }
        }
        let ids = messages
            .iter()
            .filter_map(|message| message.data().booking.as_ref().map(|b| b.user_id));
        let users = booking::users_by_ids(ids);
        for message in messages.iter_mut() {
            let user_id = message.data().booking.as_ref().map(|b| b.user_id);
            message.data_mut().user = user_id.and_then(|id| users.get(&id).cloned());
        }
        Ok(())
    }

    async fn handle_message(
        &self,
        _: &str,
        message: &mut Message<Payload>,
        _: &Tickets,
    ) -> Result<(), BoxError> {
        let Some(event) = message.data().booking.as_ref().map(|b| b.event.clone()) else {
            message.failed(MALFORMED);
            return Ok(());
        };
        if !booking::tickets_available(&event) {
            message.failed(BOOKINGS_CLOSED);
        } else if event == "cinema" || event == "musical" {
            message.put_batcher(event);
        }
        Ok(())
    }

    async fn handle_batch(
        &self,
        batcher: &str,
        messages: &mut [Message<Payload>],
        _info: &BatchInfo,
        tickets: &Tickets,
    ) -> Result<(), BoxError> {
        let bookings: Vec<_> = messages
            .iter()
            .filter_map(|m| m.data().booking.as_ref())
            .collect();
        tickets.store.insert_all(batcher, &bookings);
        for user in messages.iter().filter_map(|m| m.data().user.as_ref()) {
            tickets.store.send_email(user);
        }
        Ok(())
    }

    async fn handle_failed(
        &self,
        messages: &mut [Message<Payload>],
        _: &Tickets,
    ) -> Result<(), BoxError> {
        for message in messages.iter_mut() {
            if message.status() == &Status::Failed(BOOKINGS_CLOSED.into()) {
                // Retrying will not bring tickets back: drop it.
                message.configure_ack(AckConfig::default().on_failure(AckAction::Reject))?;
            }
        }
        Ok(())
    }
}
