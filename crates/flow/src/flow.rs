//! `Flow`: the plan. Sources, per-event operations and partitions add up to a value;
//! nothing runs until a sink ([`Flow::collect`], [`Flow::run`], ...) starts it.

use std::fmt;
use std::sync::Arc;

use arbor_stage::{from_iter, from_stream, OnCancel, SubscribeTo};
use futures_core::Stream;

use crate::logic::{append, Chain, LogicFactory, MapLogic, PostMap};
use crate::materialize::{empty_upstream, Demand, Layer, Upstream};
use crate::partition::{default_stages, Routing};
use crate::{InvalidFlow, PartitionOptions, Window};

/// Turns a layer with no work of its own into its upstream: exists only when the layer's
/// input and output types are the same.
type Skip<I, T> = fn(Upstream<I>) -> Upstream<T>;

/// What a layer's stages compute so far.
pub(crate) enum Body<I, T> {
    /// Per-event operations only; `skip` while there are none.
    Map {
        chain: Chain<I, T>,
        skip: Option<Skip<I, T>>,
    },
    /// A reduction (with whatever follows it in the layer).
    Logic(LogicFactory<I, T>),
}

/// The options of the layer being built.
pub(crate) struct LayerOptions<I> {
    pub(crate) stages: usize,
    pub(crate) routing: Routing<I>,
    pub(crate) demand: Demand,
    pub(crate) window: Window<I>,
}

/// A computation over events, run by supervised arbor stages (Elixir's `Flow`).
///
/// A flow is a plan until a sink runs it. Its events of type `T` come out of its current
/// *layer*: a set of stages that read events of type `I` (the type that entered the
/// layer at its [`partition`](Flow::partition)) and apply the layer's operations.
///
/// ```text
///  from_iter ─▶ [source] ─▶ map/filter ─▶ partition(key) ─▶ [stage 0] reduce ─▶ collect
///                                                      └─▶ [stage 1] reduce ─┘
/// ```
///
/// # Examples
///
/// ```
/// use arbor_flow::{Events, Flow, PartitionOptions};
///
/// # fn main() -> Result<(), arbor_flow::FlowError> {
/// let text = ["the cat", "the dog", "a cat"];
/// let mut counts = Flow::from_iter(text)
///     .flat_map(|line: &str| line.split(' ').map(str::to_owned).collect::<Vec<_>>())
///     .partition(PartitionOptions::new().stages(2))
///     .reduce(std::collections::HashMap::new, |mut counts, word: String| {
///         *counts.entry(word).or_insert(0) += 1;
///         counts
///     })
///     .emit(Events)
///     .collect_blocking()?;
/// counts.sort();
/// assert_eq!(counts, vec![("a".into(), 1), ("cat".into(), 2), ("dog".into(), 1), ("the".into(), 2)]);
/// # Ok(())
/// # }
/// ```
pub struct Flow<T, I = T> {
    pub(crate) upstream: Upstream<I>,
    pub(crate) options: LayerOptions<I>,
    pub(crate) body: Body<I, T>,
    pub(crate) invalid: Option<InvalidFlow>,
}

impl<T, I> fmt::Debug for Flow<T, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body = match &self.body {
            Body::Map { skip: Some(_), .. } => "none",
            Body::Map { .. } => "map",
            Body::Logic(_) => "reduce",
        };
        f.debug_struct("Flow")
            .field("stages", &self.options.stages)
            .field("body", &body)
            .field("invalid", &self.invalid)
            .finish_non_exhaustive()
    }
}

fn identity<T: 'static>() -> Chain<T, T> {
    Arc::new(|batch, out| append(out, batch))
}

impl<T: Send + 'static> Flow<T, T> {
    /// A layer reading `upstream` with `options`, with no operations yet.
    pub(crate) fn layer(
        upstream: Upstream<T>,
        options: LayerOptions<T>,
        skippable: bool,
        invalid: Option<InvalidFlow>,
    ) -> Self {
        Flow {
            upstream,
            options,
            body: Body::Map {
                chain: identity(),
                skip: skippable.then_some((|upstream| upstream) as Skip<T, T>),
            },
            invalid,
        }
    }

    fn source(upstream: Upstream<T>, skippable: bool, invalid: Option<InvalidFlow>) -> Self {
        let options = LayerOptions {
            stages: default_stages(),
            routing: Routing::Any,
            demand: Demand::default(),
            window: Window::global(),
        };
        Self::layer(upstream, options, skippable, invalid)
    }

    /// A flow over the items of `items`, read by one producer as the flow asks for them
    /// (Flow's `from_enumerable`). Operations before the first `partition` run in one
    /// stage per core, fed by that producer.
    // Flow's and arbor-stage's name; `FromIterator` cannot ask for a `Send + 'static`
    // iterator read lazily by a stage.
    #[allow(clippy::should_implement_trait)]
    pub fn from_iter<It>(items: It) -> Self
    where
        It: IntoIterator<Item = T>,
        It::IntoIter: Send + 'static,
    {
        Self::from_iters([items])
    }

    /// A flow over several iterators, one producer each (Flow's `from_enumerables`).
    pub fn from_iters<It>(sources: impl IntoIterator<Item = It>) -> Self
    where
        It: IntoIterator<Item = T>,
        It::IntoIter: Send + 'static,
    {
        let sources: Vec<It::IntoIter> = sources.into_iter().map(IntoIterator::into_iter).collect();
        let invalid = sources.is_empty().then_some(InvalidFlow::NoSources);
        let upstream: Upstream<T> = Box::new(move |build, dispatch| {
            Box::pin(async move {
                let mut producers = Vec::with_capacity(sources.len());
                for items in sources {
                    let source = from_iter(items).on_cancel(OnCancel::Stop);
                    producers.push(build.start_source(source, &dispatch).await?);
                }
                Ok(producers)
            })
        });
        Self::source(upstream, true, invalid)
    }

    /// A flow over an async [`Stream`], read by one producer as the flow asks.
    pub fn from_stream<St>(stream: St) -> Self
    where
        St: Stream<Item = T> + Send + Unpin + 'static,
    {
        let upstream: Upstream<T> = Box::new(move |build, dispatch| {
            Box::pin(async move {
                let source = from_stream(stream).on_cancel(OnCancel::Stop);
                Ok(vec![build.start_source(source, &dispatch).await?])
            })
        });
        Self::source(upstream, true, None)
    }

    /// A flow over producers that already run (Flow's `from_stages`): by handle
    /// ([`SubscribeTo::stage`]) or by registry name ([`SubscribeTo::via`]). The flow's
    /// first stages subscribe to each of them and end when all of them have ended; the
    /// producers are not stopped by the flow.
    pub fn from_stages(producers: impl IntoIterator<Item = SubscribeTo<T>>) -> Self {
        let producers: Vec<SubscribeTo<T>> = producers.into_iter().collect();
        let invalid = producers.is_empty().then_some(InvalidFlow::NoSources);
        let upstream: Upstream<T> = Box::new(move |_, _| Box::pin(async move { Ok(producers) }));
        // The producers keep their own dispatcher: a layer of ours must route.
        Self::source(upstream, false, invalid)
    }
}

impl<T: Send + 'static, I: Send + 'static> Flow<T, I> {
    /// Adds a per-event operation to the layer (after its reduction, if it has one), given
    /// as the loop that runs it over a batch.
    fn then<U: Send + 'static>(
        self,
        op: impl Fn(Vec<T>, &mut Vec<U>) + Send + Sync + 'static,
    ) -> Flow<U, I> {
        let body = match self.body {
            Body::Map { chain, .. } => Body::Map {
                chain: Arc::new(move |batch, out| {
                    let mut mid = Vec::new();
                    chain(batch, &mut mid);
                    op(mid, out);
                }),
                skip: None,
            },
            Body::Logic(logic) => Body::Logic(PostMap::factory(logic, Arc::new(op))),
        };
        Flow {
            upstream: self.upstream,
            options: self.options,
            body,
            invalid: self.invalid,
        }
    }

    /// Maps each event.
    pub fn map<U: Send + 'static>(self, f: impl Fn(T) -> U + Send + Sync + 'static) -> Flow<U, I> {
        // In place when `U` fits where `T` was: `collect` reuses the batch's allocation.
        self.then(move |batch, out| append(out, batch.into_iter().map(&f).collect()))
    }

    /// Keeps the events `keep` accepts.
    pub fn filter(self, keep: impl Fn(&T) -> bool + Send + Sync + 'static) -> Flow<T, I> {
        self.then(move |mut batch, out| {
            batch.retain(|event| keep(event));
            append(out, batch);
        })
    }

    /// Drops the events `drop` accepts.
    pub fn reject(self, drop: impl Fn(&T) -> bool + Send + Sync + 'static) -> Flow<T, I> {
        self.filter(move |event| !drop(event))
    }

    /// Maps each event to any number of events.
    pub fn flat_map<U, It>(self, f: impl Fn(T) -> It + Send + Sync + 'static) -> Flow<U, I>
    where
        U: Send + 'static,
        It: IntoIterator<Item = U>,
    {
        self.then(move |batch, out| {
            for event in batch {
                out.extend(f(event));
            }
        })
    }

    /// Calls `f` with each event and passes the event on.
    pub fn each(self, f: impl Fn(&T) + Send + Sync + 'static) -> Flow<T, I> {
        self.then(move |batch, out| {
            batch.iter().for_each(&f);
            append(out, batch);
        })
    }

    /// How many stages run this layer (the stages since the last `partition`, or the
    /// ones after the sources). Default: what its `partition` said, or the number of
    /// cores after the sources.
    pub fn stages(mut self, stages: usize) -> Self {
        self.options.stages = stages;
        self
    }

    /// This layer's stages ask each of their producers for at most `max_demand` events
    /// (and again at half of it, unless [`min_demand`](Flow::min_demand) says). Lower it
    /// for coarse events (chunks of a file), so that every stage gets its share.
    pub fn max_demand(mut self, max_demand: usize) -> Self {
        self.options.demand.max = Some(max_demand);
        self
    }

    /// This layer's window (see [`Window`]): for a reduction right after the sources
    /// (`from_stages` producers, several `from_iters`), whose stages then see each
    /// source as a producer of their own. Default: what its `partition` said, or global.
    pub fn window(mut self, window: Window<I>) -> Self {
        self.options.window = window;
        self
    }

    /// When this layer's stages ask again (see [`max_demand`](Flow::max_demand)).
    pub fn min_demand(mut self, min_demand: usize) -> Self {
        self.options.demand.min = Some(min_demand);
        self
    }

    /// Ends this layer and routes its events to a new one (Flow's `partition`): its
    /// stages, routing, demand and window come from `options`.
    pub fn partition(self, options: PartitionOptions<T>) -> Flow<T, T> {
        let stages = options.stages.unwrap_or_else(default_stages);
        self.into_layer(LayerOptions {
            stages,
            routing: options.routing,
            demand: options.demand,
            window: options.window,
        })
    }

    /// As [`partition`](Flow::partition) with no routing: any stage takes any event
    /// (Flow's `shuffle`); the routing of `options` is not consulted.
    pub fn shuffle(self, options: PartitionOptions<T>) -> Flow<T, T> {
        let stages = options.stages.unwrap_or_else(default_stages);
        self.into_layer(LayerOptions {
            stages,
            routing: Routing::Any,
            demand: options.demand,
            window: options.window,
        })
    }

    fn into_layer(self, options: LayerOptions<T>) -> Flow<T, T> {
        let invalid = self.invalid.clone();
        match self.close() {
            Ok(upstream) => Flow::layer(upstream, options, true, invalid),
            Err(error) => Flow::layer(empty_upstream(), options, true, Some(error)),
        }
    }

    /// Closes the layer: what the next layer (or a sink) reads from.
    pub(crate) fn close(self) -> Result<Upstream<T>, InvalidFlow> {
        if let Some(invalid) = self.invalid {
            return Err(invalid);
        }
        let options = self.options;
        if options.stages == 0 {
            return Err(InvalidFlow::ZeroStages);
        }
        options.demand.validate()?;
        options.window.validate()?;
        let logic = match self.body {
            Body::Map { chain, skip } => {
                if !options.window.is_plain() {
                    return Err(InvalidFlow::WindowWithoutReduce);
                }
                match skip {
                    Some(skip) => return Ok(skip(self.upstream)),
                    None => MapLogic::factory(chain),
                }
            }
            Body::Logic(logic) => logic,
        };
        Ok(Layer {
            upstream: self.upstream,
            stages: options.stages,
            routing: options.routing,
            demand: options.demand,
            logic,
        }
        .into_upstream())
    }
}
