//! Periodic windows: a fresh accumulator every period of processing time.

use std::time::Duration;

use arbor_stage::SubscriptionTag;

use super::sequence::Sequence;
use super::Periodically;
use crate::logic::{AccFactory, Effects, Logic, Tick};
use crate::{PartitionInfo, Trigger, WindowId};

pub(crate) struct PeriodicLogic<I, O> {
    windows: Sequence<I, O>,
    period: Duration,
}

impl<I, O> PeriodicLogic<I, O> {
    pub(crate) fn new(
        factory: AccFactory<I, O>,
        partition: PartitionInfo,
        periodically: Periodically,
        period: Duration,
    ) -> Self {
        PeriodicLogic {
            windows: Sequence::new(factory, partition, periodically, WindowId::Periodic),
            period,
        }
    }
}

impl<I: Send + 'static, O: Send + 'static> Logic<I, O> for PeriodicLogic<I, O> {
    fn start(&mut self, fx: &mut Effects<O>) {
        self.windows.periodically.start(fx);
        fx.timers
            .push((self.period, Tick::WindowEnd(self.windows.window)));
    }

    fn events(&mut self, _: SubscriptionTag, events: Vec<I>, fx: &mut Effects<O>) {
        self.windows.feed(events, &mut fx.events);
    }

    fn tick(&mut self, tick: Tick, fx: &mut Effects<O>) {
        match tick {
            Tick::WindowEnd(window) if window == self.windows.window => {
                self.windows.next(&mut fx.events);
                fx.timers
                    .push((self.period, Tick::WindowEnd(self.windows.window)));
            }
            Tick::Periodically(n) => self.windows.periodically(n, fx),
            _ => {}
        }
    }

    fn done(&mut self, fx: &mut Effects<O>) {
        self.windows.fire(Trigger::Done, &mut fx.events);
    }
}
