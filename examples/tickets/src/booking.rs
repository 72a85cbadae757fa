//! A booking as it arrives ("event,user_id"), the user it is for, and the rules the
//! book's `Tickets` module stands for.

use std::collections::HashMap;

/// A parsed booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// The event booked ("cinema", "musical", …).
    pub event: String,
    /// Who booked.
    pub user_id: u64,
}

/// A user, as `users_by_ids` loads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user's id.
    pub id: u64,
    /// Where the confirmation goes.
    pub email: String,
}

/// A message's data: the raw payload, then what `prepare_messages` made of it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Payload {
    /// The bytes as published.
    pub raw: Vec<u8>,
    /// The booking, once parsed.
    pub booking: Option<Booking>,
    /// Its user, once loaded.
    pub user: Option<User>,
}

impl From<Vec<u8>> for Payload {
    fn from(raw: Vec<u8>) -> Self {
        Payload {
            raw,
            ..Payload::default()
        }
    }
}

/// Parses "event,user_id"; `None` for anything else.
pub fn parse(raw: &[u8]) -> Option<Booking> {
    let text = std::str::from_utf8(raw).ok()?;
    let (event, user) = text.trim().split_once(',')?;
    let user_id = user.trim().parse().ok()?;
    if event.is_empty() {
        return None;
    }
    Some(Booking {
        event: event.to_owned(),
        user_id,
    })
}

/// Whether the event still has tickets: the opera is sold out.
pub fn tickets_available(event: &str) -> bool {
    event != "opera"
}

/// Loads users in one query (here, made up from their ids).
pub fn users_by_ids(ids: impl IntoIterator<Item = u64>) -> HashMap<u64, User> {
    ids.into_iter()
        .map(|id| {
            let email = format!("user{id}@example.com");
            (id, User { id, email })
        })
        .collect()
}

/// The events the sample bookings cycle through.
pub const EVENTS: [&str; 4] = ["cinema", "musical", "theatre", "opera"];

/// Sample booking number `n`: the events in turn, 100 users, and one in 25 malformed.
pub fn sample(n: u64) -> Vec<u8> {
    if n % 25 == 24 {
        return b"not a booking".to_vec();
    }
    let event = EVENTS[(n % 4) as usize];
    format!("{event},{}", n % 100).into_bytes()
}

/// How many of the first `count` samples fail: the malformed ones and the sold-out
/// opera.
pub fn expected_failures(count: u64) -> u64 {
    (0..count)
        .filter(|&n| parse(&sample(n)).is_none_or(|booking| !tickets_available(&booking.event)))
        .count() as u64
}
