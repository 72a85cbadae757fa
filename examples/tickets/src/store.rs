//! Where tickets go and confirmations come from: a trait, with an in-memory default
//! that counts (the book's `Repo.insert_all` and `send_email`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::booking::{Booking, User};

/// Stores tickets and sends confirmations.
pub trait TicketStore: Send + Sync + 'static {
    /// Inserts the tickets of one batch at once.
    fn insert_all(&self, batcher: &str, bookings: &[&Booking]);
    /// Sends the confirmation to `user`.
    fn send_email(&self, user: &User);
}

/// Counts what it is given.
#[derive(Debug, Default)]
pub struct InMemoryStore {
    tickets: AtomicU64,
    emails: AtomicU64,
    batches: Mutex<BTreeMap<String, Vec<usize>>>,
}

impl InMemoryStore {
    /// Tickets inserted.
    pub fn tickets(&self) -> u64 {
        self.tickets.load(Ordering::Relaxed)
    }

    /// Emails sent.
    pub fn emails(&self) -> u64 {
        self.emails.load(Ordering::Relaxed)
    }

    /// The size of every batch inserted, by batcher.
    pub fn batch_sizes(&self) -> BTreeMap<String, Vec<usize>> {
        self.batches
            .lock()
            .map(|batches| batches.clone())
            .unwrap_or_default()
    }
}

impl TicketStore for InMemoryStore {
    fn insert_all(&self, batcher: &str, bookings: &[&Booking]) {
        self.tickets
            .fetch_add(bookings.len() as u64, Ordering::Relaxed);
        if let Ok(mut batches) = self.batches.lock() {
            batches
                .entry(batcher.to_owned())
                .or_default()
                .push(bookings.len());
        }
    }

    fn send_email(&self, _user: &User) {
        self.emails.fetch_add(1, Ordering::Relaxed);
    }
}
