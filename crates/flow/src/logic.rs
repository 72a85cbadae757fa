//! What one flow stage computes, apart from the stage machinery: the per-event chain,
//! the window over accumulators, and the effects (events to emit, timers to set) a call
//! leaves for the stage to carry out.

use std::sync::Arc;
use std::time::Duration;

use arbor_stage::SubscriptionTag;

use crate::{PartitionInfo, Trigger, WindowId, WindowInfo};

/// A layer's per-event operations, run over a whole batch: each input gives zero or more
/// outputs, appended to the `Vec` given, in order.
///
/// Erased per batch, not per event: each operation loops over the batch with the user's
/// function inlined, and is called through a pointer once per batch.
pub(crate) type Chain<I, O> = Arc<dyn Fn(Vec<I>, &mut Vec<O>) + Send + Sync>;

/// Appends `batch` to `out`, handing the batch's allocation over when `out` is empty.
pub(crate) fn append<T>(out: &mut Vec<T>, mut batch: Vec<T>) {
    if out.is_empty() {
        *out = batch;
    } else {
        out.append(&mut batch);
    }
}

/// Builds the logic of partition stage `index`.
pub(crate) type LogicFactory<I, O> =
    Arc<dyn Fn(PartitionInfo) -> Box<dyn Logic<I, O>> + Send + Sync>;

/// Builds a fresh accumulator, at every window start.
pub(crate) type AccFactory<I, O> = Arc<dyn Fn() -> Box<dyn WindowAcc<I, O>> + Send + Sync>;

/// A timer a logic asked for, handed back to it when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tick {
    /// The `n`th `trigger_periodically` period elapsed.
    Periodically(usize),
    /// Periodic window `n` ends.
    WindowEnd(u64),
    /// The lateness of the fixed window starting at this index ran out.
    Lateness(i64),
}

/// What a logic call leaves for the stage: events to emit, timers to set.
pub(crate) struct Effects<O> {
    pub(crate) events: Vec<O>,
    pub(crate) timers: Vec<(Duration, Tick)>,
}

impl<O> Effects<O> {
    pub(crate) fn new() -> Self {
        Effects {
            events: Vec::new(),
            timers: Vec::new(),
        }
    }
}

/// One flow stage's computation, driven by its stage.
pub(crate) trait Logic<I, O>: Send + 'static {
    /// The stage started: set the first timers.
    fn start(&mut self, fx: &mut Effects<O>) {
        let _ = fx;
    }

    /// A producer subscribed.
    fn producer_added(&mut self, tag: SubscriptionTag) {
        let _ = tag;
    }

    /// A batch from producer `tag`.
    fn events(&mut self, tag: SubscriptionTag, events: Vec<I>, fx: &mut Effects<O>);

    /// Producer `tag` finished; others remain.
    fn producer_done(&mut self, tag: SubscriptionTag) {
        let _ = tag;
    }

    /// A timer set through [`Effects::timers`] fired.
    fn tick(&mut self, tick: Tick, fx: &mut Effects<O>) {
        let _ = (tick, fx);
    }

    /// Every producer finished: the final `Done`.
    fn done(&mut self, fx: &mut Effects<O>);
}

/// Where an accumulator sits: its stage and its window.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Place {
    pub(crate) partition: PartitionInfo,
    pub(crate) window: WindowId,
}

impl Place {
    pub(crate) fn info(&self, trigger: Trigger) -> WindowInfo {
        WindowInfo {
            window: self.window,
            trigger,
        }
    }
}

/// The accumulator of one window, with the layer's per-event chain in front of it.
pub(crate) trait WindowAcc<I, O>: Send {
    /// Reduces a batch of incoming events (a punctuated accumulator may fire triggers
    /// inside it).
    fn feed(&mut self, events: Vec<I>, at: &Place, out: &mut Vec<O>);

    /// Fires `trigger`: hands the accumulator to `on_trigger` and emits what it returns.
    fn fire(&mut self, trigger: Trigger, at: &Place, out: &mut Vec<O>);
}

/// A stage that only maps: no accumulator, no window.
pub(crate) struct MapLogic<I, O> {
    chain: Chain<I, O>,
}

impl<I: Send + 'static, O: Send + 'static> MapLogic<I, O> {
    pub(crate) fn factory(chain: Chain<I, O>) -> LogicFactory<I, O> {
        Arc::new(move |_| {
            Box::new(MapLogic {
                chain: Arc::clone(&chain),
            })
        })
    }
}

impl<I: Send + 'static, O: Send + 'static> Logic<I, O> for MapLogic<I, O> {
    fn events(&mut self, _: SubscriptionTag, events: Vec<I>, fx: &mut Effects<O>) {
        (self.chain)(events, &mut fx.events);
    }

    fn done(&mut self, _: &mut Effects<O>) {}
}

/// A reducing stage's output run through per-event operations added after the reduce.
pub(crate) struct PostMap<I, T, O> {
    inner: Box<dyn Logic<I, T>>,
    chain: Chain<T, O>,
    scratch: Effects<T>,
}

impl<I: Send + 'static, T: Send + 'static, O: Send + 'static> PostMap<I, T, O> {
    pub(crate) fn factory(inner: LogicFactory<I, T>, chain: Chain<T, O>) -> LogicFactory<I, O> {
        Arc::new(move |partition| {
            Box::new(PostMap {
                inner: inner(partition),
                chain: Arc::clone(&chain),
                scratch: Effects::new(),
            })
        })
    }

    fn drain(&mut self, fx: &mut Effects<O>) {
        let events = std::mem::take(&mut self.scratch.events);
        if !events.is_empty() {
            (self.chain)(events, &mut fx.events);
        }
        fx.timers.append(&mut self.scratch.timers);
    }
}

impl<I: Send + 'static, T: Send + 'static, O: Send + 'static> Logic<I, O> for PostMap<I, T, O> {
    fn start(&mut self, fx: &mut Effects<O>) {
        self.inner.start(&mut self.scratch);
        self.drain(fx);
    }

    fn producer_added(&mut self, tag: SubscriptionTag) {
        self.inner.producer_added(tag);
    }

    fn events(&mut self, tag: SubscriptionTag, events: Vec<I>, fx: &mut Effects<O>) {
        self.inner.events(tag, events, &mut self.scratch);
        self.drain(fx);
    }

    fn producer_done(&mut self, tag: SubscriptionTag) {
        self.inner.producer_done(tag);
    }

    fn tick(&mut self, tick: Tick, fx: &mut Effects<O>) {
        self.inner.tick(tick, &mut self.scratch);
        self.drain(fx);
    }

    fn done(&mut self, fx: &mut Effects<O>) {
        self.inner.done(&mut self.scratch);
        self.drain(fx);
    }
}
