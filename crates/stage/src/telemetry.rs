//! The metrics a stage emits, and the counters a tree snapshot reads from it.
//!
//! Handles are registered once, when the stage starts, labelled with the stage's label
//! (its name, else its server's type name), and kept in the stage's state: the hot paths
//! only increment them, once per batch, never per event. With no recorder installed
//! every handle is a no-op.
//!
//! | metric | kind | labels | when |
//! |---|---|---|---|
//! | `arbor_stage_subscribed_total` | counter | `stage` | a subscription began (either side) |
//! | `arbor_stage_cancelled_total` | counter | `stage` | a subscription ended (either side) |
//! | `arbor_stage_events_in_total` | counter | `stage` | events received from producers |
//! | `arbor_stage_events_out_total` | counter | `stage` | events sent to consumers |
//! | `arbor_stage_batch_size` | histogram | `stage` | the size of each batch received |
//! | `arbor_stage_demand_asked_total` | counter | `stage` | demand asked of producers |
//! | `arbor_stage_buffered` | gauge | `stage` | events in the producer side's buffer |
//! | `arbor_stage_discarded_total` | counter | `stage`, `cause` | events dropped: `buffer_overflow` (a full buffer), `dispatcher` (a dispatcher's rule) |
//! | `arbor_consumer_supervisor_child_started_total` | counter | `supervisor` | a ConsumerSupervisor started a child or task |
//! | `arbor_consumer_supervisor_child_exited_total` | counter | `supervisor` | a ConsumerSupervisor's child or task exited |
//! | `arbor_stage_lost_total` | counter | | events lost: their consumer stopped before handling them, or they arrived for a subscription already ended (process-wide, as [`lost_events`](crate::lost_events)) |
//!
//! The same figures, per stage and without a recorder, are in the process's
//! [`StageStats`]: a supervisor's [`tree`](arbor_supervisor::Supervisor::tree) shows
//! them. There, `demand` counts the demand asked upstream since the stage started (a
//! consumer or producer-consumer), or asked of it by its consumers (a producer); the
//! demand still open is `demand - events_in` (or `demand - events_out`).

use std::sync::Arc;

use arbor_actor::{GenServer, Server, StageKind, StageStats};
use metrics::{Counter, Gauge, Histogram};

use crate::runtime::Kind;

/// The handles of one stage incarnation, and its counters in its process record.
pub(crate) struct StageTelemetry {
    stats: Arc<StageStats>,
    kind: StageKind,
    subscriptions: usize,
    subscribed: Counter,
    cancelled: Counter,
    events_in: Counter,
    events_out: Counter,
    batch: Histogram,
    asked: Counter,
    buffered: Gauge,
    overflow: Counter,
    dispatcher_dropped: Counter,
}

impl StageTelemetry {
    /// Registers the stage's handles and marks its server as a stage of `kind`.
    pub(crate) fn new<G: GenServer>(server: &Server<G>, kind: StageKind) -> Self {
        let stats = server.stats();
        let label = stats.label().to_owned();
        let stage = || [("stage", label.clone())];
        let cause = |cause: &'static str| [("stage", label.clone()), ("cause", cause.to_owned())];
        StageTelemetry {
            stats: stats.stage_of_kind(kind),
            kind,
            subscriptions: 0,
            subscribed: metrics::counter!("arbor_stage_subscribed_total", &stage()),
            cancelled: metrics::counter!("arbor_stage_cancelled_total", &stage()),
            events_in: metrics::counter!("arbor_stage_events_in_total", &stage()),
            events_out: metrics::counter!("arbor_stage_events_out_total", &stage()),
            batch: metrics::histogram!("arbor_stage_batch_size", &stage()),
            asked: metrics::counter!("arbor_stage_demand_asked_total", &stage()),
            buffered: metrics::gauge!("arbor_stage_buffered", &stage()),
            overflow: metrics::counter!("arbor_stage_discarded_total", &cause("buffer_overflow")),
            dispatcher_dropped: metrics::counter!(
                "arbor_stage_discarded_total",
                &cause("dispatcher")
            ),
        }
    }

    /// A subscription began, on either side.
    pub(crate) fn subscribed(&mut self) {
        self.subscriptions += 1;
        self.stats.set_subscriptions(self.subscriptions);
        self.subscribed.increment(1);
    }

    /// A subscription ended, on either side.
    pub(crate) fn cancelled(&mut self) {
        self.subscriptions = self.subscriptions.saturating_sub(1);
        self.stats.set_subscriptions(self.subscriptions);
        self.cancelled.increment(1);
    }

    /// A batch of `count` events arrived from a producer.
    #[inline]
    pub(crate) fn events_in(&self, count: usize) {
        self.stats.events_in(count);
        self.events_in.increment(count as u64);
        self.batch.record(count as f64);
    }

    /// A batch of `count` events went to a consumer.
    #[inline]
    pub(crate) fn events_out(&self, count: usize) {
        self.stats.events_out(count);
        self.events_out.increment(count as u64);
    }

    /// This stage asked a producer for `demand` events.
    #[inline]
    pub(crate) fn asked(&self, demand: usize) {
        self.asked.increment(demand as u64);
        if self.kind != StageKind::Producer {
            self.stats.add_demand(demand);
        }
    }

    /// A consumer asked this stage for `demand` events (counted for a producer only: a
    /// producer-consumer reports the demand it asks upstream).
    #[inline]
    pub(crate) fn asked_of(&self, demand: usize) {
        if self.kind == StageKind::Producer {
            self.stats.add_demand(demand);
        }
    }

    /// The buffer now holds `buffered` events, after `discarded` were dropped from it.
    pub(crate) fn buffered(&self, buffered: usize, discarded: usize) {
        self.stats.set_buffered(buffered);
        self.buffered.set(buffered as f64);
        if discarded > 0 {
            self.overflow.increment(discarded as u64);
        }
    }

    /// A dispatcher's rule dropped `dropped` events.
    pub(crate) fn dispatcher_dropped(&self, dropped: usize) {
        self.dispatcher_dropped.increment(dropped as u64);
    }
}

/// `lost` events were lost (see [`lost_events`](crate::lost_events)); reached only
/// from the cold path that reports them.
pub(crate) fn lost(lost: usize) {
    metrics::counter!("arbor_stage_lost_total").increment(lost as u64);
}

/// The public kind of a runtime's kind.
pub(crate) fn stage_kind(kind: Kind) -> StageKind {
    match kind {
        Kind::Producer => StageKind::Producer,
        Kind::ProducerConsumer => StageKind::ProducerConsumer,
        Kind::Consumer => StageKind::Consumer,
    }
}

/// The handles of one ConsumerSupervisor incarnation: it starts a child per event, so
/// they are registered once rather than per child.
pub(crate) struct ConsumerSupervisorTelemetry {
    started: Counter,
    exited: Counter,
}

impl ConsumerSupervisorTelemetry {
    pub(crate) fn new(label: &str) -> Self {
        let supervisor = [("supervisor", label.to_owned())];
        ConsumerSupervisorTelemetry {
            started: metrics::counter!(
                "arbor_consumer_supervisor_child_started_total",
                &supervisor
            ),
            exited: metrics::counter!("arbor_consumer_supervisor_child_exited_total", &supervisor),
        }
    }

    pub(crate) fn started(&self) {
        self.started.increment(1);
    }

    pub(crate) fn exited(&self) {
        self.exited.increment(1);
    }
}
