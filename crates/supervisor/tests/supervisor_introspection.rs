//! Introspection as data: the tree dumps to JSON (serde feature), and every crash,
//! restart, shutdown and intensity trip is a tracing event naming the supervisor, the
//! child and the reason.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arbor_supervisor::{Supervisor, SupervisorOptions};
use support::{child, Crash, Lab};

#[tokio::test]
async fn a_live_tree_dumps_as_json() {
    let mut lab = Lab::new();
    let inner = Supervisor::child_spec("inner", vec![lab.spec("x")], SupervisorOptions::default());
    let root = Supervisor::start(
        [lab.spec("a"), inner],
        SupervisorOptions::default().name("app"),
    )
    .await
    .unwrap();
    let json = serde_json::to_value(root.tree().await.unwrap()).unwrap();
    assert_eq!(json["id"], "app");
    assert_eq!(json["children"][0]["id"], "a");
    assert_eq!(json["children"][0]["kind"], "Worker");
    assert_eq!(json["children"][0]["state"], "Running");
    assert_eq!(json["children"][1]["children"][0]["id"], "x");
    let counts = serde_json::to_value(root.count_children().await.unwrap()).unwrap();
    assert_eq!(
        counts,
        serde_json::json!({"specs": 2, "active": 2, "supervisors": 1, "workers": 1})
    );
    let which = serde_json::to_value(root.which_children().await.unwrap()).unwrap();
    assert!(which[0]["state"]["Running"].is_string(), "{which}");
}

#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn crashes_restarts_and_intensity_trips_are_logged_with_names_and_reasons() {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut lab = Lab::new();
    let options = SupervisorOptions::default().max_restarts(1).name("sup");
    let supervisor = Supervisor::start([lab.spec("w")], options).await.unwrap();
    lab.next(1).await;
    child(&supervisor, "w").await.cast(Crash).unwrap();
    lab.next(2).await;
    tokio::time::advance(Duration::from_millis(1)).await;
    child(&supervisor, "w").await.cast(Crash).unwrap();
    assert_eq!(
        supervisor.wait().await,
        arbor_supervisor::reached_max_intensity()
    );

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let line = |needle: &str| {
        text.lines()
            .find(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in:\n{text}"))
            .to_owned()
    };
    let crash = line("child terminated");
    assert!(
        crash.contains("ERROR") && crash.contains("supervisor=sup") && crash.contains("child=w"),
        "{crash}"
    );
    assert!(crash.contains("reason=panic: w crashed"), "{crash}");
    let restart = line("child restarted");
    assert!(
        restart.contains("supervisor=sup") && restart.contains("child=w"),
        "{restart}"
    );
    let trip = line("reached max restart intensity; shutting down");
    assert!(
        trip.contains("ERROR") && trip.contains("supervisor=sup") && trip.contains("child=w"),
        "{trip}"
    );
}
