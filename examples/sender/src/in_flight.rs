//! Counting the sends in flight, to show what `max_concurrency` bounds.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// How many sends run now, and the most that ever ran at once. Shared by a variant's
/// tasks; one per run, so each report's peak is its own.
#[derive(Debug, Clone, Default)]
pub(crate) struct InFlight {
    counts: Arc<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl InFlight {
    /// Counts one send until the guard drops. The guard, not a call after the send, ends
    /// it: a send that panics or is cancelled is no longer in flight either.
    pub(crate) fn enter(&self) -> Guard {
        let now = self.counts.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.counts.peak.fetch_max(now, Ordering::SeqCst);
        Guard {
            counts: Arc::clone(&self.counts),
        }
    }

    /// The most sends that were in flight at once so far.
    pub(crate) fn peak(&self) -> usize {
        self.counts.peak.load(Ordering::SeqCst)
    }
}

/// One send in flight; dropping it ends the send.
#[derive(Debug)]
pub(crate) struct Guard {
    counts: Arc<Counts>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.counts.now.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_peak_is_the_most_guards_alive_at_once() {
        let in_flight = InFlight::default();
        let a = in_flight.enter();
        let b = in_flight.enter();
        drop(a);
        let c = in_flight.enter();
        assert_eq!(in_flight.peak(), 2);
        drop((b, c));
        let _d = in_flight.enter();
        assert_eq!(in_flight.peak(), 2);
    }
}
