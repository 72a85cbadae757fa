//! Helpers shared by the pure-core tests: short tag names and a log recorder.
#![allow(dead_code, unreachable_pub)]

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use arbor_stage::SubscriptionTag;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};

/// The subscription tag numbered `n`.
pub fn tag(n: u64) -> SubscriptionTag {
    SubscriptionTag::new(n)
}

/// One recorded log event: its level and its message followed by its fields.
#[derive(Debug, Clone)]
pub struct Log {
    pub level: Level,
    pub text: String,
}

/// Runs `f` with a subscriber recording every log event on this thread.
pub fn capture_logs<R>(f: impl FnOnce() -> R) -> (R, Vec<Log>) {
    let recorder = Recorder::default();
    let logs = Arc::clone(&recorder.logs);
    let result = tracing::subscriber::with_default(recorder, f);
    let logs = logs.lock().unwrap().clone();
    (result, logs)
}

/// The recorded events at `level`.
pub fn at_level(logs: &[Log], level: Level) -> Vec<&Log> {
    logs.iter().filter(|log| log.level == level).collect()
}

#[derive(Default)]
struct Recorder {
    logs: Arc<Mutex<Vec<Log>>>,
}

struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if field.name() == "message" {
            self.0.insert_str(0, &format!("{value:?}"));
        } else {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
}

impl Subscriber for Recorder {
    // `sometimes`, so that callsites first hit on a thread without a recorder are still
    // asked again here.
    fn register_callsite(&self, _: &'static Metadata<'static>) -> Interest {
        Interest::sometimes()
    }

    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut text = Text(String::new());
        event.record(&mut text);
        self.logs.lock().unwrap().push(Log {
            level: *event.metadata().level(),
            text: text.0,
        });
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

pub mod metrics;
mod stages;
#[allow(unused_imports)]
pub use stages::*;
