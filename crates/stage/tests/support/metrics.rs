//! A metrics recorder for one test thread: `metrics-util`'s debugging recorder,
//! installed for the current thread only, so tests running in parallel do not see each
//! other's metrics (a `#[tokio::test]` runs every task on its own thread).

use std::cell::RefCell;
use std::collections::HashMap;

use metrics::LocalRecorderGuard;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::MetricKind;

/// A metric's identity: its kind, name and labels.
type Id = (MetricKind, String, Vec<(String, String)>);

/// The metrics recorded on this thread since [`Metrics::install`].
pub struct Metrics {
    snapshotter: Snapshotter,
    /// Counters and histograms are drained by each snapshot: kept here as they add up.
    seen: RefCell<HashMap<Id, Seen>>,
    _guard: LocalRecorderGuard<'static>,
}

#[derive(Debug, Clone, Default)]
struct Seen {
    counter: u64,
    gauge: f64,
    samples: Vec<f64>,
}

impl Metrics {
    /// Installs a fresh recorder for this thread until the value is dropped.
    pub fn install() -> Metrics {
        // Leaked: the guard borrows the recorder for as long as the test runs.
        let recorder: &'static DebuggingRecorder = Box::leak(Box::new(DebuggingRecorder::new()));
        Metrics {
            snapshotter: recorder.snapshotter(),
            seen: RefCell::default(),
            _guard: metrics::set_default_local_recorder(recorder),
        }
    }

    fn update(&self) {
        let mut seen = self.seen.borrow_mut();
        for (key, _, _, value) in self.snapshotter.snapshot().into_vec() {
            let labels = key
                .key()
                .labels()
                .map(|label| (label.key().to_owned(), label.value().to_owned()))
                .collect();
            let entry = seen
                .entry((key.kind(), key.key().name().to_owned(), labels))
                .or_default();
            match value {
                DebugValue::Counter(n) => entry.counter += n,
                // A snapshot also zeroes gauges: a zero here is most likely that.
                DebugValue::Gauge(value) if value.into_inner() != 0.0 => {
                    entry.gauge = value.into_inner()
                }
                DebugValue::Gauge(_) => {}
                DebugValue::Histogram(values) => entry
                    .samples
                    .extend(values.into_iter().map(|v| v.into_inner())),
            }
        }
    }

    fn matching(&self, kind: MetricKind, name: &str, labels: &[(&str, &str)]) -> Vec<Seen> {
        self.update();
        self.seen
            .borrow()
            .iter()
            .filter(|((k, n, held), _)| {
                *k == kind
                    && n == name
                    && labels
                        .iter()
                        .all(|(key, value)| held.iter().any(|(k, v)| k == key && v == value))
            })
            .map(|(_, seen)| seen.clone())
            .collect()
    }

    /// The sum of the counters `name` whose labels include `labels`.
    pub fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        self.matching(MetricKind::Counter, name, labels)
            .iter()
            .map(|seen| seen.counter)
            .sum()
    }

    /// The last non-zero value of gauge `name` with `labels`, if it was registered.
    pub fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.matching(MetricKind::Gauge, name, labels)
            .first()
            .map(|seen| seen.gauge)
    }

    /// Every sample of histogram `name` with `labels`.
    pub fn histogram(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        self.matching(MetricKind::Histogram, name, labels)
            .into_iter()
            .flat_map(|seen| seen.samples)
            .collect()
    }
}
