//! Fixed windows of event time, closed by the slowest producer (the watermark), with
//! optional allowed lateness.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use arbor_stage::SubscriptionTag;

use super::{EventTime, Periodically};
use crate::logic::{AccFactory, Effects, Logic, Place, Tick, WindowAcc};
use crate::{PartitionInfo, Trigger, WindowId};

pub(crate) struct FixedLogic<I, O> {
    factory: AccFactory<I, O>,
    partition: PartitionInfo,
    periodically: Periodically,
    /// The window length in milliseconds (at least 1).
    length: i64,
    by: EventTime<I>,
    lateness: Duration,
    /// Open windows by index, each with its accumulator.
    windows: BTreeMap<i64, Box<dyn WindowAcc<I, O>>>,
    /// Per producer, the most recent window it sent (`None`: nothing yet).
    producers: HashMap<SubscriptionTag, Option<i64>>,
    /// The first window not closed yet (the watermark); `None` until every producer has
    /// sent something.
    watermark: Option<i64>,
    /// Late events dropped so far.
    dropped: u64,
}

impl<I, O> FixedLogic<I, O> {
    pub(crate) fn new(
        factory: AccFactory<I, O>,
        partition: PartitionInfo,
        periodically: Periodically,
        duration: Duration,
        by: EventTime<I>,
        lateness: Duration,
    ) -> Self {
        FixedLogic {
            factory,
            partition,
            periodically,
            length: i64::try_from(duration.as_millis())
                .unwrap_or(i64::MAX)
                .max(1),
            by,
            lateness,
            windows: BTreeMap::new(),
            producers: HashMap::new(),
            watermark: None,
            dropped: 0,
        }
    }

    fn at(&self, window: i64) -> Place {
        Place {
            partition: self.partition,
            window: WindowId::Fixed {
                start: window.saturating_mul(self.length),
            },
        }
    }

    /// Reduces a run of events of one window; returns the producer's new most recent
    /// window.
    fn reduce_run(
        &mut self,
        window: i64,
        run: Vec<I>,
        recent: Option<i64>,
        out: &mut Vec<O>,
    ) -> Option<i64> {
        let at = self.at(window);
        if let Some(acc) = self.windows.get_mut(&window) {
            acc.feed(run, &at, out);
            return Some(recent.map_or(window, |r| r.max(window)));
        }
        if recent.is_some_and(|recent| window < recent) {
            // The producer already moved past this window and it is closed: late.
            self.dropped += run.len() as u64;
            tracing::warn!(
                partition = self.partition.index,
                window_start = at_start(&at),
                late = run.len(),
                dropped_total = self.dropped,
                "late events dropped: their fixed window is closed"
            );
            return recent;
        }
        let mut acc = (self.factory)();
        acc.feed(run, &at, out);
        self.windows.insert(window, acc);
        Some(window)
    }

    /// Closes every window before the slowest producer's most recent one.
    fn advance(&mut self, fx: &mut Effects<O>) {
        let mut slowest = None;
        for recent in self.producers.values() {
            match recent {
                None => return, // a silent producer holds every window
                Some(w) => slowest = Some(slowest.map_or(*w, |s: i64| s.min(*w))),
            }
        }
        let Some(slowest) = slowest else { return };
        let mut next = self
            .watermark
            .unwrap_or_else(|| self.windows.keys().next().copied().unwrap_or(slowest));
        while next < slowest {
            self.close(next, fx);
            next += 1;
        }
        self.watermark = Some(next);
    }

    fn close(&mut self, window: i64, fx: &mut Effects<O>) {
        let at = self.at(window);
        let mut acc = self
            .windows
            .remove(&window)
            .unwrap_or_else(|| (self.factory)());
        if self.lateness.is_zero() {
            acc.fire(Trigger::Done, &at, &mut fx.events);
        } else {
            acc.fire(Trigger::Watermark, &at, &mut fx.events);
            self.windows.insert(window, acc);
            fx.timers.push((self.lateness, Tick::Lateness(window)));
        }
    }

    /// Fires `trigger` on every window from the oldest open one to the newest.
    fn fire_all(&mut self, trigger: &Trigger, out: &mut Vec<O>) {
        let (Some(first), Some(last)) = (
            self.windows.keys().next().copied(),
            self.windows.keys().next_back().copied(),
        ) else {
            return;
        };
        for window in first..=last {
            let at = self.at(window);
            let factory = &self.factory;
            let acc = self.windows.entry(window).or_insert_with(|| factory());
            acc.fire(trigger.clone(), &at, out);
        }
    }
}

fn at_start(at: &Place) -> i64 {
    match at.window {
        WindowId::Fixed { start } => start,
        _ => 0,
    }
}

impl<I: Send + 'static, O: Send + 'static> Logic<I, O> for FixedLogic<I, O> {
    fn start(&mut self, fx: &mut Effects<O>) {
        self.periodically.start(fx);
    }

    fn producer_added(&mut self, tag: SubscriptionTag) {
        self.producers.insert(tag, None);
    }

    fn events(&mut self, tag: SubscriptionTag, events: Vec<I>, fx: &mut Effects<O>) {
        let mut recent = self.producers.get(&tag).copied().flatten();
        let mut run = Vec::new();
        let mut current = None;
        for event in events {
            let window = (self.by)(&event).div_euclid(self.length);
            if current.is_some_and(|c| c != window) {
                let batch = std::mem::take(&mut run);
                if let Some(c) = current {
                    recent = self.reduce_run(c, batch, recent, &mut fx.events);
                }
            }
            current = Some(window);
            run.push(event);
        }
        if let Some(c) = current {
            recent = self.reduce_run(c, run, recent, &mut fx.events);
        }
        if let Some(entry) = self.producers.get_mut(&tag) {
            *entry = recent;
        }
        self.advance(fx);
    }

    fn producer_done(&mut self, tag: SubscriptionTag) {
        // A finished producer no longer holds windows open.
        self.producers.remove(&tag);
    }

    fn tick(&mut self, tick: Tick, fx: &mut Effects<O>) {
        match tick {
            Tick::Lateness(window) => {
                if let Some(mut acc) = self.windows.remove(&window) {
                    let at = self.at(window);
                    acc.fire(Trigger::Done, &at, &mut fx.events);
                }
            }
            Tick::Periodically(n) => {
                if let Some(trigger) = self.periodically.fired(n, fx) {
                    self.fire_all(&trigger, &mut fx.events);
                }
            }
            Tick::WindowEnd(_) => {}
        }
    }

    fn done(&mut self, fx: &mut Effects<O>) {
        self.fire_all(&Trigger::Done, &mut fx.events);
        self.windows.clear();
    }
}
