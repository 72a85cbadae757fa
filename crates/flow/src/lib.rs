//! Data-parallel computations over events, run by supervised, back-pressured stages
//! (Elixir's Flow, on arbor-stage).
//!
//! A [`Flow`] is a plan: sources ([`Flow::from_iter`], [`Flow::from_stream`],
//! [`Flow::from_stages`]), per-event operations (`map`, `filter`, `flat_map`, ...),
//! partitions that route events by key to N stages ([`Flow::partition`]), and
//! reductions over windows ([`Flow::reduce`], [`Window`]). A sink
//! ([`Flow::collect`], [`Flow::run`], [`Flow::into_stream`]) starts it: every layer
//! becomes arbor stages under one supervisor, demand flows from the sink to the sources,
//! and the flow stops when its sources end.
//!
//! ```text
//!  [source] ──▶ [map 0] ─┐   partition(key)   ┌─▶ [reduce 0] ─┐
//!           └─▶ [map 1] ─┴────────────────────┴─▶ [reduce 1] ─┴─▶ collect
//! ```
//!
//! ```
//! use arbor_flow::{Events, Flow, PartitionOptions};
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), arbor_flow::FlowError> {
//! // Count the words, in parallel: each word goes to the stage its hash picks, so every
//! // stage holds the whole count of its words.
//! let lines = vec!["roses are red", "violets are blue"];
//! let mut counts = Flow::from_iter(lines)
//!     .flat_map(|line: &str| line.split_whitespace().map(String::from).collect::<Vec<_>>())
//!     .partition(PartitionOptions::new().stages(2))
//!     .reduce(std::collections::HashMap::new, |mut counts, word: String| {
//!         *counts.entry(word).or_insert(0u32) += 1;
//!         counts
//!     })
//!     .emit(Events)
//!     .collect()
//!     .await?;
//! counts.sort();
//! assert_eq!(counts[0], ("are".to_string(), 2));
//! # Ok(())
//! # }
//! ```
//!
//! # Usage guidelines
//!
//! - Reach for a flow when the work per event is real (parsing, computing) or the data
//!   does not fit in memory: every layer costs a message hop per batch. For a few
//!   thousand cheap events a plain iterator is faster.
//! - Operations before the first `partition` run in one stage per core, in whatever
//!   order events arrive: do the per-event work (parsing) there.
//! - `partition` before a `reduce` whose result depends on the key: events with equal
//!   keys must meet in the same stage. Reducing without one counts per stage, not in
//!   total.
//! - A stage runs each operation over the whole batch it received before the next
//!   operation sees it, with your function inlined in that loop: side effects in
//!   `each` run a batch ahead of the `map` after it (Flow runs every function on one
//!   event before the next; the results are the same).
//!
//! # Demand, worked through
//!
//! With `PartitionOptions::new().stages(2).max_demand(1000)`, each reducer asks each
//! producer for 1000 events and asks again after handling 500: a source is never more
//! than about 2 × 1000 events ahead of the reducers, whatever its size. That is what
//! keeps a flow over an infinite iterator in bounded memory.
//!
//! # Guarantees
//!
//! - Every event reaches exactly one stage of each layer (a hash returning `None`
//!   drops it, counted by the producer).
//! - A reduction's `Done` fires once per stage and window, after every source ended.
//! - A stage that fails (a panicking function, a hash out of range) fails the flow:
//!   the sink returns [`FlowError::Failed`] with the reason, and the flow's stages stop.
//!
//! `docs/guide-flow.md` is the guide; [`window`] explains windows and triggers.
#![doc(test(attr(deny(warnings))))]
#![deny(clippy::unwrap_used, clippy::expect_used)]

mod error;
mod flow;
mod logic;
mod materialize;
mod partition;
mod reduce;
mod running;
mod sink;
mod stage;
pub mod window;

pub use error::{FlowError, InvalidFlow};
pub use flow::Flow;
pub use partition::PartitionOptions;
pub use reduce::{Emit, Events, Nothing, PartitionState, Reducer, State};
pub use running::{child_spec, RunningFlow};
pub use sink::FlowStream;
pub use window::{PartitionInfo, Punctuate, Trigger, Window, WindowId, WindowInfo};
