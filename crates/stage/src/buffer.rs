//! The producer's buffer: events no consumer could take yet wait here, up to a size,
//! with info messages kept in order between them.
//!
//! ```
//! use arbor_stage::{BufferKeep, BufferSize};
//! use arbor_stage::plumbing::{Buffer};
//!
//! let mut buffer = Buffer::new(BufferSize::Bounded(2), BufferKeep::First);
//! assert_eq!(buffer.push(vec![1, 2, 3]).discarded, 1); // 3 does not fit
//! assert_eq!(buffer.take(5).events, vec![1, 2]);
//! ```

use std::collections::VecDeque;

use crate::InfoToken;

/// How many events a [`Buffer`] holds before it discards some.
///
/// gen_stage's `buffer_size`: 10 000 by default for producers, unbounded for
/// producer-consumers (whose events always answer demand already received).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BufferSize {
    /// At most this many events. `Bounded(0)` buffers nothing: every event pushed is
    /// discarded and counted (gen_stage accepts a `buffer_size` of 0 but cannot build
    /// such a buffer).
    Bounded(usize),
    /// No limit.
    Unbounded,
}

impl BufferSize {
    /// A producer's default, gen_stage's: 10 000 events.
    pub const PRODUCER_DEFAULT: BufferSize = BufferSize::Bounded(10_000);
    /// A producer-consumer's default, gen_stage's: unbounded.
    pub const PRODUCER_CONSUMER_DEFAULT: BufferSize = BufferSize::Unbounded;
}

/// Which events a full [`Buffer`] keeps (gen_stage's `buffer_keep`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BufferKeep {
    /// Keep the newest: the oldest buffered events make room. The default.
    #[default]
    Last,
    /// Keep the oldest: incoming events that do not fit are discarded.
    First,
}

/// What one [`Buffer::push`] did besides storing events.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "released infos must be handed to the dispatcher"]
pub struct Pushed {
    /// How many events were discarded (incoming or buffered, per [`BufferKeep`]).
    pub discarded: usize,
    /// Infos whose events were all discarded: the stage hands them to its dispatcher's
    /// [`info`](crate::Dispatcher::info) now.
    pub infos: Vec<InfoToken>,
}

/// What one [`Buffer::take`] returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken<E> {
    /// Events from the front of the buffer, oldest first.
    pub events: Vec<E>,
    /// Infos released by taking `events`: the stage dispatches `events`, then hands
    /// these to its dispatcher's [`info`](crate::Dispatcher::info), in order.
    pub infos: Vec<InfoToken>,
}

/// A producer's buffer of events waiting for demand, with info tokens kept in order
/// between them.
///
/// A producer's events go to its dispatcher first; the leftovers are pushed here and
/// taken again when demand arrives. When the buffer is full, [`BufferKeep`] says which
/// events go: every discarded event is counted and logged, never dropped silently.
///
/// # Info messages
///
/// gen_stage lets a producer send an info message to itself that must be handled after
/// the events it already emitted have been dispatched. With events buffered,
/// [`push_info`](Self::push_info) keeps the info's token after the newest buffered
/// event; [`take`](Self::take) stops at that event and hands the token back, and the
/// stage passes it to its dispatcher's [`info`](crate::Dispatcher::info) after
/// dispatching the events. When [`BufferKeep::Last`] discards the event an info waits
/// for, the info comes back from that [`push`](Self::push).
///
/// # Examples
///
/// ```
/// use arbor_stage::{BufferKeep, BufferSize};
/// use arbor_stage::plumbing::{Buffer, InfoToken};
///
/// let mut buffer = Buffer::new(BufferSize::Bounded(3), BufferKeep::Last);
/// assert_eq!(buffer.push(vec![1, 2]).discarded, 0);
/// assert_eq!(buffer.push_info(InfoToken::new(7)), None); // waits behind 1 and 2
/// assert_eq!(buffer.push(vec![3, 4]).discarded, 1); // 1 goes: Last keeps the newest
///
/// let taken = buffer.take(10);
/// assert_eq!(taken.events, vec![2]); // stops where the info waits
/// assert_eq!(taken.infos, vec![InfoToken::new(7)]);
/// assert_eq!(buffer.take(10).events, vec![3, 4]);
/// assert_eq!(buffer.discarded_total(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct Buffer<E> {
    events: VecDeque<E>,
    size: BufferSize,
    keep: BufferKeep,
    /// How many events have ever left the buffer, so `head + i` numbers the event at
    /// index `i`.
    head: u64,
    /// Waiting infos, oldest first, each with the number of the event it follows.
    infos: VecDeque<(u64, InfoToken)>,
    discarded_total: u64,
}

impl<E> Buffer<E> {
    /// An empty buffer.
    pub fn new(size: BufferSize, keep: BufferKeep) -> Self {
        Buffer {
            events: VecDeque::new(),
            size,
            keep,
            head: 0,
            infos: VecDeque::new(),
            discarded_total: 0,
        }
    }

    /// Stores `events` after those already buffered, discarding per [`BufferKeep`] if
    /// they do not all fit. Discards are logged as a warning.
    pub fn push(&mut self, events: Vec<E>) -> Pushed {
        let discarded = match (self.size, self.keep) {
            (BufferSize::Unbounded, _) => {
                self.events.extend(events);
                0
            }
            (BufferSize::Bounded(limit), BufferKeep::First) => {
                let room = limit.saturating_sub(self.events.len());
                let discarded = events.len().saturating_sub(room);
                self.events.extend(events.into_iter().take(room));
                discarded
            }
            (BufferSize::Bounded(limit), BufferKeep::Last) => {
                let excess = (self.events.len() + events.len()).saturating_sub(limit);
                let old = excess.min(self.events.len());
                self.events.drain(..old);
                self.advance(old);
                self.events.extend(events.into_iter().skip(excess - old));
                excess
            }
        };
        // Counted here, logged by the stage, which knows its own name.
        self.discarded_total = self.discarded_total.saturating_add(discarded as u64);
        Pushed {
            discarded,
            infos: self.released(),
        }
    }

    /// Keeps `token` until every event buffered now has been taken (or discarded).
    ///
    /// Returns the token back when no event is buffered: nothing precedes it, so the
    /// stage hands it to its dispatcher's [`info`](crate::Dispatcher::info) at once.
    #[must_use = "a returned token must be handed to the dispatcher now"]
    pub fn push_info(&mut self, token: InfoToken) -> Option<InfoToken> {
        let Some(newest) = self.events.len().checked_sub(1) else {
            return Some(token);
        };
        self.infos.push_back((self.head + newest as u64, token));
        None
    }

    /// Takes up to `count` events from the front, stopping after an event that an info
    /// waits for; that info (and any other waiting on the same event) comes back in
    /// [`Taken::infos`]. Call again for more.
    pub fn take(&mut self, count: usize) -> Taken<E> {
        let until_info = self.infos.front().map_or(usize::MAX, |&(number, _)| {
            usize::try_from(number.saturating_sub(self.head)).map_or(usize::MAX, |ahead| ahead + 1)
        });
        let count = count.min(self.events.len()).min(until_info);
        let events = self.events.drain(..count).collect();
        self.advance(count);
        Taken {
            events,
            infos: self.released(),
        }
    }

    /// How many events are buffered.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether no event is buffered.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// How many events this buffer has discarded since it was made.
    pub fn discarded_total(&self) -> u64 {
        self.discarded_total
    }

    /// The buffer's size limit.
    pub fn size(&self) -> BufferSize {
        self.size
    }

    /// Which events the buffer keeps when full.
    pub fn keep(&self) -> BufferKeep {
        self.keep
    }

    /// Records that `count` events left the front.
    fn advance(&mut self, count: usize) {
        self.head += count as u64;
    }

    /// The infos whose event has left the buffer.
    fn released(&mut self) -> Vec<InfoToken> {
        let gone = self
            .infos
            .iter()
            .take_while(|&&(number, _)| number < self.head)
            .count();
        self.infos.drain(..gone).map(|(_, token)| token).collect()
    }
}

impl<E> Default for Buffer<E> {
    /// A producer's default buffer: 10 000 events, keeping the newest.
    fn default() -> Self {
        Buffer::new(BufferSize::PRODUCER_DEFAULT, BufferKeep::default())
    }
}
