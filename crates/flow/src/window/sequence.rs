//! What count and periodic windows share: one open window at a time, numbered from 0,
//! closed by a `Done` and replaced by a fresh accumulator.

use super::Periodically;
use crate::logic::{AccFactory, Effects, Place, WindowAcc};
use crate::{PartitionInfo, Trigger, WindowId};

pub(crate) struct Sequence<I, O> {
    factory: AccFactory<I, O>,
    acc: Box<dyn WindowAcc<I, O>>,
    partition: PartitionInfo,
    pub(crate) periodically: Periodically,
    /// The open window's number.
    pub(crate) window: u64,
    id: fn(u64) -> WindowId,
}

impl<I, O> Sequence<I, O> {
    pub(crate) fn new(
        factory: AccFactory<I, O>,
        partition: PartitionInfo,
        periodically: Periodically,
        id: fn(u64) -> WindowId,
    ) -> Self {
        Sequence {
            acc: factory(),
            factory,
            partition,
            periodically,
            window: 0,
            id,
        }
    }

    fn at(&self) -> Place {
        Place {
            partition: self.partition,
            window: (self.id)(self.window),
        }
    }

    /// Reduces `events` into the open window.
    pub(crate) fn feed(&mut self, events: Vec<I>, out: &mut Vec<O>) {
        let at = self.at();
        self.acc.feed(events, &at, out);
    }

    /// Fires `trigger` on the open window.
    pub(crate) fn fire(&mut self, trigger: Trigger, out: &mut Vec<O>) {
        let at = self.at();
        self.acc.fire(trigger, &at, out);
    }

    /// Closes the open window (its accumulator's last call) and opens the next from a
    /// fresh accumulator, whatever `on_trigger` returned.
    pub(crate) fn next(&mut self, out: &mut Vec<O>) {
        self.fire(Trigger::Done, out);
        self.acc = (self.factory)();
        self.window += 1;
    }

    /// A `trigger_periodically` timer fired: its trigger, on the open window.
    pub(crate) fn periodically(&mut self, n: usize, fx: &mut Effects<O>) {
        if let Some(trigger) = self.periodically.fired(n, fx) {
            self.fire(trigger, &mut fx.events);
        }
    }
}
