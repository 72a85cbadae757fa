//! Triggers inside a window: punctuation (`trigger_every`, custom `trigger`), which cuts
//! a batch of incoming events where a trigger fires, and `trigger_periodically` timers.

use std::sync::Arc;
use std::time::Duration;

use crate::logic::{AccFactory, Effects, Place, Tick, WindowAcc};
use crate::{Punctuate, Trigger};

/// Decides, for a batch of incoming events, where a trigger fires.
pub(crate) trait Punctuation<T>: Send {
    /// `Some((at, trigger))`: fire `trigger` after the first `at` events.
    fn split(&mut self, events: &[T]) -> Option<(usize, Trigger)>;
}

/// Builds a window's punctuation state, at every window start.
pub(crate) type PunctuationFactory<T> = Arc<dyn Fn() -> Box<dyn Punctuation<T>> + Send + Sync>;

struct Every {
    count: usize,
    left: usize,
}

impl<T> Punctuation<T> for Every {
    fn split(&mut self, events: &[T]) -> Option<(usize, Trigger)> {
        if events.len() >= self.left {
            let at = self.left;
            self.left = self.count;
            Some((at, Trigger::Every(self.count)))
        } else {
            self.left -= events.len();
            None
        }
    }
}

pub(crate) fn every<T>(count: usize) -> PunctuationFactory<T> {
    Arc::new(move || Box::new(Every { count, left: count }))
}

type Decide<T, S> = Arc<dyn Fn(&[T], &mut S) -> Punctuate + Send + Sync>;

struct Custom<T, S> {
    state: S,
    decide: Decide<T, S>,
}

impl<T, S: Send> Punctuation<T> for Custom<T, S> {
    fn split(&mut self, events: &[T]) -> Option<(usize, Trigger)> {
        match (self.decide)(events, &mut self.state) {
            Punctuate::Continue => None,
            // A cut past the batch is read as "after the whole batch".
            Punctuate::Trigger { at, name } => Some((at.min(events.len()), Trigger::Custom(name))),
        }
    }
}

pub(crate) fn custom<T: 'static, S: Send + 'static>(
    init: impl Fn() -> S + Send + Sync + 'static,
    decide: impl Fn(&[T], &mut S) -> Punctuate + Send + Sync + 'static,
) -> PunctuationFactory<T> {
    let decide: Decide<T, S> = Arc::new(decide);
    Arc::new(move || {
        Box::new(Custom {
            state: init(),
            decide: Arc::clone(&decide),
        })
    })
}

/// An accumulator whose batches are cut where its punctuation fires a trigger.
struct Punctuated<T, O> {
    punctuation: Box<dyn Punctuation<T>>,
    inner: Box<dyn WindowAcc<T, O>>,
}

impl<T: Send, O> WindowAcc<T, O> for Punctuated<T, O> {
    fn feed(&mut self, mut events: Vec<T>, at: &Place, out: &mut Vec<O>) {
        while let Some((cut, trigger)) = self.punctuation.split(&events) {
            let rest = events.split_off(cut);
            self.inner.feed(events, at, out);
            self.inner.fire(trigger, at, out);
            events = rest;
            if events.is_empty() {
                return;
            }
        }
        self.inner.feed(events, at, out);
    }

    fn fire(&mut self, trigger: Trigger, at: &Place, out: &mut Vec<O>) {
        self.inner.fire(trigger, at, out);
    }
}

pub(crate) fn punctuated<T: Send + 'static, O: Send + 'static>(
    acc: AccFactory<T, O>,
    punctuation: PunctuationFactory<T>,
) -> AccFactory<T, O> {
    Arc::new(move || {
        Box::new(Punctuated {
            punctuation: punctuation(),
            inner: acc(),
        })
    })
}

/// The `trigger_periodically` timers of one stage.
pub(crate) struct Periodically {
    periods: Vec<Duration>,
}

impl Periodically {
    pub(crate) fn new(periods: Vec<Duration>) -> Self {
        Periodically { periods }
    }

    /// Sets every period's first timer.
    pub(crate) fn start<O>(&self, fx: &mut Effects<O>) {
        for (n, period) in self.periods.iter().enumerate() {
            fx.timers.push((*period, Tick::Periodically(n)));
        }
    }

    /// Period `n` elapsed: sets its next timer and names the trigger to fire.
    pub(crate) fn fired<O>(&self, n: usize, fx: &mut Effects<O>) -> Option<Trigger> {
        let period = *self.periods.get(n)?;
        fx.timers.push((period, Tick::Periodically(n)));
        Some(Trigger::Periodically(period))
    }
}
