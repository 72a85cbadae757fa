//! Periodic windows: a fresh accumulator every period of processing time.

use std::time::Duration;

use arbor_stage::SubscriptionTag;

use super::Periodically;
use crate::logic::{AccFactory, Effects, Logic, Place, Tick, WindowAcc};
use crate::{PartitionInfo, Trigger, WindowId};

pub(crate) struct PeriodicLogic<I, O> {
    factory: AccFactory<I, O>,
    acc: Box<dyn WindowAcc<I, O>>,
    partition: PartitionInfo,
    periodically: Periodically,
    period: Duration,
    window: u64,
}

impl<I, O> PeriodicLogic<I, O> {
    pub(crate) fn new(
        factory: AccFactory<I, O>,
        partition: PartitionInfo,
        periodically: Periodically,
        period: Duration,
    ) -> Self {
        PeriodicLogic {
            acc: factory(),
            factory,
            partition,
            periodically,
            period,
            window: 0,
        }
    }

    fn at(&self) -> Place {
        Place {
            partition: self.partition,
            window: WindowId::Periodic(self.window),
        }
    }
}

impl<I: Send + 'static, O: Send + 'static> Logic<I, O> for PeriodicLogic<I, O> {
    fn start(&mut self, fx: &mut Effects<O>) {
        self.periodically.start(fx);
        fx.timers.push((self.period, Tick::WindowEnd(self.window)));
    }

    fn events(&mut self, _: SubscriptionTag, events: Vec<I>, fx: &mut Effects<O>) {
        let at = self.at();
        self.acc.feed(events, &at, &mut fx.events);
    }

    fn tick(&mut self, tick: Tick, fx: &mut Effects<O>) {
        match tick {
            Tick::WindowEnd(window) if window == self.window => {
                let at = self.at();
                self.acc.fire(Trigger::Done, &at, &mut fx.events);
                self.acc = (self.factory)();
                self.window += 1;
                fx.timers.push((self.period, Tick::WindowEnd(self.window)));
            }
            Tick::Periodically(n) => {
                if let Some(trigger) = self.periodically.fired(n, fx) {
                    let at = self.at();
                    self.acc.fire(trigger, &at, &mut fx.events);
                }
            }
            _ => {}
        }
    }

    fn done(&mut self, fx: &mut Effects<O>) {
        let at = self.at();
        self.acc.fire(Trigger::Done, &at, &mut fx.events);
    }
}
