//! Reductions: `reduce` and what is built on it (`group_by`, `uniq_by`, `take_sort`,
//! `departition`), and how a reducer's accumulator becomes events (`emit`,
//! `on_trigger`).

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

use arbor_stage::{NoEvents, SubscriptionTag};

use crate::flow::{Body, LayerOptions};
use crate::logic::{AccFactory, Chain, Effects, Logic, LogicFactory, Place, WindowAcc};
use crate::materialize::{empty_upstream, Demand, Upstream};
use crate::partition::Routing;
use crate::{Flow, InvalidFlow, PartitionInfo, Trigger, Window, WindowId, WindowInfo};

type Init<A> = Arc<dyn Fn() -> A + Send + Sync>;
/// Folds a batch into the accumulator, appending what it emits on the way to the `Vec`:
/// the user's step inlined in the loop, called through a pointer once per batch.
type Step<A, M, O> = Arc<dyn Fn(A, Vec<M>, &mut Vec<O>) -> A + Send + Sync>;
/// A plain reducer's step over a batch (what [`Reducer`] keeps until its emit is chosen).
type Fold<A, T> = Arc<dyn Fn(A, Vec<T>) -> A + Send + Sync>;
type OnTrigger<A, O> = Arc<dyn Fn(A, &PartitionInfo, &WindowInfo) -> (Vec<O>, A) + Send + Sync>;

/// One window's accumulator: the layer's chain, then the reducer.
struct ReduceAcc<I, M, A, O> {
    chain: Chain<I, M>,
    acc: Option<A>,
    step: Step<A, M, O>,
    on_trigger: OnTrigger<A, O>,
}

impl<I, M, A: Send, O> WindowAcc<I, O> for ReduceAcc<I, M, A, O> {
    fn feed(&mut self, events: Vec<I>, _: &Place, out: &mut Vec<O>) {
        let Some(acc) = self.acc.take() else {
            return;
        };
        let mut reduced = Vec::new();
        (self.chain)(events, &mut reduced);
        self.acc = Some((self.step)(acc, reduced, out));
    }

    fn fire(&mut self, trigger: Trigger, at: &Place, out: &mut Vec<O>) {
        if let Some(acc) = self.acc.take() {
            let (events, acc) = (self.on_trigger)(acc, &at.partition, &at.info(trigger));
            out.extend(events);
            self.acc = Some(acc);
        }
    }
}

/// A partition's reduction waiting to be told what to emit: made by
/// [`Flow::reduce`], [`Flow::group_by`] and [`Flow::group_by_key`]; finished by
/// [`emit`](Reducer::emit), [`on_trigger`](Reducer::on_trigger) or
/// [`departition`](Reducer::departition).
///
/// `A` is the accumulator, `T` the events reduced (after the layer's per-event
/// operations), `I` the events entering the layer.
pub struct Reducer<A, T, I = T> {
    flow: Parts<I>,
    chain: Chain<I, T>,
    init: Init<A>,
    fold: Fold<A, T>,
}

/// A flow's parts apart from its body.
struct Parts<I> {
    upstream: Upstream<I>,
    options: LayerOptions<I>,
    invalid: Option<InvalidFlow>,
}

impl<A, T, I> fmt::Debug for Reducer<A, T, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reducer")
            .field("stages", &self.flow.options.stages)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static, I: Send + 'static> Flow<T, I> {
    /// Splits the flow into its parts and its per-event chain; a layer that already
    /// reduces cannot reduce again.
    fn parts(self) -> (Parts<I>, Chain<I, T>) {
        let mut invalid = self.invalid;
        let chain = match self.body {
            Body::Map { chain, .. } => chain,
            Body::Logic(_) => {
                invalid.get_or_insert(InvalidFlow::SecondReduce);
                Arc::new(|_: Vec<I>, _: &mut Vec<T>| {})
            }
        };
        let parts = Parts {
            upstream: self.upstream,
            options: self.options,
            invalid,
        };
        (parts, chain)
    }

    /// Reduces each window of each partition stage from `init()` with `step` (Flow's
    /// `reduce`); what it emits is chosen next, with [`Reducer::emit`] or
    /// [`Reducer::on_trigger`].
    pub fn reduce<A: Send + 'static>(
        self,
        init: impl Fn() -> A + Send + Sync + 'static,
        step: impl Fn(A, T) -> A + Send + Sync + 'static,
    ) -> Reducer<A, T, I> {
        let (flow, chain) = self.parts();
        Reducer {
            flow,
            chain,
            init: Arc::new(init),
            fold: Arc::new(move |acc, batch: Vec<T>| batch.into_iter().fold(acc, &step)),
        }
    }

    /// Groups events by `key`, keeping `value(event)` in arrival order (Flow's
    /// `group_by`).
    pub fn group_by<K, V>(
        self,
        key: impl Fn(&T) -> K + Send + Sync + 'static,
        value: impl Fn(T) -> V + Send + Sync + 'static,
    ) -> Reducer<HashMap<K, Vec<V>>, T, I>
    where
        K: Hash + Eq + Send + 'static,
        V: Send + 'static,
    {
        self.reduce(
            HashMap::new,
            move |mut groups: HashMap<K, Vec<V>>, event| {
                groups.entry(key(&event)).or_default().push(value(event));
                groups
            },
        )
    }

    /// Reduces each window while emitting events as it goes (Flow's `emit_and_reduce`):
    /// `step` returns the events to emit now and the new accumulator; `on_trigger` says
    /// what to emit at each trigger.
    pub fn emit_and_reduce<A, O>(
        self,
        init: impl Fn() -> A + Send + Sync + 'static,
        step: impl Fn(A, T) -> (Vec<O>, A) + Send + Sync + 'static,
        on_trigger: impl Fn(A, &PartitionInfo, &WindowInfo) -> (Vec<O>, A) + Send + Sync + 'static,
    ) -> Flow<O, I>
    where
        A: Send + 'static,
        O: Send + 'static,
    {
        let (flow, chain) = self.parts();
        let step: Step<A, T, O> = Arc::new(move |acc, batch: Vec<T>, out: &mut Vec<O>| {
            batch.into_iter().fold(acc, |acc, event| {
                let (events, acc) = step(acc, event);
                out.extend(events);
                acc
            })
        });
        reducing(flow, chain, Arc::new(init), step, Arc::new(on_trigger))
    }

    /// Keeps the first event of each key per partition stage and window (Flow's
    /// `uniq_by`), emitted at each trigger.
    pub fn uniq_by<K>(self, key: impl Fn(&T) -> K + Send + Sync + 'static) -> Flow<T, I>
    where
        K: Hash + Eq + Send + 'static,
        T: Clone,
    {
        self.reduce(
            || (HashSet::new(), Vec::new()),
            move |(mut seen, mut kept): (HashSet<K>, Vec<T>), event| {
                if seen.insert(key(&event)) {
                    kept.push(event);
                }
                (seen, kept)
            },
        )
        .on_trigger(|(seen, kept), _, window| {
            if window.trigger == Trigger::Done {
                (kept, (seen, Vec::new()))
            } else {
                (kept.clone(), (seen, kept))
            }
        })
    }

    /// The `n` first events in `compare` order, as one sorted `Vec` emitted by a single
    /// stage once the flow ends (Flow's `take_sort`). Each partition stage keeps its own
    /// best `n`; one stage merges them.
    pub fn take_sort(
        self,
        n: usize,
        compare: impl Fn(&T, &T) -> Ordering + Send + Sync + 'static,
    ) -> Flow<Vec<T>, PartitionState<Vec<T>>>
    where
        T: Clone,
    {
        let compare = Arc::new(compare);
        let keep = Arc::clone(&compare);
        let merge = Arc::clone(&compare);
        self.reduce(Vec::new, move |mut best: Vec<T>, event| {
            best.push(event);
            // Sorting only when the buffer doubles keeps the cost amortised.
            if best.len() >= n.saturating_mul(2).max(64) {
                best.sort_by(|a, b| keep(a, b));
                best.truncate(n);
            }
            best
        })
        .departition(
            Vec::new,
            move |mut part: Vec<T>, mut all: Vec<T>| {
                all.append(&mut part);
                all
            },
            move |mut all: Vec<T>| {
                all.sort_by(|a, b| merge(a, b));
                all.truncate(n);
                all
            },
        )
    }
}

impl<K, V, I> Flow<(K, V), I>
where
    K: Hash + Eq + Send + 'static,
    V: Send + 'static,
    I: Send + 'static,
{
    /// Groups `(key, value)` events by key (Flow's `group_by_key`).
    pub fn group_by_key(self) -> Reducer<HashMap<K, Vec<V>>, (K, V), I> {
        self.reduce(HashMap::new, |mut groups: HashMap<K, Vec<V>>, (k, v)| {
            groups.entry(k).or_default().push(v);
            groups
        })
    }
}

/// Builds the reducing flow: each partition stage runs the layer's window over
/// accumulators of `chain` then `step`.
fn reducing<A, T, I, O>(
    flow: Parts<I>,
    chain: Chain<I, T>,
    init: Init<A>,
    step: Step<A, T, O>,
    on_trigger: OnTrigger<A, O>,
) -> Flow<O, I>
where
    A: Send + 'static,
    T: Send + 'static,
    I: Send + 'static,
    O: Send + 'static,
{
    let acc: AccFactory<I, O> = Arc::new(move || {
        Box::new(ReduceAcc {
            chain: Arc::clone(&chain),
            acc: Some(init()),
            step: Arc::clone(&step),
            on_trigger: Arc::clone(&on_trigger),
        })
    });
    let window = flow.options.window.clone();
    let logic: LogicFactory<I, O> =
        Arc::new(move |partition| window.logic(Arc::clone(&acc), partition));
    Flow {
        upstream: flow.upstream,
        options: flow.options,
        body: Body::Logic(logic),
        invalid: flow.invalid,
    }
}

/// What a reducer emits at each trigger, for [`Reducer::emit`]: [`Events`], [`State`] or
/// [`Nothing`] (Flow's `emit/2`).
pub trait Emit<A>: Send + Sync + 'static {
    /// The emitted events' type.
    type Out: Send + 'static;

    /// The events for `acc` at `trigger`; `fresh` makes an empty accumulator, for a
    /// `Done` that no longer needs `acc`.
    fn emit(&self, acc: A, trigger: &Trigger, fresh: &dyn Fn() -> A) -> (Vec<Self::Out>, A);
}

/// Emit the accumulator's items (a map's `(key, value)` pairs, a list's elements).
#[derive(Debug, Clone, Copy, Default)]
pub struct Events;

/// Emit the accumulator itself, as one event.
#[derive(Debug, Clone, Copy, Default)]
pub struct State;

/// Emit nothing (a flow run for its side effects).
#[derive(Debug, Clone, Copy, Default)]
pub struct Nothing;

impl<A> Emit<A> for Events
where
    A: IntoIterator + Clone + Send + 'static,
    A::Item: Send + 'static,
{
    type Out = A::Item;

    fn emit(&self, acc: A, trigger: &Trigger, fresh: &dyn Fn() -> A) -> (Vec<A::Item>, A) {
        if *trigger == Trigger::Done {
            (acc.into_iter().collect(), fresh())
        } else {
            (acc.clone().into_iter().collect(), acc)
        }
    }
}

impl<A: Clone + Send + 'static> Emit<A> for State {
    type Out = A;

    fn emit(&self, acc: A, trigger: &Trigger, fresh: &dyn Fn() -> A) -> (Vec<A>, A) {
        if *trigger == Trigger::Done {
            (vec![acc], fresh())
        } else {
            (vec![acc.clone()], acc)
        }
    }
}

impl<A: Send + 'static> Emit<A> for Nothing {
    type Out = NoEvents;

    fn emit(&self, acc: A, _: &Trigger, _: &dyn Fn() -> A) -> (Vec<NoEvents>, A) {
        (Vec::new(), acc)
    }
}

impl<A: Send + 'static, T: Send + 'static, I: Send + 'static> Reducer<A, T, I> {
    /// Emits the accumulator as `mode` says at every trigger, the window's `Done`
    /// included.
    pub fn emit<E: Emit<A>>(self, mode: E) -> Flow<E::Out, I> {
        let fresh = Arc::clone(&self.init);
        self.on_trigger(move |acc, _, window| mode.emit(acc, &window.trigger, &*fresh))
    }

    /// At every trigger, `f` gets the accumulator, the stage and the window with the
    /// trigger that fired, and returns the events to emit and the accumulator to keep
    /// (Flow's `on_trigger`). At a window's `Done` the returned accumulator is dropped:
    /// the next window starts from `init()`.
    pub fn on_trigger<O: Send + 'static>(
        self,
        f: impl Fn(A, &PartitionInfo, &WindowInfo) -> (Vec<O>, A) + Send + Sync + 'static,
    ) -> Flow<O, I> {
        let fold = self.fold;
        let step: Step<A, T, O> = Arc::new(move |acc, batch, _: &mut Vec<O>| fold(acc, batch));
        reducing(self.flow, self.chain, self.init, step, Arc::new(f))
    }

    /// Merges the partition stages' accumulators into one stage (Flow's
    /// `departition`): per window, `merge` folds each stage's state into `init()`, and
    /// once every stage has sent its `Done` for that window, `done` turns the merged
    /// value into the event emitted.
    pub fn departition<D, O>(
        self,
        init: impl Fn() -> D + Send + Sync + 'static,
        merge: impl Fn(A, D) -> D + Send + Sync + 'static,
        done: impl Fn(D) -> O + Send + Sync + 'static,
    ) -> Flow<O, PartitionState<A>>
    where
        A: Clone,
        D: Send + 'static,
        O: Send + 'static,
    {
        let fresh = Arc::clone(&self.init);
        let states = self.on_trigger(move |acc, partition, window| {
            let last = window.trigger == Trigger::Done;
            let (state, keep) = if last {
                (acc, fresh())
            } else {
                (acc.clone(), acc)
            };
            let event = PartitionState {
                state,
                partition: partition.index,
                stages: partition.stages,
                window: window.window,
                done: last,
            };
            (vec![event], keep)
        });
        let upstream = states.close();
        let (upstream, invalid) = match upstream {
            Ok(upstream) => (upstream, None),
            Err(error) => (empty_upstream(), Some(error)),
        };
        let logic = departition_logic(Arc::new(init), Arc::new(merge), Arc::new(done));
        Flow {
            upstream,
            options: LayerOptions {
                stages: 1,
                routing: Routing::Any,
                demand: Demand::default(),
                window: Window::global(),
            },
            body: Body::Logic(logic),
            invalid,
        }
    }
}

/// One partition stage's accumulator at a trigger, on its way to the stage that
/// [departitions](Reducer::departition) them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionState<A> {
    /// The accumulator.
    pub state: A,
    /// The stage it comes from.
    pub partition: usize,
    /// How many stages the partition has.
    pub stages: usize,
    /// Its window.
    pub window: WindowId,
    /// Whether this was the window's `Done` (the stage's last state for it).
    pub done: bool,
}

type Merge<A, D> = Arc<dyn Fn(A, D) -> D + Send + Sync>;
type Done<D, O> = Arc<dyn Fn(D) -> O + Send + Sync>;

struct Departition<A, D, O> {
    init: Init<D>,
    merge: Merge<A, D>,
    finish: Done<D, O>,
    /// Per window: the stages whose `Done` is still due, and the merged value.
    windows: BTreeMap<WindowId, (HashSet<usize>, Option<D>)>,
}

fn departition_logic<A, D, O>(
    init: Init<D>,
    merge: Merge<A, D>,
    finish: Done<D, O>,
) -> LogicFactory<PartitionState<A>, O>
where
    A: Send + 'static,
    D: Send + 'static,
    O: Send + 'static,
{
    Arc::new(move |_| {
        Box::new(Departition {
            init: Arc::clone(&init),
            merge: Arc::clone(&merge),
            finish: Arc::clone(&finish),
            windows: BTreeMap::new(),
        })
    })
}

impl<A: Send + 'static, D: Send + 'static, O: Send + 'static> Logic<PartitionState<A>, O>
    for Departition<A, D, O>
{
    fn events(&mut self, _: SubscriptionTag, events: Vec<PartitionState<A>>, fx: &mut Effects<O>) {
        for event in events {
            let init = &self.init;
            let (due, merged) = self
                .windows
                .entry(event.window)
                .or_insert_with(|| ((0..event.stages).collect(), Some(init())));
            if let Some(d) = merged.take() {
                *merged = Some((self.merge)(event.state, d));
            }
            if event.done {
                due.remove(&event.partition);
            }
            if due.is_empty() {
                if let Some((_, Some(d))) = self.windows.remove(&event.window) {
                    fx.events.push((self.finish)(d));
                }
            }
        }
    }

    fn done(&mut self, fx: &mut Effects<O>) {
        for (_, (_, merged)) in std::mem::take(&mut self.windows) {
            if let Some(d) = merged {
                fx.events.push((self.finish)(d));
            }
        }
    }
}
