//! Count windows: a fresh accumulator every `count` incoming events.

use arbor_stage::SubscriptionTag;

use super::sequence::Sequence;
use super::Periodically;
use crate::logic::{AccFactory, Effects, Logic, Tick};
use crate::{PartitionInfo, Trigger, WindowId};

pub(crate) struct CountLogic<I, O> {
    windows: Sequence<I, O>,
    count: usize,
    /// Events the open window still takes.
    left: usize,
}

impl<I, O> CountLogic<I, O> {
    pub(crate) fn new(
        factory: AccFactory<I, O>,
        partition: PartitionInfo,
        periodically: Periodically,
        count: usize,
    ) -> Self {
        CountLogic {
            windows: Sequence::new(factory, partition, periodically, WindowId::Count),
            count,
            left: count,
        }
    }
}

impl<I: Send + 'static, O: Send + 'static> Logic<I, O> for CountLogic<I, O> {
    fn start(&mut self, fx: &mut Effects<O>) {
        self.windows.periodically.start(fx);
    }

    fn events(&mut self, _: SubscriptionTag, mut events: Vec<I>, fx: &mut Effects<O>) {
        while !events.is_empty() {
            let rest = events.split_off(self.left.min(events.len()));
            self.left -= events.len();
            self.windows.feed(events, &mut fx.events);
            if self.left == 0 {
                self.windows.next(&mut fx.events);
                self.left = self.count;
            }
            events = rest;
        }
    }

    fn tick(&mut self, tick: Tick, fx: &mut Effects<O>) {
        if let Tick::Periodically(n) = tick {
            self.windows.periodically(n, fx);
        }
    }

    fn done(&mut self, fx: &mut Effects<O>) {
        self.windows.fire(Trigger::Done, &mut fx.events);
    }
}
