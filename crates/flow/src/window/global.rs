//! The global window: one accumulator until the sources end.

use arbor_stage::SubscriptionTag;

use super::Periodically;
use crate::logic::{AccFactory, Effects, Logic, Place, Tick, WindowAcc};
use crate::{PartitionInfo, Trigger, WindowId};

pub(crate) struct GlobalLogic<I, O> {
    acc: Box<dyn WindowAcc<I, O>>,
    at: Place,
    periodically: Periodically,
}

impl<I, O> GlobalLogic<I, O> {
    pub(crate) fn new(
        acc: AccFactory<I, O>,
        partition: PartitionInfo,
        periodically: Periodically,
    ) -> Self {
        GlobalLogic {
            acc: acc(),
            at: Place {
                partition,
                window: WindowId::Global,
            },
            periodically,
        }
    }
}

impl<I: Send + 'static, O: Send + 'static> Logic<I, O> for GlobalLogic<I, O> {
    fn start(&mut self, fx: &mut Effects<O>) {
        self.periodically.start(fx);
    }

    fn events(&mut self, _: SubscriptionTag, events: Vec<I>, fx: &mut Effects<O>) {
        self.acc.feed(events, &self.at, &mut fx.events);
    }

    fn tick(&mut self, tick: Tick, fx: &mut Effects<O>) {
        if let Tick::Periodically(n) = tick {
            if let Some(trigger) = self.periodically.fired(n, fx) {
                self.acc.fire(trigger, &self.at, &mut fx.events);
            }
        }
    }

    fn done(&mut self, fx: &mut Effects<O>) {
        self.acc.fire(Trigger::Done, &self.at, &mut fx.events);
    }
}
