//! Telemetry and introspection of one server: the metrics its lifecycle emits, the
//! tracing span its callbacks run in, and the statistics a tree snapshot reads.
//!
//! # Metrics
//!
//! Emitted through the [`metrics`] facade: a no-op until the application installs a
//! recorder (a Prometheus exporter, say). Every name starts with `arbor_`; the `server`
//! label is the server's name, or its behaviour's type name when it has none.
//!
//! | metric | kind | labels | when |
//! |---|---|---|---|
//! | `arbor_server_started_total` | counter | `server` | `init` returned `Ready` |
//! | `arbor_server_stopped_total` | counter | `server`, `reason` | stopped with a normal exit (`normal`, `shutdown`) |
//! | `arbor_server_crashed_total` | counter | `server`, `reason` | stopped with an abnormal exit (`error`, `panic`, `killed`, `noproc`) |
//!
//! The supervisor, registry and stage crates document theirs in the same form; the full
//! table is in `docs/guide-operations.md`.
//!
//! # Spans
//!
//! Each server opens one `server` span (at info level, field `name`, no parent) when it
//! starts, and every message callback runs inside it, so a log line written by a handler
//! names its server. With no subscriber installed the span is disabled and entering
//! it is one branch.
//!
//! # Statistics
//!
//! [`ProcessStats`] holds counters the server updates as it runs and anyone may read
//! without sending it a message (as OTP's `process_info` does), so a snapshot of a busy
//! or stuck server does not wait for it. The mailbox length is not among them: ractor
//! 0.16 keeps its mailbox's queue private, so [`ProcessStats::mailbox`] is `None`.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use metrics::{Key, Label, Level, Metadata};

use crate::Exit;

/// What one server reports about itself while it runs, read without a message.
///
/// Reached through [`Server::stats`](crate::Server::stats). A restarted child is a new
/// server, with fresh statistics.
///
/// # Examples
///
/// ```
/// use arbor_actor::{Context, GenServer, HandleCast, Init, Outcome, Server};
///
/// struct Counter;
/// impl GenServer for Counter {
///     type Args = ();
///     type State = u64;
///     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<u64> {
///         Init::Ready(0)
///     }
/// }
/// struct Bump;
/// impl HandleCast<Bump> for Counter {
///     async fn handle_cast(&self, _: Bump, n: &mut u64, _ctx: &mut Context<Self>) -> Outcome {
///         *n += 1;
///         Outcome::NoReply
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = Server::start(Counter, ()).await?;
/// server.cast(Bump)?;
/// server.cast(Bump)?;
/// server.stop(arbor_actor::Exit::Normal)?;
/// server.wait().await;
/// assert_eq!(server.stats().messages(), 3); // two casts and the stop request
/// assert_eq!(server.stats().mailbox(), None); // ractor does not expose it
/// # Ok(())
/// # }
/// ```
pub struct ProcessStats {
    label: ServerLabel,
    messages: AtomicU64,
    /// Set once the server's `init` has returned `Ready`: a server that never started
    /// reports no stop.
    started: AtomicBool,
    stage: OnceLock<Arc<StageStats>>,
    introspection: OnceLock<Box<dyn Any + Send + Sync>>,
    span: tracing::Span,
}

impl ProcessStats {
    pub(crate) fn new(name: Option<Arc<str>>, behaviour: &'static str) -> Self {
        let label = match name {
            Some(name) => ServerLabel::Named(name),
            None => ServerLabel::Typed(type_label(behaviour)),
        };
        ProcessStats {
            // A root span: a server started from another's callback is not part of it.
            span: tracing::info_span!(parent: None, "server", name = %label.as_str()),
            label,
            messages: AtomicU64::new(0),
            started: AtomicBool::new(false),
            stage: OnceLock::new(),
            introspection: OnceLock::new(),
        }
    }

    /// The label this server's metrics carry: its name, else its behaviour's type name
    /// without module paths (`Counter`, `StageServer<Numbers>`).
    pub fn label(&self) -> &str {
        self.label.as_str()
    }

    /// Messages handled so far: calls, casts, infos, stop requests, and a stage's
    /// protocol messages.
    pub fn messages(&self) -> u64 {
        self.messages.load(Ordering::Relaxed)
    }

    /// The number of messages waiting in the mailbox: always `None`, as ractor 0.16 does
    /// not expose its queue's length (kept so a snapshot's shape holds when it does).
    pub fn mailbox(&self) -> Option<u64> {
        None
    }

    /// The stage statistics, when this server hosts a stage.
    pub fn stage(&self) -> Option<&StageStats> {
        self.stage.get().map(|stage| &**stage)
    }

    /// Marks this server as hosting a stage of `kind` and returns its stage statistics
    /// (the first kind given wins). Called by the stage runtime when the stage starts.
    pub fn stage_of_kind(&self, kind: StageKind) -> Arc<StageStats> {
        Arc::clone(self.stage.get_or_init(|| Arc::new(StageStats::new(kind))))
    }

    /// Attaches an introspection hook that a higher layer defines and reads back with
    /// [`ProcessStats::introspection`] (the supervisor crate uses it to list the
    /// children of a process that supervises without being a `Supervisor`). The first
    /// hook set wins; `false` when one was set before.
    pub fn set_introspection(&self, hook: Box<dyn Any + Send + Sync>) -> bool {
        self.introspection.set(hook).is_ok()
    }

    /// The introspection hook, if one was set.
    pub fn introspection(&self) -> Option<&(dyn Any + Send + Sync)> {
        self.introspection.get().map(|hook| &**hook)
    }

    /// Counts one handled message.
    #[inline]
    pub(crate) fn handled(&self) {
        // Only the server's own task writes: a relaxed add on an uncontended line.
        self.messages.fetch_add(1, Ordering::Relaxed);
    }

    /// The span the server's callbacks run in.
    pub(crate) fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// Emits `arbor_server_started_total`.
    pub(crate) fn started(&self) {
        self.started.store(true, Ordering::Release);
        match &self.label {
            ServerLabel::Typed(typed) => increment_counter(&typed.started),
            ServerLabel::Named(name) => increment_counter(&started_key(name)),
        }
    }

    /// Emits `arbor_server_stopped_total` or `arbor_server_crashed_total` for a server
    /// that started.
    pub(crate) fn stopped(&self, exit: &Exit) {
        if !self.started.load(Ordering::Acquire) {
            return;
        }
        match &self.label {
            ServerLabel::Typed(typed) => increment_counter(
                typed.ended[exit_index(exit)].get_or_init(|| ended_key(&typed.label, exit)),
            ),
            ServerLabel::Named(name) => increment_counter(&ended_key(name, exit)),
        }
    }
}

impl std::fmt::Debug for ProcessStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessStats")
            .field("label", &self.label.as_str())
            .field("messages", &self.messages())
            .field("stage", &self.stage())
            .finish_non_exhaustive()
    }
}

/// The short, bounded label of an exit, for a metric: its variant, without its text.
pub fn exit_label(exit: &Exit) -> &'static str {
    EXIT_LABELS[exit_index(exit)]
}

/// The place of `exit`'s variant in [`EXIT_LABELS`] (and in a [`TypeLabel`]'s kept keys).
fn exit_index(exit: &Exit) -> usize {
    match exit {
        Exit::Normal => 0,
        Exit::Shutdown(_) => 1,
        Exit::Error(_) => 2,
        Exit::Panic(_) => 3,
        Exit::Killed => 4,
        Exit::NoProc => 5,
    }
}

/// What a server's metrics are labelled with: its name, or its behaviour's type.
enum ServerLabel {
    Named(Arc<str>),
    Typed(Arc<TypeLabel>),
}

impl ServerLabel {
    fn as_str(&self) -> &str {
        match self {
            ServerLabel::Named(name) => name,
            ServerLabel::Typed(typed) => &typed.label,
        }
    }
}

/// The label of unnamed servers of one behaviour, with the keys of their lifecycle
/// metrics: built once per behaviour, since a pipeline or a dynamic supervisor starts
/// many servers of one type, and each key built at an emit would allocate its labels.
/// The keys are registered with whichever recorder is installed at each emit, so a
/// recorder installed later still sees every server.
struct TypeLabel {
    label: Arc<str>,
    started: Key,
    /// The key of a stop with each reason, in [`EXIT_LABELS`]' order, built at its first
    /// use.
    ended: [OnceLock<Key>; EXIT_LABELS.len()],
}

/// Every [`exit_label`], in its order.
const EXIT_LABELS: [&str; 6] = ["normal", "shutdown", "error", "panic", "killed", "noproc"];

/// The key of `arbor_server_started_total` for `label`.
fn started_key(label: &Arc<str>) -> Key {
    Key::from_parts(
        "arbor_server_started_total",
        vec![Label::new("server", Arc::clone(label))],
    )
}

/// The key of a server's stop with `exit`: `arbor_server_stopped_total` for a normal
/// exit, `arbor_server_crashed_total` for the others, with the exit's label as `reason`.
fn ended_key(label: &Arc<str>, exit: &Exit) -> Key {
    let name = if exit.is_normal() {
        "arbor_server_stopped_total"
    } else {
        "arbor_server_crashed_total"
    };
    Key::from_parts(
        name,
        vec![
            Label::new("server", Arc::clone(label)),
            Label::new("reason", exit_label(exit)),
        ],
    )
}

/// Adds one to the counter `key` names, in the recorder installed now: the path of
/// `metrics::counter!`, for a key built once and emitted many times (building a key
/// with a label that is not a literal allocates). Registered at each call, so a
/// recorder installed after the key was built still counts.
///
/// # Examples
///
/// ```
/// use metrics::{Key, Label};
///
/// // Built once, with a label that is not a literal...
/// let pool = String::from("imports");
/// let key = Key::from_parts("jobs_started_total", vec![Label::new("pool", pool)]);
/// // ...and emitted at each job without building it again (a no-op with no recorder).
/// for _ in 0..3 {
///     arbor_actor::telemetry::increment_counter(&key);
/// }
/// ```
pub fn increment_counter(key: &Key) {
    static METADATA: Metadata<'static> =
        Metadata::new(module_path!(), Level::INFO, Some(module_path!()));
    metrics::with_recorder(|recorder| recorder.register_counter(key, &METADATA)).increment(1);
}

/// The label of an unnamed server of `behaviour`, built once per behaviour.
fn type_label(behaviour: &'static str) -> Arc<TypeLabel> {
    static LABELS: OnceLock<RwLock<HashMap<&'static str, Arc<TypeLabel>>>> = OnceLock::new();
    let labels = LABELS.get_or_init(RwLock::default);
    let known = labels
        .read()
        .ok()
        .and_then(|labels| labels.get(behaviour).cloned());
    known.unwrap_or_else(|| {
        let label: Arc<str> = Arc::from(short_type_name(behaviour));
        let typed = Arc::new(TypeLabel {
            started: started_key(&label),
            ended: Default::default(),
            label,
        });
        // A poisoned lock only costs the cache: the label is still right.
        if let Ok(mut labels) = labels.write() {
            labels.insert(behaviour, Arc::clone(&typed));
        }
        typed
    })
}

/// `a::b::Outer<c::Inner>` → `Outer<Inner>`: a type name without its module paths.
fn short_type_name(full: &str) -> String {
    let mut short = String::with_capacity(full.len());
    let mut segment = String::new();
    for ch in full.chars() {
        if ch.is_alphanumeric() || ch == '_' || ch == ':' {
            segment.push(ch);
        } else {
            short.push_str(segment.rsplit("::").next().unwrap_or(&segment));
            segment.clear();
            short.push(ch);
        }
    }
    short.push_str(segment.rsplit("::").next().unwrap_or(&segment));
    short
}

/// A stage's kind (gen_stage's `:producer`, `:producer_consumer`, `:consumer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum StageKind {
    /// Emits events when asked.
    Producer,
    /// Takes events from producers and emits events to consumers.
    ProducerConsumer,
    /// Takes events from producers.
    Consumer,
}

/// The live counters of a server that hosts a stage, written by the stage runtime
/// (per batch, never per event) and read by snapshots without a message.
///
/// Reached through [`ProcessStats::stage`].
///
/// # Examples
///
/// ```
/// use arbor_actor::{StageKind, StageSnapshot};
/// # use arbor_actor::{Context, GenServer, Init, Server};
/// # struct Idle;
/// # impl GenServer for Idle {
/// #     type Args = ();
/// #     type State = ();
/// #     async fn init(&self, _: (), _ctx: &mut Context<Self>) -> Init<()> { Init::Ready(()) }
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = Server::start(Idle, ()).await?;
/// let stage = server.stats().stage_of_kind(StageKind::Consumer);
/// stage.events_in(3);
/// assert_eq!(stage.snapshot(), StageSnapshot {
///     kind: StageKind::Consumer,
///     subscriptions: 0,
///     demand: 0,
///     buffered: 0,
///     events_in: 3,
///     events_out: 0,
/// });
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct StageStats {
    kind: StageKind,
    subscriptions: AtomicU64,
    demand: AtomicU64,
    buffered: AtomicU64,
    events_in: AtomicU64,
    events_out: AtomicU64,
}

impl StageStats {
    fn new(kind: StageKind) -> Self {
        StageStats {
            kind,
            subscriptions: AtomicU64::new(0),
            demand: AtomicU64::new(0),
            buffered: AtomicU64::new(0),
            events_in: AtomicU64::new(0),
            events_out: AtomicU64::new(0),
        }
    }

    /// Sets the number of live subscriptions, both sides counted.
    pub fn set_subscriptions(&self, count: usize) {
        self.subscriptions.store(count as u64, Ordering::Relaxed);
    }

    /// Counts `demand` more: asked of producers (a consumer or producer-consumer), or
    /// asked of this stage by its consumers (a producer).
    #[inline]
    pub fn add_demand(&self, demand: usize) {
        self.demand.fetch_add(demand as u64, Ordering::Relaxed);
    }

    /// Sets the number of events held in the producer side's buffer.
    pub fn set_buffered(&self, buffered: usize) {
        self.buffered.store(buffered as u64, Ordering::Relaxed);
    }

    /// Counts `count` events received from producers.
    #[inline]
    pub fn events_in(&self, count: usize) {
        self.events_in.fetch_add(count as u64, Ordering::Relaxed);
    }

    /// Counts `count` events sent to consumers.
    #[inline]
    pub fn events_out(&self, count: usize) {
        self.events_out.fetch_add(count as u64, Ordering::Relaxed);
    }

    /// The counters now.
    pub fn snapshot(&self) -> StageSnapshot {
        StageSnapshot {
            kind: self.kind,
            subscriptions: self.subscriptions.load(Ordering::Relaxed),
            demand: self.demand.load(Ordering::Relaxed),
            buffered: self.buffered.load(Ordering::Relaxed),
            events_in: self.events_in.load(Ordering::Relaxed),
            events_out: self.events_out.load(Ordering::Relaxed),
        }
    }
}

/// A stage's counters at one moment, as a tree snapshot shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct StageSnapshot {
    /// Producer, producer-consumer or consumer.
    pub kind: StageKind,
    /// Live subscriptions, upstream and downstream.
    pub subscriptions: u64,
    /// Demand asked since the stage started (see [`StageStats::add_demand`]); the demand
    /// still open is `demand - events_in` for a consumer, `demand - events_out` for a
    /// producer.
    pub demand: u64,
    /// Events in the producer side's buffer.
    pub buffered: u64,
    /// Events received since the stage started.
    pub events_in: u64,
    /// Events sent since the stage started.
    pub events_out: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exit_label_has_a_kept_key() {
        let exits = [
            Exit::Normal,
            Exit::shutdown(),
            Exit::Error("e".into()),
            Exit::Panic("p".into()),
            Exit::Killed,
            Exit::NoProc,
        ];
        let labels: Vec<&str> = exits.iter().map(exit_label).collect();
        assert_eq!(labels, EXIT_LABELS);
    }
}
