//! Windows and triggers: when a reducing partition starts a fresh accumulator (the
//! window) and when it hands its accumulator to `on_trigger` (the trigger).
//!
//! ```
//! use arbor_flow::{Events, Flow, PartitionOptions, Window};
//!
//! # fn main() -> Result<(), arbor_flow::FlowError> {
//! // Sum 1..=10 in windows of 4 events: every window starts from 0.
//! let window = Window::count(4);
//! let sums = Flow::from_iter(1..=10u64)
//!     .partition(PartitionOptions::new().stages(1).window(window))
//!     .reduce(|| 0u64, |sum, n| sum + n)
//!     .emit(arbor_flow::State)
//!     .collect_blocking()?;
//! // Three windows: 1..=4, 5..=8, then 9 and 10 when the source ends.
//! assert_eq!(sums, vec![10, 26, 19]);
//! # let _ = Events;
//! # Ok(())
//! # }
//! ```
//!
//! # The model
//!
//! A window splits a partition's events into groups, each reduced from a fresh
//! accumulator. Every window closes with a [`Trigger::Done`]: the accumulator goes to
//! `on_trigger` one last time, whatever it returns is emitted, and the next window starts
//! from a new accumulator. Triggers set on the window ([`Window::trigger_every`],
//! [`Window::trigger_periodically`], [`Window::trigger`]) fire *inside* a window: the
//! accumulator `on_trigger` returns is kept.
//!
//! | window | a window is | closes when |
//! |---|---|---|
//! | [`Window::global`] | everything | the sources end |
//! | [`Window::count`] | `n` events | `n` events have arrived (and at the end) |
//! | [`Window::periodic`] | a span of processing time | its timer fires (and at the end) |
//! | [`Window::fixed`] | a span of *event* time | every producer has moved past it (plus `allowed_lateness`) |
//!
//! Window functions and triggers see the partition's *incoming* events, before the
//! partition's own `map` / `filter`: a count window counts the events that arrive, not
//! those that survive a filter.
//!
//! # Fixed windows, watermarks and lateness
//!
//! With `Window::fixed(Duration::from_secs(60), |e| e.time_ms)` an event belongs to
//! window `time_ms / 60_000`. A partition tracks, per upstream producer, the most recent
//! window it has sent; a window closes only once *every* producer has sent a later one
//! (a silent producer holds it open). Events for a window a producer has already moved
//! past are late: they are dropped (counted and logged), unless `allowed_lateness` keeps
//! the window open. Then the window first fires a [`Trigger::Watermark`] and keeps its
//! accumulator; late events still reduce into it; after `allowed_lateness` of processing
//! time it fires [`Trigger::Done`].

mod count;
mod fixed;
mod global;
mod periodic;
mod sequence;
mod trigger;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::logic::{AccFactory, Logic};
use crate::InvalidFlow;

pub(crate) use trigger::{Periodically, PunctuationFactory};

/// Which window an accumulator belongs to, as `on_trigger` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WindowId {
    /// The one window of [`Window::global`].
    Global,
    /// The `n`th window (from 0) of a [`Window::count`].
    Count(u64),
    /// The `n`th window (from 0) of a [`Window::periodic`].
    Periodic(u64),
    /// The window of a [`Window::fixed`] that starts at this event time (milliseconds).
    Fixed {
        /// Its first event time, in milliseconds.
        start: i64,
    },
}

/// Why `on_trigger` is called.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Trigger {
    /// The window closed: the last call for this accumulator.
    Done,
    /// A fixed window with `allowed_lateness` was passed by every producer; it stays open
    /// for late events until its `Done`.
    Watermark,
    /// [`Window::trigger_every`]: this many more events arrived in the window.
    Every(usize),
    /// [`Window::trigger_periodically`]: this period elapsed.
    Periodically(Duration),
    /// A [`Window::trigger`] function asked for it, with this name.
    Custom(Arc<str>),
}

/// The window and the trigger of an `on_trigger` call.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WindowInfo {
    /// Which window.
    pub window: WindowId,
    /// Which trigger fired.
    pub trigger: Trigger,
}

/// Which stage of a partition runs an `on_trigger` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartitionInfo {
    /// The stage's index, `0..stages`.
    pub index: usize,
    /// How many stages the partition has.
    pub stages: usize,
}

/// What a [`Window::trigger`] function decides for a batch of events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Punctuate {
    /// No trigger in this batch.
    Continue,
    /// Reduce the events before `at`, fire a trigger named `name`, then look at the rest
    /// of the batch again.
    Trigger {
        /// How many events of the batch go before the trigger.
        at: usize,
        /// The trigger's name ([`Trigger::Custom`]).
        name: Arc<str>,
    },
}

type EventTime<T> = Arc<dyn Fn(&T) -> i64 + Send + Sync>;

enum Kind<T> {
    Global,
    Count(usize),
    Periodic(Duration),
    Fixed {
        duration: Duration,
        by: EventTime<T>,
        lateness: Duration,
    },
}

impl<T> Clone for Kind<T> {
    fn clone(&self) -> Self {
        match self {
            Kind::Global => Kind::Global,
            Kind::Count(n) => Kind::Count(*n),
            Kind::Periodic(d) => Kind::Periodic(*d),
            Kind::Fixed {
                duration,
                by,
                lateness,
            } => Kind::Fixed {
                duration: *duration,
                by: Arc::clone(by),
                lateness: *lateness,
            },
        }
    }
}

/// When a reducing partition starts a new accumulator, and which triggers fire inside a
/// window (Elixir's `Flow.Window`). Set with
/// [`PartitionOptions::window`](crate::PartitionOptions::window); `T` is the type of the
/// events entering the partition. See the [module docs](self) for the model.
///
/// # Examples
///
/// ```
/// use arbor_flow::{Flow, PartitionOptions, State, Window};
///
/// # fn main() -> Result<(), arbor_flow::FlowError> {
/// // A running total every 25 events, then the final total (Flow's `trigger_every`).
/// let window = Window::global().trigger_every(25);
/// let totals = Flow::from_iter(1..=100u64)
///     .partition(PartitionOptions::new().stages(1).window(window))
///     .reduce(|| 0u64, |sum, n| sum + n)
///     .emit(State)
///     .collect_blocking()?;
/// assert_eq!(totals, vec![325, 1275, 2850, 5050, 5050]);
/// # Ok(())
/// # }
/// ```
pub struct Window<T> {
    kind: Kind<T>,
    punctuation: Option<PunctuationFactory<T>>,
    periodically: Vec<Duration>,
    invalid: Option<InvalidFlow>,
}

impl<T> Clone for Window<T> {
    fn clone(&self) -> Self {
        Window {
            kind: self.kind.clone(),
            punctuation: self.punctuation.clone(),
            periodically: self.periodically.clone(),
            invalid: self.invalid.clone(),
        }
    }
}

impl<T> fmt::Debug for Window<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Global => "global".to_string(),
            Kind::Count(n) => format!("count({n})"),
            Kind::Periodic(d) => format!("periodic({d:?})"),
            Kind::Fixed {
                duration, lateness, ..
            } => format!("fixed({duration:?}, lateness {lateness:?})"),
        };
        f.debug_struct("Window")
            .field("kind", &kind)
            .field("punctuation", &self.punctuation.is_some())
            .field("periodically", &self.periodically)
            .finish()
    }
}

impl<T: 'static> Default for Window<T> {
    fn default() -> Self {
        Self::global()
    }
}

impl<T: 'static> Window<T> {
    fn of(kind: Kind<T>, invalid: Option<InvalidFlow>) -> Self {
        Window {
            kind,
            punctuation: None,
            periodically: Vec::new(),
            invalid,
        }
    }

    /// One window for everything: it closes when the sources end. The default.
    pub fn global() -> Self {
        Self::of(Kind::Global, None)
    }

    /// A window every `count` events entering the partition; the last one closes when the
    /// sources end, even if it holds fewer (or none).
    pub fn count(count: usize) -> Self {
        Self::of(
            Kind::Count(count),
            (count == 0).then_some(InvalidFlow::ZeroCount),
        )
    }

    /// A window every `period` of processing time (a timer per partition stage); the last
    /// one closes when the sources end.
    pub fn periodic(period: Duration) -> Self {
        let invalid = period
            .is_zero()
            .then_some(InvalidFlow::ZeroDuration("periodic"));
        Self::of(Kind::Periodic(period), invalid)
    }

    /// Windows of `duration` of *event time*: `event_time` gives an event's time in
    /// milliseconds, and the event belongs to window `event_time / duration`. See the
    /// [module docs](self) for when a window closes.
    pub fn fixed(
        duration: Duration,
        event_time: impl Fn(&T) -> i64 + Send + Sync + 'static,
    ) -> Self {
        let invalid = (duration.as_millis() == 0).then_some(InvalidFlow::ZeroDuration("fixed"));
        Self::of(
            Kind::Fixed {
                duration,
                by: Arc::new(event_time),
                lateness: Duration::ZERO,
            },
            invalid,
        )
    }

    /// How long (processing time) a fixed window stays open for late events after every
    /// producer has passed it: it fires [`Trigger::Watermark`] then, and
    /// [`Trigger::Done`] after `lateness`. Default: zero (late events are dropped). Only
    /// fixed windows have event time; on the others this does nothing.
    pub fn allowed_lateness(mut self, lateness: Duration) -> Self {
        if let Kind::Fixed { lateness: l, .. } = &mut self.kind {
            *l = lateness;
        }
        self
    }

    /// Fires [`Trigger::Every`] each time `count` more events have entered the window
    /// (Flow's `trigger_every`).
    pub fn trigger_every(self, count: usize) -> Self {
        if count == 0 {
            return self.invalid(InvalidFlow::ZeroTriggerEvery);
        }
        self.punctuate(trigger::every(count))
    }

    /// Fires [`Trigger::Periodically`] every `period` of processing time, on every open
    /// window of the partition.
    pub fn trigger_periodically(mut self, period: Duration) -> Self {
        if period.is_zero() {
            return self.invalid(InvalidFlow::ZeroPeriod);
        }
        self.periodically.push(period);
        self
    }

    /// A custom trigger (Flow's `Window.trigger/3`): `decide` sees each batch of incoming
    /// events with its own state (made by `init` at every window start) and says where,
    /// if anywhere, a trigger fires.
    pub fn trigger<S: Send + 'static>(
        self,
        init: impl Fn() -> S + Send + Sync + 'static,
        decide: impl Fn(&[T], &mut S) -> Punctuate + Send + Sync + 'static,
    ) -> Self {
        self.punctuate(trigger::custom(init, decide))
    }

    fn punctuate(mut self, factory: PunctuationFactory<T>) -> Self {
        if self.punctuation.is_some() {
            return self.invalid(InvalidFlow::SecondTrigger);
        }
        self.punctuation = Some(factory);
        self
    }

    fn invalid(mut self, invalid: InvalidFlow) -> Self {
        self.invalid.get_or_insert(invalid);
        self
    }

    pub(crate) fn validate(&self) -> Result<(), InvalidFlow> {
        self.invalid.clone().map_or(Ok(()), Err)
    }

    /// Whether this is a plain global window, which a stage without a reducer accepts.
    pub(crate) fn is_plain(&self) -> bool {
        matches!(self.kind, Kind::Global)
            && self.punctuation.is_none()
            && self.periodically.is_empty()
    }

    /// The stage logic of one partition stage: this window over accumulators from `acc`.
    pub(crate) fn logic<O: Send + 'static>(
        &self,
        acc: AccFactory<T, O>,
        partition: PartitionInfo,
    ) -> Box<dyn Logic<T, O>>
    where
        T: Send,
    {
        let acc = match &self.punctuation {
            Some(punctuation) => trigger::punctuated(acc, Arc::clone(punctuation)),
            None => acc,
        };
        let periodically = Periodically::new(self.periodically.clone());
        match &self.kind {
            Kind::Global => Box::new(global::GlobalLogic::new(acc, partition, periodically)),
            Kind::Count(count) => {
                Box::new(count::CountLogic::new(acc, partition, periodically, *count))
            }
            Kind::Periodic(period) => Box::new(periodic::PeriodicLogic::new(
                acc,
                partition,
                periodically,
                *period,
            )),
            Kind::Fixed {
                duration,
                by,
                lateness,
            } => Box::new(fixed::FixedLogic::new(
                acc,
                partition,
                periodically,
                *duration,
                Arc::clone(by),
                *lateness,
            )),
        }
    }
}
