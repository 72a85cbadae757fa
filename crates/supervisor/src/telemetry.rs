//! The metrics a supervisor emits, through the [`metrics`] facade (a no-op until a
//! recorder is installed). Each is emitted once per child lifecycle event, never per
//! message, so the labels are built per event; the supervisor's label is formatted once,
//! when it starts.
//!
//! | metric | kind | labels | when |
//! |---|---|---|---|
//! | `arbor_supervisor_child_started_total` | counter | `supervisor`, `child` | a child started (at boot or by `start_child`) |
//! | `arbor_supervisor_child_restarted_total` | counter | `supervisor`, `child` | a child restarted after an exit, or on request |
//! | `arbor_supervisor_gave_up_total` | counter | `supervisor`, `child`, `max_restarts`, `max_seconds` | the restart intensity tripped: the supervisor stops |
//!
//! `supervisor` is the supervisor's name (its actor id when it has none); `child` is the
//! child's id in its spec.

use std::sync::Arc;

use crate::intensity::Intensity;

/// Emits `arbor_supervisor_child_started_total`.
pub(crate) fn child_started(supervisor: &Arc<str>, child: &str) {
    metrics::counter!(
        "arbor_supervisor_child_started_total",
        "supervisor" => Arc::clone(supervisor),
        "child" => child.to_owned(),
    )
    .increment(1);
}

/// Emits `arbor_supervisor_child_restarted_total`.
pub(crate) fn child_restarted(supervisor: &Arc<str>, child: &str) {
    metrics::counter!(
        "arbor_supervisor_child_restarted_total",
        "supervisor" => Arc::clone(supervisor),
        "child" => child.to_owned(),
    )
    .increment(1);
}

/// Emits `arbor_supervisor_gave_up_total`, with the intensity that tripped.
pub(crate) fn gave_up(supervisor: &str, child: &str, intensity: &Intensity) {
    metrics::counter!(
        "arbor_supervisor_gave_up_total",
        "supervisor" => supervisor.to_owned(),
        "child" => child.to_owned(),
        "max_restarts" => intensity.max_restarts().to_string(),
        "max_seconds" => intensity.window().as_secs().to_string(),
    )
    .increment(1);
}
