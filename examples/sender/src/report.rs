//! What a variant reports: who was sent to, who was not, and how long it took.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

/// One version of the book's `notify_all/1`, in the order the chapter builds them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Variant {
    /// One email after the other: [`notify_sequential`](crate::notify_sequential).
    Sequential,
    /// Fire and forget: [`notify_start`](crate::notify_start).
    Start,
    /// Start all, then await each: [`notify_async_await`](crate::notify_async_await).
    Async,
    /// Bounded concurrency, completion order: [`notify_stream`](crate::notify_stream).
    Stream,
    /// The same, under a task supervisor that contains a crash:
    /// [`notify_supervised`](crate::notify_supervised).
    Supervised,
}

impl Variant {
    /// Every variant, in the chapter's order.
    pub const ALL: [Variant; 5] = [
        Variant::Sequential,
        Variant::Start,
        Variant::Async,
        Variant::Stream,
        Variant::Supervised,
    ];

    /// The variant's name, as the CLI spells it.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Sequential => "sequential",
            Variant::Start => "start",
            Variant::Async => "async",
            Variant::Stream => "stream",
            Variant::Supervised => "supervised",
        }
    }

    /// The arbor call it shows.
    pub fn shows(self) -> &'static str {
        match self {
            Variant::Sequential => "a loop of sends",
            Variant::Start => "Task::start",
            Variant::Async => "Task::spawn + await",
            Variant::Stream => "Task::async_stream, ordered(false)",
            Variant::Supervised => "TaskSupervisor::async_stream_nolink",
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one run of a variant did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Report {
    /// Which variant ran.
    pub variant: Variant,
    /// The addresses an email went to.
    pub sent: BTreeSet<String>,
    /// The addresses no email went to, with why.
    pub failed: BTreeMap<String, String>,
    /// From the call to the last send's end.
    pub elapsed: Duration,
    /// The most sends that ran at once.
    pub peak_in_flight: usize,
    /// When the call returned before its sends had ended (only [`Variant::Start`]
    /// does): how long it took to return.
    pub returned_after: Option<Duration>,
}

impl Report {
    pub(crate) fn new(variant: Variant) -> Self {
        Report {
            variant,
            sent: BTreeSet::new(),
            failed: BTreeMap::new(),
            elapsed: Duration::ZERO,
            peak_in_flight: 0,
            returned_after: None,
        }
    }

    /// How many times faster than `baseline` (the sequential run) this run was.
    pub fn speed_up_over(&self, baseline: &Report) -> Option<f64> {
        (!self.elapsed.is_zero())
            .then(|| baseline.elapsed.as_secs_f64() / self.elapsed.as_secs_f64())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} sent, {} failed in {:.3}s, at most {} at once",
            self.variant,
            self.sent.len(),
            self.failed.len(),
            self.elapsed.as_secs_f64(),
            self.peak_in_flight,
        )
    }
}
