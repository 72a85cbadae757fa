//! Demand accounting without a runtime: how much a consumer asks for and when
//! ([`DemandCounter`]), and whether a producer passes demand on ([`DemandGate`]).
//!
//! ```
//! use arbor_stage::plumbing::DemandCounter;
//!
//! # fn main() -> Result<(), arbor_stage::InvalidOptions> {
//! let mut counter = DemandCounter::new(1000, 750)?;
//! assert_eq!(counter.initial_ask(), 1000);
//!
//! let split = counter.split((0..1000).collect::<Vec<u32>>());
//! let sizes: Vec<(usize, usize)> = split.batches.iter().map(|b| (b.events.len(), b.ask)).collect();
//! assert_eq!(sizes, vec![(250, 250); 4]);
//! assert_eq!(counter.pending(), 1000);
//! # Ok(())
//! # }
//! ```

use smallvec::{smallvec, SmallVec};

use crate::InvalidOptions;

/// One subscription's demand, seen from the consumer: what to ask for, and how to cut
/// what arrives into batches.
///
/// A consumer subscribes asking for `max_demand` events. It hands the events it
/// receives to its callback in batches of at most `max_demand - min_demand`, and after
/// each batch, once the events it is still owed have fallen to `min_demand` or below,
/// asks for enough to be owed `max_demand` again.
///
/// The counter starts as if `max_demand` had been asked for: the consumer sends
/// [`initial_ask`](Self::initial_ask) when it subscribes. Manual-demand consumers ask
/// explicitly instead and do not use a counter.
///
/// # A worked example: `max_demand` 1000, `min_demand` 750
///
/// The consumer asks for 1000 and is owed 1000. The producer sends 1000 events: the
/// consumer handles them 250 at a time. After the first 250 it is owed 750, which is
/// `min_demand`, so it asks for 250 and is owed 1000 again; the same after each of the
/// other batches. Had the producer sent only 100 events, the consumer would be owed
/// 900, above `min_demand`, and would ask for nothing yet.
///
/// Small `max_demand - min_demand` gaps mean many small asks; a `min_demand` of 0
/// means the consumer waits for everything it asked for before asking again.
///
/// # Examples
///
/// ```
/// use arbor_stage::plumbing::DemandCounter;
///
/// # fn main() -> Result<(), arbor_stage::InvalidOptions> {
/// let mut counter = DemandCounter::new(1000, 750)?;
/// let split = counter.split(vec![0_u8; 100]);
/// assert_eq!(split.batches.len(), 1);
/// assert_eq!(split.batches[0].ask, 0); // owed 900: above min_demand
/// assert_eq!(counter.pending(), 900);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemandCounter {
    max_demand: usize,
    min_demand: usize,
    /// Events the producer still owes, counting asks already sent.
    pending: usize,
    excess_total: u64,
}

/// The batches of one delivery. Most deliveries make one batch, held inline: cutting
/// them allocates nothing.
pub type Batches<E> = SmallVec<[Batch<E>; 1]>;

/// Events received on one subscription, cut into batches by
/// [`DemandCounter::split`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split<E> {
    /// The batches, in order: the consumer handles each, then asks for its `ask`.
    pub batches: Batches<E>,
    /// How many of the events were more than the producer owed.
    pub excess: usize,
}

/// One batch for the consumer's callback, and the demand to send upstream after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch<E> {
    /// At most `max_demand - min_demand` events.
    pub events: Vec<E>,
    /// The demand to ask for once `events` have been handled; 0 means none.
    pub ask: usize,
}

impl DemandCounter {
    /// gen_stage's default `max_demand`.
    pub const DEFAULT_MAX_DEMAND: usize = 1000;

    /// gen_stage's default `min_demand` for a `max_demand`: half of it, rounded down.
    pub const fn default_min_demand(max_demand: usize) -> usize {
        max_demand / 2
    }

    /// A counter for these demands.
    ///
    /// # Errors
    ///
    /// [`InvalidOptions::ZeroMaxDemand`] when `max_demand` is 0,
    /// [`InvalidOptions::MinDemandNotBelowMax`] when `min_demand >= max_demand`.
    pub fn new(max_demand: usize, min_demand: usize) -> Result<Self, InvalidOptions> {
        if max_demand == 0 {
            return Err(InvalidOptions::ZeroMaxDemand);
        }
        if min_demand >= max_demand {
            return Err(InvalidOptions::MinDemandNotBelowMax {
                min_demand,
                max_demand,
            });
        }
        Ok(Self::owed_max(max_demand, min_demand))
    }

    /// A counter that has just asked for `max_demand`; the demands are already valid.
    fn owed_max(max_demand: usize, min_demand: usize) -> Self {
        DemandCounter {
            max_demand,
            min_demand,
            pending: max_demand,
            excess_total: 0,
        }
    }

    /// A counter for `max_demand` with the default `min_demand` (half of it).
    ///
    /// # Errors
    ///
    /// [`InvalidOptions::ZeroMaxDemand`] when `max_demand` is 0.
    pub fn with_max_demand(max_demand: usize) -> Result<Self, InvalidOptions> {
        Self::new(max_demand, Self::default_min_demand(max_demand))
    }

    /// The demand to ask for when subscribing: `max_demand`.
    pub fn initial_ask(&self) -> usize {
        self.max_demand
    }

    /// The subscription's `max_demand`.
    pub fn max_demand(&self) -> usize {
        self.max_demand
    }

    /// The subscription's `min_demand`.
    pub fn min_demand(&self) -> usize {
        self.min_demand
    }

    /// How many events the producer still owes, counting every ask sent so far.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// How many events beyond what was owed have arrived since the counter was made.
    pub fn excess_total(&self) -> u64 {
        self.excess_total
    }

    /// Cuts `events`, just received, into batches of at most
    /// `max_demand - min_demand`, each with the demand to ask for after it.
    ///
    /// Events beyond what the producer owed (a producer breaking the protocol) are
    /// still handed out, but counted as [`Split::excess`], logged as an error, and not
    /// counted against demand, as in gen_stage.
    pub fn split<E>(&mut self, events: Vec<E>) -> Split<E> {
        // Only what was owed when the events arrived counts: the producer cannot have
        // seen the asks made for earlier batches of the same delivery.
        let size = self.max_demand - self.min_demand;
        let mut owed = self.pending;
        let mut excess = 0;
        let mut batch = |events: Vec<E>| {
            let counted = events.len().min(owed);
            owed -= counted;
            excess += events.len() - counted;
            let ask = self.consume(counted);
            Batch { events, ask }
        };
        let batches: Batches<E> = if events.is_empty() {
            SmallVec::new()
        } else if events.len() <= size {
            // The usual delivery: one batch, cut without building any chunk list.
            smallvec![batch(events)]
        } else {
            chunk(events, size).into_iter().map(batch).collect()
        };
        // Counted here, logged by the stage, which knows its own name.
        self.excess_total = self.excess_total.saturating_add(excess as u64);
        Split { batches, excess }
    }

    /// Counts `handled` events as delivered; returns the demand to ask for now.
    fn consume(&mut self, handled: usize) -> usize {
        let left = self.pending - handled;
        if left <= self.min_demand {
            self.pending = self.max_demand;
            self.max_demand - left
        } else {
            self.pending = left;
            0
        }
    }
}

/// Cuts `events` into chunks of `size` (the last may be shorter). The chunks are split
/// off from the back, so the first stays where it is and every other event moves once.
/// `events` is longer than `size`, which is not 0.
fn chunk<E>(mut events: Vec<E>, size: usize) -> Vec<Vec<E>> {
    let mut chunks = Vec::with_capacity(events.len().div_ceil(size));
    let mut start = (events.len() - 1) / size * size;
    while start > 0 {
        chunks.push(events.split_off(start));
        start -= size;
    }
    chunks.push(events);
    chunks.reverse();
    chunks
}

impl Default for DemandCounter {
    /// gen_stage's defaults: `max_demand` 1000, `min_demand` 500.
    fn default() -> Self {
        Self::owed_max(
            Self::DEFAULT_MAX_DEMAND,
            Self::default_min_demand(Self::DEFAULT_MAX_DEMAND),
        )
    }
}

/// Whether a producer passes the demand it receives to its `handle_demand` callback
/// (gen_stage's `demand: :forward | :accumulate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DemandMode {
    /// Demand reaches `handle_demand` as it arrives. The default.
    #[default]
    Forward,
    /// Demand is summed and held until the mode is set to [`Forward`](Self::Forward):
    /// a way to let every consumer subscribe before anything flows.
    Accumulate,
}

/// Holds a producer's demand back while it is in [`DemandMode::Accumulate`].
///
/// Each demand is kept as it came, so that switching back to forward replays them one
/// by one, as gen_stage does: each becomes its own `handle_demand` call.
///
/// # Examples
///
/// ```
/// use arbor_stage::{DemandMode};
/// use arbor_stage::plumbing::{DemandGate};
///
/// let mut gate = DemandGate::new(DemandMode::Accumulate);
/// assert_eq!(gate.demand(10), 0); // held
/// assert_eq!(gate.demand(5), 0);
/// assert_eq!(gate.accumulated(), 15);
/// assert_eq!(gate.set_mode(DemandMode::Forward), vec![10, 5]); // replayed as asked
/// assert_eq!(gate.demand(3), 3);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemandGate {
    mode: DemandMode,
    held: Vec<usize>,
}

impl DemandGate {
    /// A gate in `mode`, holding nothing.
    pub fn new(mode: DemandMode) -> Self {
        DemandGate {
            mode,
            held: Vec::new(),
        }
    }

    /// The current mode.
    pub fn mode(&self) -> DemandMode {
        self.mode
    }

    /// The demand held back so far, in total.
    pub fn accumulated(&self) -> usize {
        self.held
            .iter()
            .fold(0, |total, demand| total.saturating_add(*demand))
    }

    /// Demand arrived; returns what to pass to `handle_demand` now (0 while
    /// accumulating).
    pub fn demand(&mut self, demand: usize) -> usize {
        match self.mode {
            DemandMode::Forward => demand,
            DemandMode::Accumulate => {
                if demand > 0 {
                    self.held.push(demand);
                }
                0
            }
        }
    }

    /// Switches mode; when switching to [`DemandMode::Forward`], returns the held
    /// demands, in the order they came, each to pass to `handle_demand` on its own.
    pub fn set_mode(&mut self, mode: DemandMode) -> Vec<usize> {
        self.mode = mode;
        match mode {
            DemandMode::Forward => std::mem::take(&mut self.held),
            DemandMode::Accumulate => Vec::new(),
        }
    }
}
