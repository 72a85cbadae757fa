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

use arbor_actor::telemetry::increment_counter;
use metrics::{Key, Label};

use crate::intensity::Intensity;

const STARTED: &str = "arbor_supervisor_child_started_total";
const RESTARTED: &str = "arbor_supervisor_child_restarted_total";

/// Emits `arbor_supervisor_child_started_total`.
pub(crate) fn child_started(supervisor: &Arc<str>, child: &str) {
    increment_counter(&child_key(STARTED, supervisor, child));
}

/// Emits `arbor_supervisor_child_restarted_total`.
pub(crate) fn child_restarted(supervisor: &Arc<str>, child: &str) {
    increment_counter(&child_key(RESTARTED, supervisor, child));
}

fn child_key(name: &'static str, supervisor: &Arc<str>, child: &str) -> Key {
    Key::from_parts(
        name,
        vec![
            Label::new("supervisor", Arc::clone(supervisor)),
            Label::new("child", child.to_owned()),
        ],
    )
}

/// A dynamic supervisor's child metrics, each with the key of its last emit kept for
/// the next: a dynamic supervisor's children mostly share their spec's id, and building
/// the key again would allocate its labels at every child.
#[derive(Default)]
pub(crate) struct ChildKeys {
    started: Option<Key>,
    restarted: Option<Key>,
}

impl ChildKeys {
    /// Emits `arbor_supervisor_child_started_total`.
    pub(crate) fn started(&mut self, supervisor: &Arc<str>, child: &str) {
        emit_kept(&mut self.started, STARTED, supervisor, child);
    }

    /// Emits `arbor_supervisor_child_restarted_total`.
    pub(crate) fn restarted(&mut self, supervisor: &Arc<str>, child: &str) {
        emit_kept(&mut self.restarted, RESTARTED, supervisor, child);
    }
}

/// Emits metric `name` for `child`, with the key in `kept` when it names that child
/// (the supervisor's label is the same for the whole incarnation).
fn emit_kept(kept: &mut Option<Key>, name: &'static str, supervisor: &Arc<str>, child: &str) {
    let names_child = |key: &Key| {
        key.labels()
            .any(|label| label.key() == "child" && label.value() == child)
    };
    let key = match kept {
        Some(key) if names_child(key) => key,
        _ => kept.insert(child_key(name, supervisor, child)),
    };
    increment_counter(key);
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
