//! Logs under a restart storm: a child crashing in a loop does not write lines without
//! limit; the supervisor's crash and restart reports are limited per child, and the log
//! says how many were left out. Counted with a tracing layer, on the paused clock.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use arbor_supervisor::{
    DynamicSupervisor, DynamicSupervisorOptions, Supervisor, SupervisorOptions,
};
use support::{child, Crash, Event, Lab, Worker};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// One supervisor event: its message, its `child` field, its `suppressed` field.
#[derive(Debug, Clone, Default)]
struct Line {
    message: String,
    child: Option<String>,
    suppressed: Option<u64>,
}

impl Visit for Line {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            "child" => self.child = Some(format!("{value:?}")),
            _ => {}
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_string(),
            "child" => self.child = Some(value.to_string()),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "suppressed" {
            self.suppressed = Some(value);
        }
    }
}

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<Line>>>);

impl<S: tracing::Subscriber> Layer<S> for Lines {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if !event.metadata().target().starts_with("arbor_supervisor") {
            return;
        }
        let mut line = Line::default();
        event.record(&mut line);
        self.0.lock().unwrap().push(line);
    }
}

impl Lines {
    fn take(&self) -> Vec<Line> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

const CRASH_REPORTS: [&str; 2] = ["child terminated", "child restarted"];

fn crash_reports(lines: &[Line], id: &str) -> usize {
    lines
        .iter()
        .filter(|line| {
            line.child.as_deref() == Some(id) && CRASH_REPORTS.contains(&line.message.as_str())
        })
        .count()
}

fn suppressed(lines: &[Line], id: &str) -> u64 {
    lines
        .iter()
        .filter(|line| line.child.as_deref() == Some(id))
        .filter_map(|line| line.suppressed)
        .sum()
}

const CRASHES: usize = 100;

#[tokio::test(start_paused = true)]
async fn a_crash_loop_writes_a_bounded_number_of_reports_and_counts_the_rest() {
    let lines = Lines::default();
    let subscriber = tracing_subscriber::registry().with(lines.clone());
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut lab = Lab::new();
    let options = SupervisorOptions::one_for_one()
        .max_restarts(u32::MAX)
        .name("storm");
    let supervisor = Supervisor::start([lab.spec("w"), lab.spec("calm")], options)
        .await
        .unwrap();
    lab.next(2).await;
    lines.take();

    for _ in 0..CRASHES {
        child(&supervisor, "w").await.cast(Crash).unwrap();
        assert_eq!(lab.next(2).await[1], Event::Started("w"));
    }
    let storm = lines.take();
    let written = crash_reports(&storm, "w");
    assert!(
        written <= 20,
        "{written} crash reports for {CRASHES} crashes: not limited"
    );
    assert!(
        storm.iter().any(|line| line.message.contains("suppress")),
        "the log says reports are being left out: {storm:?}"
    );

    // Once the storm is over, the next report comes with the count of those left out.
    tokio::time::advance(Duration::from_secs(60)).await;
    child(&supervisor, "w").await.cast(Crash).unwrap();
    lab.next(2).await;
    let after = lines.take();
    assert_eq!(
        crash_reports(&after, "w"),
        2,
        "reports flow again: {after:?}"
    );
    assert_eq!(
        written as u64 + suppressed(&after, "w"),
        2 * CRASHES as u64,
        "every report written or counted"
    );

    // Another child's reports are not limited by w's storm.
    child(&supervisor, "calm").await.cast(Crash).unwrap();
    lab.next(2).await;
    assert_eq!(crash_reports(&lines.take(), "calm"), 2);
}

#[tokio::test(start_paused = true)]
async fn reports_left_out_are_counted_when_the_supervisor_stops() {
    let lines = Lines::default();
    let subscriber = tracing_subscriber::registry().with(lines.clone());
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut lab = Lab::new();
    let runner =
        DynamicSupervisor::start(DynamicSupervisorOptions::default().max_restarts(u32::MAX))
            .await
            .unwrap();
    runner.start_child(lab.spec("job")).await.unwrap();
    lab.next(1).await;
    lines.take();
    for _ in 0..CRASHES {
        let job = runner.which_children().await.unwrap()[0]
            .state
            .child()
            .and_then(|child| child.server::<Worker>())
            .unwrap();
        job.cast(Crash).unwrap();
        assert_eq!(lab.next(2).await[1], Event::Started("job"));
    }
    runner.stop(arbor_actor::Exit::shutdown()).await;
    let all = lines.take();
    let written = crash_reports(&all, "job");
    assert!(written <= 20, "{written} crash reports: not limited");
    assert_eq!(
        written as u64 + suppressed(&all, "job"),
        2 * CRASHES as u64,
        "the stop reports the count left out"
    );
}
