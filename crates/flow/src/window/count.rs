//! Count windows: a fresh accumulator every `count` incoming events.

use arbor_stage::SubscriptionTag;

use super::Periodically;
use crate::logic::{AccFactory, Effects, Logic, Place, Tick, WindowAcc};
use crate::{PartitionInfo, Trigger, WindowId};

pub(crate) struct CountLogic<I, O> {
    factory: AccFactory<I, O>,
    acc: Box<dyn WindowAcc<I, O>>,
    partition: PartitionInfo,
    periodically: Periodically,
    count: usize,
    /// Events the current window still takes.
    left: usize,
    window: u64,
}

impl<I, O> CountLogic<I, O> {
    pub(crate) fn new(
        factory: AccFactory<I, O>,
        partition: PartitionInfo,
        periodically: Periodically,
        count: usize,
    ) -> Self {
        CountLogic {
            acc: factory(),
            factory,
            partition,
            periodically,
            count,
            left: count,
            window: 0,
        }
    }

    fn at(&self) -> Place {
        Place {
            partition: self.partition,
            window: WindowId::Count(self.window),
        }
    }
}

impl<I: Send + 'static, O: Send + 'static> Logic<I, O> for CountLogic<I, O> {
    fn start(&mut self, fx: &mut Effects<O>) {
        self.periodically.start(fx);
    }

    fn events(&mut self, _: SubscriptionTag, mut events: Vec<I>, fx: &mut Effects<O>) {
        while !events.is_empty() {
            let rest = events.split_off(self.left.min(events.len()));
            self.left -= events.len();
            let at = self.at();
            self.acc.feed(events, &at, &mut fx.events);
            if self.left == 0 {
                // The window is full: its accumulator's last call, then a fresh one,
                // whatever `on_trigger` returned.
                self.acc.fire(Trigger::Done, &at, &mut fx.events);
                self.acc = (self.factory)();
                self.window += 1;
                self.left = self.count;
            }
            events = rest;
        }
    }

    fn tick(&mut self, tick: Tick, fx: &mut Effects<O>) {
        if let Tick::Periodically(n) = tick {
            if let Some(trigger) = self.periodically.fired(n, fx) {
                let at = self.at();
                self.acc.fire(trigger, &at, &mut fx.events);
            }
        }
    }

    fn done(&mut self, fx: &mut Effects<O>) {
        let at = self.at();
        self.acc.fire(Trigger::Done, &at, &mut fx.events);
    }
}
