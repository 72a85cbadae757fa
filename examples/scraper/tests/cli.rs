//! The binary: `--help`, a short simulated run, the dispatcher demos, bad input.

use std::process::{Command, Output};

fn scraper(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scraper"))
        .args(args)
        // The test's own RUST_LOG, if any, must not change what is printed.
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

#[test]
fn help_describes_the_options() {
    let output = scraper(&["--help"]);
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for option in [
        "--pages",
        "--time-scale",
        "--seed",
        "--max-demand",
        "--urls-file",
        "--dispatchers",
    ] {
        assert!(help.contains(option), "{option} missing from\n{help}");
    }
}

#[test]
fn a_simulated_run_logs_like_the_book_and_ends_with_a_summary() {
    let output = scraper(&["--pages", "8", "--time-scale", "0.001", "--seed", "42"]);
    assert!(output.status.success(), "{output:?}");
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(summary.contains("pages requested  8"), "{summary}");
    assert!(summary.contains("seed 42"), "{summary}");
    // Piped, not a terminal: plain log lines, no progress bar, no colour.
    let logs = String::from_utf8_lossy(&output.stderr);
    for line in [
        "[info]  PageProducer init",
        "[info]  OnlinePageProducerConsumer init",
        "[info]  PageProducer received demand for 1 pages",
        "[info]  OnlinePageProducerConsumer received [\"google.com\"]",
        "[info]  PageConsumer received ",
    ] {
        assert!(logs.contains(line), "{line:?} missing from\n{logs}");
    }
    assert!(!logs.contains('\u{1b}'), "escape codes in piped logs");
}

#[test]
fn the_dispatcher_demos_print_what_each_consumer_received() {
    let output = scraper(&["--dispatchers"]);
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("SelectedPagesConsumer  [\"elixir-lang.org\", \"wikipedia.org\"]"),
        "{text}"
    );
    assert!(
        text.contains("partition com  [\"google.com\", \"facebook.com\", \"apple.com\"]"),
        "{text}"
    );
}

#[test]
fn a_url_that_is_not_http_is_refused_before_anything_starts() {
    let output = scraper(&["ftp://example.com/"]);
    assert!(!output.status.success());
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains("bad URL \"ftp://example.com/\""), "{error}");
}
