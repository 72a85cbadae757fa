//! A real process (the `arbor-app-probe` binary) sent SIGTERM or SIGINT: its tree stops
//! in reverse start order and the exit code says how it ended; its logs carry no ANSI
//! codes when piped, and are JSON lines with `--log-format json`.
#![cfg(unix)]

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

struct Probe {
    child: Child,
    stdout: tokio::io::Lines<BufReader<ChildStdout>>,
}

impl Probe {
    /// Starts the probe and reads its stdout up to `ready` (the tree runs and the
    /// signal handlers are in place), returning the lines before it.
    async fn start(args: &[&str]) -> (Probe, Vec<String>) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_arbor-app-probe"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the probe starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut probe = Probe {
            child,
            stdout: BufReader::new(stdout).lines(),
        };
        let mut before = Vec::new();
        while let Some(line) = probe.stdout.next_line().await.expect("stdout reads") {
            if line == "ready" {
                return (probe, before);
            }
            before.push(line);
        }
        panic!("the probe ended before it was ready: {before:?}");
    }

    async fn signal(&self, name: &str) {
        let pid = self.child.id().expect("the probe runs").to_string();
        let status = Command::new("kill")
            .args([&format!("-{name}"), &pid])
            .status()
            .await
            .expect("kill runs");
        assert!(status.success(), "kill -{name} {pid} failed");
    }

    /// Waits for the probe to exit: its remaining stdout lines, its stderr, its code.
    async fn finish(mut self) -> (Vec<String>, String, Option<i32>) {
        let mut lines = Vec::new();
        while let Some(line) = self.stdout.next_line().await.expect("stdout reads") {
            lines.push(line);
        }
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .expect("stderr is piped")
            .read_to_string(&mut stderr)
            .await
            .expect("stderr reads");
        let status = self.child.wait().await.expect("the probe exits");
        (lines, stderr, status.code())
    }
}

#[tokio::test]
async fn sigterm_stops_the_children_in_reverse_order_and_exits_0() {
    let (probe, started) = Probe::start(&[]).await;
    assert_eq!(
        started,
        ["started first", "started second", "started third"]
    );

    probe.signal("TERM").await;
    let (lines, stderr, code) = probe.finish().await;

    assert_eq!(
        lines,
        [
            "stopping third",
            "stopped third",
            "stopping second",
            "stopped second",
            "stopping first",
            "stopped first",
            "outcome stopped in order after terminate (SIGTERM)",
        ]
    );
    assert_eq!(code, Some(0), "stderr: {stderr}");
}

#[tokio::test]
async fn ctrl_c_is_a_clean_stop_too() {
    let (probe, _) = Probe::start(&[]).await;
    probe.signal("INT").await;
    let (lines, stderr, code) = probe.finish().await;
    assert_eq!(
        lines.last().map(String::as_str),
        Some("outcome stopped in order after interrupt (ctrl-c)")
    );
    assert_eq!(code, Some(0), "stderr: {stderr}");
}

#[tokio::test]
async fn a_child_that_ignores_shutdown_is_killed_at_the_deadline_and_exits_4() {
    let (probe, _) = Probe::start(&["--hang"]).await;
    probe.signal("TERM").await;
    let (lines, stderr, code) = probe.finish().await;

    // The hanging child is the first one asked (last started); the deadline kills it
    // and the two still waiting behind it, whose `terminate` therefore never runs.
    assert_eq!(
        lines,
        [
            "stopping third",
            "outcome killed: the tree had not stopped 500ms after terminate (SIGTERM)",
        ]
    );
    assert_eq!(code, Some(4), "stderr: {stderr}");
    assert!(
        stderr.contains("did not stop by the deadline"),
        "stderr: {stderr}"
    );
}

#[tokio::test]
async fn piped_logs_have_no_ansi_codes() {
    let (probe, _) = Probe::start(&[]).await;
    probe.signal("TERM").await;
    let (_, stderr, code) = probe.finish().await;
    assert_eq!(code, Some(0));
    assert!(
        stderr.contains("stopping the application"),
        "stderr: {stderr}"
    );
    assert!(!stderr.contains('\u{1b}'), "escape codes in {stderr:?}");
}

#[tokio::test]
async fn json_logs_are_one_object_per_line() {
    let (probe, _) = Probe::start(&["--log-format", "json"]).await;
    probe.signal("TERM").await;
    let (_, stderr, code) = probe.finish().await;
    assert_eq!(code, Some(0));
    let events: Vec<serde_json::Value> = stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}")))
        .collect();
    assert!(events.iter().any(
        |event| event["fields"]["message"] == "stopping the application"
            && event["fields"]["trigger"] == "terminate (SIGTERM)"
    ));
}

#[tokio::test]
async fn an_unknown_log_format_is_refused_with_code_2() {
    let output = Command::new(env!("CARGO_BIN_EXE_arbor-app-probe"))
        .args(["--log-format", "xml"])
        .output()
        .await
        .expect("the probe runs");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim(),
        "unknown log format \"xml\" (expected plain or json)"
    );
}
